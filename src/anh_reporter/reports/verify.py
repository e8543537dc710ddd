"""Verifying a signed report: hash, key, signature, JSON, canonical form and schema.

One set of checks, whatever holds the report: a file and its ``.sig`` (``report verify``), a
stored version (the API adds its place in the hash chain, :func:`~anh_reporter.reports.chain.
verify_stored`), or a row of the chain audit (:func:`envelope_checks` only). Each check says
what it found, so a failure names what was changed.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from anh_reporter.errors import AnhError
from anh_reporter.reports.canonical import canonical_bytes, parse
from anh_reporter.reports.profiles import profile_for_document
from anh_reporter.reports.signing import (
    Envelope,
    SigningError,
    key_id_of,
    read_report_bytes,
    signature_path_for,
    verify_signature,
)


@dataclass
class Check:
    """One verification step and its outcome."""

    name: str
    ok: bool
    detail: str


@dataclass
class Verification:
    """The outcome of verifying a report file."""

    path: Path
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return bool(self.checks) and all(c.ok for c in self.checks)

    def failures(self) -> list[Check]:
        """The checks that failed."""
        return [c for c in self.checks if not c.ok]


def verify_file(
    path: Path,
    *,
    signature_path: Path | None = None,
    trusted_key_ids: set[str] | None = None,
    extra_profile_dirs: tuple[Path, ...] = (),
    content: bool = True,
) -> Verification:
    """Check a report file and its detached signature; say what failed.

    ``content=False`` checks only the hash, key and signature (no JSON, canonical or schema).
    """
    result = Verification(path)
    try:
        data = read_report_bytes(path)
    except gzip.BadGzipFile as exc:  # an OSError without strerror
        result.checks.append(Check("file", False, f"{path} is not a readable gzip file: {exc}"))
        return result
    except OSError as exc:
        result.checks.append(Check("file", False, f"cannot read {path}: {exc.strerror or exc}"))
        return result
    except (EOFError, ValueError, zlib.error) as exc:  # a damaged gzip stream
        result.checks.append(Check("file", False, f"{path} is not a readable gzip file: {exc}"))
        return result
    sig_path = signature_path or signature_path_for(path)
    try:
        envelope = Envelope.from_bytes(sig_path.read_bytes(), str(sig_path))
    except OSError as exc:
        result.checks.append(
            Check("signature file", False, f"cannot read {sig_path}: {exc.strerror}")
        )
    except SigningError as exc:
        result.checks.append(Check("signature file", False, str(exc)))
    else:
        result.checks += envelope_checks(data, envelope, trusted_key_ids)
    if content:
        result.checks += content_checks(data, extra_profile_dirs)
    return result


def verify_bytes(
    data: bytes,
    envelope: Envelope,
    *,
    trusted_key_ids: set[str] | None = None,
    profile_dirs: tuple[Path, ...] = (),
) -> list[Check]:
    """Every check of a report's bytes against its signature envelope."""
    return envelope_checks(data, envelope, trusted_key_ids) + content_checks(data, profile_dirs)


def envelope_checks(data: bytes, envelope: Envelope, trusted: set[str] | None) -> list[Check]:
    """Hash, key and Ed25519 signature of ``data`` against ``envelope``."""
    checks: list[Check] = []
    actual = hashlib.sha256(data).hexdigest()
    checks.append(
        Check("hash", True, f"sha256 {actual}")
        if actual == envelope.sha256
        else Check(
            "hash",
            False,
            f"sha256 of the report is {actual} but {envelope.sha256} was signed: "
            "the report content does not match its signature (changed after signing)",
        )
    )
    try:
        public = base64.b64decode(envelope.public_key, validate=True)
        signature = base64.b64decode(envelope.signature, validate=True)
    except ValueError:
        checks.append(Check("signature", False, "public key or signature is not base64"))
        return checks
    if key_id_of(public) != envelope.key_id:
        checks.append(
            Check("key", False, f"the public key does not hash to key id {envelope.key_id}")
        )
        return checks
    if trusted is not None:
        checks.append(
            Check("key", True, f"key {envelope.key_id} is a published key")
            if envelope.key_id in trusted
            else Check(
                "key",
                False,
                f"key {envelope.key_id} is not among the {len(trusted)} trusted key(s): a "
                "valid signature by an unknown key proves nothing about who signed",
            )
        )
    ok = verify_signature(data, signature, public)
    checks.append(
        Check("signature", True, f"Ed25519, key {envelope.key_id}")
        if ok
        else Check(
            "signature",
            False,
            f"the Ed25519 signature does not verify with key {envelope.key_id} over these bytes",
        )
    )
    return checks


def content_checks(data: bytes, profile_dirs: tuple[Path, ...]) -> list[Check]:
    """JSON, canonical form and the schema of the profile the document names."""
    try:
        document = parse(data)
    except (ValueError, UnicodeDecodeError) as exc:
        return [Check("json", False, f"not valid UTF-8 JSON: {exc}")]
    try:
        canonical = canonical_bytes(document) == data
    except ValueError:
        canonical = False
    checks = [
        Check("canonical", True, "canonical form")
        if canonical
        else Check("canonical", False, "not in canonical form (keys, spacing or number format)")
    ]
    try:
        profile = profile_for_document(document, profile_dirs)
    except AnhError as exc:
        return [*checks, Check("schema", False, str(exc))]
    problems = [] if profile.is_valid(document) else profile.problems(document)
    checks.append(
        Check("schema", True, f"valid against {profile.name}")
        if not problems
        else Check("schema", False, f"{profile.name}: " + "; ".join(map(str, problems[:5])))
    )
    return checks
