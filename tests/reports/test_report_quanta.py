"""Every figure of a signed report carries its reporting increment, whatever its source.

The day is tests/production/wells_site.wells_day: W-2 and W-4 have 24 h on typed by hand, W-3
12 h typed and 12 h down (power failure), W-1 18 h on from its pump's telemetry and no downtime
(0 h down); the oil balance's consumption and losses are the zero defaults (no entry). Before,
the typed hours were signed ``24`` and ``12`` (the stored entry's digits), the zero defaults
``0``, next to telemetry's ``18.00``; now ``24.00``, ``12.00``, ``0.00``, and the typed hours
entries are in ``manual_entries`` as every other entry a figure rests on.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from anh_reporter.reports import amendments, build
from anh_reporter.reports.canonical import parse
from anh_reporter.reports.model import ENTRY_QUANTA, QUANTA, BalanceReport, ReportInputs
from anh_reporter.reports.wells import balance_reports, well_reports

from ..production.helpers import prove_meters
from ..production.wells_site import wells_day
from .helpers import DAY_D, FIELD, context, generate

Conn = psycopg.Connection[object]
D = Decimal

V, H, P, F = QUANTA["volume"], QUANTA["hours"], QUANTA["pct"], QUANTA["factor"]
INCREMENT: dict[str, Decimal] = {
    # PMO rows
    "oil_gross_bbl": V, "oil_net_bbl": V, "water_gross_bbl": V, "water_net_bbl": V,
    "gas_kpc": V, "indicated_volume": V, "gross_observed_volume": V,
    "gross_standard_volume": V, "net_standard_volume": V, "measured_volume": V,
    "estimated_volume": V, "meter_factor": QUANTA["meter_factor"], "bsw_pct": QUANTA["bsw"],
    "api_gravity": QUANTA["api"], "api_observed": QUANTA["api"], "ctl": F, "cpl": F, "ctpl": F,
    "ccf": QUANTA["ccf"], "csw": QUANTA["ccf"], "temperature_f": QUANTA["temperature"],
    "pressure_psig": QUANTA["pressure"], "completeness_pct": P, "sample_completeness_pct": P,
    "flow_time_coverage_pct": P, "estimated_share_pct": P, "score": QUANTA["points"],
    "coverage_points": QUANTA["points"], "good_ratio_points": QUANTA["points"],
    "gap_points": QUANTA["points"], "rollover_penalty": QUANTA["points"],
    "reset_penalty": QUANTA["points"], "completeness_threshold_pct": P,
    "min_completeness_pct": P, "mean_quality_score": QUANTA["points"],
    "expanded": V, "expanded_pct": QUANTA["fraction"], "coverage_factor": P,
    "standard_uncertainty": QUANTA["fraction"], "contribution": V, "share_pct": P,
    "volume": V, "manual_volume": V, "telemetry_volume": V,
    # wells, deferred production, balances, allocation
    "hours_on": H, "hours_down": H, "water_bbl": V, "theoretical_oil_bbl": V, "oil_bbl": V,
    "gor_scf_bbl": QUANTA["gor"], "wor": QUANTA["wor"], "oil": V, "gas": V, "water": V,
    "produced": V, "residual": V, "tolerance": V, "measured": V, "theoretical_total": V,
    "allocated_total": V, "unallocated": V, "factor": F, "total": V, "estimated": V,
}  # fmt: skip
"""The increment of each figure by its key (``factors.oil`` is a factor, ``deferred.oil_bbl``
and ``causes[].oil`` volumes)."""
INTEGERS = frozenset({
    "version", "start_hour", "pmos", "pmos_from_telemetry", "samples_expected",
    "samples_received", "samples_good", "longest_gap_s", "rollovers", "resets",
    "unconfirmed_resets", "backsteps", "negative_clipped", "low_flow_zeroed", "missing_s",
    "age_days", "id", "manual_entry_ids",
})  # fmt: skip
"""Keys whose numbers are counts or ids (integers by type)."""


def _figures(node: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every number of a document with its path of keys (list positions left out)."""
    if isinstance(node, dict):
        return [f for k, v in node.items() for f in _figures(v, (*path, k))]
    if isinstance(node, list):
        return [f for v in node for f in _figures(v, path)]
    if isinstance(node, int | Decimal) and not isinstance(node, bool):
        return [(path, node)]
    return []


def _increment(path: tuple[str, ...]) -> Decimal | None:
    key = path[-1]
    if len(path) > 1 and path[-2] == "factors":
        return F
    if path[0] == "manual_entries" and key == "value":
        return None  # checked per kind: most kinds are listed as typed
    if key in INTEGERS:
        return None
    if path[-2:-1] == ("gas_base",):
        return None  # the base conditions the gas is stated at (site file), not a figure
    if path[-2:] == ("budget", "value"):
        return QUANTA["fraction"]  # an uncertainty budget's input quantity
    if path[-2:-1] == ("property_coverage_pct",):
        return P
    if path[-2:-1] == ("proving",):
        return QUANTA["meter_factor"]
    return INCREMENT[key]


def _signed(conn: Conn, tmp_path: Path) -> dict[str, Any]:
    wells_day(conn)
    prove_meters(conn)
    signed = generate(conn, context(tmp_path))
    assert signed.path is not None
    doc = parse(signed.path.read_bytes())
    assert isinstance(doc, dict)
    return doc


def test_every_figure_of_the_signed_report_has_its_increment(conn: Conn, tmp_path: Path) -> None:
    doc = _signed(conn, tmp_path)
    figures = _figures(doc)
    assert len(figures) > 100
    for path, value in figures:
        where = "/".join(path)
        increment = _increment(path)
        if path[-1] in INTEGERS:
            assert type(value) is int, (where, value)
        elif increment is not None:
            assert isinstance(value, Decimal), (where, value)
            assert value.as_tuple().exponent == increment.as_tuple().exponent, (where, value)
    for entry in doc["manual_entries"]:
        if entry["kind"] in ENTRY_QUANTA:
            exponent = QUANTA[ENTRY_QUANTA[entry["kind"]]].as_tuple().exponent
            assert entry["value"].as_tuple().exponent == exponent, entry

    wells = {w["code"]: w for w in doc["wells"]}
    # str() of the parsed Decimal is the text signed.
    assert {c: (w["hours_source"], str(w["hours_on"])) for c, w in wells.items()} == {
        "W-1": ("telemetry", "18.00"), "W-2": ("manual", "24.00"),
        "W-3": ("manual", "12.00"), "W-4": ("manual", "24.00"),
    }  # fmt: skip
    assert {c: str(w["deferred"]["hours_down"]) for c, w in wells.items()} == {
        "W-1": "0.00", "W-2": "0.00", "W-3": "12.00", "W-4": "0.00",
    }  # fmt: skip
    assert [str(c["hours_down"]) for c in wells["W-3"]["deferred"]["causes"]] == ["12.00"]
    oil = next(b for b in doc["balances"] if b["fluid"] == "oil")
    terms = {t["name"]: str(t["volume"]) for t in oil["terms"]}
    assert (terms["consumption"], terms["losses"]) == ("0.00", "0.00")
    assert str(oil["tolerance"]).count(".") == 1 and len(str(oil["tolerance"]).split(".")[1]) == 2


def test_typed_hours_on_are_listed_with_the_other_manual_entries(
    conn: Conn, tmp_path: Path
) -> None:
    doc = _signed(conn, tmp_path)
    hours = [e for e in doc["manual_entries"] if e["kind"] == "well_hours_on"]
    listed = [
        (e["target"], str(e["value"]), e["unit"], e["entered_by"], e["reason"]) for e in hours
    ]
    assert listed == [
        ("W-2", "24.00", "h", "test", "daily sheet"),
        ("W-3", "12.00", "h", "test", "daily sheet"),
        ("W-4", "24.00", "h", "test", "daily sheet"),
    ]  # fmt: skip
    ids = [e["id"] for e in hours]
    assert all(isinstance(i, int) and i >= 1 for i in ids) and ids == sorted(ids)
    assert all(e["entered_at"] and e["contract_day"] == str(DAY_D) for e in hours)
    # W-1's hours came from telemetry: no entry of its own is listed.
    assert "W-1" not in {e["target"] for e in hours}


def test_typed_hours_are_listed_only_when_the_row_rests_on_them() -> None:
    """Pure: the build lists a well's hours entry when its row's hours are ``manual``."""
    base = ReportInputs.model_validate_json(
        (Path(__file__).parent / "cases" / "tipo-b-manual-allocated" / "input.json").read_bytes()
    )
    entry = base.manual_entries[0].model_copy(
        update={"id": 40, "kind": "well_hours_on", "target": "W-1", "value": D("23.5"),
                "unit": "h", "level": None, "details": {}}
    )  # fmt: skip
    rows = [
        base.well_days[0].model_copy(update={"hours_on": D("23.5"), "hours_entry_id": 40}),
        base.well_days[1].model_copy(update={"hours_on": D("0"), "hours_source": "status"}),
        *base.well_days[2:],
    ]
    inputs = base.model_copy(
        update={"well_days": rows, "manual_entries": [*base.manual_entries, entry]}
    )
    report = build.build_report(inputs)
    listed = {m.id: m for m in report.manual_entries}
    assert str(listed[40].value) == "23.50"
    assert [str(w.hours_on) for w in report.wells] == ["23.50", "0.00", "24.00"]
    # A row whose hours are not from the entry does not list it.
    rows[0] = rows[0].model_copy(update={"hours_source": "telemetry"})
    report = build.build_report(inputs.model_copy(update={"well_days": rows}))
    assert 40 not in {m.id for m in report.manual_entries}


def test_figures_compare_by_value_in_an_amendment() -> None:
    """``24`` signed before the increment and ``24.00`` rebuilt are the same figure."""
    old = {
        "totals": {"oil_net_bbl": D("995.00"), "gas_kpc": 0},
        "wells": [{"code": "W-1", "hours_on": 24, "deferred": {"hours_down": 0}}],
        "balances": [{"fluid": "oil", "produced": D("995.00"),
                      "terms": [{"name": "consumption", "volume": 0}]}],
        "allocation": {"pmos": [{"pmo": "P", "allocated_total": 0, "factor": None}]},
    }  # fmt: skip
    new = {
        "totals": {"oil_net_bbl": D("995.00"), "gas_kpc": D("0.00")},
        "wells": [{"code": "W-1", "hours_on": D("24.00"), "deferred": {"hours_down": D("0.00")}}],
        "balances": [{"fluid": "oil", "produced": D("995.00"),
                      "terms": [{"name": "consumption", "volume": D("0.00")}]}],
        "allocation": {"pmos": [{"pmo": "P", "allocated_total": D("0.00"), "factor": None}]},
    }  # fmt: skip
    assert amendments.figure_changes(old, new) == []
    new["wells"][0]["hours_on"] = D("23.99")
    assert [(c.target, c.figure, c.old, c.new) for c in amendments.figure_changes(old, new)] == [
        ("W-1", "wells/hours_on", 24, D("23.99"))
    ]


def _old_wells(inputs: ReportInputs) -> list[Any]:
    """The well rows as the build made them before: hours on and down as stored."""
    stored = {d.code: d for d in inputs.well_days}
    return [
        dataclasses.replace(
            w, hours_on=stored[w.code].hours_on, hours_down=stored[w.code].hours_down
        )
        for w in well_reports(inputs)
    ]


def _old_balances(allocation: Any) -> list[BalanceReport]:
    """The balances as the build made them before: the stored texts as they are."""
    return [
        dataclasses.replace(
            b,
            terms=[
                t | {"volume": Decimal(s["volume"])}
                for t, s in zip(b.terms, raw["terms"], strict=True)
            ],
        )
        for b, raw in zip(
            balance_reports(allocation), allocation.totals.get("balances", []), strict=True
        )
    ]


def test_a_day_signed_without_increments_needs_no_amendment(
    conn: Conn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A day signed before the figures carried their increment (``"hours_on":24``, a zero term
    ``"volume":0``), rebuilt now (``24.00``, ``0.00``): the draft finds no changed figure."""
    with monkeypatch.context() as m:
        m.setattr(build, "well_reports", _old_wells)
        m.setattr(build, "balance_reports", _old_balances)
        doc = _signed(conn, tmp_path)
    wells = {w["code"]: w for w in doc["wells"]}
    assert (wells["W-2"]["hours_on"], wells["W-1"]["deferred"]["hours_down"]) == (24, 0)
    oil = next(b for b in doc["balances"] if b["fluid"] == "oil")
    assert {t["name"]: t["volume"] for t in oil["terms"]}["consumption"] == 0
    draft = amendments.draft(conn, field_code=FIELD, day=DAY_D, context=context(tmp_path))
    assert draft.changes == []
    assert not draft.material


def test_a_manual_pmo_is_not_counted_as_from_telemetry() -> None:
    """tipo-b: one PMO, gauged by hand. Even when its day carries a completeness (a manual
    volume over part of the day), the data quality counts it manual, not from telemetry."""
    import dataclasses

    from .test_report_bytes import _inputs

    inputs = _inputs("tipo-b-manual-allocated")
    day = inputs.pmos[0]
    figures = dataclasses.replace(day.figures, completeness_pct=100.0)
    inputs = inputs.model_copy(update={"pmos": [dataclasses.replace(day, figures=figures)]})
    quality = build.build_report(inputs).data_quality
    assert (quality.pmos, quality.pmos_from_telemetry, quality.pmos_manual) == (
        1, 0, ["PMO-TANQUE-01"],
    )  # fmt: skip
