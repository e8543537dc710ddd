"""idp-1.4 types what idp-1.3 signed unchecked, and anh-es-1.2 names every key in Spanish.

idp-1.3 left the allocation's rows (each production PMO: measured, Σ theoretical, factor,
allocated, unallocated; the totals by role), each well's deferred causes and the property names
of a PMO's sources and coverage as bare objects: any key, any type was signed. idp-1.4 is the
same content with those parts typed; anh-es-1.2 is generated from it, so none of their keys
stays in English (anh-es-1.1 kept ``allocated_total``, ``role``, ``cause``, ``temperature``...).
"""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from anh_reporter.reports.build import build_report
from anh_reporter.reports.canonical import canonical_bytes, parse
from anh_reporter.reports.model import IdpReport, ReportInputs
from anh_reporter.reports.monthly import unallocated_days
from anh_reporter.reports.profiles import get_profile, internal_document
from anh_reporter.reports.verify import verify_file

from ..production.helpers import prove_meters
from ..production.wells_site import wells_day
from .helpers import context, generate
from .test_anh_es_profile import TOOL
from .test_golden import CASES
from .test_report_bytes import _inputs, field_with_wells

Conn = psycopg.Connection[object]
D = Decimal


def _golden(case: Path) -> IdpReport:
    return build_report(ReportInputs.model_validate_json((case / "input.json").read_bytes()))


@pytest.fixture(scope="module")
def field() -> IdpReport:
    """20 wells, deferred causes, and an allocation stored whole (two PMOs, three roles)."""
    inputs = field_with_wells(_inputs("tipo-a-three-pmos"), 20, stored_allocation=True)
    return build_report(inputs)


def _reports(field: IdpReport) -> list[tuple[str, IdpReport]]:
    return [(c.name, _golden(c)) for c in CASES] + [("20-wells", field)]


def test_idp_1_4_is_idp_1_3_with_its_version(field: IdpReport) -> None:
    """Nothing changes from 1.3 to 1.4 but the version constants and each balance's
    ``incomplete_terms`` (1.4 names the terms whose volume is only partly known): the schema is
    stricter."""
    old, new = get_profile("idp-1.3"), get_profile("idp-1.4")
    for name, report in _reports(field):
        before, after = old.document(report), new.document(report)
        assert new.problems(after) == [], name
        assert (after["profile"], after["schema_version"]) == ("idp-1.4", "1.4")
        balances = [b.pop("incomplete_terms") for b in after["balances"]]
        assert balances == [b.incomplete_terms for b in report.balances], name
        assert after | {"profile": "idp-1.3", "schema_version": "1.3"} == before, name


def test_the_allocation_rows_are_typed(field: IdpReport) -> None:
    doc = get_profile("idp-1.4").document(field)
    assert doc["allocation"]["pmos"][1] == {
        "pmo": "1001", "fluid": "gas", "measured": D("1200.00"), "theoretical_total": D("0.00"),
        "factor": None, "allocated_total": D("0.00"), "unallocated": D("1200.00"),
    }  # fmt: skip
    assert doc["allocation"]["totals_by_role"][0] == {
        "fluid": "gas", "role": "production", "total": D("1200.00"), "pmos": ["1001"],
    }  # fmt: skip


def _set(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    node: Any = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


BROKEN = [
    (("allocation", "pmos", 0, "factor"), "1.00080", "$.allocation.pmos[0].factor",
     "'1.00080' is not of type 'number', 'null'"),
    (("allocation", "pmos", 0, "unallocated"), D("-0.01"), "$.allocation.pmos[0].unallocated",
     "-0.01 is less than the minimum of 0"),
    (("allocation", "pmos", 0, "allocated_total"), None, "$.allocation.pmos[0].allocated_total",
     "None is not of type 'number'"),
    (("allocation", "pmos", 0, "fluid"), "condensate", "$.allocation.pmos[0].fluid",
     "'condensate' is not one of ['oil', 'gas', 'water']"),
    (("allocation", "pmos", 0, "pmo"), D("1001"), "$.allocation.pmos[0].pmo",
     "1001 is not of type 'string'"),
    (("allocation", "pmos", 0, "bonus_bbl"), D("1"), "$.allocation.pmos[0]",
     "Additional properties are not allowed ('bonus_bbl' was unexpected)"),
    (("allocation", "totals_by_role", 1, "role"), "export", "$.allocation.totals_by_role[1].role",
     "'export' is not one of"),
    (("allocation", "totals_by_role", 1, "total"), "980.78",
     "$.allocation.totals_by_role[1].total", "'980.78' is not of type 'number'"),
    (("allocation", "totals_by_role", 1, "volume"), D("1"), "$.allocation.totals_by_role[1]",
     "Additional properties are not allowed ('volume' was unexpected)"),
    (("pmos", 0, "sources", "humidity"), "telemetry", "$.pmos[0].sources",
     "'humidity' is not one of ['temperature', 'pressure', 'bsw', 'api_gravity']"),
    (("pmos", 0, "quality", "property_coverage_pct", "bsw"), D("100.1"),
     "$.pmos[0].quality.property_coverage_pct.bsw", "100.1 is greater than the maximum of 100"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "value", "where", "message"), BROKEN, ids=lambda x: str(x))
def test_a_broken_allocation_row_is_refused_naming_its_path(
    field: IdpReport, path: tuple[Any, ...], value: Any, where: str, message: str
) -> None:
    """idp-1.4 refuses it (compiled check and jsonschema alike); idp-1.3 signed it."""
    new, old = get_profile("idp-1.4"), get_profile("idp-1.3")
    bad = _set(new.document(field), path, value)
    assert not new.is_valid(bad)
    problems = [(p.path, p.message) for p in new.problems(bad)]
    assert len(problems) == 1 and problems[0][0] == where and message in problems[0][1], problems
    if path[0] == "allocation":
        as_1_3 = bad | {"profile": "idp-1.3", "schema_version": "1.3"}
        for b in as_1_3["balances"]:
            b.pop("incomplete_terms")
        assert old.is_valid(as_1_3) and old.problems(as_1_3) == []


def test_a_broken_deferred_cause_is_refused_in_the_fused_well_row(field: IdpReport) -> None:
    profile = get_profile("idp-1.4")
    assert profile.fused_mapping is not None  # the well rows stay on the fast path
    well = next(w for w in field.wells if w.deferred_causes)
    original = well.deferred_causes
    try:
        well.deferred_causes = [{**original[0], "hours_down": D("24.5")}]
        assert profile.render(field) is None
        assert [str(p) for p in profile.problems(profile.document(field))] == [
            f"$.wells[{field.wells.index(well)}].deferred.causes[0].hours_down: "
            "24.5 is greater than the maximum of 24"
        ]
        well.deferred_causes = [{**original[0], "reason": "storm"}]
        assert profile.render(field) is None
    finally:
        well.deferred_causes = original
    assert profile.render(field) == canonical_bytes(profile.document(field))


def _keys(node: Any, where: str = "$") -> list[tuple[str, str]]:
    """Every (path, key) of a document."""
    out: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append((where, k))
            out += _keys(v, f"{where}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _keys(v, f"{where}[{i}]")
    return out


def test_anh_es_1_2_has_no_english_key(field: IdpReport) -> None:
    """Every key of an anh-es-1.2 document is one of its Spanish names (or ``schema_version`` /
    ``profile``, which say what the document is); no key of the mapping stays in English."""
    profile = get_profile("anh-es-1.2")
    assert profile.field_names is not None
    spanish = set(profile.field_names.values()) | set(TOOL.KEEP)
    english = set(profile.field_names) - spanish
    for name, report in _reports(field):
        doc = profile.document(report)
        assert profile.problems(doc) == [], name
        keys = _keys(doc)
        assert [(w, k) for w, k in keys if k not in spanish] == [], name
        assert not {k for _, k in keys} & english, name
    doc = profile.document(field)
    assert set(doc["asignacion"]["puntos_medicion"][0]) == {
        "pmo", "tipo_fluido", "medido", "total_teorico", "factor_asignacion", "total_asignado",
        "sin_asignar",
    }  # fmt: skip
    assert set(doc["asignacion"]["totales_por_rol"][0]) == {
        "tipo_fluido", "rol", "total", "puntos_medicion",
    }  # fmt: skip
    assert set(doc["puntos_medicion"][0]["fuentes"]) == {
        "temperatura", "presion", "bsw", "gravedad_api",
    }  # fmt: skip
    causes = [c for p in doc["pozos"] for c in p["diferida"]["causas"]]
    assert causes and all(set(c) == {"causa", "horas_paro", "crudo", "gas", "agua"} for c in causes)


def test_anh_es_1_1_still_signs_the_english_keys_it_was_published_with(field: IdpReport) -> None:
    """A published profile never changes: anh-es-1.1 keeps 1.3's leaks, 1.2 adds their names."""
    old, new = get_profile("anh-es-1.1"), get_profile("anh-es-1.2")
    assert old.field_names is not None and new.field_names is not None
    assert new.field_names == old.field_names | TOOL.ADDED["anh-es-1.2"]
    row = old.document(field)["asignacion"]["puntos_medicion"][0]
    assert {"allocated_total", "factor", "theoretical_total", "unallocated"} <= set(row)


def test_anh_es_1_2_reads_back_as_the_idp_1_4_document(field: IdpReport) -> None:
    es, en = get_profile("anh-es-1.2"), get_profile("idp-1.4")
    for name, report in _reports(field):
        spanish, english = es.document(report), en.document(report)
        assert es.internal(spanish) == english | {"profile": "anh-es-1.2"}, name
        assert es.render(report) == canonical_bytes(spanish), name


@pytest.mark.parametrize("profile", [None, "anh-es-1.2"])
def test_the_allocation_is_signed_typed(conn: Conn, tmp_path: Path, profile: str | None) -> None:
    """tests/reports/test_wells_report.py's day with every well typed 0 h on: PMO-OIL's
    980.78 bbl stay unallocated. Signed in the default profile (idp-1.4) or in anh-es-1.2, the
    report verifies and the month reads the same unallocated oil from it."""
    wells_day(conn, typed={"W-1": "0", "W-2": "0", "W-3": "0", "W-4": "0"})
    prove_meters(conn)
    conn.execute("UPDATE fields SET report_profile = %s", (profile,))
    signed = generate(conn, context(tmp_path))
    assert signed.path is not None and verify_file(signed.path).ok
    doc = parse(signed.path.read_bytes())
    assert isinstance(doc, dict) and doc["profile"] == (profile or "idp-1.4")
    internal = internal_document(doc)
    oil = next(p for p in internal["allocation"]["pmos"] if p["pmo"] == "PMO-OIL")
    assert (oil["measured"], oil["allocated_total"], oil["unallocated"], oil["factor"]) == (
        D("980.78"), D("0.00"), D("980.78"), None,
    )  # fmt: skip
    assert {r["role"] for r in internal["allocation"]["totals_by_role"]} == {"production"}
    assert unallocated_days([internal])[0].oil_bbl == D("980.78")
    if profile == "anh-es-1.2":
        row = next(p for p in doc["asignacion"]["puntos_medicion"] if p["pmo"] == "PMO-OIL")
        assert row["sin_asignar"] == D("980.78") and row["total_asignado"] == D("0.00")


def test_a_balance_names_its_incomplete_terms_from_idp_1_4_on(field: IdpReport) -> None:
    """A tank's stock unknown: the oil balance's stock_change counts the known tanks only. From
    idp-1.4 on the balance says so (``incomplete_terms``, Spanish ``terminos_incompletos``);
    earlier profiles keep their shape (and stay valid)."""
    report = copy.deepcopy(field)
    assert report.balances
    report.balances[0].incomplete_terms = ["stock_change"]
    for name in ("idp-1.4", "anh-es-1.2"):
        profile = get_profile(name)
        doc = profile.document(report)
        assert profile.problems(doc) == [], name
        first = profile.internal(doc)["balances"][0]
        assert first["incomplete_terms"] == ["stock_change"], name
    spanish = get_profile("anh-es-1.2").document(report)
    assert any("terminos_incompletos" in str(v) for v in spanish.values())
    for name in ("idp-1.2", "idp-1.3", "anh-es-1.0", "anh-es-1.1"):
        profile = get_profile(name)
        doc = profile.document(report)
        assert profile.problems(doc) == [], name
        assert "incomplete_terms" not in str(doc), name


def test_an_idp_1_4_document_signed_before_incomplete_terms_still_verifies(
    field: IdpReport,
) -> None:
    """``incomplete_terms`` came to idp-1.4 after its first documents were signed: it is written
    on every balance but not required, so a document without it stays valid."""
    for name in ("idp-1.4", "anh-es-1.2"):
        profile = get_profile(name)
        doc = profile.document(field)
        key = "balances"
        for b in doc[key]:
            b.pop("incomplete_terms" if name == "idp-1.4" else "terminos_incompletos")
        assert profile.is_valid(doc) and profile.problems(doc) == [], name


def test_a_gross_total_nobody_measured_is_null_from_idp_1_4_on() -> None:
    """A PMO whose volume was typed at NSV has no gross: the field's gross oil and water are not
    known. idp-1.4 writes them null (the net 995.00 stays); earlier profiles, whose schema wants
    a number, keep the known gross added up (0.00 here) as they always did."""
    import dataclasses

    inputs = _inputs("tipo-b-manual-allocated")
    day = inputs.pmos[0]
    figures = dataclasses.replace(day.figures, gross_standard_volume=None)
    report = build_report(
        inputs.model_copy(update={"pmos": [dataclasses.replace(day, figures=figures)]})
    )
    assert report.pmos[0].oil_gross_bbl is None and report.pmos[0].oil_net_bbl is not None
    new = get_profile("idp-1.4").document(report)
    assert new["totals"]["oil_gross_bbl"] is None and new["totals"]["water_gross_bbl"] is None
    assert new["totals"]["oil_net_bbl"] == report.totals.oil_net_bbl
    assert get_profile("idp-1.4").problems(new) == []
    old = get_profile("idp-1.3").document(report)
    assert old["totals"]["oil_gross_bbl"] == Decimal("0.00")
    assert get_profile("idp-1.3").problems(old) == []
    # Measured gross: the same number in every profile.
    measured = build_report(inputs)
    assert (
        get_profile("idp-1.4").document(measured)["totals"]
        == get_profile("idp-1.3").document(measured)["totals"]
    )
