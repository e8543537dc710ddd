"""Pre-submission rules: each breaks on the figure it guards, with its code and severity."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from anh_reporter.reports import rules
from anh_reporter.reports.build import build_report
from anh_reporter.reports.model import (
    AllocationReport,
    Anomaly,
    ApprovalInfo,
    EstimateReport,
    EventReport,
    GasBaseReport,
    IdpReport,
    PmoContext,
    ProvingInfo,
    ReportInputs,
)

from .test_golden import CASES

D = Decimal
AFTER = dt.datetime(2026, 2, 4, tzinfo=dt.UTC)


def report(case: str = "tipo-a-three-pmos") -> IdpReport:
    path = next(c for c in CASES if c.name == case) / "input.json"
    return build_report(ReportInputs.model_validate_json(path.read_bytes()))


def with_pmo(r: IdpReport, index: int, **changes: Any) -> IdpReport:
    pmos = list(r.pmos)
    pmo = pmos[index]
    if "quality" in changes:
        changes["quality"] = replace(pmo.quality, **changes["quality"])
    pmos[index] = replace(pmo, **changes)
    return replace(r, pmos=pmos)


def codes(r: IdpReport, now: dt.datetime = AFTER) -> list[tuple[str, str, str]]:
    return [(f.code, f.severity.value, f.target) for f in rules.check(r, now=now)]


def test_a_good_report_has_no_findings() -> None:
    assert codes(report()) == []


def test_the_day_must_be_over() -> None:
    r = report()
    during = dt.datetime(2026, 2, 3, 10, 59, tzinfo=dt.UTC)  # one minute before the end
    assert codes(r, during) == [("IDP001", "error", "")]
    assert "is not over" in rules.check(r, now=during)[0].message


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"api_gravity": D("100.1")}, ("IDP003", "error")),
        ({"temperature_f": D("302.1")}, ("IDP014", "error")),
        ({"ctl": None}, ("IDP010", "error")),
        ({"manual_entry_ids": [4]}, ("IDP015", "info")),
        ({"quality": {"quality_score": D("59.9")}}, ("IDP011", "warning")),
        ({"quality": {"flow_time_coverage_pct": D("94.9")}}, ("IDP006", "warning")),
        ({"issues": [{"code": "pressure_missing", "message": "no P"}]}, ("IDP013", "warning")),
        ({"fallbacks": ["temperature"]}, ("IDP025", "warning")),
        ({"missing_s": 3600}, ("IDP029", "error")),
        ({"quality": {"negative_clipped": 3}}, ("IDP027", "warning")),
        ({"quality": {"low_flow_zeroed": 3}}, ("IDP027", "info")),
        ({"quality": {"property_coverage_pct": {"temperature": D("94.9")}}}, ("IDP024", "warning")),
    ],
)
def test_each_rule(changes: dict[str, Any], expected: tuple[str, str]) -> None:
    r = with_pmo(report(), 0, **changes)
    assert [(c, s) for c, s, _ in codes(r)] == [expected]


@pytest.mark.parametrize(
    ("changes", "found"),
    [
        ({"quality": {"flow_time_coverage_pct": D("95.0")}}, []),
        ({"quality": {"property_coverage_pct": {"temperature": D("95.0")}}}, []),
        ({"missing_s": 0}, []),
        ({"quality": {"negative_clipped": 0, "low_flow_zeroed": 0}}, []),
    ],
)
def test_each_rule_is_quiet_at_its_limit(changes: dict[str, Any], found: list[str]) -> None:
    assert [c for c, _, _ in codes(with_pmo(report(), 0, **changes))] == found


@pytest.mark.parametrize(
    ("changes", "found"),
    [
        ({"api_gravity": D("100.0")}, []),  # API MPMS 11.1-2004 crude range [-10.0, 100.0] °API
        ({"api_gravity": D("-10.0")}, []),
        ({"api_gravity": D("-10.1")}, ["IDP003"]),
        ({"temperature_f": D("302.0")}, []),  # [-58, 302] °F
        ({"temperature_f": D("-58.0")}, []),
        ({"temperature_f": D("-58.1")}, ["IDP014"]),
        ({"pressure_psig": D("1500.0")}, []),  # [0, 1500] psig, down to -14.696 (vacuum)
        ({"pressure_psig": D("-14.6")}, []),
        ({"pressure_psig": D("-14.7")}, ["IDP014"]),
        ({"pressure_psig": D("1500.1")}, ["IDP014"]),
    ],
)
def test_limits_are_inclusive(changes: dict[str, Any], found: list[str]) -> None:
    r = with_pmo(report(), 0, **changes)  # the oil PMO
    assert [c for c, _, _ in codes(r)] == found


def test_missing_volume() -> None:
    r = with_pmo(report(), 2, method="none", gas_kpc=None)
    assert ("IDP009", "error", "PMO-GAS-01") in codes(r)


def test_high_severity_anomaly_is_a_warning() -> None:
    r = report()
    at = dt.datetime(2026, 2, 2, 15, tzinfo=dt.UTC)
    anomalies = [
        Anomaly(at=at, target="X", severity="critical", kind="FLATLINE", message="frozen"),
        Anomaly(at=at, target="Y", severity="info", kind="SPIKE", message="small"),
    ]
    assert codes(replace(r, anomalies=anomalies)) == [("IDP016", "warning", "X")]


def test_errors_come_first() -> None:
    r = with_pmo(report(), 0, api_gravity=D("120.0"), manual_entry_ids=[1])
    severities = [f.severity for f in rules.check(r, now=AFTER)]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)
    assert rules.errors(rules.check(r, now=AFTER))[0].code == "IDP003"


def context(**kw: Any) -> PmoContext:
    proving = ProvingInfo(
        proved_at=dt.datetime(2026, 1, 20, tzinfo=dt.UTC),
        effective_from=dt.datetime(2026, 1, 20, tzinfo=dt.UTC),
        meter_factor=D("1.0008"),
        previous_factor=D("1.0008"),
        run_reference="PR-1",
        proved_by="m",
    )
    return PmoContext(**({"proving": proving} | kw))


def test_plausibility_against_the_last_signed_days() -> None:
    # NSV 963.50 bbl; the last signed days average 1,000.00: −3.65 %, inside ±25 %.
    r = with_pmo(report(), 0, context=context(history=[D("1000.00")] * 3))
    assert codes(r) == []
    # They average 700.00: +37.64 %, outside: a warning naming both figures.
    r = with_pmo(report(), 0, context=context(history=[D("700.00")] * 3))
    assert codes(r) == [("IDP019", "warning", "PMO-LACT-01")]
    assert "+37.6 %" in rules.check(r, now=AFTER)[0].message
    # Fewer than three signed days: nothing to compare with.
    assert codes(with_pmo(report(), 0, context=context(history=[D("700.00")] * 2))) == []


def test_the_volume_cannot_exceed_what_the_meter_passes() -> None:
    # IV 1,000.00 bbl; a meter of 1,000 bbl/d passes 1,000.00 in 24 h: at the limit, no finding.
    r = with_pmo(report(), 0, context=context(max_daily_volume=D("1000.00")))
    assert codes(r) == []
    r = with_pmo(report(), 0, context=context(max_daily_volume=D("999.99")))
    assert codes(r) == [("IDP020", "error", "PMO-LACT-01")]


def test_proving_overdue_and_factor_change() -> None:
    start = dt.datetime(2026, 2, 2, 11, tzinfo=dt.UTC)  # the case's contract day start
    old = ProvingInfo(
        proved_at=start - dt.timedelta(days=32), effective_from=start - dt.timedelta(days=32),
        meter_factor=D("1.0008"), previous_factor=None, run_reference="PR-0", proved_by="m",
    )  # fmt: skip
    assert codes(with_pmo(report(), 0, context=context(proving=old))) == [
        ("IDP022", "warning", "PMO-LACT-01")
    ]
    assert codes(with_pmo(report(), 0, context=PmoContext())) == [
        ("IDP022", "warning", "PMO-LACT-01")
    ]
    # A proving effective at the day's start moving the factor 1.0008 → 1.0035: +0.2698 %,
    # beyond ±0.25 %; 1.0008 → 1.0030 is +0.2198 %, inside.
    for factor, found in ((D("1.0035"), ["IDP021"]), (D("1.0030"), [])):
        new = ProvingInfo(
            proved_at=start, effective_from=start, meter_factor=factor,
            previous_factor=D("1.0008"), run_reference="PR-2", proved_by="m",
        )  # fmt: skip
        assert [c for c, _, _ in codes(with_pmo(report(), 0, context=context(proving=new)))] == (
            found
        )


def test_sales_bsw_above_the_specification() -> None:
    # The LACT's BSW is 2.00 %: above a 0.5 % sales specification when its role is sales.
    r = with_pmo(report(), 0, context=context(role="sales"))
    assert codes(r) == [("IDP023", "warning", "PMO-LACT-01")]
    assert codes(with_pmo(report(), 0, context=context(role="production"))) == []
    r = with_pmo(report(), 0, context=context(role="sales", sales_bsw_spec_pct=D("2.00")))
    assert codes(r) == []


def _reset(needs: bool) -> EventReport:
    at = dt.datetime(2026, 2, 2, 20, tzinfo=dt.UTC)
    return EventReport(
        kind="reset", before=at, after=at + dt.timedelta(minutes=10), before_value=5100.0,
        after_value=3.0, volume=D("6.94"), basis="last good rate", confirmed=not needs,
        replaced=False, needs_confirmation=needs,
    )  # fmt: skip


def test_an_unconfirmed_reset_blocks_signing() -> None:
    assert codes(with_pmo(report(), 0, events=[_reset(True)])) == [
        ("IDP026", "error", "PMO-LACT-01")
    ]
    assert codes(with_pmo(report(), 0, events=[_reset(False)])) == []


def _estimate(volume: str) -> EstimateReport:
    start = dt.datetime(2026, 2, 2, 12, tzinfo=dt.UTC)
    return EstimateReport("rate_interpolation", start, start + dt.timedelta(hours=2), D(volume), "")


def test_an_estimate_above_the_limit_needs_an_approval() -> None:
    # 40.00 of 1,000.00 bbl (4.0 %): under 5 %, informative.
    r = with_pmo(report(), 0, estimates=[_estimate("40.00")], estimated_share_pct=D("4.0"))
    assert codes(r) == [("IDP028", "info", "PMO-LACT-01")]
    # 140.00 (14.0 %): an error until someone approves it, then informative again.
    r = with_pmo(report(), 0, estimates=[_estimate("140.00")], estimated_share_pct=D("14.0"))
    assert codes(r) == [("IDP028", "error", "PMO-LACT-01")]
    approval = ApprovalInfo(
        pmo="PMO-LACT-01", kind="estimate_approval", reason="link down, steady flow",
        decided_by="ana", decided_at=AFTER,
    )  # fmt: skip
    r = with_pmo(r, 0, approvals=[approval])
    assert codes(r) == [("IDP028", "info", "PMO-LACT-01")]
    assert "approved by ana" in rules.check(r, now=AFTER)[0].message


def test_gas_converted_to_the_reporting_base_is_stated() -> None:
    base = GasBaseReport(D("14.696"), D("60.0"), "V × (14.65 / 14.696 psia) × (519.67 / 519.67 °R)")
    assert codes(with_pmo(report(), 2, gas_base=base)) == [("IDP031", "info", "PMO-GAS-01")]
    assert codes(with_pmo(report(), 2, gas_base=GasBaseReport(D("14.65"), D("60"), None))) == []


def with_allocation(*findings: tuple[str, str, str]) -> IdpReport:
    """The three-PMO report with the day's allocation findings (code, severity, target)."""
    listed = [
        {"code": c, "severity": sev, "target": t, "message": f"{c} on {t}"}
        for c, sev, t in findings
    ]
    return replace(
        report(), allocation=AllocationReport(pmos=[], totals_by_role=[], findings=listed)
    )


def test_an_allocation_error_warns_or_blocks_as_configured() -> None:
    # W-4 produced without a test: the others carried its share (allocation error); W-3's test
    # expired (an allocation warning, kept in the document, no rule).
    r = with_allocation(
        ("well_without_test", "error", "W-4"), ("well_test_expired", "warning", "W-3")
    )
    assert codes(r) == [("IDP032", "warning", "W-4")]
    assert "well_without_test" in rules.check(r, now=AFTER)[0].message
    strict = rules.RuleSettings(allocation_error_severity=rules.Severity.ERROR)
    assert [f.severity for f in rules.check(r, now=AFTER, settings=strict)] == [rules.E]
    assert codes(with_allocation(("well_test_expired", "warning", "W-3"))) == []


def test_an_allocation_factor_out_of_band_warns() -> None:
    r = with_allocation(("allocation_factor_out_of_band", "warning", "PMO-OIL"))
    assert codes(r) == [("IDP033", "warning", "PMO-OIL")]
    assert codes(with_allocation(("hours_on_incomplete", "warning", "W-1"))) == []


def test_a_balance_that_does_not_close_warns_or_blocks_as_configured() -> None:
    r = with_allocation(("balance_not_closed", "warning", ""))
    assert codes(r) == [("IDP034", "warning", "")]
    strict = rules.RuleSettings(balance_severity=rules.Severity.ERROR)
    assert [f.severity for f in rules.check(r, now=AFTER, settings=strict)] == [rules.E]
    assert codes(with_allocation()) == []


def test_virtual_meters_off_the_measured_volume_warn_or_block_as_configured() -> None:
    r = with_allocation(("virtual_meter_diverges", "warning", "PMO-OIL"))
    assert codes(r) == [("IDP035", "warning", "PMO-OIL")]
    strict = rules.RuleSettings(virtual_meter_severity=rules.Severity.ERROR)
    assert [f.severity for f in rules.check(r, now=AFTER, settings=strict)] == [rules.E]
    # An incomplete comparison stays an allocation note: no rule.
    assert codes(with_allocation(("virtual_meter_incomplete", "info", "PMO-OIL"))) == []
