"""Daily production from stored telemetry: volumes, corrections, averages, quality, recompute.

Expected values are worked out by hand in the comments (see helpers.standard_day for the data).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import psycopg
import pytest

from anh_reporter.domain import mpms
from anh_reporter.domain.quality import BAD_NO_COMMUNICATION
from anh_reporter.production import store
from anh_reporter.production.approvals import approve_estimate
from anh_reporter.production.config import UnknownFieldError, load_field
from anh_reporter.production.custody import hourly_average
from anh_reporter.production.daily import compute_day, recompute_stale
from anh_reporter.production.inputs import HourRecord

from .helpers import DAY, DAY_D, FIELD, HOUR, US, E, S, grid, load_test_site, standard_day, write

Conn = psycopg.Connection[object]


def by_code(result):  # type: ignore[no-untyped-def]
    return {f.code: f for f in result.figures}


def test_standard_day_by_hand(conn: Conn) -> None:
    ids = load_test_site(conn)
    standard_day(conn, ids)

    result = compute_day(conn, FIELD, DAY_D)
    f = by_code(result)

    oil = f["PMO-OIL"]
    # Totalizer 5,000 → 6,000 bbl over the day: IV = 1,000.00 bbl.
    assert oil.method == "totalizer"
    assert oil.indicated_volume == Decimal("1000.00")
    # GOV = 1,000.00 × 1.0008 = 1,000.80 bbl.
    assert oil.gross_observed_volume == Decimal("1000.80")
    # At 60.0 °F and 0 psig CTL = CPL = 1 (API MPMS 12.2.2 ticket, 4 decimals);
    # CCF = 1.0000 × 1.0000 × 1.0008 = 1.0008; GSV = IV × CCF = 1,000.80 bbl.
    assert (oil.ctl, oil.cpl, oil.ccf) == (Decimal("1.0000"), Decimal("1.0000"), Decimal("1.0008"))
    assert oil.gross_standard_volume == Decimal("1000.80")
    # CSW = 1 − 2.00/100 = 0.9800; NSV = 1,000.80 × 0.9800 = 980.784 → 980.78 bbl.
    assert oil.csw == Decimal("0.9800")
    assert oil.bsw_percent == Decimal("2.00")
    assert oil.net_standard_volume == Decimal("980.78")
    assert (oil.temperature_f, oil.pressure_psig, oil.api_gravity) == (
        Decimal("60.0"),
        Decimal("0.0"),
        Decimal("30.0"),
    )
    # 144 samples of 10 min in 24 h, all Good, no gap.
    assert (oil.samples_expected, oil.samples_received, oil.samples_good) == (144, 144, 144)
    assert oil.longest_gap_s == 0 and oil.flow_time_coverage_pct == 100.0
    # Nothing estimated: the whole volume was measured.
    assert (oil.measured_volume, oil.estimated_volume) == (Decimal("1000"), Decimal("0"))
    assert oil.completeness_pct == 100.0 and oil.estimates == []
    assert oil.quality_score == 100.0
    assert oil.sources["bsw"] == "telemetry CAMPO-TEST.PMO-OIL.bsw (flow-weighted)"
    assert oil.issues == []

    water = f["PMO-WATER"]
    # Samples every 600 s at k = -1..144: 500 bbl/d for k < 72, 1500 bbl/d from k = 72.
    # ∫ = 71 × 600 × 500 + 600 × (500 + 1500)/2 + 72 × 600 × 1500 = 86,700,000 bbl·s/d
    # IV = 86,700,000 / 86,400 = 1,003.4722… → 1,003.47 bbl.
    assert water.method == "rate_integration"
    assert water.indicated_volume == Decimal("1003.47")
    # GOV = 1,003.47 × 0.9985 = 1,001.964795 → 1,001.96 bbl.
    assert water.gross_observed_volume == Decimal("1001.96")
    # Flow-weighted temperature from the hourly records: 12 h at 500 bbl/d and 90 °F,
    # 12 h at 1500 bbl/d and 110 °F: (250 × 90 + 750 × 110) / 1000 = 105.0 °F.
    assert water.temperature_f == Decimal("105.0")
    # Water to 60 °F (Kell 1975): ρ(105 °F = 40.556 °C) = 992.0022, ρ(60 °F = 15.556 °C) =
    # 999.0141 kg/m³; CTLw = 0.9929813 → 0.99298; GSV = 1,001.96 × 0.99298 = 994.926… → 994.93.
    assert water.gross_standard_volume == Decimal("994.93")
    assert water.net_standard_volume == Decimal("994.93")
    assert water.water_method is not None and "CTLw 0.99298" in water.water_method

    gas = f["PMO-GAS"]
    # 1,200 kscf/d totalizer, meter factor 1: 1,200.00 kscf.
    assert (gas.method, gas.gross_standard_volume) == ("totalizer", Decimal("1200.00"))

    stored = {
        r.pmo.code: r.figures for r in store.load_day(conn, load_field(conn, FIELD).id, DAY_D)
    }
    assert stored["PMO-OIL"].net_standard_volume == Decimal("980.78")
    assert stored["PMO-WATER"].temperature_f == Decimal("105.0")
    assert stored["PMO-OIL"] == f["PMO-OIL"]  # the stored figures read back as computed
    assert result.changed == ("PMO-GAS", "PMO-OIL", "PMO-WATER")


def test_ctl_and_cpl_come_from_api_mpms_11_1(conn: Conn) -> None:
    ids = load_test_site(conn)
    standard_day(conn, ids, oil_temperature_f=100.0)

    oil = by_code(compute_day(conn, FIELD, DAY_D))["PMO-OIL"]

    # API 30.0 at 100.0 °F: the 1980 Table 6A lists 0.9821, which the 2004 procedure rounds to
    # at the ticket's 4 decimals. 0 psig: CPL = 1.0000.
    assert oil.temperature_f == Decimal("100.0")
    assert (oil.ctl, oil.cpl) == (Decimal("0.9821"), Decimal("1.0000"))
    exact = mpms.base_to_alternate(
        commodity=mpms.Commodity.CRUDE_OIL, temperature_f=100.0, api60=30.0
    )
    assert abs(Decimal(repr(exact.ctl)) - oil.ctl) <= Decimal("0.00005")
    # CCF = 0.9821 × 1.0000 × 1.0008 = 0.98288568 → 0.9829; GSV = 1,000.00 × 0.9829 = 982.90.
    assert oil.ccf == Decimal("0.9829")
    assert oil.gross_standard_volume == Decimal("982.90")


def test_rate_gap_is_estimated_and_lowers_completeness(conn: Conn) -> None:
    ids = load_test_site(conn)
    t = grid()
    k = (t - S) // (600 * US)
    keep = (k < 36) | (k >= 48)  # no rate samples from 06:00 to 08:00 after the start
    write(conn, ids["PMO-WATER.water_rate"], t[keep], 2400.0)

    water = by_code(compute_day(conn, FIELD, DAY_D))["PMO-WATER"]

    # Samples at k = 35 and k = 48 are 13 × 600 s = 7,800 s apart (> 6 × 600 s tolerance):
    # a gap of 7,800 s; covered 86,400 − 7,800 = 78,600 s → 90.97… % of the day.
    assert water.longest_gap_s == 7800.0
    assert water.flow_time_coverage_pct == pytest.approx(100 * 78_600 / 86_400)
    # Measured 2,400 bbl/d × 78,600 / 86,400 = 2,183.33 bbl; the gap is estimated on the
    # straight line between its edge samples: 2,400 × 7,800 / 86,400 = 216.67 bbl. The day is
    # whole, 2,400.00 bbl, with its estimated part flagged.
    assert water.indicated_volume == Decimal("2400.00")
    assert [e.method for e in water.estimates] == ["rate_interpolation"]
    assert water.estimated_volume is not None
    assert round(water.estimated_volume, 2) == Decimal("216.67")
    assert water.completeness_pct == pytest.approx(100 * 78_600 / 86_400, abs=1e-4)
    assert water.estimated_share_pct == pytest.approx(100 * 7_800 / 86_400, abs=1e-4)
    # 144 expected, 132 received (k = 36..47 missing).
    assert (water.samples_expected, water.samples_received) == (144, 132)
    # Score: 60 × 0.909722 (measured share) + 20 × 1 + 20 × 0.909722 (flow-time coverage)
    # = 54.583 + 20 + 18.194 = 92.78.
    assert water.quality_score == pytest.approx(80 * 78_600 / 86_400 + 20)


def test_bad_samples_do_not_count(conn: Conn) -> None:
    ids = load_test_site(conn)
    t = grid()
    quality = np.zeros(t.size, dtype=np.uint32)
    quality[10:13] = BAD_NO_COMMUNICATION  # k = 9, 10, 11
    write(conn, ids["PMO-WATER.water_rate"], t, 1000.0, quality)

    water = by_code(compute_day(conn, FIELD, DAY_D))["PMO-WATER"]

    # Received 144, good 141; the good samples k = 8 and k = 12 are 2,400 s apart (covered).
    assert (water.samples_received, water.samples_good) == (144, 141)
    assert water.indicated_volume == Decimal("1000.00")


def test_totalizer_reset_is_flagged(conn: Conn) -> None:
    ids = load_test_site(conn)
    t = grid()
    k = (t - S) // (600 * US)
    # 1,000 bbl/d; the meter resets to 0 at k = 100 and counts on from there.
    per_step = 1000.0 / 144
    readings = np.where(k < 100, 5000.0 + per_step * k, per_step * (k - 100))
    write(conn, ids["PMO-OIL.oil_total"], t, readings)

    oil = by_code(compute_day(conn, FIELD, DAY_D))["PMO-OIL"]

    # 99 steps of 1000/144 before the reset; the reset interval (k = 99 → 100) estimated from
    # the last good rate, one more step; the post-reset reading (0) is the new start, not
    # volume; 44 steps after: (99 + 1 + 44) × 1000/144 = 1,000.00 bbl.
    assert oil.indicated_volume == Decimal("1000.00")
    assert oil.resets == 1
    assert [i.code for i in oil.issues][:1] == ["meter_reset"]
    # Properties missing: no temperature/API, so no CTL and no GSV.
    assert oil.gross_standard_volume is None
    assert "ctl_missing" in [i.code for i in oil.issues]


def test_window_not_on_the_hour_uses_raw_rows(conn: Conn) -> None:
    # Asia/Kolkata is UTC+05:30: 06:00 local = 00:30 UTC, so the rollups cannot be used.
    ids = load_test_site(conn, timezone="Asia/Kolkata", start_hour=6)
    start = dt.datetime(2026, 2, 2, 0, 30, tzinfo=dt.UTC)
    s_us = int(start.timestamp()) * US
    t = grid(s_us, s_us + DAY)
    write(conn, ids["PMO-WATER.water_rate"], t, 1440.0)
    write(conn, ids["PMO-WATER.meter_temperature"], t, lambda x: 80.0 + 0.0 * x)

    water = by_code(compute_day(conn, FIELD, DAY_D))["PMO-WATER"]

    # 1,440 bbl/d for a whole day = 1,440.00 bbl; constant 80 °F.
    assert water.indicated_volume == Decimal("1440.00")
    assert water.temperature_f == Decimal("80.0")
    assert water.sources["temperature"] == (
        "telemetry CAMPO-TEST.PMO-WATER.meter_temperature (flow-weighted)"
    )


def test_late_data_recompute_marks_a_signed_day(conn: Conn, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from anh_reporter.config import Settings
    from anh_reporter.reports import service

    ids = load_test_site(conn)
    standard_day(conn, ids)
    t = grid()
    k = (t - S) // (600 * US)
    # The water meter's last 4 hours arrive late: at first they are missing.
    conn.execute(
        "DELETE FROM telemetry WHERE series_id = %s AND time >= %s",
        (ids["PMO-WATER.water_rate"], dt.datetime(2026, 2, 3, 7, tzinfo=dt.UTC)),
    )
    conn.execute(
        "DELETE FROM telemetry_hourly WHERE series_id = %s", (ids["PMO-WATER.water_rate"],)
    )
    conn.commit()
    write(conn, ids["PMO-WATER.water_rate"], t[k < 120], np.where(k[k < 120] < 72, 500.0, 1500.0))
    compute_day(conn, FIELD, DAY_D)
    # Its last 4 hours are estimated from the last good rate: a person approves the estimate.
    approve_estimate(
        conn, field_code=FIELD, pmo_code="PMO-WATER", day=DAY_D, reason="link down", decided_by="a"
    )
    context = service.Context.from_settings(Settings(data_dir=tmp_path))
    signed = service.generate(
        conn,
        field_code=FIELD,
        day=DAY_D,
        context=context,
        created_by="t",
        now=dt.datetime(2026, 2, 4, tzinfo=dt.UTC),
    )
    assert signed.version == 1
    assert recompute_stale(conn) == []  # nothing arrived since

    write(conn, ids["PMO-WATER.water_rate"], t[k >= 120], 1500.0)
    results = recompute_stale(conn)

    assert [(r.field_code, r.day.day, r.changed) for r in results] == [
        (FIELD, DAY_D, ("PMO-WATER",))
    ]
    assert results[0].needs_amendment
    rows = {r.pmo.code: r for r in store.load_day(conn, load_field(conn, FIELD).id, DAY_D)}
    assert rows["PMO-WATER"].needs_amendment and not rows["PMO-OIL"].needs_amendment
    flag = conn.execute("SELECT needs_amendment FROM reports").fetchone()
    assert flag == (True,)


def test_recompute_without_changes_changes_nothing(conn: Conn) -> None:
    ids = load_test_site(conn)
    standard_day(conn, ids)
    compute_day(conn, FIELD, DAY_D)
    again = compute_day(conn, FIELD, DAY_D)
    assert again.changed == () and not again.needs_amendment


def test_unknown_field_names_the_known_ones(conn: Conn) -> None:
    load_test_site(conn)
    with pytest.raises(UnknownFieldError, match=r"'NOPE' is not in the database.*CAMPO-TEST"):
        compute_day(conn, "NOPE", DAY_D)


def test_hourly_average_is_flow_weighted_then_time_weighted() -> None:
    def hour(h: int, mean: float, n: int = 6) -> HourRecord:
        first = S + h * HOUR
        last = first + (n - 1) * 600 * US
        return HourRecord(first, n, n, mean, mean * (last - first) / US, first, last, mean, mean)

    hours = [hour(0, 10.0), hour(1, 20.0), hour(2, 40.0)]
    # Volumes 1, 3 and 0: (1 × 10 + 3 × 20) / 4 = 17.5.
    flow = hourly_average(hours, {S: 1.0, S + HOUR: 3.0})
    assert flow is not None and (flow.basis, flow.value) == ("flow", 17.5)
    # No flow: each hour covers 3,000 s: (10 + 20 + 40) / 3 = 23.33…
    time = hourly_average(hours, {})
    assert time is not None and time.basis == "time"
    assert time.value == pytest.approx(70 / 3)
    assert hourly_average([], {}) is None
    assert E - S == DAY
