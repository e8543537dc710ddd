"""Sealing secrets at rest: round trip, purpose binding, rotation, the signing key file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from anh_reporter.config import SecretsSettings
from anh_reporter.reports import signing
from anh_reporter.secretbox import SecretBox, SecretBoxError, box_from, is_sealed, reveal

OLD, NEW = "o" * 40, "n" * 40


def test_round_trip_and_purpose_binding() -> None:
    box = SecretBox([OLD])
    token = box.seal(b"JBSWY3DPEHPK3PXP", "totp")
    assert is_sealed(token) and "JBSWY3DP" not in token
    assert box.open(token, "totp") == b"JBSWY3DPEHPK3PXP"
    assert box.seal(b"x", "totp") != box.seal(b"x", "totp")  # a fresh nonce each time
    with pytest.raises(SecretBoxError, match="another use"):
        box.open(token, "setting:api.jwt_secret")
    altered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(SecretBoxError):
        box.open(altered, "totp")


def test_rotation_opens_the_previous_kek_and_seals_with_the_new() -> None:
    old_token = SecretBox([OLD]).seal(b"s", "totp")
    rotating = SecretBox([NEW, OLD])
    assert rotating.open(old_token, "totp") == b"s" and not rotating.is_current(old_token)
    assert rotating.is_current(rotating.seal(b"s", "totp"))
    with pytest.raises(SecretBoxError, match="neither"):
        SecretBox([NEW]).open(old_token, "totp")


def test_settings_and_reveal(tmp_path: Path) -> None:
    assert box_from(SecretsSettings()) is None
    kek_file = tmp_path / "kek"
    kek_file.write_text(OLD + "\n")
    box = box_from(SecretsSettings(kek_file=kek_file))
    assert box is not None and box.key_id == SecretBox([OLD]).key_id
    assert reveal("plain", "totp", box) == "plain"
    assert reveal(box.seal(b"v", "totp"), "totp", box) == "v"
    with pytest.raises(SecretBoxError, match="shorter"):
        box_from(SecretsSettings(kek=SecretStr("short")))
    with pytest.raises(SecretBoxError, match="without"):
        box_from(SecretsSettings(kek_previous=SecretStr(OLD)))


def test_signing_key_is_sealed_rotated_and_published(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    box = SecretBox([OLD])
    first = signing.load_or_create_key(keys, box)
    assert signing.key_is_sealed(keys) is True
    assert b"PRIVATE KEY" not in (keys / signing.PRIVATE_FILE).read_bytes()
    with pytest.raises(signing.SigningError, match="sealed"):
        signing._load(keys / signing.PRIVATE_FILE, None)
    assert signing.load_or_create_key(keys, box).key_id == first.key_id
    # A new KEK: re-seal under it, then the old KEK no longer opens the key.
    rotating = SecretBox([NEW, OLD])
    assert signing.seal_key_file(keys, rotating)
    assert signing.load_or_create_key(keys, SecretBox([NEW])).key_id == first.key_id
    retired, second = signing.rotate_key(keys, SecretBox([NEW]))
    assert retired == first.key_id and second.key_id != first.key_id
    published = signing.write_keyset(keys).read_bytes()
    assert first.public_b64.encode() in published and second.public_b64.encode() in published
    assert [k["status"] for k in signing.keyset(keys)] == ["current", "retired"]
    # An old signature still verifies with the retired public key of the key set.
    env = signing.sign(b"report", first, signing.dt.datetime.now(signing.dt.UTC))
    assert signing.verify_signature(b"report", signing.base64.b64decode(env.signature),
                                    first.public_raw)  # fmt: skip


def test_signed_report_files_are_not_world_readable(tmp_path: Path) -> None:
    key = signing.load_or_create_key(tmp_path / "keys", SecretBox([OLD]))
    env = signing.sign(b"{}", key, signing.dt.datetime.now(signing.dt.UTC))
    files = signing.write_signed(tmp_path / "reports", "IDP-X", b"{}", env)
    for path in (files.report, files.signature):
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
