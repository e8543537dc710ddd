"""List rows rendered straight to canonical JSON, each checked against its row schema.

A profile's big lists (500 well rows in ``idp-1.2``) are regular: every row is the same object
template over the fields of one model dataclass. Building a dict per row, walking it again to
validate and a third time to serialise cost three quarters of such a report. For a ``$each``
whose ``$map`` is a plain object template of ``@.a.b`` paths, ``$const`` values, nested objects,
``$if`` objects (else a constant) and inner ``$each`` lists of the same kind,
:func:`compile_rows` writes one Python function per row template that

1. reads each value once and converts it as the profile compiler would (the same expression),
2. checks every value against its own subschema (the checks :mod:`~anh_reporter.reports.fastschema`
   generates, on the converted value), while the row's keys are checked once at load time
   against ``required`` / ``properties`` / ``additionalProperties`` (the template fixes them;
   a constant is checked once at load time too),
3. writes the row's canonical text from precompiled pieces (keys sorted, values in their
   canonical form: :func:`~anh_reporter.reports.canonical.canonical_bytes`'s rules) and returns
   it as an :class:`orjson.Fragment`.

A row that breaks its schema raises :class:`RowInvalid`; the caller then falls back on the
plain document (and ``jsonschema`` for the messages). A template or schema outside this shape
gives ``None`` and the list is mapped as before. The tests check, on the golden cases, the
benchmark field and every field of a row set to many good, bad and ill-typed values, that the
bytes are those of ``canonical_bytes(profile.document(report))`` and that a row is refused
exactly when the plain document is invalid.
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
    """Writes the functions rendering the rows of one list (and of the lists inside a row)."""

    def __init__(
        self,
        root: dict[str, Any],
        checker: FormatChecker,
        path: Callable[[str, str], tuple[str, Any]],
        convert: Callable[[str, Any], str],
        plain: Callable[[Any], Any],
        item_type: Callable[[Any], Any],
        types: dict[str, Any],
    ) -> None:
        self.root = root
        self.checker = checker
        self.gen = _RowChecks(root, checker)
        self.path = path
        self.convert = convert
        self.plain = plain
        self.item_type = item_type
        self.types = types
        self.functions: list[tuple[str, str, list[str]]] = []
        """Each row function: its name, its item variable and its body (inner lists first)."""
        self.body: list[str] = []
        self.slots: list[str] = []
        self.depth = 1
        self.item = "item"
        self.count = 0

    def function(self, template: Any, items_schema: Any, item: str, fragment: bool) -> str:
        """Write the function rendering one ``item`` of a list by ``template``; its name.

        The function checks every value, then returns the row's canonical text (an
        :class:`orjson.Fragment` when ``fragment``); :class:`Unsupported` when it cannot.
        """
        if not _is_plain_object(template):
            raise Unsupported("a row that is not an object template")
        saved = (self.body, self.slots, self.depth, self.item)
        self.body, self.slots, self.depth, self.item = [], [], 1, item
        try:
            fmt = self.obj(template, items_schema)
            text = self.join(fmt, self.slots)
            body = [*self.body, f"    return {'_Fragment(' + text + ')' if fragment else text}"]
        finally:
            self.body, self.slots, self.depth, self.item = saved
        self.count += 1
        name = f"_row{self.count}"
        self.functions.append((name, item, body))
        return name

    @staticmethod
    def join(fmt: str, slots: list[str]) -> str:
        """Source of the text of ``fmt`` with its slots filled by ``slots`` (expressions)."""
        literals = fmt.split(_SLOT)
        pieces = [repr(literals[0])] if literals[0] else []
        for slot, literal in zip(slots, literals[1:], strict=True):
            pieces += [slot, repr(literal)] if literal else [slot]
        return f'"".join(({", ".join(pieces)},))'

    def line(self, text: str, extra: int = 0) -> None:
        self.body.append("    " * (self.depth + extra) + text)

    def leaf_check(self, schema: Any, var: str, extra: int = 0) -> None:
        lines: list[str] = []
        self.gen.emit(schema, var, lines, self.depth + extra)
        self.body.extend(line.replace("return False", "raise _RowInvalid") for line in lines)
        if not lines and extra:
            self.line("pass", extra)

    def obj(self, template: dict[str, Any], schema: Any) -> str:
        """The text of an object template, its values as slots, in sorted key order."""
        node = _resolve(schema, self.root)
        if isinstance(node, dict) and set(node) - _ANNOTATIONS == {"anyOf"}:
            # "this or null": an object is valid exactly when it is valid against "this".
            others = [o for o in node["anyOf"] if o != {"type": "null"}]
            if len(node["anyOf"]) == 2 and len(others) == 1:
                node = _resolve(others[0], self.root)
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

    def constant(self, value: Any, schema: Any) -> str:
        """The text of a constant, checked once here (one that breaks its schema: unfused)."""
        if not compile_schema(self._standalone(schema), self.checker)(value):
            raise Unsupported("a constant breaks its schema")
        return _text(value)

    def value(self, template: Any, schema: Any) -> str:
        if _is_plain_object(template):
            return self.obj(template, schema)
        if isinstance(template, dict) and set(template) == {"$const"}:
            return self.constant(self.plain(template["$const"]), schema)
        if isinstance(template, dict) and set(template) <= {"$if", "$then", "$else"}:
            return self.branch(template, schema)
        if isinstance(template, dict) and set(template) <= {"$each", "$map"} and template:
            return self.each(template, schema)
        if not isinstance(template, str) or not template.startswith("@."):
            raise Unsupported(f"template {template!r}")
        return self.leaf(template, schema)

    def branch(self, template: dict[str, Any], schema: Any) -> str:
        """``$if``: ``$then`` (an object template) when the value is there, else a constant."""
        test = template["$if"]
        other = template.get("$else", {"$const": None})
        if (
            not isinstance(test, str)
            or not test.startswith("@.")
            or not _is_plain_object(template.get("$then"))
        ):
            raise Unsupported("$if form")
        if not (isinstance(other, dict) and set(other) == {"$const"}):
            raise Unsupported("$else form")
        otherwise = self.constant(self.plain(other["$const"]), schema)
        raw, _ = self.path(test, self.item)
        self.count += 1
        var = f"c{self.count}"
        self.line(f"{var} = {raw}")
        self.line(f"if {var} is not None:")
        saved = self.slots
        self.slots = []
        self.depth += 1
        before = len(self.body)
        try:
            fmt = self.obj(template["$then"], schema)
        finally:
            self.depth -= 1
        if len(self.body) == before:
            self.line("pass", 1)
        then, self.slots = self.join(fmt, self.slots), saved
        self.slots.append(f"({then} if {var} is not None else {otherwise!r})")
        return _SLOT

    def each(self, template: dict[str, Any], schema: Any) -> str:
        """A list inside a row: its items by their own row function."""
        path = template["$each"]
        node = array_node(schema, self.root)
        if node is None or not isinstance(path, str) or not path.startswith("@."):
            raise Unsupported("$each form")
        raw, annotation = self.path(path, self.item)
        self.count += 1
        item = f"item{self.count}"
        self.types[item] = self.item_type(annotation)
        row = self.function(template.get("$map", "@"), node.get("items", True), item, False)
        var = f"l{self.count}"
        self.line(f"{var} = [{row}({item}) for {item} in ({raw} or ())]")
        for key, op in (("minItems", ">="), ("maxItems", "<=")):
            if key in node:
                self.line(f"if not len({var}) {op} {int(node[key])}: raise _RowInvalid")
        self.slots.append(f'"[" + ",".join({var}) + "]"')
        return _SLOT

    def leaf(self, template: str, schema: Any) -> str:
        raw, annotation = self.path(template, self.item)
        kind = _base_kind(annotation)
        self.count += 1
        var = f"x{self.count}"
        if kind == "date":
            # A date's ISO text always conforms to "format": "date" (YYYY-MM-DD, a real day):
            # that check is kept for any other value only.
            node = _resolve(schema, self.root)
            self.line(f"{var} = {raw}")
            self.line(f"if type({var}) is _date:")
            self.line(f"{var} = {var}.isoformat()", 1)
            if isinstance(node, dict) and node.get("format") == "date":
                self.leaf_check({k: v for k, v in node.items() if k != "format"}, var, 1)
            else:
                self.leaf_check(schema, var, 1)
            self.line("else:")
            self.line(f"{var} = {self.convert(var, annotation)}", 1)
            self.leaf_check(schema, var, 1)
            kind = "str"
        else:
            self.line(f"{var} = {self.convert(raw, annotation)}")
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
    path: Callable[[str, str], tuple[str, Any]],
    convert: Callable[[str, Any], str],
    plain: Callable[[Any], Any],
    item_type: Callable[[Any], Any],
    types: dict[str, Any],
    names: Callable[[], dict[str, Any]],
) -> RowRenderer | None:
    """A function rendering one list item (``item``) to its checked canonical row, or None.

    ``path`` is the profile compiler's path resolution (source reading ``@.a.b`` of a variable,
    and its type), ``convert`` its value conversion (source of the JSON-ready form of a value),
    ``plain`` its conversion of ``$const`` values, ``item_type`` the item type of a list type,
    ``types`` its variables' types (a list inside a row adds its item's) and ``names()`` what
    their sources refer to (asked once the conversions are written).
    """
    rows = _RowCompiler(root, checker, path, convert, plain, item_type, types)
    try:
        entry = rows.function(template, items_schema, "item", True)
    except Unsupported:
        return None
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
    # Every global a row function reads (constants, helpers, builtins, the functions of its inner
    # lists) bound as a default argument: a local is read faster than a global.
    sources = list(rows.gen.functions)
    for name, item, body in rows.functions:
        source = "\n".join([f"def {name}({item}):", *body])
        code = compile(source, "<fused rows>", "exec")
        inner = next(c for c in code.co_consts if getattr(c, "co_name", None) == name)
        known = set(namespace) | {n for n, _, _ in rows.functions}
        bound = sorted(n for n in _names(inner) if n in known or n in _BUILTINS)
        defaults = "".join(f", {n}={n}" for n in bound)
        sources.append("\n".join([f"def {name}({item}{defaults}):", *body]))
    exec(compile("\n\n".join(sources), "<fused rows>", "exec"), namespace)  # noqa: S102 - generated from the profile and schema
    renderer: RowRenderer = namespace[entry]
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
                    path=lambda p, var: compiler.path(p, var, where),
                    convert=compiler.convert,
                    plain=plain,
                    item_type=item_type,
                    types=compiler.types,
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
