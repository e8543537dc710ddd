"""Ed25519 detached signatures of canonical reports, and the signing key on disk.

* The key pair is created on first use in the key directory (default ``<data_dir>/keys``):
  ``ed25519.pem`` (PKCS#8, unencrypted, file mode 0600, directory 0700) and ``ed25519.pub.pem``.
  Protect the directory as you would any private key; rotate by moving the files away (a new
  key is then made, and old reports still verify with the public key kept in their signature).
* The key id is the SHA-256 (hex) of the raw 32-byte public key.
* The signature covers the canonical report bytes (not a compressed file). It is stored in a
  detached file ``<report>.sig`` (a small JSON envelope: algorithm, key id, public key, SHA-256
  of the canonical bytes, signature, signing time), next to ``<report>.json`` or, with gzip,
  ``<report>.json.gz``.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from anh_reporter.errors import AnhError

ALGORITHM = "Ed25519"
PRIVATE_FILE = "ed25519.pem"
PUBLIC_FILE = "ed25519.pub.pem"
GZIP_MAGIC = b"\x1f\x8b"


class SigningError(AnhError):
    """The signing key cannot be read or created, or a signature file is malformed."""


def key_id_of(public_raw: bytes) -> str:
    """The key id: SHA-256 (hex) of the raw public key."""
    return hashlib.sha256(public_raw).hexdigest()


@dataclass(frozen=True)
class SigningKey:
    """A loaded Ed25519 key pair."""

    private: Ed25519PrivateKey
    public_raw: bytes
    key_id: str

    @property
    def public_b64(self) -> str:
        """The raw public key, base64."""
        return base64.b64encode(self.public_raw).decode()

    def sign(self, data: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``data``."""
        return self.private.sign(data)


def _from_private(private: Ed25519PrivateKey) -> SigningKey:
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return SigningKey(private, raw, key_id_of(raw))


def load_or_create_key(directory: Path) -> SigningKey:
    """The key in ``directory``; created there (0600) when there is none yet."""
    private_path = directory / PRIVATE_FILE
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _load(private_path)
    except OSError as exc:
        raise SigningError(
            f"cannot create the signing key in {directory}: {exc.strerror}"
        ) from None
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    key = _from_private(private)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (directory / PUBLIC_FILE).write_bytes(public_pem)
    return key


def _load(path: Path) -> SigningKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningError(f"cannot read the signing key {path}: {exc.strerror}") from None
    if not data:
        raise SigningError(f"signing key {path} is empty (an interrupted creation?): remove it")
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except ValueError as exc:
        raise SigningError(f"signing key {path} is not a PEM private key: {exc}") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise SigningError(f"signing key {path} is not an Ed25519 key")
    return _from_private(private)


def verify_signature(data: bytes, signature: bytes, public_raw: bytes) -> bool:
    """True when ``signature`` is a valid Ed25519 signature of ``data`` by ``public_raw``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class Envelope:
    """The detached signature file's content."""

    key_id: str
    public_key: str
    """Raw public key, base64."""
    sha256: str
    """SHA-256 (hex) of the canonical report bytes."""
    signature: str
    """Ed25519 signature of the canonical report bytes, base64."""
    signed_at: str
    algorithm: str = ALGORITHM

    def to_bytes(self) -> bytes:
        """The envelope as (canonical) JSON."""
        return orjson.dumps(self.__dict__, option=orjson.OPT_SORT_KEYS)

    @classmethod
    def from_bytes(cls, data: bytes, where: str) -> Envelope:
        """Read an envelope; :class:`SigningError` names what is missing."""
        try:
            raw: Any = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise SigningError(f"{where}: not a JSON signature file ({exc})") from None
        fields = ("key_id", "public_key", "sha256", "signature", "signed_at", "algorithm")
        if not isinstance(raw, dict) or any(not isinstance(raw.get(k), str) for k in fields):
            raise SigningError(f"{where}: a signature file needs the text fields {fields}")
        if raw["algorithm"] != ALGORITHM:
            raise SigningError(f"{where}: algorithm {raw['algorithm']!r} is not {ALGORITHM}")
        return cls(**{k: raw[k] for k in fields})


def sign(data: bytes, key: SigningKey, signed_at: dt.datetime) -> Envelope:
    """Sign canonical bytes: the envelope with hash, signature and key."""
    return Envelope(
        key_id=key.key_id,
        public_key=key.public_b64,
        sha256=hashlib.sha256(data).hexdigest(),
        signature=base64.b64encode(key.sign(data)).decode(),
        signed_at=signed_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
    )


@dataclass(frozen=True)
class SignedFiles:
    """Where a signed report was written."""

    report: Path
    signature: Path


def write_signed(
    directory: Path, stem: str, data: bytes, envelope: Envelope, *, compress: bool = False
) -> SignedFiles:
    """Write ``<stem>.json`` (or ``.json.gz``) and ``<stem>.sig``, each atomically."""
    directory.mkdir(parents=True, exist_ok=True)
    report = directory / (stem + (".json.gz" if compress else ".json"))
    # mtime=0: the same report compresses to the same bytes every time.
    body = gzip.compress(data, mtime=0) if compress else data
    _atomic_write(report, body)
    signature = directory / (stem + ".sig")
    _atomic_write(signature, envelope.to_bytes())
    return SignedFiles(report, signature)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def read_report_bytes(path: Path) -> bytes:
    """The canonical bytes of a report file, decompressing a gzip file."""
    data = path.read_bytes()
    if data.startswith(GZIP_MAGIC):
        return gzip.decompress(data)
    return data


def signature_path_for(report: Path) -> Path:
    """``x.json`` or ``x.json.gz`` → ``x.sig``."""
    name = report.name
    for suffix in (".json.gz", ".json"):
        if name.endswith(suffix):
            return report.with_name(name[: -len(suffix)] + ".sig")
    return report.with_name(name + ".sig")
