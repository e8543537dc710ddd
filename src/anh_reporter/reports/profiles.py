"""Report profiles: a JSON Schema plus a mapping from the internal model, both read from files.

A profile lives in two files in a profile directory (the package's ``schemas/`` folder, plus any
directory an operator adds, e.g. ``<data_dir>/profiles``):

* ``<name>.profile.json``: ``{"name": ..., "schema": "<file>", "description": ..., "document":
  <template>}``
* the schema file it names (JSON Schema draft 2020-12).

Adding a profile (say, the official ANH annex once an operator holds it) is adding those two
files: no code changes.

The template language
---------------------
The template has the shape of the output document. Each value is one of:

* ``"$.a.b"``: the value at path ``a.b`` of the report model (``$`` alone: the whole model);
* ``"@.a.b"``: the value at path ``a.b`` of the current item inside ``$each`` (``@``: the item);
* ``{"$const": <json>}``: that JSON value as is (any literal string must be written this way);
* ``{"$each": "<path>", "$map": <template>}``: a list, one ``<template>`` per item of the list at
  ``<path>`` (``@`` is the item);
* ``{"$path": "<path>", "$round": "0.01", "$default": <json>}``: the value at ``<path>``, rounded
  half up to the given increment when ``$round`` is there (needs a number), replaced by
  ``$default`` when it is null or missing;
* ``{"$if": "<path>", "$then": <template>, "$else": <template>}``: ``$then`` when the value at
  the path is neither null nor missing, else ``$else`` (default null);
* any other object: an object whose keys are kept and whose values are templates.

Values taken from the model are converted for JSON: dates and times to ISO 8601 (``Z`` for UTC),
numbers stay exact (Decimal). A path that does not exist in the model is an error at load time
when it starts with ``$.`` and names a top-level field the model lacks.

Templates are compiled once into Python closures, and each profile's validator is built once
(with a format checker, so ``date`` and ``date-time`` are checked). Where the schema keeps to the
keywords :mod:`~anh_reporter.reports.fastschema` compiles, that compiled check answers "valid?"
and ``jsonschema`` is asked only for the messages of an invalid document.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator

from anh_reporter.errors import AnhError
from anh_reporter.reports.fastschema import Unsupported, compile_schema
from anh_reporter.reports.model import IdpReport

BUILTIN_DIR = Path(__file__).parent / "schemas"
_DECIMAL_REPR = re.compile(r"Decimal\('([^']*)'\)")
DEFAULT_PROFILE = "idp-1.0"

Getter = Callable[[Any, Any], Any]


class ProfileError(AnhError):
    """A profile that cannot be found, read or compiled."""


# --- Formats ----------------------------------------------------------------------------------

_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _is_date_time(instance: object) -> bool:
    """RFC 3339 date-time (jsonschema checks it only with an optional package installed)."""
    if not isinstance(instance, str):
        return True
    if not _DATE_TIME.match(instance):
        return False
    try:
        dt.datetime.fromisoformat(instance.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def format_checker() -> FormatChecker:
    """The draft 2020-12 format checker, with ``date-time`` always checked."""
    checker = FormatChecker()
    checker.checks("date-time")(_is_date_time)
    return checker


# --- Template compilation ---------------------------------------------------------------------


_SCALARS = (str, int, Decimal, bool, type(None))
_SCALAR_TYPES = frozenset(_SCALARS)


def _plain(value: Any) -> Any:
    """A model value as a JSON-ready value (dates as ISO text, nested containers converted)."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, dt.datetime):
        text = value.astimezone(dt.UTC).isoformat() if value.tzinfo else value.isoformat()
        return text.replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def _path_getter(path: str, where: str) -> Getter:
    if path == "$":
        return lambda root, item: root
    if path == "@":
        return lambda root, item: item
    if path.startswith("$."):
        keys, from_root = path[2:].split("."), True
    elif path.startswith("@."):
        keys, from_root = path[2:].split("."), False
    else:
        raise ProfileError(f"{where}: path {path!r} must start with '$.' or '@.'")
    if any(not k for k in keys):
        raise ProfileError(f"{where}: path {path!r} has an empty part")

    # Paths of one or two keys are nearly all of them: give them loop-free closures.
    if len(keys) == 1:
        (k1,) = keys
        if from_root:
            return lambda root, item: root.get(k1) if isinstance(root, dict) else None
        return lambda root, item: item.get(k1) if isinstance(item, dict) else None
    if len(keys) == 2:
        k1, k2 = keys

        def get2(root: Any, item: Any) -> Any:
            node = root if from_root else item
            node = node.get(k1) if isinstance(node, dict) else None
            return node.get(k2) if isinstance(node, dict) else None

        return get2

    def get(root: Any, item: Any) -> Any:
        value = root if from_root else item
        for key in keys:
            if value is None:
                return None
            value = value.get(key) if isinstance(value, dict) else None
        return value

    return get


def _g2(node: Any, k1: str, k2: str) -> Any:
    node = node.get(k1) if type(node) is dict else None
    return node.get(k2) if type(node) is dict else None


def _gn(node: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        node = node.get(key) if type(node) is dict else None
    return node


class _TemplateCompiler:
    """Turns a template into the source of one Python expression (one function per profile).

    Keys and literals reach the source only through ``repr`` of strings or through names bound
    to constants, so a profile file cannot inject code.
    """

    def __init__(self) -> None:
        self.consts: dict[str, Any] = {}

    def const(self, value: Any) -> str:
        name = f"_c{len(self.consts)}"
        self.consts[name] = value
        return name

    def path(self, path: str, item: str, where: str) -> str:
        """Source of the raw value at ``path`` (``item`` names the current ``@``)."""
        if path == "$":
            return "root"
        if path == "@":
            return item
        if path.startswith("$."):
            source, keys = "root", path[2:].split(".")
        elif path.startswith("@."):
            source, keys = item, path[2:].split(".")
        else:
            raise ProfileError(f"{where}: path {path!r} must start with '$.' or '@.'")
        if any(not k for k in keys):
            raise ProfileError(f"{where}: path {path!r} has an empty part")
        if len(keys) == 1:
            return f"({source}.get({keys[0]!r}) if type({source}) is dict else None)"
        if len(keys) == 2:
            return f"_g2({source}, {keys[0]!r}, {keys[1]!r})"
        return f"_gn({source}, {tuple(keys)!r})"

    def expr(self, template: Any, item: str, depth: int, where: str) -> str:
        if isinstance(template, str):
            raw = self.path(template, item, where)
            return f"(_t if type(_t := {raw}) in _SCALARS else _plain(_t))"
        if template is None:
            return "None"
        if not isinstance(template, dict):
            raise ProfileError(
                f"{where}: {template!r} is not a template; write literals as {{'$const': value}}"
            )
        if "$const" in template:
            if len(template) != 1:
                raise ProfileError(f"{where}: $const stands alone")
            return self.const(_plain(template["$const"]))  # a float becomes an exact Decimal
        if "$each" in template:
            source = self.path(template["$each"], item, where)
            var = f"i{depth}"
            body = self.expr(template.get("$map", "@"), var, depth + 1, where + "[]")
            return f"[{body} for {var} in ({source} or ())]"
        if "$if" in template:
            test = self.path(template["$if"], item, where)
            then = self.expr(template.get("$then"), item, depth, where + ".$then")
            other = self.expr(template.get("$else", {"$const": None}), item, depth, where)
            return f"({then} if {test} is not None else {other})"
        if "$path" in template:
            return f"{self.const(_compile_path(template, where))}(root, {item})"
        bad = [k for k in template if k.startswith("$")]
        if bad:
            raise ProfileError(f"{where}: unknown template keyword {bad[0]!r}")
        parts = ", ".join(
            f"{str(k)!r}: {self.expr(v, item, depth, f'{where}.{k}')}" for k, v in template.items()
        )
        return "{" + parts + "}"


def compile_template(template: Any, where: str = "document") -> Getter:
    """Compile a template (see the module docstring) into ``f(model_dict, item) -> value``."""
    compiler = _TemplateCompiler()
    body = compiler.expr(template, "item", 1, where)
    namespace: dict[str, Any] = {
        "_SCALARS": _SCALAR_TYPES,
        "_plain": _plain,
        "_g2": _g2,
        "_gn": _gn,
        **compiler.consts,
    }
    source = f"def _map(root, item):\n    return {body}\n"
    exec(compile(source, f"<profile {where}>", "exec"), namespace)
    mapping: Getter = namespace["_map"]
    return mapping


def _compile_path(template: dict[str, Any], where: str) -> Getter:
    getter = _path_getter(template["$path"], where)
    default = template.get("$default")
    quantum: Decimal | None = None
    if "$round" in template:
        try:
            quantum = Decimal(str(template["$round"]))
        except InvalidOperation:
            raise ProfileError(f"{where}: $round {template['$round']!r} is not a number") from None

    def get(root: Any, item: Any) -> Any:
        value = getter(root, item)
        if value is None:
            return default
        if quantum is not None:
            if not isinstance(value, Decimal | int):
                raise ProfileError(f"{where}: $round needs a number, got {value!r}")
            return Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)
        return _plain(value)

    return get


# --- Profiles ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValidationProblem:
    """One way a document breaks its schema: where, and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class Profile:
    """A loaded profile: its schema, its validator (built once) and its compiled mapping."""

    name: str
    description: str
    schema_path: Path
    schema: dict[str, Any]
    validator: Validator
    mapping: Getter
    fast_check: Callable[[Any], bool] | None
    """The schema compiled by :mod:`~anh_reporter.reports.fastschema`; ``None`` if it cannot be."""

    def document(self, report: IdpReport) -> dict[str, Any]:
        """The report as this profile's document (not yet validated).

        The document holds no binary float (model floats and ``$const`` floats become exact
        Decimals), so it can be canonicalised with ``check=False``.
        """
        doc = self.mapping(report.model_dump(), None)
        if not isinstance(doc, dict):
            raise ProfileError(f"profile {self.name}: the template must produce an object")
        return doc

    def is_valid(self, document: Any) -> bool:
        """True when the document satisfies the schema (compiled check when there is one)."""
        if self.fast_check is not None:
            return self.fast_check(document)
        return bool(self.validator.is_valid(document))

    def problems(self, document: Any) -> list[ValidationProblem]:
        """Every schema violation, with its JSON path, best first."""
        errors = sorted(self.validator.iter_errors(document), key=lambda e: list(e.path))
        # jsonschema writes instances with repr(): show Decimal('120.00') as the JSON 120.00.
        return [ValidationProblem(e.json_path, _DECIMAL_REPR.sub(r"\1", e.message)) for e in errors]


def _read_json(path: Path) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read ({exc.strerror})") from None
    except orjson.JSONDecodeError as exc:
        raise ProfileError(f"{path}: not valid JSON ({exc})") from None


def load_profile(path: Path) -> Profile:
    """Load and compile one ``*.profile.json`` file and the schema it names."""
    spec = _read_json(path)
    if not isinstance(spec, dict) or not {"name", "schema", "document"} <= set(spec):
        raise ProfileError(f"{path}: a profile needs 'name', 'schema' and 'document'")
    schema_path = path.parent / str(spec["schema"])
    schema = _read_json(schema_path)
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise ProfileError(f"{schema_path}: not a valid JSON Schema: {exc.message}") from None
    checker = format_checker()
    validator = Draft202012Validator(schema, format_checker=checker)
    mapping = compile_template(spec["document"], f"{path.name}: document")
    try:
        fast: Callable[[Any], bool] | None = compile_schema(schema, checker)
    except Unsupported:
        fast = None
    return Profile(
        name=str(spec["name"]),
        description=str(spec.get("description", "")),
        schema_path=schema_path,
        schema=schema,
        validator=validator,
        mapping=mapping,
        fast_check=fast,
    )


def _profile_files(dirs: tuple[Path, ...]) -> Iterator[Path]:
    for d in dirs:
        if d.is_dir():
            yield from sorted(d.glob("*.profile.json"))


def available_profiles(extra_dirs: tuple[Path, ...] = ()) -> dict[str, Path]:
    """Profile name → file, the operator's directories overriding the built-in ones."""
    out: dict[str, Path] = {}
    for path in _profile_files((BUILTIN_DIR, *extra_dirs)):
        out[path.name.removesuffix(".profile.json")] = path
    return out


@lru_cache(maxsize=32)
def get_profile(name: str = DEFAULT_PROFILE, extra_dirs: tuple[Path, ...] = ()) -> Profile:
    """The named profile, loaded once per process."""
    found = available_profiles(extra_dirs)
    if name not in found:
        raise ProfileError(
            f"profile {name!r} not found; available: {', '.join(sorted(found)) or 'none'} "
            f"(profiles are read from {', '.join(str(d) for d in (BUILTIN_DIR, *extra_dirs))})"
        )
    return load_profile(found[name])


def profile_for_document(document: Any, extra_dirs: tuple[Path, ...] = ()) -> Profile:
    """The profile a document names in its ``profile`` field (``idp-1.0`` when it has none)."""
    name = document.get("profile") if isinstance(document, dict) else None
    return get_profile(name if isinstance(name, str) else DEFAULT_PROFILE, extra_dirs)
