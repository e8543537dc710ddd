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
numbers stay exact (Decimal). A path that names a field the report model lacks is an error at
load time; below a field that is not a model (a dict), a missing key gives null.

Templates are compiled once into one Python function per profile, reading the report model's
attributes directly (no ``model_dump``), and each profile's validator is built once
(with a format checker, so ``date`` and ``date-time`` are checked). Where the schema keeps to the
keywords :mod:`~anh_reporter.reports.fastschema` compiles, that compiled check answers "valid?"
and ``jsonschema`` is asked only for the messages of an invalid document.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache, lru_cache
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import orjson
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator
from pydantic import BaseModel

from anh_reporter.errors import AnhError
from anh_reporter.reports.canonical import NotCanonicalError, canonical_bytes
from anh_reporter.reports.fastschema import Unsupported, compile_schema
from anh_reporter.reports.fused import RowInvalid, fuse_lists
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
    """A model value as a JSON-ready value (dates as ISO text, models and containers converted).

    The compiled templates convert values whose type they know themselves; this handles the rest.
    """
    if type(value) in _SCALAR_TYPES:
        return value
    if isinstance(value, BaseModel):
        # Its fields, as model_dump() gives them (the report models allow no extra fields).
        value = value.__dict__
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {name: getattr(value, name) for name in _passed_names(type(value))}
    if isinstance(value, dict):
        return {
            k if type(k) is str else str(k): v if type(v) in _SCALAR_TYPES else _plain(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [v if type(v) in _SCALAR_TYPES else _plain(v) for v in value]
    if isinstance(value, dt.datetime):
        text = value.astimezone(dt.UTC).isoformat() if value.tzinfo else value.isoformat()
        return text.replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def _get(node: Any, key: str) -> Any:
    """A path step the model's types do not describe: the key of a dict, else None."""
    return node.get(key) if type(node) is dict else None


def _get_optional(node: Any, key: str) -> Any:
    """A path step into a model that may be None."""
    return None if node is None else getattr(node, key)


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    """``X | None`` → ``(X, True)``; anything else → ``(annotation, False)``."""
    if get_origin(annotation) in (Union, UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(args) < len(get_args(annotation)):
            return args[0], True
    return annotation, False


def _fields(annotation: Any) -> dict[str, Any] | None:
    """Field name → type of a pydantic model or dataclass type; ``None`` for any other type."""
    if not isinstance(annotation, type):
        return None
    if issubclass(annotation, BaseModel):
        return {name: f.annotation for name, f in annotation.model_fields.items()}
    if dataclasses.is_dataclass(annotation):
        hints = get_type_hints(annotation)
        return {f.name: hints[f.name] for f in dataclasses.fields(annotation)}
    return None


@cache
def _passed_names(cls: type) -> tuple[str, ...]:
    """The fields a dataclass passed on whole (``"$.balances"``) is written with: all but those
    added for a later profile (metadata ``since``), which only a template naming them writes,
    so an earlier profile's documents keep their shape."""
    return tuple(f.name for f in dataclasses.fields(cls) if "since" not in f.metadata)


def _passed_whole(annotation: Any) -> dict[str, Any] | None:
    """Field name → type of a model or dataclass passed on whole (:func:`_passed_names`)."""
    fields = _fields(annotation)
    if (
        fields is None
        or not isinstance(annotation, type)
        or not dataclasses.is_dataclass(annotation)
    ):
        return fields
    return {k: fields[k] for k in _passed_names(annotation)}


def _is_scalar(annotation: Any) -> bool:
    """True when every value of this type is already JSON-ready (str, int, bool, Decimal, None)."""
    if annotation in _SCALAR_TYPES:
        return True
    if get_origin(annotation) is Literal:
        return all(type(a) in _SCALAR_TYPES for a in get_args(annotation))
    if get_origin(annotation) in (Union, UnionType):
        return all(_is_scalar(a) for a in get_args(annotation))
    return False


def _item_type(annotation: Any) -> Any:
    """The item type of a list annotation (``None``: unknown)."""
    annotation, _ = _unwrap_optional(annotation)
    if get_origin(annotation) in (list, tuple) and get_args(annotation):
        return get_args(annotation)[0]
    return None


class _TemplateCompiler:
    """Turns a template into the source of one Python expression (one function per profile).

    When the root's model class is known, each path is resolved against the model's field types
    at compile time: model fields are read as attributes (no ``model_dump``), a field the model
    lacks is a :class:`ProfileError` at load time, and a field whose type is already JSON-ready
    is taken as is. Below a field of another type (a dict, ``Any``), steps are dict look-ups.

    Keys and literals reach the source only through ``repr`` of strings, as field names checked
    against the model, or through names bound to constants, so a profile file cannot inject code.
    """

    def __init__(self, root_type: Any) -> None:
        self.consts: dict[str, Any] = {}
        self.types: dict[str, Any] = {"root": root_type, "item": None}
        """Static type of each variable of the generated code (``None``: unknown)."""
        self.temps = 0
        self.rows: dict[int, str] = {}
        """``$each`` templates (by id) whose items a fused row renderer (a const) maps."""

    def names(self) -> dict[str, Any]:
        """What the generated source refers to."""
        return {
            "_SCALARS": _SCALAR_TYPES,
            "_plain": _plain,
            "_get": _get,
            "_get_optional": _get_optional,
            "_path_value": _path_value,
            **self.consts,
        }

    def const(self, value: Any) -> str:
        name = f"_c{len(self.consts)}"
        self.consts[name] = value
        return name

    def path(self, path: str, item: str, where: str) -> tuple[str, Any]:
        """Source of the raw value at ``path`` (``item`` names the current ``@``), and its type."""
        if path in ("$", "@"):
            source = "root" if path == "$" else item
            return source, self.types[source]
        if path.startswith("$."):
            source, keys = "root", path[2:].split(".")
        elif path.startswith("@."):
            source, keys = item, path[2:].split(".")
        else:
            raise ProfileError(f"{where}: path {path!r} must start with '$.' or '@.'")
        if any(not k for k in keys):
            raise ProfileError(f"{where}: path {path!r} has an empty part")
        expr, annotation = source, self.types[source]
        for key in keys:
            annotation, optional = _unwrap_optional(annotation)
            fields = _fields(annotation)
            if fields is None:
                expr, annotation = f"_get({expr}, {key!r})", None
            elif key not in fields:
                raise ProfileError(
                    f"{where}: path {path!r}: {annotation.__name__} has no field {key!r} "
                    f"(it has {', '.join(fields)})"
                )
            else:  # a field name is an identifier
                expr = f"_get_optional({expr}, {key!r})" if optional else f"{expr}.{key}"
                annotation = fields[key] | None if optional else fields[key]
        return expr, annotation

    def convert(self, raw: str, annotation: Any) -> str:
        """Source of the JSON-ready form of the value ``raw`` whose type is ``annotation``.

        Models, lists and string-keyed dicts of a known type are converted by generated code
        (new containers, so the document shares nothing with the model); values of any other
        type by :func:`_plain` at run time.
        """
        if _is_scalar(annotation):
            return raw
        base, _ = _unwrap_optional(annotation)
        origin, args = get_origin(base), get_args(base)
        self.temps += 1
        var = f"_v{self.temps}"
        if (fields := _passed_whole(base)) is not None:
            parts = ", ".join(f"{k!r}: {self.convert(f'{var}.{k}', a)}" for k, a in fields.items())
            body = "{" + parts + "}"
        elif origin is list and len(args) == 1:
            body = f"[{self.convert(f'{var}i', args[0])} for {var}i in {var}]"
        elif origin is dict and len(args) == 2 and args[0] is str:
            value = self.convert(f"{var}v", args[1])
            body = f"{{{var}k: {value} for {var}k, {var}v in {var}.items()}}"
        else:
            return f"(_t if type(_t := {raw}) in _SCALARS else _plain(_t))"
        return f"(None if ({var} := {raw}) is None else {body})"

    def expr(self, template: Any, item: str, depth: int, where: str) -> str:
        if isinstance(template, str):
            return self.convert(*self.path(template, item, where))
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
            source, annotation = self.path(template["$each"], item, where)
            var = f"i{depth}"
            self.types[var] = _item_type(annotation)
            if id(template) in self.rows:
                return f"[{self.rows[id(template)]}({var}) for {var} in ({source} or ())]"
            body = self.expr(template.get("$map", "@"), var, depth + 1, where + "[]")
            return f"[{body} for {var} in ({source} or ())]"
        if "$if" in template:
            test, _ = self.path(template["$if"], item, where)
            then = self.expr(template.get("$then"), item, depth, where + ".$then")
            other = self.expr(template.get("$else", {"$const": None}), item, depth, where)
            return f"({then} if {test} is not None else {other})"
        if "$path" in template:
            raw, _ = self.path(template["$path"], item, where)
            quantum: Decimal | None = None
            if "$round" in template:
                try:
                    quantum = Decimal(str(template["$round"]))
                except InvalidOperation:
                    raise ProfileError(
                        f"{where}: $round {template['$round']!r} is not a number"
                    ) from None
            default = self.const(_plain(template.get("$default")))
            return f"_path_value({raw}, {self.const(quantum)}, {default}, {self.const(where)})"
        bad = [k for k in template if k.startswith("$")]
        if bad:
            raise ProfileError(f"{where}: unknown template keyword {bad[0]!r}")
        parts = ", ".join(
            f"{str(k)!r}: {self.expr(v, item, depth, f'{where}.{k}')}" for k, v in template.items()
        )
        return "{" + parts + "}"


def _path_value(value: Any, quantum: Decimal | None, default: Any, where: str) -> Any:
    """A ``$path`` value: ``$default`` for null, rounded half up when ``$round`` is given."""
    if value is None:
        return default
    if quantum is not None:
        if not isinstance(value, Decimal | int):
            raise ProfileError(f"{where}: $round needs a number, got {value!r}")
        return Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)
    return _plain(value)


def compile_template(template: Any, where: str = "document", model: type | None = None) -> Getter:
    """Compile a template (see the module docstring) into ``f(root, item) -> value``.

    ``root`` is an instance of ``model`` when one is given (paths are checked against it),
    otherwise plain data (dicts and lists).
    """
    return _compile(_TemplateCompiler(model), template, where)


def _compile(compiler: _TemplateCompiler, template: Any, where: str) -> Getter:
    body = compiler.expr(template, "item", 1, where)
    namespace = compiler.names()
    source = f"def _map(root, item):\n    return {body}\n"
    exec(compile(source, f"<profile {where}>", "exec"), namespace)  # noqa: S102 - expression compiled from a validated path
    mapping: Getter = namespace["_map"]
    return mapping


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
    field_names: dict[str, str] | None = None
    """A profile in another language renames every key of the document it maps (``field_names``
    of the profile file: name → name); keys it does not list stay as they are."""
    fused_mapping: Getter | None = None
    """The mapping with its big lists' rows rendered to canonical text and checked as they are
    made (:mod:`~anh_reporter.reports.fused`); ``None`` when no list can be."""
    fused_check: Callable[[Any], bool] | None = None
    """The compiled check of the rest of a fused document (the fused lists' rows left out)."""

    def document(self, report: IdpReport) -> dict[str, Any]:
        """The report as this profile's document (not yet validated).

        The document holds no binary float (model floats, ``$const`` and ``$default`` floats
        become exact Decimals), so it can be canonicalised with ``check=False``.
        """
        doc = self.mapping(report, None)
        if not isinstance(doc, dict):
            raise ProfileError(f"profile {self.name}: the template must produce an object")
        if self.field_names:
            renamed = _renamed(doc, self.field_names)
            assert isinstance(renamed, dict)  # noqa: S101 - a dict renamed stays a dict
            return renamed
        return doc

    def is_valid(self, document: Any) -> bool:
        """True when the document satisfies the schema (compiled check when there is one)."""
        if self.fast_check is not None:
            return self.fast_check(document)
        return bool(self.validator.is_valid(document))

    def fused_document(self, report: IdpReport) -> dict[str, Any] | None:
        """The document with its fused lists' rows as checked canonical fragments.

        ``None`` when a row breaks its schema; the plain :meth:`document` when nothing is fused.
        Check the rest with :meth:`fused_is_valid`; :func:`~anh_reporter.reports.canonical.
        canonical_bytes` writes the same bytes as for the plain document.
        """
        if self.fused_mapping is None:
            return self.document(report)
        try:
            doc = self.fused_mapping(report, None)
        except RowInvalid:
            return None
        return doc if isinstance(doc, dict) else None

    def fused_is_valid(self, document: Any) -> bool:
        """:meth:`is_valid` for a :meth:`fused_document` (its rows were checked as rendered)."""
        if self.fused_check is None:
            return self.is_valid(document)
        return document is not None and self.fused_check(document)

    def render(self, report: IdpReport) -> bytes | None:
        """The canonical bytes of the report's document when it satisfies the schema, else None.

        The fused path when there is one; anything it does not accept (an invalid row, a value
        with no canonical form) is done again the plain way, which gives the answer (or raises
        :class:`~anh_reporter.reports.canonical.NotCanonicalError`) as it always has.
        """
        if self.fused_mapping is not None:
            try:
                document = self.fused_document(report)
                if document is not None and self.fused_is_valid(document):
                    return canonical_bytes(document, check=False)
            except NotCanonicalError:
                pass  # a row is written as it is checked: the plain path says which comes first
        plain = self.document(report)
        return canonical_bytes(plain, check=False) if self.is_valid(plain) else None

    def internal(self, document: Any) -> Any:
        """A document of this profile with the model's key names: a renamed profile's keys are
        named back (``pozos`` → ``wells``), so code that reads signed documents (the Forma 9SH,
        amendments) reads every profile the same way."""
        if not self.field_names:
            return document
        return _renamed(document, {v: k for k, v in self.field_names.items()})

    def problems(self, document: Any) -> list[ValidationProblem]:
        """Every schema violation, with its JSON path, best first."""
        errors = sorted(self.validator.iter_errors(document), key=lambda e: list(e.path))
        # jsonschema writes instances with repr(): show Decimal('120.00') as the JSON 120.00.
        return [ValidationProblem(e.json_path, _DECIMAL_REPR.sub(r"\1", e.message)) for e in errors]


def _renamed(node: Any, names: dict[str, str]) -> Any:
    """``node`` with every object key renamed by ``names`` (values unchanged)."""
    if isinstance(node, dict):
        return {names.get(k, k): _renamed(v, names) for k, v in node.items()}
    if isinstance(node, list):
        return [_renamed(v, names) for v in node]
    return node


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
    mapping = compile_template(spec["document"], f"{path.name}: document", IdpReport)
    try:
        fast: Callable[[Any], bool] | None = compile_schema(schema, checker)
    except Unsupported:
        fast = None
    names = spec.get("field_names")
    if names is not None and not (
        isinstance(names, dict) and all(isinstance(v, str) for v in names.values())
    ):
        raise ProfileError(f"{path}: 'field_names' must map names to names")
    if names is not None and len(set(names.values())) != len(names):
        twice = sorted({v for v in names.values() if list(names.values()).count(v) > 1})
        raise ProfileError(f"{path}: 'field_names' gives two keys the same name: {twice}")
    fused_mapping: Getter | None = None
    fused_check: Callable[[Any], bool] | None = None
    if fast is not None and names is None:  # renamed documents are mapped the plain way
        compiler = _TemplateCompiler(IdpReport)
        rest = fuse_lists(spec["document"], schema, checker, compiler, _plain, _item_type)
        if rest is not None:
            fused_mapping = _compile(compiler, spec["document"], f"{path.name}: document")
            fused_check = compile_schema(rest, checker)
    return Profile(
        name=str(spec["name"]),
        description=str(spec.get("description", "")),
        schema_path=schema_path,
        schema=schema,
        validator=validator,
        mapping=mapping,
        fast_check=fast,
        field_names=names,
        fused_mapping=fused_mapping,
        fused_check=fused_check,
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


def internal_document(document: Any, extra_dirs: tuple[Path, ...] = ()) -> Any:
    """``document`` with the model's key names, whatever profile it was signed in."""
    return profile_for_document(document, extra_dirs).internal(document)
