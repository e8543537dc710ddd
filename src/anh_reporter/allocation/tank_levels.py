"""A tank's level at a contract-day boundary, from its level transmitter's readings (pure).

:func:`value_at` takes the readings of one series around a boundary instant and gives the value
at that instant:

* a good reading exactly at the boundary is the value;
* else, with good readings on both sides, each within ``max_age_s`` of the boundary, the
  straight line between them: ``v0 + (v1 − v0) × (t − t0) / (t1 − t0)``;
* else the last good reading before the boundary, when it is at most ``max_age_s`` old;
* else **no value**, with a ``tank_level_stale`` warning: a missing or stale level is never a
  silent zero (the oil balance then cannot close, :mod:`~anh_reporter.allocation.balances`).

Readings that are not Good (or not finite) are skipped. The value is rounded half up to
:data:`LEVEL_DISCRIMINATION` (0.0001 of the level unit: 0.03 mm on a table in feet). A level
that reads the very same value at every good reading of the ``stuck_after_s`` before the
boundary (two or more readings spanning that time within ``max_age_s``) is still used but
raises ``tank_level_stuck``: a transmitter frozen on a value makes a moving tank look still.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from anh_reporter.allocation.errors import AllocationError
from anh_reporter.allocation.findings import Code, Finding, Severity
from anh_reporter.domain.mpms import round_half_up
from anh_reporter.domain.timeutil import from_us

LEVEL_DISCRIMINATION = Decimal("0.0001")
US_PER_S = 1_000_000


@dataclass(frozen=True)
class Reading:
    """One stored reading: when (µs since the epoch, UTC), its value and whether it is Good."""

    time_us: int
    value: float
    good: bool = True


@dataclass(frozen=True)
class BoundaryPolicy:
    """How far a boundary's value may reach back (and when a frozen value is flagged)."""

    max_age_s: float = 1800
    stuck_after_s: float | None = 21_600

    def __post_init__(self) -> None:
        if not self.max_age_s > 0:
            raise AllocationError(f"max_age_s must be above 0 s, got {self.max_age_s}")
        if self.stuck_after_s is not None and not self.stuck_after_s > 0:
            raise AllocationError(f"stuck_after_s must be above 0 s, got {self.stuck_after_s}")


@dataclass(frozen=True)
class BoundaryValue:
    """A series' value at a boundary (None: stale or missing), how it was found, findings."""

    value: Decimal | None
    how: str
    findings: tuple[Finding, ...] = ()


def _when(us: int) -> str:
    return from_us(us).isoformat().replace("+00:00", "Z")


def value_at(
    readings: Sequence[Reading],
    at_us: int,
    policy: BoundaryPolicy,
    *,
    what: str,
    unit: str,
    target: str,
) -> BoundaryValue:
    """The value of a series at ``at_us`` (module docstring); ``what`` names it in messages."""
    good = sorted(
        (r.time_us, Decimal(repr(r.value)))
        for r in readings
        if r.good and r.value == r.value and abs(r.value) != float("inf")
    )
    max_age_us = round(policy.max_age_s * US_PER_S)
    before = [g for g in good if g[0] <= at_us]
    after = [g for g in good if g[0] > at_us]
    last = before[-1] if before else None
    following = after[0] if after else None
    if last is not None and last[0] == at_us:
        value, how = last[1], f"reading at {_when(at_us)}"
    elif (
        last is not None
        and following is not None
        and at_us - last[0] <= max_age_us
        and following[0] - at_us <= max_age_us
    ):
        (t0, v0), (t1, v1) = last, following
        value = v0 + (v1 - v0) * (at_us - t0) / (t1 - t0)
        how = f"interpolated between {v0:g} {unit} at {_when(t0)} and {v1:g} {unit} at {_when(t1)}"
    elif last is not None and at_us - last[0] <= max_age_us:
        value = last[1]
        how = f"last good reading, {(at_us - last[0]) / US_PER_S:g} s before {_when(at_us)}"
    else:
        seen = (
            f"the last is {last[1]:g} {unit} at {_when(last[0])}"
            if last is not None
            else "none before it"
        )
        message = (
            f"{what}: no good reading within {policy.max_age_s:g} s before {_when(at_us)} "
            f"({seen}): the stock at that boundary is unknown; gauge the tank by hand"
        )
        stale = Finding(Code.TANK_LEVEL_STALE, Severity.WARNING, message, target)
        return BoundaryValue(None, "stale", (stale,))
    rounded = round_half_up(value, LEVEL_DISCRIMINATION)
    return BoundaryValue(rounded, how, _stuck(good, at_us, policy, what, unit, target))


def _stuck(
    good: list[tuple[int, Decimal]],
    at_us: int,
    policy: BoundaryPolicy,
    what: str,
    unit: str,
    target: str,
) -> tuple[Finding, ...]:
    if policy.stuck_after_s is None:
        return ()
    window_us = round(policy.stuck_after_s * US_PER_S)
    recent = [g for g in good if at_us - window_us <= g[0] <= at_us]
    if len(recent) < 2 or len({v for _, v in recent}) != 1:
        return ()
    if recent[-1][0] - recent[0][0] < window_us - round(policy.max_age_s * US_PER_S):
        return ()
    message = (
        f"{what} reads {recent[0][1]} {unit} at every reading of the "
        f"{policy.stuck_after_s / 3600:g} h before {_when(at_us)}: a stuck transmitter makes a "
        "moving tank look still; check it or gauge the tank by hand"
    )
    return (Finding(Code.TANK_LEVEL_STUCK, Severity.WARNING, message, target),)
