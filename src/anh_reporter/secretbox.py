"""Secrets at rest, sealed with a key-encryption key (KEK): AES-256-GCM via ``cryptography``.

A sealed value is text: ``anhenc:v1:<kid>:<base64url(nonce ‖ ciphertext ‖ tag)>``. ``kid`` names
the KEK (8 hex digits of the SHA-256 of the derived key) so that a value sealed under a previous
KEK is recognised during a rotation. The AES key is HKDF-SHA256 of the KEK text, so any random
text of at least 32 characters is a KEK (``anh-reporter security new-kek`` prints one). The
*purpose* (``"totp"``, ``"signing-key"``, ``"setting:api.jwt_secret"``…) is authenticated data:
a value sealed for one use does not open as another.

:func:`default_box` is the process's box from ``ANH_SECRETS__KEK`` (or ``_KEK_FILE``), None when
no KEK is configured; :func:`reveal` opens a value when it is sealed and returns it unchanged
otherwise, so plain values keep working until they are sealed.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

from anh_reporter.config import SecretsSettings, get_settings
from anh_reporter.errors import ConfigError

PREFIX = "anhenc:v1:"
MIN_KEK_CHARS = 32
_NONCE = 12


class SecretBoxError(ConfigError):
    """A sealed value cannot be opened (wrong or missing KEK, altered, other purpose)."""


def derive_key(kek: str) -> bytes:
    """The 256-bit AES key of a KEK text."""
    if len(kek) < MIN_KEK_CHARS:
        raise SecretBoxError(
            f"the key-encryption key is shorter than {MIN_KEK_CHARS} characters; make one with "
            "`anh-reporter security new-kek`"
        )
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"anh-reporter/kek/v1", info=b"aes-256-gcm"
    ).derive(kek.encode())


def key_id(key: bytes) -> str:
    """The KEK's id: 8 hex digits of the SHA-256 of the derived key."""
    return hashlib.sha256(key).hexdigest()[:8]


def is_sealed(value: str | bytes) -> bool:
    """True when ``value`` is a sealed value."""
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else value
    return text.startswith(PREFIX)


def new_kek() -> str:
    """A new random KEK (43 URL-safe characters, 256 bits)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


class SecretBox:
    """Seals with the first KEK; opens with any of them (the others are previous KEKs)."""

    def __init__(self, keks: Sequence[str]) -> None:
        if not keks:
            raise SecretBoxError("a SecretBox needs at least one key-encryption key")
        keys = [derive_key(k) for k in keks]
        self._keys = {key_id(k): AESGCM(k) for k in keys}
        self.key_id = key_id(keys[0])

    def seal(self, plaintext: bytes, purpose: str) -> str:
        """``plaintext`` sealed under the current KEK for ``purpose``."""
        nonce = os.urandom(_NONCE)
        sealed = self._keys[self.key_id].encrypt(nonce, plaintext, purpose.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{PREFIX}{self.key_id}:{body}"

    def open(self, token: str, purpose: str) -> bytes:
        """The plaintext of a sealed value; :class:`SecretBoxError` saying why it will not open."""
        if not is_sealed(token):
            raise SecretBoxError(f"not a sealed value (it does not start with {PREFIX!r})")
        kid, _, body = token.removeprefix(PREFIX).partition(":")
        aes = self._keys.get(kid)
        if aes is None:
            raise SecretBoxError(
                f"sealed under KEK {kid!r}, which is neither ANH_SECRETS__KEK ({self.key_id}) "
                "nor ANH_SECRETS__KEK_PREVIOUS"
            )
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            return aes.decrypt(raw[:_NONCE], raw[_NONCE:], purpose.encode())
        except (ValueError, InvalidTag):
            raise SecretBoxError(
                f"a sealed {purpose} value does not open: altered, or sealed for another use"
            ) from None

    def is_current(self, token: str) -> bool:
        """True when ``token`` is sealed under the current KEK (a rotation skips it)."""
        return token.startswith(f"{PREFIX}{self.key_id}:")


def _read(secret: SecretStr | None, path: Path | None, name: str) -> str | None:
    if secret is not None:
        return secret.get_secret_value().strip()
    if path is None:
        return None
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SecretBoxError(f"ANH_SECRETS__{name}_FILE {path}: {exc.strerror}") from None
    return lines[0].strip() if lines else ""


def box_from(settings: SecretsSettings) -> SecretBox | None:
    """The box of these settings; None when no KEK is configured."""
    current = _read(settings.kek, settings.kek_file, "KEK")
    previous = _read(settings.kek_previous, settings.kek_previous_file, "KEK_PREVIOUS")
    if not current:
        if previous:
            raise SecretBoxError("ANH_SECRETS__KEK_PREVIOUS is set without ANH_SECRETS__KEK")
        return None
    return SecretBox([current, *([previous] if previous else [])])


@lru_cache(maxsize=1)
def default_box() -> SecretBox | None:
    """The process's box (from :func:`anh_reporter.config.get_settings`), read once."""
    return box_from(get_settings().secrets)


def reveal(value: str, purpose: str, box: SecretBox | None = None) -> str:
    """``value`` opened when it is sealed (with ``box``, default the process's); else as is."""
    if not is_sealed(value):
        return value
    box = box or default_box()
    if box is None:
        raise SecretBoxError(
            f"a {purpose} value is sealed but no key-encryption key is configured "
            "(set ANH_SECRETS__KEK or ANH_SECRETS__KEK_FILE)"
        )
    return box.open(value, purpose).decode()


def reveal_setting(secret: SecretStr | None, name: str) -> str | None:
    """A secret setting's value, opened when it was given sealed (purpose ``setting:<name>``)."""
    return None if secret is None else reveal(secret.get_secret_value(), f"setting:{name}")


def seal_text(value: str, purpose: str, box: SecretBox | None = None) -> str:
    """``value`` sealed with ``box`` (default the process's); unchanged when there is no KEK."""
    box = box or default_box()
    return value if box is None or is_sealed(value) else box.seal(value.encode(), purpose)
