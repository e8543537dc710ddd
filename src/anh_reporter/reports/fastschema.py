"""A JSON Schema (draft 2020-12) subset compiled to Python source: a fast yes/no validator.

``jsonschema`` walks the schema for every document (~15 ms for a 50-PMO report); a service that
signs a thousand reports a second cannot pay that. This module turns the keywords the report
schemas use into the source of one Python function per schema (and per ``$defs`` entry), the
way ``fastjsonschema`` does, so checking a document is a straight run of ``isinstance`` and
comparisons (~0.2 ms). It only answers *valid or not*: when a document is invalid the caller asks
``jsonschema`` for the precise messages, and when a schema uses a keyword outside the subset,
:func:`compile_schema` raises :class:`Unsupported` and the caller uses ``jsonschema`` alone.
The two are checked against each other on hundreds of mutated documents in the tests.

Every literal taken from the schema enters the generated source through ``repr`` of a string or
a number, or as a constant table entry, never as code, so a schema file cannot inject code.

Supported: ``type``, ``properties``, ``required``, ``additionalProperties``, ``propertyNames``,
``items``, ``minItems``, ``maxItems``, ``minimum``, ``maximum``, ``exclusiveMinimum``,
``exclusiveMaximum``, ``enum``, ``const``, ``pattern``, ``minLength``, ``maxLength``,
``format`` (through the same :class:`~jsonschema.FormatChecker`), ``$ref`` to ``#/$defs/...``,
``anyOf``, ``allOf``, ``oneOf``, and the annotations (``title``, ``description``, ...).
Type semantics follow ``jsonschema``: ``integer`` is an ``int`` or an integral ``float``,
``number`` any non-bool number (``Decimal`` included), booleans are never numbers.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from jsonschema import FormatChecker

Check = Callable[[Any], bool]

_ANNOTATIONS = {
    "$schema",
    "$id",
    "$comment",
    "$defs",
    "title",
    "description",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
}
_KEYWORDS = {
    "type",
    "const",
    "enum",
    "required",
    "properties",
    "additionalProperties",
    "propertyNames",
    "items",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "pattern",
    "format",
    "$ref",
    "anyOf",
    "allOf",
    "oneOf",
}
_FAST_NUMBERS = frozenset({int, float, Decimal})


class Unsupported(Exception):
    """The schema uses a keyword (or form) this compiler does not handle."""


def _is_number(x: Any) -> bool:
    if type(x) in _FAST_NUMBERS:
        return True
    return isinstance(x, numbers.Number) and not isinstance(x, bool)


def _is_integer(x: Any) -> bool:
    if isinstance(x, bool):
        return False
    return isinstance(x, int) or (isinstance(x, float) and x.is_integer())


def _equal(a: Any, b: Any) -> bool:
    """JSON equality as jsonschema sees it: ``true`` is not ``1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    return type(a) is type(b) and bool(a == b)


_TYPE_TESTS = {
    "object": "isinstance({v}, dict)",
    "array": "isinstance({v}, list)",
    "string": "isinstance({v}, str)",
    "number": "(type({v}) in _FAST_NUMBERS or ({v} is not None and _is_number({v})))",
    "integer": "(type({v}) is int or _is_integer({v}))",
    "boolean": "isinstance({v}, bool)",
    "null": "{v} is None",
}
_NULL_OR_NUMBER = frozenset({"null", "number"})
_BOUND_OPS = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
_KINDS = {
    "object": frozenset({"object"}),
    "array": frozenset({"array"}),
    "string": frozenset({"string"}),
    "number": frozenset({"number", "integer"}),
}
"""The ``type`` names under which a keyword of each kind of instance applies."""


def _format_test(func: Callable[[Any], Any], raises: Any) -> Check:
    """``FormatChecker.conforms`` for one format, without its two calls per value."""

    def conforms(instance: Any) -> bool:
        try:
            return bool(func(instance))
        except raises:
            return False

    return conforms


def _has_ref(schema: Any) -> bool:
    if isinstance(schema, dict):
        return "$ref" in schema or any(_has_ref(v) for v in schema.values())
    if isinstance(schema, list):
        return any(_has_ref(v) for v in schema)
    return False


class _Generator:
    """Writes the source of one function per schema node that needs its own function.

    After a node's ``type`` test has passed, the other keywords of that node know the instance's
    type: they skip their own ``isinstance`` guard (or need only ``is not None``), which is most
    of the work saved against a naive translation.
    """

    def __init__(self, root: dict[str, Any], checker: FormatChecker) -> None:
        self.root = root
        self.checker = checker
        self.consts: dict[str, Any] = {}
        self.functions: list[str] = []
        self.refs: dict[str, str] = {}
        self.counter = 0

    def const(self, value: Any) -> str:
        """A name bound to ``value`` in the generated module (literals never become code)."""
        name = f"_c{len(self.consts)}"
        self.consts[name] = value
        return name

    def var(self) -> str:
        """A fresh local variable name."""
        self.counter += 1
        return f"v{self.counter}"

    def function(self, schema: Any) -> str:
        """Emit a function checking ``schema``; its name."""
        self.counter += 1
        name = f"_f{self.counter}"
        lines = [f"def {name}(v0):"]
        self.emit(schema, "v0", lines, 1)
        lines.append("    return True")
        self.functions.append("\n".join(lines))
        return name

    def definition(self, ref: str) -> Any:
        """The schema a ``$ref`` points to."""
        prefix = "#/$defs/"
        if not ref.startswith(prefix) or "/" in ref[len(prefix) :]:
            raise Unsupported(f"$ref {ref!r}")
        target = self.root.get("$defs", {}).get(ref[len(prefix) :])
        if target is None:
            raise Unsupported(f"$ref {ref!r} points nowhere")
        return target

    def ref(self, ref: str) -> str:
        """The name of the function checking the definition ``ref`` (emitted once)."""
        if ref not in self.refs:
            target = self.definition(ref)
            self.counter += 1
            name = f"_d{self.counter}"
            self.refs[ref] = name  # before compiling: recursive definitions call it by name
            lines = [f"def {name}(v0):"]
            self.emit(target, "v0", lines, 1)
            lines.append("    return True")
            self.functions.append("\n".join(lines))
        return self.refs[ref]

    @staticmethod
    def guard(kind: str, types: frozenset[str] | None, v: str) -> str | None:
        """The test that ``v`` is of ``kind``, given the ``types`` its node allows.

        ``""`` when the type test already guarantees it, ``None`` when it rules it out (the
        keyword can never apply).
        """
        if types is not None:
            if not types & _KINDS[kind]:
                return None
            if types <= _KINDS[kind]:
                return ""
            if types <= _KINDS[kind] | {"null"}:
                return f"{v} is not None"
        return _TYPE_TESTS[kind].format(v=v)

    def emit(self, schema: Any, v: str, out: list[str], depth: int) -> None:
        """Append statements that ``return False`` when ``v`` breaks ``schema``."""
        pad = "    " * depth
        if schema is True:
            return
        if schema is False:
            out.append(f"{pad}return False")
            return
        if not isinstance(schema, dict):
            raise Unsupported(f"schema {schema!r}")
        unknown = set(schema) - _ANNOTATIONS - _KEYWORDS
        if unknown:
            raise Unsupported(f"keyword {sorted(unknown)[0]!r}")
        if "patternProperties" in schema or "prefixItems" in schema:
            raise Unsupported("patternProperties/prefixItems")
        types: frozenset[str] | None = None
        if "type" in schema:
            names = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
            if not names or any(n not in _TYPE_TESTS for n in names):
                raise Unsupported(f"type {schema['type']!r}")
            names = sorted(names, key=lambda n: n != "null")  # the cheap test first
            test = " or ".join(_TYPE_TESTS[n].format(v=v) for n in names)
            types = frozenset(names)
            bounds = self._bound_tests(schema, types, v)
            if types == _NULL_OR_NUMBER and bounds:
                # The common nullable figure in one test: null, or a number within its bounds.
                number = _TYPE_TESTS["number"].format(v=v)
                test = f"{v} is None or ({number} and {bounds})"
                schema = {k: x for k, x in schema.items() if k not in _BOUND_OPS}
            out.append(f"{pad}if not ({test}): return False")
        if "const" in schema:
            out.append(f"{pad}if not _equal({v}, {self.const(schema['const'])}): return False")
        if "enum" in schema:
            options = list(schema["enum"])
            if options and all(isinstance(o, str) for o in options):
                table = self.const(frozenset(options))
                out.append(f"{pad}if not (isinstance({v}, str) and {v} in {table}): return False")
            else:
                table = self.const(options)
                out.append(f"{pad}if not any(_equal({v}, o) for o in {table}): return False")
        self._bounds(schema, types, v, out, pad)
        for key, op, kind in (
            ("minLength", ">=", "string"),
            ("maxLength", "<=", "string"),
            ("minItems", ">=", "array"),
            ("maxItems", "<=", "array"),
        ):
            guard = self.guard(kind, types, v)
            if key in schema and guard is not None:
                test = f"not len({v}) {op} {int(schema[key])}"
                out.append(f"{pad}if {guard + ' and ' if guard else ''}{test}: return False")
        guard = self.guard("string", types, v)
        if "pattern" in schema and guard is not None:
            test = f"{self.const(re.compile(schema['pattern']))}.search({v}) is None"
            out.append(f"{pad}if {guard + ' and ' if guard else ''}{test}: return False")
        if "format" in schema and schema["format"] in self.checker.checkers:
            # jsonschema ignores formats it does not know; so do we.
            test = self.const(_format_test(*self.checker.checkers[schema["format"]]))
            out.append(f"{pad}if not {test}({v}): return False")
        if "$ref" in schema:
            target = self.definition(schema["$ref"])
            if _has_ref(target):
                out.append(f"{pad}if not {self.ref(schema['$ref'])}({v}): return False")
            else:  # a leaf definition: inline, saving a call per value
                self.emit(target, v, out, depth)
        if "allOf" in schema:
            for sub in schema["allOf"]:
                self.emit(sub, v, out, depth)
        if "anyOf" in schema:
            self._any_of(schema["anyOf"], v, out, depth)
        if "oneOf" in schema:
            names = [self.function(s) for s in schema["oneOf"]]
            calls = ", ".join(f"{n}({v})" for n in names)
            out.append(f"{pad}if sum(1 for ok in ({calls}) if ok) != 1: return False")
        if {"properties", "required", "additionalProperties", "propertyNames"} & set(schema):
            self._object(schema, types, v, out, depth)
        if "items" in schema:
            self._items(schema["items"], types, v, out, depth)

    def _bound_tests(self, schema: dict[str, Any], types: frozenset[str] | None, v: str) -> str:
        """The comparisons of ``v`` with the schema's bounds, joined by ``and`` ("" if none)."""
        bounds = [(k, schema[k]) for k in _BOUND_OPS if k in schema]
        for _, bound in bounds:
            if not _is_number(bound):
                raise Unsupported(f"bound {bound!r}")
        integers = types is not None and types <= {"integer", "null"}
        # Instances of a number are Decimals: comparing a Decimal with a Decimal is ten times
        # faster than with a float. Decimal(float) is exact, so every comparison keeps its answer.
        return " and ".join(
            f"{v} {_BOUND_OPS[k]} {self.const(b if integers else Decimal(b))}" for k, b in bounds
        )

    def _bounds(
        self, schema: dict[str, Any], types: frozenset[str] | None, v: str, out: list[str], pad: str
    ) -> None:
        tests = self._bound_tests(schema, types, v)
        guard = self.guard("number", types, v)
        if not tests or guard is None:
            return
        out.append(f"{pad}if {guard + ' and ' if guard else ''}not ({tests}): return False")

    def _any_of(self, options: list[Any], v: str, out: list[str], depth: int) -> None:
        pad = "    " * depth
        others = [s for s in options if s != {"type": "null"}]
        if len(options) == 2 and len(others) == 1:  # the common "this or null"
            inner: list[str] = []
            self.emit(others[0], v, inner, depth + 1)
            if inner:
                out.append(f"{pad}if {v} is not None:")
                out.extend(inner)
            return
        names = [self.function(s) for s in options]
        test = " or ".join(f"{n}({v})" for n in names)
        out.append(f"{pad}if not ({test}): return False")

    def _object(
        self,
        schema: dict[str, Any],
        types: frozenset[str] | None,
        v: str,
        out: list[str],
        depth: int,
    ) -> None:
        guard = self.guard("object", types, v)
        if guard is None:
            return
        if guard:
            out.append(f"{'    ' * depth}if {guard}:")
            depth += 1
        pad = "    " * depth
        props: dict[str, Any] = schema.get("properties", {})
        required = schema.get("required", [])
        extra = schema.get("additionalProperties", True)
        body: list[str] = []
        known = self.const(frozenset(props))
        if extra is False and set(required) == set(props):  # exactly these keys: one test
            body.append(f"{pad}if {v}.keys() != {known}: return False")
        else:
            if required:
                body.append(
                    f"{pad}if not {self.const(frozenset(required))}.issubset({v}): return False"
                )
            if extra is False:
                body.append(f"{pad}if not {known}.issuperset({v}): return False")
        if extra is not False and extra is not True:
            item = self.var()
            body.append(f"{pad}for _k, {item} in {v}.items():")
            body.append(f"{pad}    if _k in {known}: continue")
            inner: list[str] = []
            self.emit(extra, item, inner, depth + 1)
            body.extend(inner or [f"{pad}    pass"])
        if "propertyNames" in schema:  # every key (a string) checked against the schema
            key_var = self.var()
            key_check: list[str] = []
            self.emit(schema["propertyNames"], key_var, key_check, depth + 1)
            if key_check:
                body.append(f"{pad}for {key_var} in {v}:")
                body.extend(key_check)
        for key, sub in props.items():
            value = self.var()
            name = repr(str(key))
            check: list[str] = []
            if key in required:  # present: checked above
                self.emit(sub, value, check, depth)
                if check:
                    body.append(f"{pad}{value} = {v}[{name}]")
                    body.extend(check)
                continue
            self.emit(sub, value, check, depth + 1)
            if check:
                body.append(f"{pad}{value} = {v}.get({name}, _MISSING)")
                body.append(f"{pad}if {value} is not _MISSING:")
                body.extend(check)
        out.extend(body or [f"{pad}pass"])

    def _items(
        self, items: Any, types: frozenset[str] | None, v: str, out: list[str], depth: int
    ) -> None:
        guard = self.guard("array", types, v)
        if guard is None:
            return
        item = self.var()
        inner: list[str] = []
        self.emit(items, item, inner, depth + (2 if guard else 1))
        if not inner:
            return
        if guard:
            out.append(f"{'    ' * depth}if {guard}:")
            depth += 1
        out.append(f"{'    ' * depth}for {item} in {v}:")
        out.extend(inner)


_MISSING = object()
CHECK_NAMES: dict[str, Any] = {
    "_is_number": _is_number,
    "_is_integer": _is_integer,
    "_equal": _equal,
    "_MISSING": _MISSING,
    "_FAST_NUMBERS": _FAST_NUMBERS,
}
"""The helpers generated checks call (for modules that generate checks into their own code)."""


def compile_schema(schema: dict[str, Any], checker: FormatChecker) -> Check:
    """A ``document -> bool`` function for ``schema``; :class:`Unsupported` if it cannot."""
    gen = _Generator(schema, checker)
    entry = gen.function(schema)
    namespace: dict[str, Any] = {**CHECK_NAMES, **gen.consts}
    source = "\n\n".join(gen.functions)
    exec(compile(source, "<fastschema>", "exec"), namespace)  # noqa: S102 - code generated from our own schema
    check: Check = namespace[entry]
    return check
