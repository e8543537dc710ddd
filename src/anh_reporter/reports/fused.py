"""List rows rendered straight to canonical JSON, each checked against its row schema.

A profile's big lists (500 well rows in ``idp-1.2``) are flat: every row is the same object
template over the fields of one model dataclass. Building a dict per row, walking it again to
validate and a third time to serialise cost three quarters of such a report. For a ``$each``
whose ``$map`` is a plain object template of ``@.field`` paths and ``$const`` values (nested
objects allowed), :func:`compile_rows` writes one Python function per row template that

1. reads each field once and converts it as the profile compiler would (the same expression),
2. checks every value against its own subschema (the checks :mod:`~anh_reporter.reports.fastschema`
   generates, on the converted value), while the row's keys are checked once at load time
   against ``required`` / ``properties`` / ``additionalProperties`` (the template fixes them),
3. writes the row's canonical text with a precompiled format (keys sorted, values in their
   canonical form: :func:`~anh_reporter.reports.canonical.canonical_bytes`'s rules) and returns
   it as an :class:`orjson.Fragment`.

A row that breaks its schema raises :class:`RowInvalid`; the caller then falls back on the
plain document (and ``jsonschema`` for the messages). A template or schema outside this shape
gives ``None`` and the list is mapped as before. The tests check, on the golden cases, the
benchmark field and mutated rows, that the bytes are those of
``canonical_bytes(profile.document(report))`` and that a row is refused exactly when the plain
document is invalid.
"""

from __future__ import annotations

import copy
import datetime as dt
from _json import encode_basestring
from collections.abc import Callable
from decimal import Decimal
from types import UnionType
from typing import Any, Literal, Protocol, Union, get_args, get_origin

import orjson
from jsonschema import FormatChecker

from anh_reporter.reports.canonical import NotCanonicalError, _default
from anh_reporter.reports.fastschema import CHECK_NAMES, Unsupported, _Generator, compile_schema

RowRenderer = Callable[[Any], orjson.Fragment]

_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "title", "description", "default", "examples", "deprecated"}
)
_OBJECT_KEYS = frozenset({"type", "properties", "required", "additionalProperties"}) | _ANNOTATIONS
_ARRAY_KEYS = frozenset({"type", "items", "minItems", "maxItems"}) | _ANNOTATIONS
_DIGITS = frozenset("0123456789")
_SLOT = "\x00"
"""Where a value goes in a row's text while it is compiled (never in canonical JSON: NUL is
always written escaped)."""


class RowInvalid(Exception):
    """A rendered row breaks its row schema (the plain document is then checked for messages)."""


def _text(value: Any) -> str:
    """Canonical JSON text of any value (the generic path, as ``canonical_bytes`` writes it)."""
    try:
        return orjson.dumps(value, default=_default, option=orjson.OPT_SORT_KEYS).decode()
    except orjson.JSONEncodeError as exc:
        cause = exc.__cause__
        if isinstance(cause, NotCanonicalError):
            raise cause from None
        raise NotCanonicalError(str(exc)) from None


def _resolve(node: Any, root: dict[str, Any]) -> Any:
    """Follow a chain of bare ``$ref`` to ``#/$defs/...`` (a node with other keywords stays)."""
    seen = 0
    while isinstance(node, dict) and set(node) - _ANNOTATIONS == {"$ref"}:
        ref = node["$ref"]
        prefix = "#/$defs/"
        if not isinstance(ref, str) or not ref.startswith(prefix) or seen > 16:
            return None
        node = root.get("$defs", {}).get(ref[len(prefix) :])
        seen += 1
    return node


def _allows(schema: dict[str, Any], kind: str) -> bool:
    types = schema.get("type")
    return types == kind or (isinstance(types, list) and types == [kind])


def array_node(schema: Any, root: dict[str, Any]) -> dict[str, Any] | None:
    """The array schema of a fused list when it only types, bounds and itemises it."""
    node = _resolve(schema, root)
    if not isinstance(node, dict) or set(node) - _ARRAY_KEYS or not _allows(node, "array"):
        return None
    return node


def _is_plain_object(template: Any) -> bool:
    return isinstance(template, dict) and not any(str(k).startswith("$") for k in template)


def _base_kind(annotation: Any) -> str:
    """How a value of this annotation is written fast: ``decimal``, ``str``, ``int``, ``date``,
    ``list`` or ``any``."""
    origin = get_origin(annotation)
    if origin is Literal:
        options = {type(a) for a in get_args(annotation)}
    elif origin in (Union, UnionType):
        options = {a for a in get_args(annotation) if a is not type(None)}
    else:
        options = {origin or annotation}
    kinds = {Decimal: "decimal", str: "str", int: "int", dt.date: "date", list: "list"}
    if len(options) == 1:
        (only,) = options
        return kinds.get(only, "any") if isinstance(only, type) else "any"
    return "any"


class _RowChecks(_Generator):
    """The schema checks of a row, their constants named apart from the profile's."""

    def const(self, value: Any) -> str:
        name = f"_r{len(self.consts)}"
        self.consts[name] = value
        return name


class _RowCompiler:
    def __init__(
        self,
        root: dict[str, Any],
        checker: FormatChecker,
        path: Callable[[str], tuple[str, Any]],
        convert: Callable[[str, Any], str],
        plain: Callable[[Any], Any],
    ) -> None:
        self.root = root
        self.checker = checker
        self.gen = _RowChecks(root, checker)
        self.path = path
        self.convert = convert
        self.plain = plain
        self.body: list[str] = []
        self.slots: list[str] = []
        self.count = 0

    def leaf_check(self, schema: Any, var: str, depth: int = 1) -> None:
        lines: list[str] = []
        self.gen.emit(schema, var, lines, depth)
        self.body.extend(line.replace("return False", "raise _RowInvalid") for line in lines)
        if not lines and depth > 1:
            self.body.append("    " * depth + "pass")

    def obj(self, template: dict[str, Any], schema: Any) -> str:
        """The format text of an object template (values as ``%s`` slots, in sorted key order)."""
        node = _resolve(schema, self.root)
        if not isinstance(node, dict) or set(node) - _OBJECT_KEYS:
            raise Unsupported("object schema")
        if "type" in node and not _allows(node, "object"):
            raise Unsupported("object type")
        keys = sorted(str(k) for k in template)
        props: dict[str, Any] = node.get("properties", {})
        extra = node.get("additionalProperties", True)
        if not set(node.get("required", [])) <= set(keys):
            raise Unsupported("a required key the template lacks")
        parts = []
        for key in keys:
            sub = props.get(key, extra)
            if sub is False:
                raise Unsupported(f"key {key!r} not allowed")
            text = self.value(template[key], sub)
            parts.append(orjson.dumps(key).decode() + ":" + text)
        return "{" + ",".join(parts) + "}"

    def value(self, template: Any, schema: Any) -> str:
        if _is_plain_object(template):
            return self.obj(template, schema)
        if isinstance(template, dict) and set(template) == {"$const"}:
            # Checked once here; a constant that breaks its schema leaves the list unfused.
            value = self.plain(template["$const"])
            if not compile_schema(self._standalone(schema), self.checker)(value):
                raise Unsupported("a constant breaks its schema")
            return _text(value)
        if not isinstance(template, str) or not template.startswith("@."):
            raise Unsupported(f"template {template!r}")
        raw, annotation = self.path(template)
        kind = _base_kind(annotation)
        self.count += 1
        var = f"x{self.count}"
        if kind == "date":
            # A date's ISO text always conforms to "format": "date" (YYYY-MM-DD, a real day):
            # that check is kept for any other value only.
            node = _resolve(schema, self.root)
            self.body.append(f"    {var} = {raw}")
            self.body.append(f"    if type({var}) is _date:")
            self.body.append(f"        {var} = {var}.isoformat()")
            if isinstance(node, dict) and node.get("format") == "date":
                self.leaf_check({k: v for k, v in node.items() if k != "format"}, var, 2)
            else:
                self.leaf_check(schema, var, 2)
            self.body.append("    else:")
            self.body.append(f"        {var} = {self.convert(var, annotation)}")
            self.leaf_check(schema, var, 2)
            kind = "str"
        else:
            self.body.append(f"    {var} = {self.convert(raw, annotation)}")
            self.leaf_check(schema, var)
        if kind == "decimal":
            slot = (
                f'("null" if {var} is None else _t if type({var}) is _Decimal and '
                f'(_t := str({var}))[0] in _DIGITS and "E" not in _t else _text({var}))'
            )
        elif kind == "str":
            slot = (
                f'("null" if {var} is None else _esc({var}) if type({var}) is str '
                f"else _text({var}))"
            )
        elif kind == "int":
            # orjson writes 64-bit integers only (a bigger one is refused by _text, as it is).
            slot = (
                f'("null" if {var} is None else str({var}) if type({var}) is int and '
                f"{-(2**63)} <= {var} <= {2**64 - 1} else _text({var}))"
            )
        elif kind == "list":
            slot = f'("[]" if type({var}) is list and not {var} else _text({var}))'
        else:
            slot = f"_text({var})"
        self.slots.append(slot)
        return _SLOT

    def _standalone(self, schema: Any) -> Any:
        if isinstance(schema, dict) and "$defs" in self.root:
            return {"$defs": self.root["$defs"], "allOf": [schema]}
        return schema


def compile_rows(
    template: Any,
    items_schema: Any,
    root: dict[str, Any],
    checker: FormatChecker,
    *,
    path: Callable[[str], tuple[str, Any]],
    convert: Callable[[str, Any], str],
    plain: Callable[[Any], Any],
    names: Callable[[], dict[str, Any]],
) -> RowRenderer | None:
    """A function rendering one list item (``item``) to its checked canonical row, or None.

    ``path`` is the profile compiler's path resolution (source reading ``@.a.b`` of ``item`` and
    its type), ``convert`` its value conversion (source of the JSON-ready form of a value),
    ``plain`` its conversion of ``$const`` values and ``names()`` what their sources refer to
    (asked once the conversions are written).
    """
    if not _is_plain_object(template):
        return None
    rows = _RowCompiler(root, checker, path, convert, plain)
    try:
        fmt = rows.obj(template, items_schema)
    except Unsupported:
        return None
    literals = fmt.split(_SLOT)
    pieces = [repr(literals[0])]
    for slot, literal in zip(rows.slots, literals[1:], strict=True):
        pieces += [slot, repr(literal)] if literal else [slot]
    joined = ", ".join(pieces)
    body = [*rows.body, f'    return _Fragment("".join(({joined},)))']
    namespace: dict[str, Any] = {
        **names(),
        **CHECK_NAMES,
        **rows.gen.consts,
        "_Fragment": orjson.Fragment,
        "_RowInvalid": RowInvalid,
        "_Decimal": Decimal,
        "_date": dt.date,
        "_DIGITS": _DIGITS,
        "_esc": encode_basestring,
        "_text": _text,
    }
    # Every global the row reads (constants, helpers, builtins) bound as a default argument: a
    # local is read faster than a global, and a row reads a hundred of them.
    source = "\n\n".join([*rows.gen.functions, "\n".join(["def _row(item):", *body])])
    code = compile(source, "<fused rows>", "exec")
    row_code = next(c for c in code.co_consts if getattr(c, "co_name", None) == "_row")
    bound = sorted(n for n in _names(row_code) if n in namespace or n in _BUILTINS)
    defaults = "".join(f", {n}={n}" for n in bound)
    source = "\n\n".join([*rows.gen.functions, "\n".join([f"def _row(item{defaults}):", *body])])
    exec(compile(source, "<fused rows>", "exec"), namespace)  # noqa: S102 - generated from the profile and schema
    renderer: RowRenderer = namespace["_row"]
    return renderer


_BUILTINS = frozenset({"isinstance", "type", "str", "int", "len", "any", "sum", "list", "dict"})


def _names(code: Any) -> set[str]:
    """The global names a code object (and the comprehensions in it) reads."""
    out = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            out |= _names(const)
    return out


class TemplateCompiler(Protocol):
    """What :func:`fuse_lists` needs of the profile's template compiler."""

    types: dict[str, Any]
    rows: dict[int, str]

    def path(self, path: str, item: str, where: str) -> tuple[str, Any]: ...
    def convert(self, raw: str, annotation: Any) -> str: ...
    def const(self, value: Any) -> str: ...
    def names(self) -> dict[str, Any]: ...


def fuse_lists(
    template: Any,
    schema: dict[str, Any],
    checker: FormatChecker,
    compiler: TemplateCompiler,
    plain: Callable[[Any], Any],
    item_type: Callable[[Any], Any],
) -> dict[str, Any] | None:
    """Fuse the lists of ``template`` that can be (see the module docstring).

    Walks the template's plain objects alongside the schema's inline ``properties``; each
    ``$each`` over a root path whose array schema is inline and whose row compiles gets a row
    renderer, registered in ``compiler.rows``. Returns the schema the rest of the document is
    checked against (those lists' ``items`` left out: each row is checked as it is rendered), or
    ``None`` when no list was fused.
    """
    fused = copy.deepcopy(schema)
    found = 0

    def walk(t: Any, node: Any, where: str) -> None:
        nonlocal found
        if not _is_plain_object(t) or not isinstance(node, dict) or "$ref" in node:
            return
        props = node.get("properties")
        if not isinstance(props, dict):
            return
        for key, sub in t.items():
            target = props.get(key)
            if not isinstance(target, dict):
                continue
            if isinstance(sub, dict) and "$each" in sub and set(sub) <= {"$each", "$map"}:
                if "$ref" in target or array_node(target, schema) is None:
                    continue
                path = sub["$each"]
                if not isinstance(path, str) or not path.startswith("$."):
                    continue
                _, annotation = compiler.path(path, "item", where)
                compiler.types["item"] = item_type(annotation)
                rows = compile_rows(
                    sub.get("$map", "@"),
                    target.get("items", True),
                    schema,
                    checker,
                    path=lambda p: compiler.path(p, "item", where),
                    convert=compiler.convert,
                    plain=plain,
                    names=compiler.names,
                )
                compiler.types["item"] = None
                if rows is not None:
                    compiler.rows[id(sub)] = compiler.const(rows)
                    target.pop("items", None)
                    found += 1
            else:
                walk(sub, target, f"{where}.{key}")

    walk(template, fused, "document")
    return fused if found else None
