"""Ed25519 detached signatures of canonical reports, and the signing key on disk.

* The key pair is created on first use in the key directory (default ``<data_dir>/keys``):
  ``ed25519.pem`` (PKCS#8, file mode 0600, directory 0700) and ``ed25519.pub.pem``. With a
  key-encryption key configured (``ANH_SECRETS__KEK``) the private key file is sealed
  (:mod:`anh_reporter.secretbox`), not plain PEM. :func:`rotate_key` retires the current key
  (its public key stays in ``retired/<key id>.pub.pem``, the private key is deleted) and makes a
  new one; ``keyset.json`` lists every public key, current and retired, so old reports still
  verify (their signature also carries the public key, and ``signing_keys`` keeps it).
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
from anh_reporter.secretbox import SecretBox, default_box, is_sealed

ALGORITHM = "Ed25519"
PRIVATE_FILE = "ed25519.pem"
PUBLIC_FILE = "ed25519.pub.pem"
GZIP_MAGIC = b"\x1f\x8b"
KEYSET_FILE = "keyset.json"
RETIRED_DIR = "retired"
KEY_PURPOSE = "signing-key"
REPORT_FILE_MODE = 0o640


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


def load_or_create_key(directory: Path, box: SecretBox | None = None) -> SigningKey:
    """The key in ``directory``; created there (0600) when there is none yet.

    ``box`` (default: the process's, from ``ANH_SECRETS__KEK``) opens a sealed key file and
    seals a new one; without a KEK the file is plain PEM.
    """
    box = box or default_box()
    private_path = directory / PRIVATE_FILE
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _load(private_path, box)
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
        f.write(box.seal(pem, KEY_PURPOSE).encode() if box else pem)
    key = _from_private(private)
    (directory / PUBLIC_FILE).write_bytes(_public_pem(private.public_key()))
    write_keyset(directory)
    return key


def _public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _load(path: Path, box: SecretBox | None) -> SigningKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningError(f"cannot read the signing key {path}: {exc.strerror}") from None
    if not data:
        raise SigningError(f"signing key {path} is empty (an interrupted creation?): remove it")
    if is_sealed(data):
        if box is None:
            raise SigningError(
                f"signing key {path} is sealed: set ANH_SECRETS__KEK (or _KEK_FILE) to open it"
            )
        data = box.open(data.decode("ascii"), KEY_PURPOSE)
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except ValueError as exc:
        raise SigningError(f"signing key {path} is not a PEM private key: {exc}") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise SigningError(f"signing key {path} is not an Ed25519 key")
    return _from_private(private)


def key_is_sealed(directory: Path) -> bool | None:
    """True when the private key file is sealed, False when plain PEM, None when absent."""
    try:
        return is_sealed((directory / PRIVATE_FILE).read_bytes()[:16])
    except FileNotFoundError:
        return None


def seal_key_file(directory: Path, box: SecretBox) -> bool:
    """Re-write the private key sealed under ``box``'s current KEK; False when there is none.

    Opens a plain or previously sealed file (``box`` holds the previous KEK while rotating).
    """
    path = directory / PRIVATE_FILE
    if not path.exists():
        return False
    key = _load(path, box)
    pem = key.private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _atomic_write(path, box.seal(pem, KEY_PURPOSE).encode(), mode=0o600)
    return True


def rotate_key(directory: Path, box: SecretBox | None = None) -> tuple[str | None, SigningKey]:
    """Retire the current key (public key kept, private key deleted) and make a new one.

    Returns the retired key id (None when there was no key) and the new key.
    """
    box = box or default_box()
    old: str | None = None
    path = directory / PRIVATE_FILE
    if path.exists():
        current = _load(path, box)
        old = current.key_id
        retired = directory / RETIRED_DIR
        retired.mkdir(mode=0o700, exist_ok=True)
        (retired / f"{old}.pub.pem").write_bytes(_public_pem(current.private.public_key()))
        path.unlink()
        (directory / PUBLIC_FILE).unlink(missing_ok=True)
    return old, load_or_create_key(directory, box)


def keyset(directory: Path) -> list[dict[str, str]]:
    """Every public key of the directory: the current one first, then the retired ones."""
    keys: list[dict[str, str]] = []
    files = [(directory / PUBLIC_FILE, "current")] + [
        (p, "retired") for p in sorted((directory / RETIRED_DIR).glob("*.pub.pem"))
    ]
    for path, status in files:
        if not path.exists() or (raw := _ed25519_raw(path.read_bytes())) is None:
            continue
        keys.append(
            {
                "key_id": key_id_of(raw),
                "algorithm": ALGORITHM,
                "public_key": base64.b64encode(raw).decode(),
                "status": status,
            }
        )
    return keys


def write_keyset(directory: Path) -> Path:
    """Publish :func:`keyset` as ``keyset.json`` in the key directory (world-readable)."""
    path = directory / KEYSET_FILE
    _atomic_write(path, orjson.dumps({"keys": keyset(directory)}, option=orjson.OPT_INDENT_2))
    path.chmod(0o644)
    return path


def trusted_key_ids(keyset_files: list[Path], public_key_files: list[Path]) -> set[str]:
    """The key ids of published keys: each ``keyset.json`` (``{"keys": [{"public_key": base64,
    ...}]}``, as :func:`write_keyset` publishes it) and each Ed25519 public key PEM file.

    A key's id is computed from the key itself, never taken from the file's ``key_id``.
    """
    ids: set[str] = set()
    for path in keyset_files:
        try:
            entries = orjson.loads(path.read_bytes())["keys"]
            raws = [base64.b64decode(e["public_key"], validate=True) for e in entries]
        except OSError as exc:
            raise SigningError(f"cannot read keyset {path}: {exc.strerror or exc}") from None
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise SigningError(
                f'{path} is not a keyset: expected {{"keys": [{{"public_key": base64}}]}}'
            ) from None
        ids |= {key_id_of(raw) for raw in raws if len(raw) == 32}
    for path in public_key_files:
        try:
            raw = _ed25519_raw(path.read_bytes())
        except OSError as exc:
            raise SigningError(f"cannot read public key {path}: {exc.strerror or exc}") from None
        except ValueError:
            raise SigningError(f"{path} is not a PEM public key") from None
        if raw is None:
            raise SigningError(f"{path} is not an Ed25519 public key")
        ids.add(key_id_of(raw))
    return ids


def _ed25519_raw(pem: bytes) -> bytes | None:
    """The raw 32 bytes of a PEM public key; None when it is not Ed25519 (ValueError: not a
    PEM public key)."""
    public = serialization.load_pem_public_key(pem)
    if not isinstance(public, Ed25519PublicKey):
        return None
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


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
    directory.mkdir(mode=0o750, parents=True, exist_ok=True)
    report = directory / (stem + (".json.gz" if compress else ".json"))
    # mtime=0: the same report compresses to the same bytes every time.
    body = gzip.compress(data, mtime=0) if compress else data
    _atomic_write(report, body)
    signature = directory / (stem + ".sig")
    _atomic_write(signature, envelope.to_bytes())
    return SignedFiles(report, signature)


def _atomic_write(path: Path, data: bytes, mode: int = REPORT_FILE_MODE) -> None:
    """Write via a temporary file created with ``mode`` (reports: 0640, never world-readable)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)  # whatever the umask
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
