"""Pre-submission rules: each breaks on the figure it guards, with its code and severity."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from anh_reporter.reports import rules
from anh_reporter.reports.model import Anomaly, IdpReport, ReportInputs, build_report

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
        ({"bsw_pct": D("100.00")}, ("IDP002", "error")),
        ({"bsw_pct": D("-0.01")}, ("IDP002", "error")),
        ({"api_gravity": D("100.1")}, ("IDP003", "error")),
        ({"oil_net_bbl": D("983.17")}, ("IDP004", "error")),
        ({"temperature_f": D("302.1")}, ("IDP014", "error")),
        ({"ctpl": None}, ("IDP010", "error")),
        ({"manual_entry_ids": [4]}, ("IDP015", "info")),
        ({"quality": {"quality_score": D("59.9")}}, ("IDP011", "warning")),
        ({"quality": {"completeness_pct": D("94.9")}}, ("IDP006", "warning")),
        ({"quality": {"completeness_pct": D("49.9")}}, ("IDP007", "error")),
        ({"issues": [{"code": "meter_reset", "message": "reset"}]}, ("IDP012", "warning")),
    ],
)
def test_each_rule(changes: dict[str, Any], expected: tuple[str, str]) -> None:
    r = with_pmo(report(), 0, **changes)
    found = [(c, s) for c, s, _ in codes(r) if c not in ("IDP008",)]
    assert found == [expected]


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


def test_negative_volumes_and_totals() -> None:
    r = with_pmo(report(), 1, water_gross_bbl=D("-1.00"))
    found = codes(r)
    assert ("IDP005", "error", "PMO-AGUA-01") in found
    # The totals were built from the original figures: they no longer add up.
    assert ("IDP008", "error", "") in found


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


def test_allocation_must_add_up() -> None:
    r = report("tipo-b-manual-allocated")
    assert [c for c, s, _ in codes(r) if s == "error"] == []
    wells = list(r.wells)
    wells[0] = replace(wells[0], oil_net_bbl=D("165.84"))
    found = codes(replace(r, wells=wells))
    assert ("IDP017", "error", "PMO-TANQUE-01") in found


def test_errors_come_first() -> None:
    r = with_pmo(report(), 0, bsw_pct=D("120.00"), manual_entry_ids=[1])
    severities = [f.severity for f in rules.check(r, now=AFTER)]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)
    assert rules.errors(rules.check(r, now=AFTER))[0].code == "IDP002"
