"""Profiles from files: template mapping, schema with format checking, the compiled validator."""

from __future__ import annotations

import copy
import json
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from anh_reporter.reports.build import build_report
from anh_reporter.reports.fastschema import Unsupported, compile_schema
from anh_reporter.reports.model import IdpReport, ReportInputs
from anh_reporter.reports.profiles import (
    ProfileError,
    available_profiles,
    compile_template,
    format_checker,
    get_profile,
    load_profile,
)

from .test_golden import CASES
from .test_report_bytes import _inputs, field_with_wells


def golden_document(name: str = "tipo-a-three-pmos") -> dict[str, Any]:
    case = next(c for c in CASES if c.name == name)
    report = build_report(ReportInputs.model_validate_json((case / "input.json").read_bytes()))
    return get_profile().document(report)


def test_template_language() -> None:
    model = {"a": {"b": Decimal("1.234")}, "items": [{"x": 1}, {"x": 2}], "none": None}
    template = {
        "path": "$.a.b",
        "rounded": {"$path": "$.a.b", "$round": "0.1"},
        "default": {"$path": "$.none", "$default": "n/a"},
        "const": {"$const": 1.5},
        "list": {"$each": "$.items", "$map": {"x": "@.x", "root": "$.a.b"}},
        "when": {"$if": "$.none", "$then": {"$const": "yes"}, "$else": {"$const": "no"}},
        "missing": "$.nope.deeper",
    }
    assert compile_template(template)(model, None) == {
        "path": Decimal("1.234"),
        "rounded": Decimal("1.2"),
        "default": "n/a",
        "const": Decimal("1.5"),  # a float literal becomes an exact decimal
        "list": [{"x": 1, "root": Decimal("1.234")}, {"x": 2, "root": Decimal("1.234")}],
        "when": "no",
        "missing": None,
    }


def golden_report(name: str = "tipo-a-three-pmos") -> IdpReport:
    case = next(c for c in CASES if c.name == name)
    return build_report(ReportInputs.model_validate_json((case / "input.json").read_bytes()))


def test_template_on_the_report_model_reads_its_fields() -> None:
    template = {
        "gaps": {"$each": "$.pmos", "$map": "@.quality.score_terms.gap_points"},
        "pressure_sources": {"$each": "$.pmos", "$map": "@.sources.pressure"},
        "rounded": {"$path": "$.totals.water_net_bbl", "$round": "1", "$default": 0},
        "amends": {"$if": "$.report.amends_version", "$then": "$.report.amends_sha256"},
    }
    mapping = compile_template(template, model=IdpReport)
    assert mapping(golden_report(), None) == {
        "gaps": [Decimal("17.1"), Decimal("20.0"), Decimal("20.0")],  # 17.0833 → 17.1
        "pressure_sources": ["telemetry (flow-weighted)", "none", "telemetry (flow-weighted)"],
        "rounded": Decimal("1022"),  # notes.md: total water net 1021.62
        "amends": None,
    }
    # A manual PMO has no score terms: the step into them gives null.
    assert mapping(golden_report("tipo-b-manual-allocated"), None)["gaps"] == [None]


@pytest.mark.parametrize("case", [c.name for c in CASES])
def test_whole_models_map_like_any_other_value(case: str) -> None:
    # Generated code converts values of known types; without the model class, _plain does.
    template = {"all": "$", "pmos": "$.pmos", "totals": "$.totals", "anomalies": "$.anomalies"}
    report = golden_report(case)
    typed = compile_template(template, model=IdpReport)(report, None)
    generic = compile_template("$")(report, None)
    assert typed["all"] == generic
    assert [typed[k] for k in ("pmos", "totals", "anomalies")] == [
        generic[k] for k in ("pmos", "totals", "anomalies")
    ]
    assert typed["all"]["contract_day"]["start"].endswith("Z")
    assert typed["pmos"][0]["sources"] is not report.pmos[0].sources  # a copy


def test_a_path_the_model_lacks_is_refused_at_load_time() -> None:
    with pytest.raises(ProfileError, match=r"'@.quality.score': PmoQuality has no field 'score'"):
        compile_template(
            {"p": {"$each": "$.pmos", "$map": {"s": "@.quality.score"}}}, model=IdpReport
        )


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ({"a": "literal"}, "must start with"),
        ({"a": 3}, "is not a template"),
        ({"a": {"$bogus": 1}}, "unknown template keyword '\\$bogus'"),
        ({"a": {"$const": 1, "x": 2}}, "stands alone"),
    ],
)
def test_template_mistakes_are_named(template: dict[str, Any], message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        compile_template(template)


def test_an_operator_adds_a_profile_without_code(tmp_path: Path) -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["campo", "fecha", "petroleo_neto_bbl", "generado"],
        "properties": {
            "campo": {"type": "string"},
            "fecha": {"type": "string", "format": "date"},
            "generado": {"type": "string", "format": "date-time"},
            "petroleo_neto_bbl": {"type": "number", "minimum": 0},
            "puntos": {"type": "array", "items": {"type": "object"}},
        },
        "additionalProperties": False,
    }
    (tmp_path / "anh-annex-2.0.schema.json").write_text(json.dumps(schema))
    (tmp_path / "anh-annex-2.0.profile.json").write_text(
        json.dumps(
            {
                "name": "anh-annex-2.0",
                "schema": "anh-annex-2.0.schema.json",
                "document": {
                    "campo": "$.field.code",
                    "fecha": "$.contract_day.date",
                    "generado": "$.report.generated_at",
                    "petroleo_neto_bbl": {"$path": "$.totals.oil_net_bbl", "$round": "0.1"},
                    "puntos": {"$each": "$.pmos", "$map": {"codigo": "@.code"}},
                },
            }
        )
    )
    assert "anh-annex-2.0" in available_profiles((tmp_path,))
    profile = get_profile("anh-annex-2.0", (tmp_path,))
    case = next(c for c in CASES if c.name == "tipo-a-three-pmos")
    report = build_report(ReportInputs.model_validate_json((case / "input.json").read_bytes()))
    document = profile.document(report)
    assert document == {
        "campo": "CAMPO-GOLD",
        "fecha": "2026-02-02",
        "generado": "2026-02-03T11:30:00Z",
        "petroleo_neto_bbl": Decimal("963.5"),
        "puntos": [{"codigo": "PMO-LACT-01"}, {"codigo": "PMO-AGUA-01"}, {"codigo": "PMO-GAS-01"}],
    }
    assert profile.is_valid(document)


def test_unknown_profile_lists_the_available_ones() -> None:
    with pytest.raises(
        ProfileError,
        match=r"profile .idp-9. not found; available: anh-es-1\.0, anh-es-1\.1, anh-es-1\.2, "
        r"idp-1\.0",
    ):
        get_profile("idp-9")


def test_invalid_schema_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.schema.json").write_text('{"type": 12}')
    (tmp_path / "x.profile.json").write_text(
        '{"name": "x", "schema": "x.schema.json", "document": {}}'
    )
    with pytest.raises(ProfileError, match="not a valid JSON Schema"):
        load_profile(tmp_path / "x.profile.json")


def test_date_time_format_is_checked() -> None:
    profile = get_profile()
    document = golden_document()
    assert profile.is_valid(document)
    document["report"]["generated_at"] = "2026-02-30T11:30:00Z"  # no 30 February
    assert not profile.is_valid(document)
    problems = profile.problems(document)
    assert [p.path for p in problems] == ["$.report.generated_at"]
    assert "is not a 'date-time'" in problems[0].message
    document["report"]["generated_at"] = "yesterday"
    assert not profile.validator.is_valid(document)  # jsonschema agrees


def test_schema_problems_name_the_path_and_the_limit() -> None:
    profile = get_profile()
    document = golden_document()
    document["pmos"][0]["bsw_pct"] = Decimal("120.00")
    problems = profile.problems(document)
    assert [str(p) for p in problems] == [
        "$.pmos[0].bsw_pct: 120.00 is greater than the maximum of 100"
    ]


def _mutations(document: dict[str, Any], rng: random.Random, n: int) -> list[Any]:
    """Documents with one value replaced, removed or added at a random place."""
    paths: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in node:
                paths.append((node, key))
                walk(node[key])
        elif isinstance(node, list):
            for i in range(len(node)):
                paths.append((node, i))
                walk(node[i])

    out = []
    replacements = [None, True, 0, -1, Decimal("-0.01"), Decimal("1e3"), "x", "", [], {},
                    "2026-02-02", "2026-02-02T11:00:00Z", 1.5, 101, "A", "oil"]  # fmt: skip
    for _ in range(n):
        doc = copy.deepcopy(document)
        paths.clear()
        walk(doc)
        parent, key = rng.choice(paths)
        action = rng.random()
        if action < 0.7:
            parent[key] = rng.choice(replacements)
        elif action < 0.85 and isinstance(parent, dict):
            del parent[key]
        elif isinstance(parent, dict):
            parent["extra_" + str(key)] = 1
        else:
            parent.append(rng.choice(replacements))
        out.append(doc)
    return out


@pytest.mark.parametrize("case", ["tipo-a-three-pmos", "tipo-b-manual-allocated", "wells"])
def test_compiled_validator_agrees_with_jsonschema(case: str) -> None:
    if case == "wells":  # idp-1.2 with 20 wells: mostly mutations of well rows
        profile = get_profile("idp-1.2")
        document = profile.document(
            build_report(field_with_wells(_inputs("tipo-a-three-pmos"), 20))
        )
    else:
        profile, document = get_profile(), golden_document(case)
    assert profile.fast_check is not None
    rng = random.Random(20260202)
    documents = [document, *_mutations(document, rng, 400)]
    verdicts = [(profile.fast_check(d), profile.validator.is_valid(d)) for d in documents]
    disagreements = [i for i, (fast, slow) in enumerate(verdicts) if fast != slow]
    assert disagreements == []
    assert sum(1 for fast, _ in verdicts if not fast) > 300  # most mutations break the schema


_SMALL_SCHEMAS: list[dict[str, Any]] = [
    # Keywords of another type than the node allows never apply.
    {"type": ["string", "number"], "minLength": 2, "minimum": 0, "maxItems": 1},
    {"type": "string", "minimum": 5, "properties": {"a": {"type": "string"}}},
    {"type": ["array", "null"], "minItems": 1, "items": {"type": "integer", "minimum": 1}},
    {"type": ["array", "null"], "items": {}, "properties": {}},
    {"items": True, "additionalProperties": {"type": "integer"}},
    {"minLength": 2, "maximum": 3, "required": ["a"], "items": {"const": 1}},
    # Keys checked by propertyNames (with and without a type, beside additionalProperties).
    {"type": "object", "propertyNames": {"enum": ["a", "p"]}, "additionalProperties": {}},
    {"propertyNames": {"minLength": 2}, "properties": {"a": {"type": "integer"}}},
    # A nullable bounded number (one test), an object with exactly its properties (one test).
    {"type": ["null", "number"], "minimum": 0, "maximum": 100},
    {
        "type": "object",
        "properties": {"a": {}, "p": {}},
        "required": ["p", "a"],
        "additionalProperties": False,
    },
    # Float limits against exact decimals, right at the limit.
    {"type": "number", "exclusiveMinimum": 0.5, "maximum": 100.0},
    {"type": ["integer", "null"], "minimum": 0.5},
    # A leaf definition (inlined) and a recursive one (called).
    {
        "$defs": {
            "pct": {"type": ["number", "null"], "minimum": 0, "maximum": 100},
            "tree": {"type": "object", "properties": {"kids": {"items": {"$ref": "#/$defs/tree"}}}},
        },
        "type": "object",
        "properties": {"p": {"$ref": "#/$defs/pct"}, "t": {"$ref": "#/$defs/tree"}},
        "required": ["p"],
    },
]
_INSTANCES: list[Any] = [None, True, False, 0, 1, 2, -1, 0.5, 1.5, 100, 101, Decimal("0.5"),
                         Decimal("0.50000000000000001"), Decimal("100.0"), Decimal("100.00001"),
                         Decimal("-0.01"), "", "a", "abc", [], [1], [0], [1, 2], [None], {},
                         {"a": 1}, {"a": "x"}, {"p": None}, {"p": Decimal("100.01")},
                         {"p": 3, "t": {"kids": [{"kids": []}]}}, {"p": "x"},
                         {"p": 3, "t": {"kids": [{"kids": 1}]}}, {"a": 1, "p": 2},
                         {"a": 1, "p": 2, "q": 3}]  # fmt: skip


@pytest.mark.parametrize("schema", _SMALL_SCHEMAS)
def test_compiled_validator_agrees_on_small_schemas(schema: dict[str, Any]) -> None:
    checker = format_checker()
    fast = compile_schema(schema, checker)
    slow = Draft202012Validator(schema, format_checker=checker)
    assert [fast(i) for i in _INSTANCES] == [slow.is_valid(i) for i in _INSTANCES]


@pytest.mark.parametrize("name", sorted(available_profiles()))
def test_every_built_in_profile_has_a_compiled_validator(name: str) -> None:
    # jsonschema alone takes ~0.4 s for a 500-well idp-1.2 document; the compiled check ~4 ms.
    assert get_profile(name).fast_check is not None


def test_unsupported_keywords_fall_back() -> None:
    with pytest.raises(Unsupported):
        compile_schema({"type": "object", "patternProperties": {"^x": {}}}, format_checker())
    with pytest.raises(Unsupported):
        compile_schema({"$ref": "https://example.com/other.json"}, format_checker())
