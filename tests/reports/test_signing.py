"""Ed25519 keys and detached signatures; any changed byte of a signed report is detected."""

from __future__ import annotations

import datetime as dt
import hashlib
import stat
from decimal import Decimal
from pathlib import Path

from anh_reporter.reports.canonical import canonical_bytes
from anh_reporter.reports.signing import (
    PRIVATE_FILE,
    Envelope,
    key_id_of,
    load_or_create_key,
    sign,
    verify_signature,
    write_signed,
)
from anh_reporter.reports.verify import verify_file

from .test_golden import CASES

NOW = dt.datetime(2026, 2, 3, 12, tzinfo=dt.UTC)
CASE = next(c for c in CASES if c.name == "tipo-a-three-pmos")


def signed_case(tmp_path: Path, *, compress: bool = False) -> Path:
    """A golden report, signed and written as a file pair."""
    data = (CASE / "expected.json").read_bytes()
    key = load_or_create_key(tmp_path / "keys")
    files = write_signed(tmp_path / "out", "r", data, sign(data, key, NOW), compress=compress)
    return files.report


def test_key_is_created_once_with_private_permissions(tmp_path: Path) -> None:
    first = load_or_create_key(tmp_path / "keys")
    mode = stat.S_IMODE((tmp_path / "keys" / PRIVATE_FILE).stat().st_mode)
    assert mode == 0o600
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    again = load_or_create_key(tmp_path / "keys")
    assert again.key_id == first.key_id
    # The key id is the SHA-256 of the raw 32-byte public key.
    assert first.key_id == hashlib.sha256(first.public_raw).hexdigest()
    assert len(first.public_raw) == 32 and key_id_of(first.public_raw) == first.key_id


def test_signature_is_detached_and_verifies(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path)
    data = canonical_bytes({"a": Decimal("1.00")})
    envelope = sign(data, key, NOW)
    assert envelope.sha256 == hashlib.sha256(data).hexdigest()
    assert Envelope.from_bytes(envelope.to_bytes(), "x") == envelope
    import base64

    signature = base64.b64decode(envelope.signature)
    assert verify_signature(data, signature, key.public_raw)
    assert not verify_signature(data + b" ", signature, key.public_raw)


def test_a_signed_report_verifies(tmp_path: Path) -> None:
    report = signed_case(tmp_path)
    result = verify_file(report)
    assert result.ok, result.failures()
    assert [c.name for c in result.checks] == ["hash", "signature", "canonical", "schema"]


def test_gzip_report_verifies(tmp_path: Path) -> None:
    report = signed_case(tmp_path, compress=True)
    assert report.name.endswith(".json.gz") and report.read_bytes()[:2] == b"\x1f\x8b"
    assert verify_file(report).ok


def test_changing_any_byte_of_a_signed_report_is_detected(tmp_path: Path) -> None:
    report = signed_case(tmp_path)
    original = report.read_bytes()
    for i in range(len(original)):
        tampered = bytearray(original)
        tampered[i] ^= 0x01
        report.write_bytes(bytes(tampered))
        # Every byte: the hash and signature checks (what detects tampering); every 97th byte
        # also through the full verification (JSON, canonical form, schema).
        result = verify_file(report, content=i % 97 == 0)
        failed = {c.name for c in result.failures()}
        assert {"hash", "signature"} <= failed, f"byte {i} changed undetected"
    report.write_bytes(original)
    assert verify_file(report).ok


def test_a_rehashed_envelope_still_fails_on_the_signature(tmp_path: Path) -> None:
    report = signed_case(tmp_path)
    original = report.read_bytes()
    data = original.replace(b'"oil_net_bbl":963.50', b'"oil_net_bbl":993.50')
    assert data != original
    report.write_bytes(data)
    sig = report.with_name("r.sig")
    env = Envelope.from_bytes(sig.read_bytes(), "sig")
    forged = Envelope(
        env.key_id, env.public_key, hashlib.sha256(data).hexdigest(), env.signature, env.signed_at
    )
    sig.write_bytes(forged.to_bytes())
    result = verify_file(report)
    assert [c.name for c in result.failures()] == ["signature"]
    assert "does not verify" in result.failures()[0].detail


def test_another_key_in_the_envelope_is_caught(tmp_path: Path) -> None:
    report = signed_case(tmp_path)
    other = load_or_create_key(tmp_path / "other")
    sig = report.with_name("r.sig")
    env = Envelope.from_bytes(sig.read_bytes(), "sig")
    swapped = Envelope(env.key_id, other.public_b64, env.sha256, env.signature, env.signed_at)
    sig.write_bytes(swapped.to_bytes())
    failures = verify_file(report).failures()
    assert [c.name for c in failures] == ["key"]
    assert verify_file(report, trusted_key_ids={"nope"}).ok is False


def test_missing_signature_file_is_named(tmp_path: Path) -> None:
    report = signed_case(tmp_path)
    report.with_name("r.sig").unlink()
    failures = verify_file(report).failures()
    assert failures[0].name == "signature file" and "r.sig" in failures[0].detail
