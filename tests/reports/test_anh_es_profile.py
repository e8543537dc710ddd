"""The Spanish ANH profile anh-es-1.0: idp-1.2's content under the ANH's Spanish field names.

Every golden case maps to a valid anh-es-1.0 document that is its idp-1.2 document with each key
renamed by the mapping of tools/anh_es_profile.py (docs/anh-profile.md), and nothing else; a
field whose site entry chooses the profile signs and verifies in it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from anh_reporter.reports.build import build_report
from anh_reporter.reports.canonical import canonical_bytes, parse
from anh_reporter.reports.model import ReportInputs
from anh_reporter.reports.profiles import get_profile
from anh_reporter.reports.verify import verify_file

from ..conftest import ROOT
from ..production.helpers import prove_meters
from ..production.wells_site import wells_day
from .helpers import context, generate
from .test_golden import CASES

Conn = psycopg.Connection[object]


def _tool() -> Any:
    spec = importlib.util.spec_from_file_location(
        "anh_es_profile", ROOT / "tools/anh_es_profile.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["anh_es_profile"] = module
    spec.loader.exec_module(module)
    return module


TOOL = _tool()


def renamed(node: Any, names: dict[str, str] = TOOL.NAMES) -> Any:
    if isinstance(node, dict):
        return {names.get(k, k): renamed(v, names) for k, v in node.items()}
    if isinstance(node, list):
        return [renamed(v, names) for v in node]
    return node


def test_the_committed_profile_is_what_the_tool_generates() -> None:
    schemas = ROOT / "src/anh_reporter/reports/schemas"
    for name, text in TOOL.generate().items():
        assert (schemas / name).read_text(encoding="utf-8") == text, "run tools/anh_es_profile.py"


@pytest.mark.parametrize("pair", TOOL.PAIRS, ids=[es for _, es in TOOL.PAIRS])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_golden_case_maps_to_the_spanish_profile(case: Path, pair: tuple[str, str]) -> None:
    source, name = pair
    report = build_report(ReportInputs.model_validate_json((case / "input.json").read_bytes()))
    es, en = get_profile(name), get_profile(source)
    spanish, english = es.document(report), en.document(report)
    assert es.problems(spanish) == [] and es.is_valid(spanish)
    assert spanish == renamed(english, TOOL.names_of(name)) | {"profile": name}
    assert es.internal(spanish) == english | {"profile": name}  # and back
    canonical_bytes(spanish)


def test_anh_es_1_1_names_the_avm_code_and_1_0_keeps_its_mapping() -> None:
    """A published profile's mapping never changes: 1.1 adds codigo_avm, 1.0 is as it was."""
    old, new = get_profile("anh-es-1.0"), get_profile("anh-es-1.1")
    assert old.field_names is not None and new.field_names is not None
    assert "avm_code" not in old.field_names
    assert new.field_names == old.field_names | {"avm_code": "codigo_avm"}


def test_a_field_that_chooses_the_spanish_profile_signs_in_it(conn: Conn, tmp_path: Path) -> None:
    wells_day(conn)
    prove_meters(conn)
    conn.execute("UPDATE fields SET report_profile = 'anh-es-1.0'")
    signed = generate(conn, context(tmp_path))
    assert signed.path is not None and verify_file(signed.path).ok
    doc = parse(signed.path.read_bytes())
    assert isinstance(doc, dict) and doc["profile"] == "anh-es-1.0"
    assert {"informe", "operadora", "campo", "dia_operacional", "puntos_medicion", "pozos"} <= set(
        doc
    )
    pozos = {p["codigo"]: p for p in doc["pozos"]}
    # W-1's hand-worked allocation (tests/production/test_well_days.py): 300.24 bbl, 18 h.
    assert str(pozos["W-1"]["crudo_neto_bls"]) == "300.24"
    assert str(pozos["W-1"]["horas_produccion"]) == "18.00"
    assert pozos["W-1"]["prueba"]["condicion"] == "valid"
    assert {b["tipo_fluido"] for b in doc["balances"]} == {"oil", "gas", "water"}
