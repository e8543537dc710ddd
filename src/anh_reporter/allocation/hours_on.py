"""Hours on production per well per day (telemetry, else manual) and the well's status per day.

**Telemetry.** One signal says whether the well produces: the pump status, the pump speed
(ESP frequency, PCP rpm) or strokes per minute above a threshold, or the choke open (flowing
and gas-lift wells). :data:`SIGNALS_BY_METHOD` lists which, in order of preference. The signal
is read as a held state over the contract day (:func:`~anh_reporter.allocation.timeseries.
state_durations`): hours on, off and **unknown** (gaps longer than the tolerance). Unknown hours
are never counted as on.

**Which hours are used** (:func:`resolve_hours_on`):

1. a manual entry for the day, when a person made one (it overrides telemetry; an info finding
   notes the telemetry value when the two differ by more than 0.1 h);
2. else the telemetry's hours on, when the day has no unknown hours;
3. else the telemetry's hours on (known time only) with a warning naming the unknown hours,
   so that someone enters the day's hours by hand;
4. else, with no telemetry and no entry: 0 h when the well's status kept it from producing all
   day (shut in, workover, suspended, abandoned, injecting), otherwise no hours and a warning
   (the well is then left out of allocation, with a finding). A signal that knows no time of
   the day (no reading in it, every hour unknown) is no telemetry: it does not say the well was
   off.

**Status.** A log of status changes (:class:`StatusChange`) gives the status in force at the end
of the day and the hours spent in each status (:func:`day_status`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from anh_reporter.allocation.errors import AllocationError, require_range
from anh_reporter.allocation.findings import Code, Finding, Severity
from anh_reporter.allocation.fluids import HOURS_INCREMENT, HOURS_PER_DAY
from anh_reporter.allocation.timeseries import StateTime, Window, good_samples, state_durations
from anh_reporter.domain.mpms import round_half_up
from anh_reporter.domain.timeutil import US_PER_HOUR


class WellStatus(StrEnum):
    """A well's status on a day."""

    PRODUCING = "producing"
    SHUT_IN = "shut_in"
    WORKOVER = "workover"
    SUSPENDED = "suspended"
    ABANDONED = "abandoned"
    INJECTING = "injecting"


NOT_PRODUCING = frozenset(
    {
        WellStatus.SHUT_IN,
        WellStatus.WORKOVER,
        WellStatus.SUSPENDED,
        WellStatus.ABANDONED,
        WellStatus.INJECTING,
    }
)
"""Statuses in which a well cannot produce: no hours on, no test needed (an injecting well
injects; it produces nothing)."""


@dataclass(frozen=True)
class OnSignal:
    """A telemetry variable that says the well is on when its value is above ``threshold``."""

    variable: str
    threshold: float
    """On when value > threshold (pump status 0/1: 0.5; speed: a little above 0)."""


ON_SIGNALS: dict[str, OnSignal] = {
    "pump_status": OnSignal("pump_status", 0.5),
    "pump_speed": OnSignal("pump_speed", 1.0),
    "strokes_per_minute": OnSignal("strokes_per_minute", 0.5),
    "choke": OnSignal("choke", 0.0),
}
"""Default thresholds of the variables that can say a well is on (``domain.variables`` names)."""

SIGNALS_BY_METHOD: dict[str, tuple[str, ...]] = {
    "esp": ("pump_status", "pump_speed"),
    "rod_pump": ("pump_status", "strokes_per_minute"),
    "pcp": ("pump_status", "pump_speed"),
    "jet_pump": ("pump_status",),
    "natural_flow": ("choke",),
    "gas_lift": ("choke",),
}
"""Per production method (``site.Well.production_method``), the on-signals in order of use."""


@dataclass(frozen=True)
class TelemetryHours:
    """A day of one on-signal: hours on, off and unknown (they add up to the window's hours)."""

    variable: str
    on_h: Decimal
    off_h: Decimal
    unknown_h: Decimal
    window_h: Decimal


def telemetry_hours(
    signal: OnSignal,
    times_us: ArrayLike,
    values: ArrayLike,
    window: Window,
    *,
    gap_tolerance_s: float,
    good: ArrayLike | None = None,
) -> TelemetryHours:
    """Hours on / off / unknown of ``signal`` over ``window`` (held state, gaps unknown).

    Pass the last sample before the window and the first after it so the edges are exact.
    """
    samples = good_samples(signal.variable, times_us, values, good)
    state: StateTime = state_durations(
        samples, samples.values > signal.threshold, window, gap_tolerance_s
    )
    on, off, unknown = state.hours()
    return TelemetryHours(signal.variable, on, off, unknown, on + off + unknown)


HoursSource = Literal["telemetry", "manual", "status", "none"]


@dataclass(frozen=True)
class HoursOn:
    """The hours on production a well's day is allocated with, where they come from, findings."""

    well: str
    hours: Decimal | None
    source: HoursSource
    telemetry: TelemetryHours | None = None
    findings: tuple[Finding, ...] = field(default=())


MANUAL_DIFFERENCE_H = Decimal("0.1")


def resolve_hours_on(
    well: str,
    *,
    telemetry: TelemetryHours | None = None,
    manual_h: Decimal | None = None,
    status: WellStatus | None = None,
    day_hours: Decimal = HOURS_PER_DAY,
    producing_status_h: Decimal | None = None,
) -> HoursOn:
    """Choose the day's hours on production (rules 1–4 of the module docstring).

    ``status`` is the well's status at the day's end; ``producing_status_h`` the hours of the
    day its status log has it in a status that can produce (:meth:`DayStatus.hours_in`), when
    known: a well shut in during the day was not kept from producing all day.
    """
    if telemetry is not None and telemetry.on_h + telemetry.off_h == 0:
        telemetry = None  # nothing known all day: no telemetry (rule 4), not 0 h on
    if manual_h is not None:
        require_range(f"manual hours on of well {well!r}", manual_h, Decimal(0), day_hours, "h")
        notes: tuple[Finding, ...] = ()
        if telemetry is not None and abs(telemetry.on_h - manual_h) > MANUAL_DIFFERENCE_H:
            notes = (
                Finding(
                    Code.HOURS_MANUAL,
                    Severity.INFO,
                    f"hours on {manual_h} h entered by hand replace the telemetry's "
                    f"{telemetry.on_h} h ({telemetry.variable})",
                    well,
                ),
            )
        return HoursOn(well, manual_h, "manual", telemetry, notes)
    if telemetry is not None:
        if telemetry.unknown_h == 0:
            return HoursOn(well, telemetry.on_h, "telemetry", telemetry)
        gap = Finding(
            Code.HOURS_INCOMPLETE,
            Severity.WARNING,
            f"{telemetry.variable} leaves {telemetry.unknown_h} h of the day unknown; "
            f"{telemetry.on_h} h on counted from the known time only: enter the day's hours "
            "on by hand",
            well,
        )
        return HoursOn(well, telemetry.on_h, "telemetry", telemetry, (gap,))
    if status in NOT_PRODUCING and not producing_status_h:
        return HoursOn(well, Decimal("0.00"), "status")
    part = (
        f" (its status log has it able to produce for {producing_status_h} h of the day before "
        f"it went {status})"
        if status in NOT_PRODUCING
        else ""
    )
    missing = Finding(
        Code.HOURS_MISSING,
        Severity.WARNING,
        "no on-signal telemetry and no manual hours on for the day: the well is not allocated"
        f"{part}",
        well,
    )
    return HoursOn(well, None, "none", None, (missing,))


@dataclass(frozen=True)
class StatusChange:
    """A logged change of a well's status: when, to what, why and by whom."""

    well: str
    at_us: int
    status: WellStatus
    reason: str = ""
    changed_by: str = ""


@dataclass(frozen=True)
class DayStatus:
    """A well's status over a day: at the day's end, hours per status, the day's changes."""

    well: str
    status: WellStatus
    hours: dict[WellStatus, Decimal]
    changes: tuple[StatusChange, ...]

    def hours_in(self, statuses: Iterable[WellStatus]) -> Decimal:
        """Hours spent in any of ``statuses``."""
        wanted = set(statuses)
        return sum((h for s, h in self.hours.items() if s in wanted), Decimal(0))


def day_status(
    well: str,
    changes: Sequence[StatusChange],
    window: Window,
    *,
    initial: WellStatus | None = None,
) -> DayStatus:
    """The well's status over ``window`` from its change log.

    The status at the window's start is the last change at or before it, else ``initial``;
    without either the log is incomplete and an error says so. Changes at the same instant:
    the later one in the log wins.
    """
    log = sorted(
        (c for c in changes if _same_well(well, c)), key=lambda c: c.at_us
    )  # stable: same-instant order kept
    current = initial
    inside: list[StatusChange] = []
    for change in log:
        if change.at_us <= window.start_us:
            current = change.status
        elif change.at_us < window.end_us:
            inside.append(change)
    if current is None:
        raise AllocationError(
            f"well {well!r} has no status at the day's start ({window.start_us} µs): log its "
            "status before the day, or give the initial status"
        )
    bounds = [window.start_us, *(c.at_us for c in inside), window.end_us]
    states = [current, *(c.status for c in inside)]
    spans = np.diff(np.asarray(bounds, dtype=np.int64))
    hours_us: dict[WellStatus, int] = {}
    for state, span in zip(states, spans, strict=True):
        hours_us[state] = hours_us.get(state, 0) + int(span)
    hours = {
        s: round_half_up(Decimal(us) / Decimal(US_PER_HOUR), HOURS_INCREMENT)
        for s, us in hours_us.items()
    }
    return DayStatus(well, states[-1], hours, tuple(inside))


def _same_well(well: str, change: StatusChange) -> bool:
    if change.well != well:
        raise AllocationError(f"status log of well {well!r} holds a change of well {change.well!r}")
    return True
