"""A field's allocation settings from its site file, on the real database (hand-worked numbers).

The day (contract day 2026-02-02 of field CAMPO-AJUSTES, battery BAT-1, one well W-1) is typed
by hand, every volume taken as it is entered:

* oil: PMO-OIL (production) 1,000.00 bbl NSV, PMO-LACT (sales, downstream) 996.00 bbl:
  residual 1,000.00 − 996.00 = 4.00 bbl (0.40 % of production);
* gas: PMO-GAS 1,200.00 kscf, all of it to the flare PMO-TEA: residual 0;
* water: PMO-AGUA 500.00 bbl, all of it to the disposal PMO-DISP: residual 0;
* W-1: on 24 h (typed), tested 2026-01-02 (31 days before the day) at oil 960, gas 1,200,
  water 500: oil factor 1,000.00 / (960 × 24 / 24) = 1.041666… → 1.04167; gas and water 1.

Default settings accept the day: the oil tolerance is max(0.5 % × 1,000.00, 1) = 5.00 bbl ≥ 4.00;
the test is 31 days old, within 90; the factor 1.04167 is within 0.85–1.15. A field whose site
file sets the oil tolerance to 0.3 % or 1 bbl has a tolerance of max(3.00, 1) = 3.00 bbl < 4.00:
its oil balance does not close (``balance_not_closed``, the report's IDP034); with a floor of
4.5 bbl, max(3.00, 4.5) = 4.50 ≥ 4.00 closes it again. A validity window of 30 days expires the
31-day-old test (31 days: still valid); a factor band of 0.95–1.04 puts 1.04167 out of band.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from anh_reporter.production.config import load_field
from anh_reporter.production.daily import compute_day
from anh_reporter.production.manual import add_entry
from anh_reporter.production.well_entries import add_well_test
from anh_reporter.site import Site, SiteFileError, load_site
from anh_reporter.storage import well_records
from anh_reporter.storage.site_repo import load_site_into

Conn = psycopg.Connection[Any]
D = Decimal
FIELD = "CAMPO-AJUSTES"
DAY = dt.date(2026, 2, 2)
TESTED_ON = DAY - dt.timedelta(days=31)
VOLUMES = (
    ("PMO-OIL", "oil_volume", "1000.00", "nsv"),
    ("PMO-LACT", "oil_volume", "996.00", "nsv"),
    ("PMO-GAS", "gas_volume", "1200.00", None),
    ("PMO-TEA", "gas_volume", "1200.00", None),
    ("PMO-AGUA", "water_volume", "500.00", "gsv"),
    ("PMO-DISP", "water_volume", "500.00", "gsv"),
)
TIGHT_OIL = {"balance_tolerance": {"oil": {"relative_pct": 0.3, "absolute": 1}}}


def site_dict(allocation: dict[str, Any] | None = None) -> dict[str, Any]:
    """The field of the module docstring, with ``allocation`` as its site-file block."""
    pmos = [
        ("PMO-OIL", "oil", "production", None),
        ("PMO-LACT", "oil", "sales", "PMO-OIL"),
        ("PMO-GAS", "gas", "production", None),
        ("PMO-TEA", "gas", "flare", "PMO-GAS"),
        ("PMO-AGUA", "water", "production", None),
        ("PMO-DISP", "water", "water_disposal", "PMO-AGUA"),
    ]
    field: dict[str, Any] = {
        "code": FIELD,
        "name": "Campo de ajustes",
        "contract": "C-1",
        "municipality_dane": "50568",
        "facilities": [{"code": "BAT-1", "name": "Batería 1"}],
        "pmos": [
            {"code": c, "name": c, "kind": k, "role": r} | ({"downstream_of": d} if d else {})
            for c, k, r, d in pmos
        ],
        "wells": [{"code": "W-1", "name": "Pozo 1", "production_method": "esp"}],
    }
    if allocation is not None:
        field["allocation"] = allocation
    return {"operator": {"name": "Operadora de Prueba S.A.S.", "nit": "900000001-2"},
            "fields": [field]}  # fmt: skip


def the_day(conn: Conn, allocation: dict[str, Any] | None = None) -> dict[str, Any]:
    """Load the field, type the day in; its stored allocation (balances and findings)."""
    load_site_into(conn, Site.model_validate(site_dict(allocation)), changed_by="test")
    add_well_test(
        conn, field_code=FIELD, well_code="W-1", tested_on=TESTED_ON, duration_h="12",
        oil_bbl_d="960", gas_kscf_d="1200", water_bbl_d="500", tested_by="Ing. Pruebas",
        entered_by="test",
    )  # fmt: skip
    add_entry(
        conn, field_code=FIELD, day=DAY, kind="well_hours_on", value="24", well_code="W-1",
        entered_by="test", reason="parte diario", recompute=False,
    )  # fmt: skip
    for pmo, kind, value, level in VOLUMES:
        add_entry(
            conn, field_code=FIELD, day=DAY, kind=kind, value=value, pmo_code=pmo, level=level,
            entered_by="test", reason="volumen del día", recompute=False,
        )  # fmt: skip
    compute_day(conn, FIELD, DAY)
    return stored(conn)


def stored(conn: Conn) -> dict[str, Any]:
    allocation = well_records.load_allocation_day(conn, load_field(conn, FIELD).id, DAY)
    assert allocation is not None
    return dict(allocation)


def balances(allocation: dict[str, Any]) -> dict[str, tuple[D, D, bool]]:
    """Each fluid's (residual, tolerance, closes)."""
    return {
        b["fluid"]: (D(b["residual"]), D(b["tolerance"]), b["closes"])
        for b in allocation["totals"]["balances"]
    }


def codes(allocation: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f["code"], f["target"]) for f in allocation["findings"]]


def test_the_default_settings_accept_the_day(conn: Conn) -> None:
    allocation = the_day(conn)
    assert balances(allocation) == {
        "oil": (D("4.00"), D(5), True),  # max(0.5 % × 1,000.00, 1)
        "gas": (D(0), D(24), True),  # max(2 % × 1,200.00, 1)
        "water": (D(0), D("2.5"), True),  # max(0.5 % × 500.00, 1)
    }
    assert codes(allocation) == []
    (w1,) = well_records.load_well_days(conn, load_field(conn, FIELD).id, DAY).values()
    assert (w1["test_age_days"], w1["test_state"]) == (31, "valid")
    assert w1["factors"] == {"gas": "1.00000", "oil": "1.04167", "water": "1.00000"}
    # A field that sets no tolerance stores its settings without the key: loading the same
    # file again is no configuration change.
    with conn.cursor() as cur:
        (raw,) = cur.execute("SELECT allocation FROM fields WHERE code = %s", (FIELD,)).fetchone()
    assert "balance_tolerance" not in raw
    again = load_site_into(conn, Site.model_validate(site_dict()), changed_by="test")
    assert again.config_changes == 0


@pytest.mark.parametrize(
    ("oil", "tolerance", "closes"),
    [
        ({"relative_pct": 0.3, "absolute": 1}, D(3), False),  # max(0.3 % × 1,000.00, 1) = 3.00
        ({"relative_pct": 0.3, "absolute": 4.5}, D("4.5"), True),  # the floor: max(3.00, 4.5)
    ],
)
def test_a_fields_oil_tolerance_decides_whether_the_balance_closes(
    conn: Conn, oil: dict[str, float], tolerance: D, closes: bool
) -> None:
    allocation = the_day(conn, {"balance_tolerance": {"oil": oil}})
    got = balances(allocation)
    assert got["oil"] == (D("4.00"), tolerance, closes)
    # Gas and water keep their defaults.
    assert (got["gas"], got["water"]) == ((D(0), D(24), True), (D(0), D("2.5"), True))
    if closes:
        assert codes(allocation) == []
        return
    (finding,) = allocation["findings"]
    assert (finding["code"], finding["severity"], finding["target"]) == (
        "balance_not_closed", "warning", FIELD,
    )  # fmt: skip
    assert finding["message"] == (
        "oil balance does not close: produced 1000.00 bbl, disposed 996.00 bbl (dispatched "
        "996.00, stock_change 0, consumption 0, losses 0); residual 4.00 bbl (0.40 % of "
        "production) exceeds the tolerance 3.00 bbl"
    )


def test_a_tolerance_changed_from_a_date_applies_from_that_day(conn: Conn) -> None:
    assert balances(the_day(conn))["oil"][2] is True
    # The same field, its oil tolerance tightened effective the day's start (06:00 Bogotá).
    start = dt.datetime(2026, 2, 2, 11, tzinfo=dt.UTC)
    summary = load_site_into(
        conn, Site.model_validate(site_dict(TIGHT_OIL)), changed_by="test",
        reason="tolerancia acordada", effective_from=start,
    )  # fmt: skip
    assert summary.config_changes == 1
    compute_day(conn, FIELD, DAY)
    assert balances(stored(conn))["oil"] == (D("4.00"), D(3), False)
    assert codes(stored(conn)) == [("balance_not_closed", FIELD)]


@pytest.mark.parametrize(("days", "state"), [(30, "expired"), (31, "valid")])
def test_a_fields_validity_window_expires_its_tests(conn: Conn, days: int, state: str) -> None:
    allocation = the_day(conn, {"test_validity_days": days})
    (w1,) = well_records.load_well_days(conn, load_field(conn, FIELD).id, DAY).values()
    assert (w1["test_date"], w1["test_age_days"], w1["test_state"]) == (TESTED_ON, 31, state)
    expected = [("well_test_expired", "W-1")] if state == "expired" else []
    assert codes(allocation) == expected
    if expected:
        assert allocation["findings"][0]["message"] == (
            "last valid test of 2026-01-02 is 31 days old, beyond the validity window: used for "
            "the allocation, flagged"
        )
        assert w1["oil_bbl"] == D("1000.00")  # used, flagged


def test_a_fields_factor_band_flags_the_oil_factor(conn: Conn) -> None:
    allocation = the_day(conn, {"factor_band": [0.95, 1.04]})
    # Oil 1.04167 > 1.04: out of band; gas and water 1.00000 in.
    assert codes(allocation) == [("allocation_factor_out_of_band", "PMO-OIL")]
    assert "1.04167" in allocation["findings"][0]["message"]


@pytest.mark.parametrize(
    ("allocation", "message"),
    [
        (
            {"balance_tolerance": {"oil": {"relative_pct": 150, "absolute": 1}}},
            "fields[0].allocation.balance_tolerance.oil.relative_pct: Input should be less than "
            "or equal to 100 (got 150)",
        ),
        (
            {"balance_tolerance": {"gas": {"relative_pct": 2, "absolute": -1}}},
            "fields[0].allocation.balance_tolerance.gas.absolute: Input should be greater than "
            "or equal to 0 (got -1)",
        ),
        (
            {"balance_tolerance": {"water": {"relative_pct": 0.5}}},
            "fields[0].allocation.balance_tolerance.water.absolute: Field required (got",
        ),
        (
            {"balance_tolerance": {"condensate": {"relative_pct": 1, "absolute": 1}}},
            "fields[0].allocation.balance_tolerance.condensate: Extra inputs are not permitted",
        ),
        (
            {"test_validity_days": 0},
            "fields[0].allocation.test_validity_days: Input should be greater than or equal to 1 "
            "(got 0)",
        ),
        (
            {"factor_band": [1.1, 0.9]},
            "fields[0].allocation.factor_band: factor_band must have 0 <= low < high, got "
            "[1.1, 0.9]",
        ),
    ],
)
def test_bad_allocation_settings_name_the_key_the_value_and_the_limit(
    tmp_path: Path, allocation: dict[str, Any], message: str
) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(site_dict(allocation), allow_unicode=True), encoding="utf-8")
    with pytest.raises(SiteFileError) as err:
        load_site(path)
    assert str(err.value).startswith(f"{path}: {message}"), str(err.value)
