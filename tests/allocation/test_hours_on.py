"""Hours on production from telemetry (held state, gaps unknown), the manual fallback, status."""

from __future__ import annotations

import numpy as np
import pytest

from anh_reporter.allocation.errors import AllocationError
from anh_reporter.allocation.findings import Code, Severity
from anh_reporter.allocation.hours_on import (
    NOT_PRODUCING,
    ON_SIGNALS,
    SIGNALS_BY_METHOD,
    StatusChange,
    TelemetryHours,
    WellStatus,
    day_status,
    resolve_hours_on,
    telemetry_hours,
)
from anh_reporter.allocation.timeseries import Window, good_samples, state_durations, trapezoid
from anh_reporter.domain.timeutil import US_PER_HOUR, US_PER_SECOND
from anh_reporter.domain.variables import VARIABLES

from .helpers import WINDOW, D, hours_us

MINUTE = 60 * US_PER_SECOND


def minute_samples(start_h: float = -1 / 60, end_h: float = 24) -> np.ndarray:
    """Samples each minute from one minute before the window (the neighbour) to its end."""
    return np.arange(hours_us(start_h), hours_us(end_h) + 1, MINUTE, dtype=np.int64)


def test_pump_off_two_hours() -> None:
    """Pump status 1 except from 10:00 to 12:00 (samples each minute): 22 h on, 2 h off."""
    t = minute_samples()
    status = np.where((t >= hours_us(10)) & (t < hours_us(12)), 0.0, 1.0)
    got = telemetry_hours(ON_SIGNALS["pump_status"], t, status, WINDOW, gap_tolerance_s=360)
    assert (got.on_h, got.off_h, got.unknown_h, got.window_h) == (D(22), D(2), D(0), D(24))


def test_gap_is_unknown_not_on() -> None:
    """No sample strictly between 06:00 and 09:00: that 3 h interval is a gap (> 6 min), so
    3.00 h unknown, 21.00 h on, although the pump was on both before and after."""
    t = minute_samples()
    t = t[(t <= hours_us(6)) | (t >= hours_us(9))]
    got = telemetry_hours(
        ON_SIGNALS["pump_status"], t, np.ones(t.size), WINDOW, gap_tolerance_s=360
    )
    assert (got.on_h, got.off_h, got.unknown_h) == (D(21), D(0), D(3))


def test_bad_quality_samples_are_dropped() -> None:
    """Bad samples between 06:00 and 09:00 make the same gap as missing ones."""
    t = minute_samples()
    good = (t <= hours_us(6)) | (t >= hours_us(9))
    got = telemetry_hours(
        ON_SIGNALS["pump_status"], t, np.ones(t.size), WINDOW, gap_tolerance_s=360, good=good
    )
    assert got.unknown_h == D(3)


def test_speed_threshold_and_edges() -> None:
    """ESP frequency 55 Hz, 0 Hz from 20:00; first sample 2 min after the window's start with
    no neighbour (within the 6 min tolerance: held back to the start); last sample 10 min before
    the end (beyond the tolerance: those 10 min are unknown)."""
    t = np.arange(hours_us(2 / 60), hours_us(24 - 10 / 60) + 1, MINUTE, dtype=np.int64)
    hz = np.where(t < hours_us(20), 55.0, 0.0)
    got = telemetry_hours(ON_SIGNALS["pump_speed"], t, hz, WINDOW, gap_tolerance_s=360)
    assert got.on_h == D(20)
    assert got.unknown_h == D("0.17")  # 10 min = 0.1666... h
    assert got.off_h == D("3.83")
    assert got.on_h + got.off_h + got.unknown_h == D(24)


def test_no_samples_is_all_unknown() -> None:
    empty = np.zeros(0, dtype=np.int64)
    got = telemetry_hours(ON_SIGNALS["choke"], empty, np.zeros(0), WINDOW, gap_tolerance_s=360)
    assert (got.on_h, got.unknown_h) == (D(0), D(24))


def test_signals_use_canonical_variables() -> None:
    for signals in SIGNALS_BY_METHOD.values():
        assert all(s in VARIABLES and s in ON_SIGNALS for s in signals)


def test_series_checks_name_the_field() -> None:
    with pytest.raises(AllocationError, match=r"pump_status: times must strictly increase"):
        telemetry_hours(ON_SIGNALS["pump_status"], [2, 1], [1.0, 1.0], WINDOW, gap_tolerance_s=60)
    with pytest.raises(AllocationError, match="same length"):
        good_samples("x", [1, 2], [1.0])
    with pytest.raises(AllocationError, match="must be after its start"):
        Window(10, 10)


def test_state_durations_add_up_exactly() -> None:
    """Irregular samples: on + off + unknown is the window's length to the microsecond."""
    rng = np.random.default_rng(7)
    t = np.sort(rng.choice(np.arange(WINDOW.start_us, WINDOW.end_us, 1_000_000), 500, False))
    samples = good_samples("x", t, rng.random(500))
    state = state_durations(samples, samples.values > 0.5, WINDOW, 300)
    assert state.on_us + state.off_us + state.unknown_us == WINDOW.length_us


def test_trapezoid_linear_and_flat_edges() -> None:
    """Samples at 1 h (10) and 3 h (30), tolerance 2 h, window 0–4 h: flat 10 over 0–1 h
    (10 h·unit), linear 1–3 h (mean 20 × 2 h = 40), flat 30 over 3–4 h (30): 80 unit·h."""
    window = Window(WINDOW.start_us, WINDOW.start_us + 4 * US_PER_HOUR)
    samples = good_samples("x", [hours_us(1), hours_us(3)], [10.0, 30.0])
    integral = trapezoid(samples, window, gap_tolerance_s=7200)
    assert integral.area == pytest.approx(80 * 3600)
    assert integral.coverage_pct == pytest.approx(100.0)


def _telemetry(on: str, unknown: str = "0") -> TelemetryHours:
    off = D(24) - D(on) - D(unknown)
    return TelemetryHours("pump_status", D(on), off, D(unknown), D(24))


def test_resolve_prefers_manual_then_telemetry() -> None:
    manual = resolve_hours_on("A", telemetry=_telemetry("20"), manual_h=D("18.5"))
    assert (manual.hours, manual.source) == (D("18.5"), "manual")
    (note,) = manual.findings
    assert note.code is Code.HOURS_MANUAL and note.severity is Severity.INFO
    same = resolve_hours_on("A", telemetry=_telemetry("20"), manual_h=D("20.05"))
    assert same.findings == ()
    full = resolve_hours_on("A", telemetry=_telemetry("20"))
    assert (full.hours, full.source, full.findings) == (D(20), "telemetry", ())


def test_resolve_with_gap_counts_known_time_and_warns() -> None:
    got = resolve_hours_on("A", telemetry=_telemetry("18", unknown="3"))
    assert got.hours == D(18)
    (warning,) = got.findings
    assert warning.code is Code.HOURS_INCOMPLETE
    assert "3 h of the day unknown" in warning.message


def test_resolve_without_data() -> None:
    shut = resolve_hours_on("A", status=WellStatus.SHUT_IN)
    assert (shut.hours, shut.source, shut.findings) == (D(0), "status", ())
    unknown = resolve_hours_on("A", status=WellStatus.PRODUCING)
    assert unknown.hours is None
    assert [f.code for f in unknown.findings] == [Code.HOURS_MISSING]


def test_a_signal_that_knows_nothing_of_the_day_is_no_telemetry() -> None:
    """The last reading 2 h before the day, tolerance 6 min: 0 h on, 0 off, 24 h unknown.

    That is no telemetry (rule 4), not 0 h on: hours missing, or the status's 0 h, or the hours
    typed by hand (without a note comparing them with a telemetry that knew nothing).
    """
    t = np.array([hours_us(-2)], dtype=np.int64)
    signal = telemetry_hours(ON_SIGNALS["pump_status"], t, [1.0], WINDOW, gap_tolerance_s=360)
    assert (signal.on_h, signal.off_h, signal.unknown_h) == (D(0), D(0), D(24))
    missing = resolve_hours_on("A", telemetry=signal, status=WellStatus.PRODUCING)
    assert (missing.hours, missing.source, missing.telemetry) == (None, "none", None)
    assert [f.code for f in missing.findings] == [Code.HOURS_MISSING]
    shut = resolve_hours_on("A", telemetry=signal, status=WellStatus.SHUT_IN)
    assert (shut.hours, shut.source, shut.findings) == (D(0), "status", ())
    typed = resolve_hours_on("A", telemetry=signal, manual_h=D("20"))
    assert (typed.hours, typed.source, typed.telemetry, typed.findings) == (
        D(20), "manual", None, ()
    )  # fmt: skip


def test_a_signal_known_part_of_the_day_still_counts_with_a_warning() -> None:
    """Readings each minute from the window's start to 00:24, all off, tolerance 6 min: known
    0.4 h (24 min), all of it off; the 23.6 h after the last reading, longer than the tolerance,
    unknown. 0 h on from the known time, with hours_on_incomplete."""
    t = minute_samples(end_h=24 / 60)
    signal = telemetry_hours(
        ON_SIGNALS["pump_status"], t, np.zeros(t.size), WINDOW, gap_tolerance_s=360
    )
    assert (signal.on_h, signal.off_h, signal.unknown_h) == (D(0), D("0.4"), D("23.6"))
    got = resolve_hours_on("A", telemetry=signal, status=WellStatus.PRODUCING)
    assert (got.hours, got.source) == (D(0), "telemetry")
    assert [f.code for f in got.findings] == [Code.HOURS_INCOMPLETE]


def test_manual_hours_beyond_the_day_are_refused() -> None:
    with pytest.raises(AllocationError, match=r"manual hours on of well 'A' 25 h is outside"):
        resolve_hours_on("A", manual_h=D(25))


def test_a_well_shut_in_during_the_day_was_not_kept_from_producing_all_day() -> None:
    """Producing until 14:00, shut in since, no telemetry, no hours typed: its status at the
    day's end does not make it 0 h (it could produce 8 h): hours missing, saying why. Shut in
    all day (0 h in a producing status): 0 h from its status, no finding."""
    log = [
        StatusChange("A", hours_us(-100), WellStatus.PRODUCING, "start-up"),
        StatusChange("A", hours_us(8), WellStatus.SHUT_IN, "flowline leak", "operador"),
    ]
    day = day_status("A", log, WINDOW)
    producing = day.hours_in(s for s in WellStatus if s not in NOT_PRODUCING)
    assert (day.status, producing) == (WellStatus.SHUT_IN, D("8.00"))
    got = resolve_hours_on("A", status=day.status, producing_status_h=producing)
    assert (got.hours, got.source) == (None, "none")
    (finding,) = got.findings
    assert finding.code is Code.HOURS_MISSING
    assert finding.message.endswith(
        "(its status log has it able to produce for 8.00 h of the day before it went shut_in)"
    )
    shut = resolve_hours_on("A", status=WellStatus.SHUT_IN, producing_status_h=D("0.00"))
    assert (shut.hours, shut.source, shut.findings) == (D(0), "status", ())


def test_day_status_from_the_change_log() -> None:
    """Producing since before the day; shut in at 08:00 (ESP trip), back at 12:30:
    hours producing 8 + 11.5 = 19.5, shut in 4.5; status at the day's end producing."""
    log = [
        StatusChange("A", hours_us(-100), WellStatus.PRODUCING, "start-up"),
        StatusChange("A", hours_us(8), WellStatus.SHUT_IN, "ESP trip", "operador"),
        StatusChange("A", hours_us(12.5), WellStatus.PRODUCING, "restart", "operador"),
        StatusChange("A", hours_us(30), WellStatus.WORKOVER, "tomorrow"),
    ]
    got = day_status("A", log, WINDOW)
    assert got.status is WellStatus.PRODUCING
    assert got.hours == {WellStatus.PRODUCING: D("19.5"), WellStatus.SHUT_IN: D("4.5")}
    assert [c.reason for c in got.changes] == ["ESP trip", "restart"]
    assert got.hours_in([WellStatus.SHUT_IN, WellStatus.WORKOVER]) == D("4.5")


def test_day_status_needs_a_starting_status() -> None:
    late = [StatusChange("A", hours_us(3), WellStatus.PRODUCING)]
    with pytest.raises(AllocationError, match="has no status at the day's start"):
        day_status("A", late, WINDOW)
    got = day_status("A", late, WINDOW, initial=WellStatus.SHUT_IN)
    assert got.hours[WellStatus.SHUT_IN] == D(3)
    with pytest.raises(AllocationError, match="holds a change of well 'B'"):
        day_status("A", [StatusChange("B", hours_us(1), WellStatus.PRODUCING)], WINDOW)


def test_window_hours() -> None:
    assert WINDOW.hours == D(24)
    assert Window(0, US_PER_HOUR // 2).hours == D("0.5")
