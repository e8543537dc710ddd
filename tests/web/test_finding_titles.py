"""Every finding and issue code the server can emit has a title in the web UI, in both languages.

The UI lists each finding (report rules ``IDPnnn`` and the schema check, the allocation's
findings, a PMO figure's issues) as a short title in its language, then the code and the
server's English message (web/src/components/FindingText.vue). The codes are collected here from
the Python sources themselves (the allocation's ``Code`` enum; every ``Finding(...)`` and
``Issue(...)`` built with a literal code; every ``IDPnnn`` string; finding-shaped dict literals),
so a new code without a title in web/src/i18n/es-CO.ts and en.ts fails here. The meter event
kinds a PMO's evidence lists are checked against ``evidence.kinds`` the same way.
"""

from __future__ import annotations

import ast
import re
import typing
from functools import cache
from pathlib import Path

import pytest

from anh_reporter.allocation.findings import Code
from anh_reporter.production.evidence import DayEvent

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "anh_reporter"
LOCALES = {
    "es-CO": ROOT / "web" / "src" / "i18n" / "es-CO.ts",
    "en": ROOT / "web" / "src" / "i18n" / "en.ts",
}
IDP = re.compile(r"IDP\d{3}")

# Calls whose first argument is a code the UI shows: report and allocation findings, PMO issues.
_CODE_CALLS = ("Finding", "Issue")
# The code expressions that are not literals, each with where its codes come from. rules._issues
# maps issue codes to rules with a literal table ({"pressure_missing": ("IDP013", W), ...}); its
# IDP strings are collected by the IDP scan. A new dynamic code needs its source added here.
_DYNAMIC_OK = {"found[0]"}


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _code_arg(call: ast.Call) -> ast.expr | None:
    if call.args:
        return call.args[0]
    return next((k.value for k in call.keywords if k.arg == "code"), None)


@cache
def server_codes() -> tuple[frozenset[str], frozenset[str]]:
    """Every code the server can emit, and the code expressions found that are not literals."""
    codes = {str(c) for c in Code}
    dynamic: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        if PACKAGE / "web" in path.parents:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if IDP.fullmatch(node.value):
                    codes.add(node.value)
            elif isinstance(node, ast.Call) and _name(node.func) in _CODE_CALLS:
                arg = _code_arg(node)
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    codes.add(arg.value)
                elif isinstance(arg, ast.Attribute) and _name(arg.value) == "Code":
                    codes.add(str(Code[arg.attr]))
                elif arg is not None:
                    dynamic.add(ast.unparse(arg))
            elif isinstance(node, ast.Dict):
                keys = {k.value: v for k, v in zip(node.keys, node.values, strict=True)
                        if isinstance(k, ast.Constant)}  # fmt: skip
                code = keys.get("code")
                if {"severity", "message"} <= keys.keys() and isinstance(code, ast.Constant):
                    codes.add(str(code.value))
    return frozenset(codes), frozenset(dynamic)


def _block(text: str, name: str) -> str:
    """The text of the object literal ``name: { ... }`` (first one) in a messages file."""
    start = re.search(rf"(?m)^\s*{re.escape(name)}: \{{", text)
    assert start, f"no `{name}: {{` block"
    depth, i, quote = 0, start.end() - 1, None
    while True:
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "'\"`":
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start.end() : i]
        i += 1


def _messages(locale: str, *path: str) -> dict[str, str]:
    """Key → text of a flat block of messages (keys bare or quoted, texts in single quotes)."""
    body = LOCALES[locale].read_text(encoding="utf-8")
    for name in path:
        body = _block(body, name)
    pairs = re.findall(r"(?:^|[,{\s])'?([A-Za-z0-9_]+)'?\s*:\s*'((?:[^'\\]|\\.)*)'", body)
    return {k: v.replace("\\'", "'") for k, v in pairs}


def test_the_collector_finds_each_kind_of_code() -> None:
    codes, dynamic = server_codes()
    # One of each source: a rule, the schema check, an allocation finding, the allocation's
    # integration error, a PMO issue (a literal Issue and one a rule maps), an IDP from the map.
    for code in ("IDP001", "IDP035", "SCHEMA", "well_without_test", "allocation_failed",
                 "meter_reset", "pressure_missing", "IDP013", "IDP030", "IDP018"):  # fmt: skip
        assert code in codes, code
    assert dynamic <= _DYNAMIC_OK, (
        f"finding or issue codes built from an expression {sorted(dynamic - _DYNAMIC_OK)}: "
        "make them literals (or an enum) so this test can see them"
    )


@pytest.mark.parametrize("locale", sorted(LOCALES))
def test_every_server_code_has_a_title(locale: str) -> None:
    codes, _ = server_codes()
    titles = _messages(locale, "findingTitles")
    missing = sorted(c for c in codes if not titles.get(c, "").strip())
    assert not missing, (
        f"{LOCALES[locale].relative_to(ROOT)}: no title in findingTitles for {missing}; "
        "add a short title in es-CO.ts and en.ts"
    )


@pytest.mark.parametrize("locale", sorted(LOCALES))
def test_titles_are_plain_text(locale: str) -> None:
    # vue-i18n reads { } @ | $ as syntax: a title must show as written.
    for code, title in _messages(locale, "findingTitles").items():
        assert not re.search(r"[{}@|$]", title), (locale, code, title)
        assert title == title.strip() and len(title) <= 60, (locale, code, title)


@pytest.mark.parametrize("locale", sorted(LOCALES))
def test_every_meter_event_kind_has_a_name(locale: str) -> None:
    kinds = typing.get_args(typing.get_type_hints(DayEvent)["kind"])
    assert kinds
    names = _messages(locale, "evidence", "kinds")
    assert not [k for k in kinds if not names.get(k)], (locale, kinds, names)
