"""The connector's certificate folders: its own certificate, ``trusted/`` and ``rejected/``.

The layout is the one :class:`~anh_reporter.connectors.opcua.security.TrustDirectory` and
asyncua's ``TrustStore`` read: every ``.der``/``.pem``/``.crt`` file in ``trust_dir`` is a
trusted server certificate; a refused one is saved (DER, named by its SHA-1 thumbprint) in the
sibling ``rejected/``. Trusting or rejecting moves the file between the two; the connector
re-reads ``trusted/`` when it changes, so no restart is needed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509

from anh_reporter.connectors.opcua.config import OpcUaSecurity
from anh_reporter.connectors.opcua.security import (
    CERT_SUFFIXES,
    application_uri_of,
    make_certificate,
    rejected_dir,
    thumbprint,
)
from anh_reporter.errors import ConfigError

State = Literal["own", "trusted", "rejected"]


@dataclass(frozen=True)
class CertificateEntry:
    """One certificate file and what it says."""

    path: Path
    state: State
    subject: str
    thumbprint: str
    not_before: dt.datetime
    not_after: dt.datetime
    application_uri: str | None

    def valid_at(self, when: dt.datetime) -> bool:
        """Whether ``when`` is within the certificate's validity."""
        return self.not_before <= when <= self.not_after


def read_certificate(path: Path) -> x509.Certificate:
    """A DER or PEM certificate file; :class:`ConfigError` naming the file if it is not one."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the certificate ({exc.strerror})") from None
    try:
        if data.lstrip().startswith(b"-----"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError:
        raise ConfigError(f"{path}: not a DER or PEM X.509 certificate") from None


def entry(path: Path, state: State) -> CertificateEntry:
    """What the certificate at ``path`` says."""
    cert = read_certificate(path)
    return CertificateEntry(
        path=path,
        state=state,
        subject=cert.subject.rfc4514_string(),
        thumbprint=thumbprint(cert),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        application_uri=application_uri_of(cert),
    )


def _folder(sec: OpcUaSecurity, state: Literal["trusted", "rejected"]) -> Path:
    if sec.trust_dir is None:
        raise ConfigError(
            "no trust folder: give --trust-dir, or --connector with a file whose security "
            "section sets trust_dir"
        )
    return sec.trust_dir if state == "trusted" else rejected_dir(sec.trust_dir)


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in CERT_SUFFIXES)


def list_certificates(sec: OpcUaSecurity) -> list[CertificateEntry]:
    """The client's own certificate (when there is one), then trusted, then rejected ones."""
    out = []
    if sec.certificate is not None and sec.certificate.exists():
        out.append(entry(sec.certificate, "own"))
    for state in ("trusted", "rejected"):
        out.extend(entry(p, state) for p in _files(_folder(sec, state)))
    return out


def move_certificate(
    sec: OpcUaSecurity, which: str, to: Literal["trusted", "rejected"]
) -> CertificateEntry:
    """Move the certificate named by ``which`` (a thumbprint, or its first 8+ hex digits, or a
    file name) into ``trusted/`` or ``rejected/``; return where it now is."""
    source_state: Literal["trusted", "rejected"] = "rejected" if to == "trusted" else "trusted"
    wanted = which.strip().lower()
    matches: list[CertificateEntry] = []
    for state in (source_state, to):
        for path in _files(_folder(sec, state)):
            found = entry(path, state)
            by_print = len(wanted) >= 8 and found.thumbprint.startswith(wanted)
            if by_print or path.name.lower() == wanted:
                matches.append(found)
    if not matches:
        raise ConfigError(
            f"no certificate {which!r} in {_folder(sec, source_state)} (give a thumbprint, "
            "at least its first 8 hex digits, or a file name; `opcua certs list` shows them)"
        )
    if len({m.thumbprint for m in matches}) > 1:
        raise ConfigError(
            f"{which!r} names {len(matches)} certificates; give more digits of the thumbprint"
        )
    found = matches[0]
    if found.state == to:
        return found
    target = _folder(sec, to)
    target.mkdir(parents=True, exist_ok=True)
    moved = target / found.path.name
    found.path.replace(moved)
    return entry(moved, to)


def renew(sec: OpcUaSecurity, days: int) -> CertificateEntry:
    """A new private key and self-signed client certificate at the configured paths."""
    if sec.certificate is None or sec.private_key is None:
        raise ConfigError(
            "renew needs the client certificate and key paths: give --certificate and "
            "--private-key, or --connector with a file whose security section sets them"
        )
    make_certificate(sec.certificate, sec.private_key, sec.application_uri, "client", days)
    return entry(sec.certificate, "own")
