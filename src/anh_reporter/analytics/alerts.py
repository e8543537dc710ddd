"""Alerts for anomalies: webhook and e-mail channels behind one interface, de-duplicated and
rate-limited, and the ``anomalies_detected_total{field_id,severity}`` counter.

:class:`AlertDispatcher.publish` takes the anomalies a detector returned (the online rules
return an episode again each time it grows) and, for each:

1. counts it in ``anomalies_detected_total`` the first time its episode (``dedup_key``) is seen;
2. drops it when that episode was already alerted at this severity or a worse one (an episode
   that escalates, WARNING to CRITICAL, alerts once more);
3. skips it when it is below ``min_severity`` (it is still stored and counted);
4. sends it to every channel whose token bucket (``burst`` alerts, refilled at ``per_hour``)
   has a token; otherwise counts it as suppressed on that channel, and the channel's next
   alert says how many were suppressed before it.

Channels are synchronous (``httpx``, ``smtplib``): call ``publish`` from a worker thread
(``asyncio.to_thread``) when on an event loop. A failed delivery is tried again ``retries``
times after a jittered exponential backoff (the connectors'
:class:`~anh_reporter.connectors.runtime.Backoff`), then logged and counted as failed: the
anomaly itself is in the database either way.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Protocol

import httpx

from anh_reporter.analytics.records import Anomaly, Severity
from anh_reporter.config import AlertSettings
from anh_reporter.connectors.runtime import Backoff
from anh_reporter.domain.timeutil import from_us
from anh_reporter.errors import AnhError
from anh_reporter.observability.metrics import anomalies_detected
from anh_reporter.secretbox import reveal_setting

log = logging.getLogger(__name__)


class AlertDeliveryError(AnhError):
    """A channel could not deliver an alert."""


@dataclass(frozen=True)
class Alert:
    """What a channel delivers: the anomaly, a one-line title, a short text, and the backlog."""

    anomaly: Anomaly
    title: str
    text: str
    suppressed_before: int = 0

    def payload(self) -> dict[str, Any]:
        """The JSON document a webhook receives."""
        a = self.anomaly
        return {
            "title": self.title,
            "text": self.text,
            "severity": a.severity.value,
            "detector": a.detector,
            "field_id": a.field_id,
            "series_id": a.series_id,
            "pmo_id": a.pmo_id,
            "window_start": from_us(a.window_start_us).isoformat(),
            "window_end": from_us(a.window_end_us).isoformat(),
            "score": a.score,
            "model_version": a.model_version,
            "dedup_key": a.dedup_key,
            "explanation": a.explanation,
            "suppressed_before": self.suppressed_before,
        }


class AlertChannel(Protocol):
    """Somewhere alerts go; ``send`` raises :class:`AlertDeliveryError` when it cannot."""

    name: str

    def send(self, alert: Alert) -> None:
        """Deliver one alert."""
        ...


class WebhookChannel:
    """POST the alert as JSON to a URL; any answer other than 2xx is a failed delivery."""

    def __init__(
        self, url: str, *, timeout_s: float = 5.0, headers: dict[str, str] | None = None
    ) -> None:
        self.url = url
        self.name = f"webhook {httpx.URL(url).host}"
        self._timeout = timeout_s
        self._headers = headers or {}

    def send(self, alert: Alert) -> None:
        """POST :meth:`Alert.payload`."""
        try:
            response = httpx.post(
                self.url, json=alert.payload(), headers=self._headers, timeout=self._timeout
            )
        except httpx.HTTPError as exc:
            raise AlertDeliveryError(f"webhook {self.url}: {exc}") from None
        if not response.is_success:
            raise AlertDeliveryError(
                f"webhook {self.url} answered {response.status_code} "
                f"{response.reason_phrase}; expected 2xx"
            )


class EmailChannel:
    """Send the alert as a plain-text e-mail through an SMTP server (``smtplib``)."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        recipients: Sequence[str],
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout_s: float = 10.0,
    ) -> None:
        if not recipients:
            raise ValueError("an e-mail channel needs at least one recipient")
        self.name = f"e-mail {host}:{port}"
        self._host, self._port, self._sender = host, port, sender
        self._recipients = list(recipients)
        self._username, self._password = username, password
        self._starttls, self._timeout = starttls, timeout_s

    def message(self, alert: Alert) -> EmailMessage:
        """The e-mail of an alert."""
        msg = EmailMessage()
        msg["Subject"] = alert.title
        msg["From"] = self._sender
        msg["To"] = ", ".join(self._recipients)
        msg["X-ANH-Dedup-Key"] = alert.anomaly.dedup_key
        msg.set_content(alert.text)
        return msg

    def send(self, alert: Alert) -> None:
        """Connect, optionally STARTTLS and log in, send, quit."""
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                if self._starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self._username is not None:
                    smtp.login(self._username, self._password or "")
                smtp.send_message(self.message(alert))
        except (OSError, smtplib.SMTPException) as exc:
            raise AlertDeliveryError(f"SMTP {self._host}:{self._port}: {exc}") from None


class TokenBucket:
    """At most ``burst`` at once, refilled at ``per_hour``: the rate limit of one channel."""

    def __init__(self, *, burst: int, per_hour: float, now: float) -> None:
        if burst < 1 or per_hour <= 0:
            raise ValueError(f"need burst >= 1 and per_hour > 0, got {burst} and {per_hour}")
        self.capacity = float(burst)
        self.tokens = float(burst)
        self.rate = per_hour / 3600.0
        self.stamp = now

    def take(self, now: float) -> bool:
        """Use one token if there is one."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@dataclass
class DispatchReport:
    """What one :meth:`AlertDispatcher.publish` did."""

    new: int = 0
    sent: int = 0
    duplicates: int = 0
    below_severity: int = 0
    rate_limited: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def default_label(anomaly: Anomaly) -> str:
    """``series 12`` or ``PMO 3``: what an alert names when no better label is given."""
    if anomaly.series_id is not None:
        return f"series {anomaly.series_id}"
    return f"PMO {anomaly.pmo_id}"


def describe(anomaly: Anomaly, label: str) -> tuple[str, str]:
    """The title and text of an anomaly's alert."""
    a = anomaly
    title = f"[{a.severity.value}] {a.detector} on {label}"
    why = a.explanation.get("why")
    if why is None:
        parts = [
            f"{b['feature']} {b['value']:.6g} is {b['sd_beyond']:.1f} sd beyond its training "
            f"range {b['training_min']:.6g} .. {b['training_max']:.6g}"
            for b in a.explanation.get("beyond_training", [])
        ]
        parts += [
            f"{c['feature']} {c['share']:.0%} of the score "
            f"(value {c['value']:.6g}, usual {c['training_mean']:.6g})"
            for c in a.explanation.get("contributions", [])
        ]
        why = "; ".join(parts) or None
    lines = [
        f"{label}: {why or a.detector}",
        f"window {from_us(a.window_start_us):%Y-%m-%d %H:%M:%S} .. "
        f"{from_us(a.window_end_us):%Y-%m-%d %H:%M:%S} UTC, score {a.score:.4g}",
    ]
    if a.model_version is not None:
        lines.append(f"model version {a.model_version}")
    lines.append(f"key {a.dedup_key}")
    return title, "\n".join(lines)


class AlertDispatcher:
    """De-duplicate, rate-limit and deliver anomaly alerts (see the module docstring)."""

    def __init__(
        self,
        channels: Sequence[AlertChannel],
        *,
        min_severity: Severity = Severity.WARNING,
        burst: int = 10,
        per_hour: float = 60.0,
        label: Callable[[Anomaly], str] = default_label,
        clock: Callable[[], float] = time.monotonic,
        remember: int = 100_000,
        retries: int = 2,
        backoff: Backoff | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``retries`` more tries of a failed delivery, ``backoff`` apart (default 0.5 s
        doubling to 5 s, jittered); ``sleep`` waits (a test passes a recorder)."""
        self.channels = list(channels)
        self.min_severity = min_severity
        self._label = label
        self._clock = clock
        now = clock()
        self._buckets = [TokenBucket(burst=burst, per_hour=per_hour, now=now) for _ in channels]
        self._suppressed = [0] * len(self.channels)
        # Episodes seen (dedup key -> worst severity alerted, None: seen, never alerted), LRU.
        self._seen: OrderedDict[str, Severity | None] = OrderedDict()
        self._remember = remember
        if retries < 0:
            raise ValueError(f"retries must be 0 or more, got {retries}")
        self._retries = retries
        self._backoff = backoff or Backoff(0.5, 5.0)
        self._sleep = sleep

    def publish(self, anomalies: Iterable[Anomaly]) -> DispatchReport:
        """Count, de-duplicate, filter and deliver (see the module docstring)."""
        report = DispatchReport()
        for anomaly in anomalies:
            key = anomaly.dedup_key
            if key not in self._seen:
                report.new += 1
                anomalies_detected.labels(
                    field_id=str(anomaly.field_id), severity=anomaly.severity.value
                ).inc()
                self._remember_key(key, None)
            else:
                self._seen.move_to_end(key)
            alerted = self._seen[key]
            if alerted is not None and alerted.rank >= anomaly.severity.rank:
                report.duplicates += 1
                continue
            if anomaly.severity.rank < self.min_severity.rank:
                report.below_severity += 1
                continue
            self._seen[key] = anomaly.severity
            self._deliver(anomaly, report)
        return report

    def _remember_key(self, key: str, value: Severity | None) -> None:
        self._seen[key] = value
        while len(self._seen) > self._remember:
            self._seen.popitem(last=False)

    def _deliver(self, anomaly: Anomaly, report: DispatchReport) -> None:
        title, text = describe(anomaly, self._label(anomaly))
        now = self._clock()
        for i, channel in enumerate(self.channels):
            if not self._buckets[i].take(now):
                self._suppressed[i] += 1
                report.rate_limited += 1
                continue
            alert = Alert(anomaly, title, text, self._suppressed[i])
            try:
                self._send(channel, alert)
            except AlertDeliveryError as exc:
                report.failed += 1
                report.errors.append(str(exc))
                log.warning(
                    "alert %s not delivered by %s: %s", anomaly.dedup_key, channel.name, exc
                )
                continue
            self._suppressed[i] = 0
            report.sent += 1

    def _send(self, channel: AlertChannel, alert: Alert) -> None:
        """Send, trying again after a backoff; raise the last error when every try failed."""
        self._backoff.reset()
        for attempt in range(self._retries + 1):
            try:
                channel.send(alert)
                return
            except AlertDeliveryError as exc:
                if attempt == self._retries:
                    raise
                delay = self._backoff.next_delay()
                log.info("%s: %s; trying again in %.2f s", channel.name, exc, delay)
                self._sleep(delay)


def channels_from_settings(settings: AlertSettings) -> list[AlertChannel]:
    """The channels the settings configure (none when nothing is set)."""
    channels: list[AlertChannel] = []
    if settings.webhook_url:
        channels.append(WebhookChannel(settings.webhook_url))
    if settings.smtp_host:
        if not settings.mail_to:
            raise AnhError(
                f"alerts.smtp_host is {settings.smtp_host!r} but alerts.mail_to is empty: "
                "name at least one recipient"
            )
        channels.append(
            EmailChannel(
                host=settings.smtp_host,
                port=settings.smtp_port,
                sender=settings.mail_from,
                recipients=settings.mail_to,
                username=settings.smtp_username,
                password=reveal_setting(settings.smtp_password, "alerts.smtp_password"),
                starttls=settings.smtp_starttls,
            )
        )
    return channels
