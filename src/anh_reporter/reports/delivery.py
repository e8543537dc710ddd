"""Delivery channels behind one interface: file drop, HTTP upload, manual download.

A channel takes an :class:`Outgoing` report (canonical bytes, detached signature, idempotency
key) and returns a :class:`Receipt`, or raises :class:`DeliveryFailed` when it could not deliver
at all. The service stores the receipt and moves the version's status:
``delivered`` → submitted, ``accepted`` / ``rejected`` → that, with the receiver's message.

HTTP upload: ``POST <url>`` with the canonical JSON as the body and the headers
``Idempotency-Key`` (the same for every attempt and every later ``submit`` of the same version,
so the receiver can drop duplicates), ``X-Report-Id``, ``X-Report-Version``,
``X-Content-SHA256``, ``X-Signature``, ``X-Signature-Key-Id`` and ``X-Signature-Public-Key``.
Authentication is a bearer token, or OAuth2 client credentials (token fetched from the token
endpoint, cached until shortly before it expires, fetched again once on a 401). Connection
errors, timeouts, 408, 429 and 5xx are retried with exponential backoff (``Retry-After`` is
honoured up to the cap); any other 4xx is the receiver refusing the report (rejected). A 2xx
body that is JSON with ``"status": "accepted"`` or ``"rejected"`` sets the status; otherwise the
report is delivered (submitted) and acceptance comes later (``report ack``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import httpx

from anh_reporter.errors import AnhError
from anh_reporter.reports.signing import Envelope, write_signed

Status = Literal["delivered", "accepted", "rejected"]


class DeliveryFailed(AnhError):
    """The channel could not deliver the report (after its retries)."""

    def __init__(self, message: str, *, attempts: int, http_status: int | None = None) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.http_status = http_status


@dataclass(frozen=True)
class Outgoing:
    """A signed report ready to deliver."""

    report_id: str
    version: int
    stem: str
    """File name without extension, e.g. ``IDP-CAMPO-20261119-v1``."""
    data: bytes
    envelope: Envelope
    idempotency_key: str


@dataclass(frozen=True)
class Receipt:
    """What the channel got back."""

    status: Status
    target: str
    attempts: int = 1
    http_status: int | None = None
    body: dict[str, Any] = field(default_factory=dict)
    message: str | None = None


class DeliveryChannel(Protocol):
    """Something that delivers a signed report."""

    name: str

    @property
    def target(self) -> str:
        """Where it delivers to (a directory or a URL), for the record."""
        ...

    def deliver(self, item: Outgoing) -> Receipt:
        """Deliver once (with the channel's own retries); raise :class:`DeliveryFailed`."""
        ...


class FileDropChannel:
    """Write the report and its signature into a drop directory (atomic renames)."""

    name = "file"

    def __init__(self, directory: Path, *, compress: bool = False) -> None:
        self.directory = directory
        self.compress = compress

    @property
    def target(self) -> str:
        """The drop directory."""
        return str(self.directory)

    def deliver(self, item: Outgoing) -> Receipt:
        """Write ``<stem>.json`` and ``<stem>.sig`` into the directory."""
        try:
            files = write_signed(
                self.directory, item.stem, item.data, item.envelope, compress=self.compress
            )
        except OSError as exc:
            raise DeliveryFailed(
                f"cannot write into {self.directory}: {exc.strerror}", attempts=1
            ) from None
        return Receipt(
            status="delivered",
            target=self.target,
            body={"report": str(files.report), "signature": str(files.signature)},
        )


class ManualDownloadChannel(FileDropChannel):
    """Put the files where a person downloads them and uploads them by hand (ANH portal)."""

    name = "manual"

    def deliver(self, item: Outgoing) -> Receipt:
        """Write the files; the person records the outcome later with ``report ack``."""
        receipt = super().deliver(item)
        return Receipt(
            status="delivered",
            target=self.target,
            body=receipt.body,
            message="written for manual upload; record the outcome with `report ack`",
        )


class Auth(Protocol):
    """Adds credentials to a request."""

    def headers(self, client: httpx.Client) -> dict[str, str]:
        """The authorization headers to send."""
        ...

    def invalidate(self) -> None:
        """Forget a cached credential (after a 401)."""
        ...


class NoAuth:
    """No credentials."""

    def headers(self, client: httpx.Client) -> dict[str, str]:
        """No header."""
        return {}

    def invalidate(self) -> None:
        """Nothing cached."""


class BearerAuth:
    """A fixed bearer token."""

    def __init__(self, token: str) -> None:
        self.token = token

    def headers(self, client: httpx.Client) -> dict[str, str]:
        """``Authorization: Bearer <token>``."""
        return {"Authorization": f"Bearer {self.token}"}

    def invalidate(self) -> None:
        """A fixed token cannot be refreshed."""


class OAuth2ClientCredentials:
    """OAuth2 client-credentials grant; the access token is cached until near its expiry."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.scope = scope
        self.clock = clock
        self._token: str | None = None
        self._expires = 0.0

    def headers(self, client: httpx.Client) -> dict[str, str]:
        """``Authorization: Bearer <access token>``, fetching a token when needed."""
        if self._token is None or self.clock() >= self._expires:
            self._fetch(client)
        return {"Authorization": f"Bearer {self._token}"}

    def invalidate(self) -> None:
        """Drop the cached token."""
        self._token = None

    def _fetch(self, client: httpx.Client) -> None:
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        try:
            response = client.post(
                self.token_url, data=form, auth=(self.client_id, self.client_secret)
            )
        except httpx.HTTPError as exc:
            raise _Retryable(f"token endpoint {self.token_url}: {exc}") from None
        if response.status_code >= 500:
            raise _Retryable(f"token endpoint {self.token_url}: HTTP {response.status_code}")
        if response.status_code != 200:
            raise DeliveryFailed(
                f"token endpoint {self.token_url} refused the client credentials: "
                f"HTTP {response.status_code} {response.text[:200]}",
                attempts=1,
                http_status=response.status_code,
            )
        body = response.json()
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str):
            raise DeliveryFailed(
                f"token endpoint {self.token_url} returned no access_token", attempts=1
            )
        lifetime = float(body.get("expires_in", 300))
        self._token = token
        self._expires = self.clock() + max(0.0, lifetime - 30.0)


class _Retryable(Exception):
    """A transient failure: try again after a pause."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}


class HttpUploadChannel:
    """POST the report to an HTTP endpoint, with auth, retries and an idempotency key."""

    name = "http"

    def __init__(
        self,
        url: str,
        *,
        auth: Auth | None = None,
        max_attempts: int = 5,
        backoff_s: float = 2.0,
        max_backoff_s: float = 60.0,
        timeout_s: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url
        self.auth: Auth = auth or NoAuth()
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.timeout_s = timeout_s
        self.sleep = sleep
        self.transport = transport

    @property
    def target(self) -> str:
        """The endpoint URL."""
        return self.url

    def deliver(self, item: Outgoing) -> Receipt:
        """Upload with retries; :class:`DeliveryFailed` once the attempts are used up."""
        last = ""
        refreshed = False
        with httpx.Client(timeout=self.timeout_s, transport=self.transport) as client:
            attempt = 0
            while attempt < self.max_attempts:
                attempt += 1
                try:
                    response = self._post(client, item)
                except _Retryable as exc:
                    last = str(exc)
                    if attempt < self.max_attempts:
                        self.sleep(self._delay(attempt, exc.retry_after))
                    continue
                if response.status_code == 401 and not refreshed:
                    # An expired or revoked token: fetch a new one, once.
                    refreshed = True
                    self.auth.invalidate()
                    attempt -= 1
                    continue
                return self._receipt(response, attempt)
        raise DeliveryFailed(
            f"upload to {self.url} failed after {self.max_attempts} attempt(s): {last}",
            attempts=self.max_attempts,
        )

    def _post(self, client: httpx.Client, item: Outgoing) -> httpx.Response:
        env = item.envelope
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": item.idempotency_key,
            "X-Report-Id": item.report_id,
            "X-Report-Version": str(item.version),
            "X-Content-SHA256": env.sha256,
            "X-Signature": env.signature,
            "X-Signature-Key-Id": env.key_id,
            "X-Signature-Public-Key": env.public_key,
            **self.auth.headers(client),
        }
        try:
            response = client.post(self.url, content=item.data, headers=headers)
        except httpx.HTTPError as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from None
        if response.status_code in _RETRY_STATUS:
            raise _Retryable(
                f"HTTP {response.status_code} {response.text[:200]}",
                _retry_after(response.headers.get("Retry-After")),
            )
        return response

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        delay = float(self.backoff_s * 2 ** (attempt - 1))
        if retry_after is not None:
            delay = max(delay, retry_after)
        return min(delay, self.max_backoff_s)

    def _receipt(self, response: httpx.Response, attempts: int) -> Receipt:
        try:
            body = response.json()
        except ValueError:
            body = {"text": response.text[:2000]}
        if not isinstance(body, dict):
            body = {"body": body}
        message = body.get("message") or body.get("detail")
        text = None if message is None else str(message)
        if 200 <= response.status_code < 300:
            status: Status = "delivered"
            if body.get("status") in ("accepted", "rejected"):
                status = body["status"]
            return Receipt(status, self.url, attempts, response.status_code, body, text)
        return Receipt(
            "rejected",
            self.url,
            attempts,
            response.status_code,
            body,
            text or f"HTTP {response.status_code}",
        )


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
