"""Fused rows (reports/fused.py) say exactly what the plain document says.

A profile renders its big lists (well rows, PMO rows) straight to canonical rows, each checked
against its row schema as it is made. For every field of a well row and of a PMO row set to
each of many values (good, out of range, of the wrong type, not canonical), the fused path must
accept, refuse or fail exactly as mapping the plain document, validating it and canonicalising
it does, and write the same bytes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
from _json import encode_basestring
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import orjson
import pytest

from anh_reporter.reports.build import build_report
from anh_reporter.reports.canonical import canonical_bytes
from anh_reporter.reports.model import (
    ApprovalInfo,
    EstimateReport,
    EventReport,
    GasBaseReport,
    IdpReport,
    ProvingInfo,
    ReplacedReport,
    UncertaintyReport,
)
from anh_reporter.reports.profiles import Profile, get_profile, load_profile

from .test_report_bytes import _inputs, field_with_wells

D = Decimal
VALUES: list[Any] = [
    None, "", "x", "W-001", "50568", "5056", "ABC", "producing", "workover", "bogus", "valid",
    "telemetry", "oil", 'quo"te\\ \n\x01\x1f ñandú \u2028 𝄞', "x" * 121,
    D(0), D("0.00"), D("-0.00"), D("-1"), D("1E+3"), D("1.5E-7"), D("12.345"), D("24.00"),
    D("24.01"), D("100.01"), D("Infinity"), D("-Infinity"), D("NaN"),
    0, 1, -1, 2**63, 2**70, True, False, 1.5, -0.0, Fraction(1, 3),
    dt.date(2026, 1, 2), dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC), "2026-01-02",
    "2026-13-01", "2026-01-02T03:04:05Z",
    [], [{}], [{"code": "c", "severity": "warning", "target": "t", "message": "m"}],
    [{"code": "c", "severity": "loud", "target": "t", "message": "m"}], [{"cause": "x", "v": D(1)}],
    {}, {"oil": "PMO-1"}, {"oil": "PMO-1", "gas": "PMO-2"}, {"bad": "PMO-1"}, {"oil": ""},
    {"oil": 3}, {"k": "v"}, {"k": D("1.0")},
]  # fmt: skip


def _outcome(profile: Profile, model: IdpReport, *, fused: bool) -> tuple[Any, ...]:
    """``("ok", bytes)``, ``("invalid",)`` or ``("error", exception type)``."""
    try:
        if fused:
            document = profile.fused_document(model)
            valid = document is not None and profile.fused_is_valid(document)
        else:
            document = profile.document(model)
            valid = profile.is_valid(document)
        if not valid:
            return ("invalid",)
        return ("ok", canonical_bytes(document, check=False))
    except Exception as exc:
        return ("error", type(exc).__name__)


def _render(profile: Profile, model: IdpReport) -> tuple[Any, ...]:
    try:
        data = profile.render(model)
    except Exception as exc:
        return ("error", type(exc).__name__)
    return ("invalid",) if data is None else ("ok", data)


@pytest.fixture(scope="module")
def model() -> IdpReport:
    return build_report(
        field_with_wells(_inputs("tipo-a-three-pmos"), wells=6, stored_allocation=True)
    )


def _rows(model: IdpReport) -> list[tuple[str, Any, list[str]]]:
    well = model.wells[2]
    pmo = model.pmos[0]
    return [
        ("well", well, [f.name for f in dataclasses.fields(well)]),
        ("pmo", pmo, [f.name for f in dataclasses.fields(pmo)]),
        ("quality", pmo.quality, [f.name for f in dataclasses.fields(pmo.quality)]),
    ]


@pytest.mark.parametrize("name", ["idp-1.0", "idp-1.1", "idp-1.2", "idp-1.4"])
def test_every_field_and_value_gives_what_the_plain_document_gives(
    name: str, model: IdpReport
) -> None:
    profile = get_profile(name)
    assert profile.fused_mapping is not None
    seen = {"ok": 0, "invalid": 0, "error": 0}
    for _, row, fields in _rows(model):
        for field in fields:
            original = getattr(row, field)
            try:
                for value in VALUES:
                    setattr(row, field, value)
                    plain = _outcome(profile, model, fused=False)
                    where = f"{name}: {type(row).__name__}.{field} = {value!r}"
                    assert _outcome(profile, model, fused=True) == plain, where
                    assert _render(profile, model) == plain, where
                    seen[plain[0]] += 1
            finally:
                setattr(row, field, original)
    # The cases cover acceptance, refusal and failure alike.
    assert min(seen.values()) > 20, seen


def test_a_fused_row_is_refused_exactly_when_jsonschema_refuses_it(model: IdpReport) -> None:
    profile = get_profile("idp-1.2")
    well = model.wells[0]
    for field, value in [("hours_on", D("24.01")), ("status", "bogus"), ("bsw_pct", D("-1")),
                         ("municipality_dane", "ABC"), ("test_date", "2026-13-01"),
                         ("pmos", {"bad": "P"}), ("name", None), ("oil_net_bbl", "1")]:  # fmt: skip
        original = getattr(well, field)
        setattr(well, field, value)
        try:
            assert profile.fused_document(model) is None, field
            assert not profile.validator.is_valid(profile.document(model)), field
            assert profile.render(model) is None
        finally:
            setattr(well, field, original)
    assert profile.render(model) == canonical_bytes(profile.document(model))


def test_strings_are_escaped_as_canonical_json_escapes_them() -> None:
    """The row writer's string escaping (``_json.encode_basestring``) is orjson's, for every
    code point; a lone surrogate is refused by both."""
    every = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    assert encode_basestring(every).encode() == orjson.dumps(every)
    for c in (0xD800, 0xDBFF, 0xDC00, 0xDFFF):
        with pytest.raises(orjson.JSONEncodeError):
            orjson.dumps(chr(c))
        with pytest.raises(UnicodeEncodeError):
            encode_basestring(chr(c)).encode()


def _profile(tmp_path: Path, rows: dict[str, Any], items: dict[str, Any]) -> Profile:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"rows": {"type": "array", "items": items, "minItems": 1}},
        "required": ["rows"],
        "additionalProperties": False,
    }
    (tmp_path / "t.schema.json").write_text(json.dumps(schema))
    spec = {"name": "t", "schema": "t.schema.json",
            "document": {"rows": {"$each": "$.wells", "$map": rows}}}  # fmt: skip
    (tmp_path / "t.profile.json").write_text(json.dumps(spec))
    return load_profile(tmp_path / "t.profile.json")


def test_constants_and_nested_objects_in_a_row(tmp_path: Path, model: IdpReport) -> None:
    figures = {
        "type": "object",
        "properties": {"oil": {"type": ["number", "null"]}},
        "required": ["oil"],
        "additionalProperties": False,
    }
    items = {
        "type": "object",
        "properties": {"code": {"type": "string"}, "kind": {"const": "well"}, "figures": figures},
        "required": ["code", "kind", "figures"],
        "additionalProperties": False,
    }
    rows = {"code": "@.code", "kind": {"$const": "well"}, "figures": {"oil": "@.oil_net_bbl"}}
    profile = _profile(tmp_path, rows, items)
    assert profile.fused_mapping is not None
    assert profile.render(model) == canonical_bytes(profile.document(model))
    assert b'"kind":"well"' in (profile.render(model) or b"")


@pytest.mark.parametrize(
    ("rows", "items"),
    [
        ({"code": "@.code", "kind": {"$const": "pozo"}}, {"properties": {"kind": {"const": "w"}}}),
        ({"code": "@.code"}, {"required": ["code", "name"]}),
        ({"code": "@.code", "x": "@.name"}, {"properties": {}, "additionalProperties": False}),
        ({"code": {"$path": "@.code"}}, {}),
        ({"code": "@.code"}, {"anyOf": [{"type": "object"}]}),
    ],
    ids=["const-breaks-schema", "key-missing", "key-not-allowed", "path-form", "any-of"],
)
def test_rows_outside_the_fused_shape_are_mapped_the_plain_way(
    tmp_path: Path, model: IdpReport, rows: dict[str, Any], items: dict[str, Any]
) -> None:
    profile = _profile(tmp_path, rows, items)
    assert profile.fused_mapping is None
    document = profile.document(model)
    expected = canonical_bytes(document, check=False) if profile.is_valid(document) else None
    assert profile.render(model) == expected


AT = dt.datetime(2026, 2, 2, 11, tzinfo=dt.UTC)


def _nested() -> list[tuple[str, Any]]:
    """Values of a PMO's nested parts (``$if`` objects and lists inside the row), good and bad."""
    proving = {"proved_at": AT, "effective_from": AT, "meter_factor": D("1.0008"),
               "run_reference": "P-1", "proved_by": "ana"}  # fmt: skip
    approval = {"pmo": "P", "kind": "estimate_approval", "reason": "ok", "decided_by": "ana",
                "decided_at": AT}  # fmt: skip
    line = {"quantity": "meter_factor", "value": D("1.0"), "unit": "", "contribution": D("0.1"),
            "standard_uncertainty": D("0.0001"), "share_pct": D("12.5")}  # fmt: skip
    return [
        ("gas_base", GasBaseReport(D("14.65"), D("60"), "AGA 3")),
        ("gas_base", GasBaseReport(D("0"), D("60"), None)),
        ("gas_base", GasBaseReport(D("14.65"), D("60"), 3)),  # type: ignore[arg-type]
        ("uncertainty", UncertaintyReport(D("1.5"), D("0.2"), D("2"), "GUM", [line])),
        ("uncertainty", UncertaintyReport(D("-1.5"), D("0.2"), D("2"), "GUM", [line])),
        ("uncertainty", UncertaintyReport(D("1.5"), D("0.2"), D("2"), "GUM", [{"x": 1}])),
        ("proving", ProvingInfo(**proving)),
        ("proving", ProvingInfo(**(proving | {"meter_factor": D("1.6")}))),
        ("proving", ProvingInfo.model_construct(**(proving | {"proved_by": ""}))),
        ("approvals", [ApprovalInfo(**approval)]),
        ("approvals", [ApprovalInfo(**approval), ApprovalInfo(**(approval | {"reason": ""}))]),
        ("approvals", [ApprovalInfo.model_construct(**(approval | {"kind": "bogus"}))]),
        ("approvals", ["not an approval"]),
        ("events", [EventReport("reset", AT, AT, 5.0, 0.0, D("1.25"), "b", True, False, False)]),
        ("events", [EventReport("reset", AT, AT, 5.0, 0.0, D("-1"), "b", True, False, False)]),
        ("estimates", [EstimateReport("rate_interpolation", AT, AT, D("3.5"), "d")]),
        ("estimates", [EstimateReport("guess", AT, AT, D("3.5"), "d")]),
        ("replaced", [ReplacedReport(AT, AT, D("3.5"), None, "r")]),
        ("replaced", [ReplacedReport(AT, AT, D("-3.5"), D("-0.00"), "r")]),
    ]


@pytest.mark.parametrize("name", ["idp-1.1", "idp-1.2", "idp-1.4"])
def test_nested_parts_of_a_pmo_row_give_what_the_plain_document_gives(
    name: str, model: IdpReport
) -> None:
    profile = get_profile(name)
    pmo = model.pmos[1]
    seen = set()
    for field, value in _nested():
        original = getattr(pmo, field)
        setattr(pmo, field, value)
        try:
            plain = _outcome(profile, model, fused=False)
            assert _outcome(profile, model, fused=True) == plain, (field, value)
            assert _render(profile, model) == plain, (field, value)
            seen.add(plain[0])
        finally:
            setattr(pmo, field, original)
    assert seen == {"ok", "invalid", "error"}
