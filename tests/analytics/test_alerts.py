"""Alerts: a real webhook receiver and a real SMTP sink on localhost, no mocks of the clients."""

from __future__ import annotations

import asyncio
import json
import random
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from anh_reporter.analytics.alerts import (
    Alert,
    AlertDeliveryError,
    AlertDispatcher,
    EmailChannel,
    WebhookChannel,
    channels_from_settings,
    describe,
)
from anh_reporter.analytics.records import Anomaly, Severity
from anh_reporter.config import AlertSettings
from anh_reporter.connectors.runtime import Backoff
from anh_reporter.errors import AnhError
from anh_reporter.observability.metrics import REGISTRY

T0 = 1_780_000_000_000_000


def anomaly(key: int = 0, severity: Severity = Severity.WARNING, field_id: int = 77) -> Anomaly:
    return Anomaly(
        field_id=field_id,
        series_id=12,
        pmo_id=None,
        window_start_us=T0 + key,
        window_end_us=T0 + key + 60_000_000,
        score=42.0,
        severity=severity,
        detector="SPIKE",
        explanation={"why": "oil_rate 21000 is 42.0 sigma above its centre line 14000"},
    )


# ------------------------------------------------------------------------------------------
# A webhook receiver


@dataclass
class Receiver:
    url: str
    bodies: list[dict[str, Any]] = field(default_factory=list)
    status: int = 204


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            box.bodies.append(json.loads(self.rfile.read(length)))
            self.send_response(box.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/anh"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield box
    server.shutdown()
    server.server_close()


def detected(field_id: str, severity: str) -> float:
    value = REGISTRY.get_sample_value(
        "anomalies_detected_total", {"field_id": field_id, "severity": severity}
    )
    return value or 0.0


def test_webhook_gets_each_episode_once_and_escalations_again(receiver: Receiver) -> None:
    before = detected("77", "WARNING")
    dispatcher = AlertDispatcher([WebhookChannel(receiver.url)])
    report = dispatcher.publish([anomaly(), anomaly()])  # the same episode twice
    assert (report.new, report.sent, report.duplicates) == (1, 1, 1)
    body = receiver.bodies[0]
    assert body["severity"] == "WARNING" and body["detector"] == "SPIKE"
    assert body["dedup_key"] == f"series:12:SPIKE:{T0}"
    assert body["title"] == "[WARNING] SPIKE on series 12"
    assert "42.0 sigma above" in body["text"] and body["suppressed_before"] == 0
    # The episode grows worse: one more alert; its repetition, none.
    report = dispatcher.publish([anomaly(severity=Severity.CRITICAL)] * 2)
    assert (report.new, report.sent, report.duplicates) == (0, 1, 1)
    assert [b["severity"] for b in receiver.bodies] == ["WARNING", "CRITICAL"]
    assert detected("77", "WARNING") == before + 1  # counted once, when first seen


def test_below_min_severity_is_counted_not_sent(receiver: Receiver) -> None:
    before = detected("78", "INFO")
    dispatcher = AlertDispatcher([WebhookChannel(receiver.url)])
    report = dispatcher.publish([anomaly(severity=Severity.INFO, field_id=78)])
    assert (report.new, report.below_severity, report.sent) == (1, 1, 0)
    assert receiver.bodies == []
    assert detected("78", "INFO") == before + 1


def test_rate_limit_suppresses_and_reports_the_backlog(receiver: Receiver) -> None:
    now = [0.0]
    dispatcher = AlertDispatcher(
        [WebhookChannel(receiver.url)], burst=2, per_hour=60.0, clock=lambda: now[0]
    )
    report = dispatcher.publish([anomaly(key=k) for k in range(5)])
    assert (report.sent, report.rate_limited) == (2, 3)
    now[0] += 60.0  # one minute at 60 an hour refills one token
    report = dispatcher.publish([anomaly(key=10)])
    assert report.sent == 1
    assert [b["suppressed_before"] for b in receiver.bodies] == [0, 0, 3]


def test_webhook_error_status_is_a_failed_delivery_after_the_retries(receiver: Receiver) -> None:
    receiver.status = 500
    waits: list[float] = []
    backoff = Backoff(0.5, 5.0, rng=random.Random(3))
    dispatcher = AlertDispatcher(
        [WebhookChannel(receiver.url)], retries=2, backoff=backoff, sleep=waits.append
    )
    report = dispatcher.publish([anomaly()])
    assert (report.sent, report.failed) == (0, 1)
    assert "answered 500" in report.errors[0]
    assert len(receiver.bodies) == 3  # the first try and two more
    assert 0.25 <= waits[0] <= 0.5 and 0.5 <= waits[1] <= 1.0  # jittered, doubling
    with pytest.raises(AlertDeliveryError, match="expected 2xx"):
        WebhookChannel(receiver.url).send(_alert())


def test_a_delivery_that_fails_once_is_sent_on_the_retry() -> None:
    class OnceDown:
        name = "flaky"

        def __init__(self) -> None:
            self.tries = 0

        def send(self, alert: Alert) -> None:
            self.tries += 1
            if self.tries == 1:
                raise AlertDeliveryError("connection reset")

    channel = OnceDown()
    waits: list[float] = []
    report = AlertDispatcher([channel], sleep=waits.append).publish([anomaly()])
    assert (report.sent, report.failed, channel.tries, len(waits)) == (1, 0, 2, 1)


def _alert() -> Alert:
    return Alert(anomaly(), "title", "text")


# ------------------------------------------------------------------------------------------
# A tiny SMTP sink (RFC 5321 happy path: EHLO, MAIL, RCPT, DATA, QUIT)


@dataclass
class Sink:
    port: int = 0
    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)


async def _session(sink: Sink, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    async def reply(line: str) -> None:
        writer.write(line.encode() + b"\r\n")
        await writer.drain()

    await reply("220 sink ESMTP")
    sender, recipients = "", []
    while line := await reader.readline():
        command = line.decode().strip()
        verb = command[:4].upper()
        if verb in ("EHLO", "HELO"):
            await reply("250 sink")
        elif verb == "MAIL":
            sender, recipients = command.split(":", 1)[1].strip(" <>"), []
            await reply("250 OK")
        elif verb == "RCPT":
            recipients.append(command.split(":", 1)[1].strip(" <>"))
            await reply("250 OK")
        elif verb == "DATA":
            await reply("354 end with .")
            data = b""
            while (chunk := await reader.readline()) != b".\r\n":
                data += chunk
            sink.messages.append((sender, recipients, data))
            await reply("250 queued")
        elif verb == "QUIT":
            await reply("221 bye")
            break
        else:
            await reply("250 OK")
    writer.close()


@pytest.fixture
def sink() -> Iterator[Sink]:
    box = Sink()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    servers: list[asyncio.Server] = []

    async def start() -> None:
        server = await asyncio.start_server(lambda r, w: _session(box, r, w), "127.0.0.1", 0)
        box.port = server.sockets[0].getsockname()[1]
        servers.append(server)
        ready.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(5)
    yield box
    loop.call_soon_threadsafe(servers[0].close)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def test_email_reaches_the_smtp_server(sink: Sink) -> None:
    channel = EmailChannel(
        host="127.0.0.1",
        port=sink.port,
        sender="anh@campo.example",
        recipients=["ops@campo.example", "jefe@campo.example"],
    )
    dispatcher = AlertDispatcher([channel])
    report = dispatcher.publish([anomaly(severity=Severity.CRITICAL)])
    assert report.sent == 1, report.errors
    sender, recipients, data = sink.messages[0]
    assert sender == "anh@campo.example"
    assert recipients == ["ops@campo.example", "jefe@campo.example"]
    message = message_from_bytes(data)
    assert message["Subject"] == "[CRITICAL] SPIKE on series 12"
    assert message["X-ANH-Dedup-Key"] == f"series:12:SPIKE:{T0}"
    assert "42.0 sigma above" in message.get_payload()


def test_unreachable_smtp_server_is_a_failed_delivery() -> None:
    with socket.socket() as probe:  # a port nobody listens on once this socket is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    channel = EmailChannel(host="127.0.0.1", port=port, sender="a@b", recipients=["c@d"])
    with pytest.raises(AlertDeliveryError, match=rf"SMTP 127\.0\.0\.1:{port}"):
        channel.send(_alert())


def test_channels_from_settings(receiver: Receiver) -> None:
    assert channels_from_settings(AlertSettings()) == []
    both = channels_from_settings(
        AlertSettings(webhook_url=receiver.url, smtp_host="127.0.0.1", mail_to=["ops@x"])
    )
    assert [type(c).__name__ for c in both] == ["WebhookChannel", "EmailChannel"]
    with pytest.raises(AnhError, match="mail_to is empty"):
        channels_from_settings(AlertSettings(smtp_host="127.0.0.1"))


def test_model_anomaly_text_names_the_features() -> None:
    made = Anomaly(
        field_id=1,
        series_id=None,
        pmo_id=3,
        window_start_us=T0,
        window_end_us=T0 + 3_600_000_000,
        score=0.53,
        severity=Severity.CRITICAL,
        detector="isolation_forest",
        model_version=2,
        explanation={
            "beyond_training": [
                {
                    "feature": "oil_rate.level",
                    "value": -8197.0,
                    "training_min": -310.0,
                    "training_max": 260.0,
                    "sd_beyond": 45.2,
                }
            ],
            "contributions": [
                {"feature": "oil_rate.delta", "share": 0.4, "value": -7981.0, "training_mean": 1.0}
            ],
        },
    )
    title, text = describe(made, "PMO-LACT-01")
    assert title == "[CRITICAL] isolation_forest on PMO-LACT-01"
    assert "oil_rate.level -8197 is 45.2 sd beyond its training range -310 .. 260" in text
    assert "oil_rate.delta 40% of the score" in text
    assert "model version 2" in text
