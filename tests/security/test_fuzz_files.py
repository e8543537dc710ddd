"""Issue 13, continuous checks: the files a user or a peer hands the system, fuzzed.

The site YAML, the three connectors' tag maps and a signed report (and its ``.sig``). Each is
the shipped example with one value replaced, one key removed, or its bytes damaged, or text
that is not the format at all. A loader either returns a model or raises the project's error
(:class:`~anh_reporter.errors.AnhError`: one line, naming the file); ``report verify`` never
raises and says which check failed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from anh_reporter.connectors.modbus.config import load_config as load_modbus
from anh_reporter.connectors.mqtt.config import load_config as load_mqtt
from anh_reporter.connectors.opcua.config import load_config as load_opcua
from anh_reporter.errors import AnhError
from anh_reporter.reports.canonical import canonical_bytes, parse
from anh_reporter.reports.signing import load_or_create_key, sign, write_signed
from anh_reporter.reports.verify import verify_file
from anh_reporter.site import load_site

from ..conftest import EXAMPLE_SITE, ROOT
from .fuzzing import BIG_INTS, FUZZ, NASTY_TEXT

CONNECTORS = ROOT / "src" / "anh_reporter" / "connectors"
LOADERS: dict[str, tuple[Path, Callable[[Path], object]]] = {
    "site": (EXAMPLE_SITE, load_site),
    "opcua": (CONNECTORS / "opcua" / "sample.yaml", load_opcua),
    "modbus": (CONNECTORS / "modbus" / "sample.yaml", load_modbus),
    "mqtt": (CONNECTORS / "mqtt" / "sample.yaml", load_mqtt),
}
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    BIG_INTS,
    st.floats(allow_nan=True),
    NASTY_TEXT,
    st.dates(),
    st.datetimes(),
)
REPLACEMENT = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NASTY_TEXT, inner, max_size=3),
    max_leaves=6,
)


PER_KIND = settings(FUZZ, max_examples=30)
"""Four kinds of file, 120 examples in all: loading the site file is slow (~0.3 s)."""


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key or index path in a parsed YAML document."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += paths(v, (*prefix, i))
    return out


def mutated(doc: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    """``doc`` with the value at ``path`` replaced (or removed)."""
    *parents, last = path
    node = doc
    for part in parents:
        node = node[part]
    if delete:
        del node[last]
    else:
        node[last] = value
    return doc


def _expect_model_or_project_error(load: Callable[[Path], object], path: Path) -> None:
    try:
        load(path)
    except AnhError as exc:
        text = str(exc)
        assert str(path) in text and text.strip(), text


@pytest.mark.parametrize("kind", list(LOADERS))
@PER_KIND
@given(data=st.data())
def test_one_value_changed_or_removed(kind: str, data: st.DataObject, tmp_path: Path) -> None:
    source, load = LOADERS[kind]
    doc = yaml.safe_load(source.read_text(encoding="utf-8"))
    path = data.draw(st.sampled_from(paths(doc)), label="path")
    doc = mutated(doc, path, data.draw(REPLACEMENT, label="value"), data.draw(st.booleans()))
    target = tmp_path / f"{kind}.yaml"
    target.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    _expect_model_or_project_error(load, target)


@pytest.mark.parametrize("kind", list(LOADERS))
@PER_KIND
@given(body=st.one_of(st.binary(max_size=200), REPLACEMENT.map(yaml.safe_dump).map(str.encode)))
def test_not_the_format_at_all(kind: str, body: bytes, tmp_path: Path) -> None:
    target = tmp_path / f"{kind}.yaml"
    target.write_bytes(body)
    _expect_model_or_project_error(LOADERS[kind][1], target)


@pytest.mark.parametrize("kind", list(LOADERS))
def test_a_file_that_is_not_utf8_is_refused_in_one_line(kind: str, tmp_path: Path) -> None:
    """Found by the fuzzing above: a Latin-1 file raised UnicodeDecodeError (a traceback)."""
    target = tmp_path / f"{kind}.yaml"
    target.write_bytes("nombre: Campo Caño\n".encode("latin-1"))
    with pytest.raises(AnhError, match=r"\.yaml: the .* is not UTF-8 text \(byte 16\)$"):
        LOADERS[kind][1](target)


# -- report verify ----------------------------------------------------------------------------

REPORT = canonical_bytes(
    parse(
        (ROOT / "tests" / "reports" / "cases" / "tipo-a-three-pmos" / "expected.json").read_bytes()
    )
)
SIGNED_AT = dt.datetime(2026, 1, 6, 6, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def envelope(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    key = load_or_create_key(tmp_path_factory.mktemp("keys"))
    return json.loads(sign(REPORT, key, SIGNED_AT).to_bytes())


def damaged(data: bytes, at: int, cut: int, insert: bytes) -> bytes:
    at = at % (len(data) + 1)
    return data[:at] + insert + data[at + cut :]


@FUZZ
@given(
    at=st.integers(min_value=0),
    cut=st.integers(min_value=0, max_value=8),
    insert=st.binary(max_size=8),
    gzip=st.booleans(),
    sig_key=st.sampled_from(["", "key_id", "public_key", "sha256", "signature", "algorithm"]),
    sig_value=st.one_of(SCALARS, st.just({"a": 1})),
)
def test_report_verify_says_what_failed(
    envelope: dict[str, Any],
    tmp_path: Path,
    at: int,
    cut: int,
    insert: bytes,
    gzip: bool,
    sig_key: str,
    sig_value: Any,
) -> None:
    data = damaged(REPORT, at, cut, insert)
    sig = dict(envelope)
    if sig_key:
        sig[sig_key] = sig_value
    key = load_or_create_key(tmp_path / "keys")
    files = write_signed(tmp_path, "r", data, sign(REPORT, key, SIGNED_AT), compress=gzip)
    files.signature.write_text(json.dumps(sig, default=str), encoding="utf-8")
    result = verify_file(files.report)
    assert result.checks and all(c.detail for c in result.checks)
    if data == REPORT and not sig_key:
        assert result.ok, result.failures()
    elif data != REPORT or sig[sig_key] != envelope[sig_key]:
        assert not result.ok


@FUZZ
@given(body=st.binary(max_size=300), sig=st.binary(max_size=300))
def test_report_verify_of_arbitrary_bytes(tmp_path: Path, body: bytes, sig: bytes) -> None:
    (tmp_path / "r.json").write_bytes(body)
    (tmp_path / "r.sig").write_bytes(sig)
    result = verify_file(tmp_path / "r.json")
    assert result.checks and not result.ok


def test_report_verify_of_a_damaged_gzip_stream(envelope: dict[str, Any], tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path / "keys")
    files = write_signed(tmp_path, "r", REPORT, sign(REPORT, key, SIGNED_AT), compress=True)
    stream = files.report.read_bytes()
    files.report.write_bytes(stream[:20] + b"\xff" * 8 + stream[28:])
    result = verify_file(files.report)
    assert [c.name for c in result.failures()] == ["file"]
    assert "is not a readable gzip file" in result.failures()[0].detail


def test_report_verify_of_a_damaged_gzip_header(envelope: dict[str, Any], tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path / "keys")
    files = write_signed(tmp_path, "r", REPORT, sign(REPORT, key, SIGNED_AT), compress=True)
    stream = files.report.read_bytes()
    files.report.write_bytes(stream[:2] + b"\x00" + stream[3:])  # compression method 0: unknown
    [failure] = verify_file(files.report).failures()
    assert failure.name == "file"
    assert "is not a readable gzip file" in failure.detail and "None" not in failure.detail
