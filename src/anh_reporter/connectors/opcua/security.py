"""OPC UA application certificates and trust directories (shared by the connector and simulator).

Each side has an application instance certificate (self-signed, made on first use with
asyncua's helpers) and a directory of trusted peer certificates. A peer whose certificate is
not in that directory is refused, and its certificate is saved under ``rejected/`` beside the
trusted directory, so that an operator can review it and move it into ``trusted/``. The trusted
directory is read again whenever its contents change: trusting a peer needs no restart.
"""

from __future__ import annotations

import hashlib
import logging
import socket
from pathlib import Path
from typing import Literal

from asyncua import ua
from asyncua.client.client import Client
from asyncua.common.utils import ServiceError
from asyncua.crypto.cert_gen import (
    dump_private_key_as_pem,
    generate_private_key,
    generate_self_signed_app_certificate,
    setup_self_signed_certificate,
)
from asyncua.crypto.security_policies import SecurityPolicyBasic256Sha256
from asyncua.crypto.truststore import TrustStore
from asyncua.crypto.validator import CertificateValidator, CertificateValidatorOptions
from asyncua.ua.status_codes import StatusCodes
from asyncua.ua.uaerrors import UaError, UaStatusCodeError
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from anh_reporter.connectors.base import ConnectorError
from anh_reporter.connectors.opcua.config import OpcUaSecurity

log = logging.getLogger(__name__)

CERTIFICATE_FILE = "cert.der"
PRIVATE_KEY_FILE = "key.pem"
CERT_SUFFIXES = (".der", ".pem", ".crt")
SUBJECT = {"organizationName": "ANH Smart Reporter"}


def _uses(role: Literal["client", "server"]) -> list[x509.ObjectIdentifier]:
    if role == "client":
        return [ExtendedKeyUsageOID.CLIENT_AUTH]
    return [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]


def rejected_dir(trust_dir: Path) -> Path:
    """Where certificates refused against ``trust_dir`` are saved: its sibling ``rejected``."""
    return trust_dir.parent / "rejected"


async def ensure_certificate(
    certificate: Path,
    private_key: Path,
    application_uri: str,
    role: Literal["client", "server"],
) -> None:
    """Create the private key and a one-year self-signed certificate when missing or invalid.

    The certificate names ``application_uri`` (URI SAN) and this host (DNS SAN), as OPC UA
    peers check. An existing valid pair is left untouched.
    """
    certificate.parent.mkdir(parents=True, exist_ok=True)
    private_key.parent.mkdir(parents=True, exist_ok=True)
    await setup_self_signed_certificate(
        private_key, certificate, application_uri, socket.gethostname(), _uses(role), SUBJECT
    )


def make_certificate(
    certificate: Path,
    private_key: Path,
    application_uri: str,
    role: Literal["client", "server"],
    days: int = 365,
) -> x509.Certificate:
    """Write a new private key (mode 0600) and a self-signed certificate for it, replacing both.

    The certificate names ``application_uri`` (URI SAN) and this host (DNS SAN), like
    :func:`ensure_certificate`'s, and is valid for ``days`` from now.
    """
    key = generate_private_key()
    cert = generate_self_signed_app_certificate(
        key,
        application_uri,
        SUBJECT,
        [x509.UniformResourceIdentifier(application_uri), x509.DNSName(socket.gethostname())],
        _uses(role),
        days=days,
    )
    for path, data, mode in (
        (private_key, dump_private_key_as_pem(key), 0o600),
        (certificate, cert.public_bytes(Encoding.DER), 0o644),
    ):
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = path.with_name(path.name + ".new")
        fresh.touch(mode=mode)
        fresh.chmod(mode)
        fresh.write_bytes(data)
        fresh.replace(path)
    return cert


async def apply_security(client: Client, sec: OpcUaSecurity, who: str, endpoint: str) -> None:
    """Set ``client`` up as ``sec`` says (the connector, ``opcua browse`` and friends share it).

    The application URI; the user identity (user name and password) when given; with a
    policy: the client certificate (made on first use, or an existing one whose URI is
    claimed), the server-certificate check against ``trust_dir`` (none when unset) and the
    message security. A server that offers no endpoint with that
    policy and mode raises :class:`ConnectorError` naming ``who``; a refusal by status code
    (``UaStatusCodeError``) and socket errors pass through.
    """
    client.application_uri = sec.application_uri
    if sec.username is not None:
        if sec.policy == "None":
            log.warning(
                "%s: user %r with security policy None: the password is protected only if the "
                "server's user token policy encrypts it; prefer Basic256Sha256",
                who,
                sec.username,
            )
        client.set_user(sec.username)
        client.set_password(sec.user_password() or "")
    if sec.policy == "None":
        return
    assert sec.certificate is not None and sec.private_key is not None  # noqa: S101 - narrows for mypy: the config validator requires both
    if sec.certificate.exists() and sec.private_key.exists():
        # Someone else's certificate: claim the URI it names, or the server refuses it.
        client.application_uri = certificate_uri(sec.certificate) or sec.application_uri
    else:
        await ensure_certificate(sec.certificate, sec.private_key, sec.application_uri, "client")
    if sec.trust_dir is not None:
        client.certificate_validator = TrustDirectory(
            sec.trust_dir, rejected_dir(sec.trust_dir), peer="server"
        )
    try:
        await client.set_security(
            SecurityPolicyBasic256Sha256,
            str(sec.certificate),
            str(sec.private_key),
            mode=getattr(ua.MessageSecurityMode, sec.mode),
        )
    except UaError as exc:
        if isinstance(exc, UaStatusCodeError):
            raise
        raise ConnectorError(
            f"{who}: the server at {endpoint} offers no endpoint with security policy "
            f"{sec.policy} and mode {sec.mode} ({exc})"
        ) from None


_IDENTITY_REFUSED = {
    StatusCodes.BadIdentityTokenInvalid,
    StatusCodes.BadIdentityTokenRejected,
    StatusCodes.BadUserAccessDenied,
}


def identity_hint(code: int | None, sec: OpcUaSecurity, *, cli: bool = False) -> str:
    """What to do when the server refused the session's user identity ("" for other codes);
    ``cli``: in the command line's terms (``--username``) rather than the connector file's."""
    if code not in _IDENTITY_REFUSED:
        return ""
    user, secret = (
        ("--username", "--password-file") if cli else ("security.username", "password_file")
    )
    if sec.username:
        return f"; check {user} and its password (user {sec.username!r})"
    return f"; the server may want a user: set {user} and {secret}"


def certificate_uri(certificate: Path) -> str | None:
    """The application URI (URI SAN) of a certificate file, if it names one."""
    data = certificate.read_bytes()
    cert = (
        x509.load_pem_x509_certificate(data)
        if data.lstrip().startswith(b"-----")
        else x509.load_der_x509_certificate(data)
    )
    return application_uri_of(cert)


def application_uri_of(cert: x509.Certificate) -> str | None:
    """The application URI (URI SAN) a certificate names, if any."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return None
    uris = san.value.get_values_for_type(x509.UniformResourceIdentifier)
    return uris[0] if uris else None


def thumbprint(cert: x509.Certificate) -> str:
    """SHA-1 of the DER certificate, as OPC UA tools show it (hex, lower case)."""
    return hashlib.sha1(cert.public_bytes(Encoding.DER), usedforsecurity=False).hexdigest()


class TrustDirectory:
    """A certificate validator backed by a directory of trusted peer certificates.

    Usable as asyncua's ``certificate_validator`` on a server (``peer="client"``) or a
    client (``peer="server"``). It checks validity dates, the application URI, key usages and
    that the certificate is in ``trusted``; a refused certificate is written to ``rejected``.
    """

    def __init__(
        self, trusted: Path, rejected: Path | None, peer: Literal["client", "server"]
    ) -> None:
        self.trusted = trusted
        self.rejected = rejected
        role = (
            CertificateValidatorOptions.PEER_CLIENT
            if peer == "client"
            else CertificateValidatorOptions.PEER_SERVER
        )
        self._options = CertificateValidatorOptions.TRUSTED_VALIDATION | role
        self._signature: tuple[tuple[str, int], ...] | None = None
        self._validator: CertificateValidator | None = None
        trusted.mkdir(parents=True, exist_ok=True)

    def _files(self) -> list[Path]:
        return sorted(p for p in self.trusted.iterdir() if p.suffix.lower() in CERT_SUFFIXES)

    async def _current(self) -> CertificateValidator | None:
        """The validator for the directory as it is now (None when it trusts nobody)."""
        files = self._files()
        signature = tuple((p.name, p.stat().st_mtime_ns) for p in files)
        if signature != self._signature:
            self._signature = signature
            if files:
                store = TrustStore([self.trusted], [])
                await store.load()
                self._validator = CertificateValidator(self._options, store)
            else:
                # TrustStore refuses an empty directory, and a validator without a store
                # would accept everyone: an empty directory trusts nobody.
                self._validator = None
        return self._validator

    async def __call__(self, cert: x509.Certificate, app: ua.ApplicationDescription) -> None:
        """Raise ``ServiceError`` (a Bad certificate status) unless ``cert`` is trusted."""
        validator = await self._current()
        try:
            if validator is None:
                raise ServiceError(StatusCodes.BadCertificateUntrusted)
            await validator.validate(cert, app)
        except ServiceError:
            self._reject(cert, app)
            raise

    def _reject(self, cert: x509.Certificate, app: ua.ApplicationDescription) -> None:
        if self.rejected is None:
            return
        self.rejected.mkdir(parents=True, exist_ok=True)
        path = self.rejected / f"{thumbprint(cert)}.der"
        if not path.exists():
            path.write_bytes(cert.public_bytes(Encoding.DER))
        log.warning(
            "refused the certificate of %s (%s); to trust it, move %s into %s",
            app.ApplicationUri,
            cert.subject.rfc4514_string(),
            path,
            self.trusted,
        )
