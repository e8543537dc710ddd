"""Delivery channels against a real HTTP server started here (loopback, free port)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import pytest

from anh_reporter.reports import submission
from anh_reporter.reports.delivery import (
    BearerAuth,
    DeliveryFailed,
    FileDropChannel,
    HttpUploadChannel,
    ManualDownloadChannel,
    OAuth2ClientCredentials,
    Outgoing,
)
from anh_reporter.reports.signing import load_or_create_key, sign

from .helpers import DAY_D, FIELD, context, generate, ready_day


@dataclass
class Receiver:
    """What the fake ANH endpoint does and what it saw."""

    fail_first: int = 0
    reject: bool = False
    expire_first_token: bool = False
    status: str = "accepted"
    requests: list[dict[str, Any]] = field(default_factory=list)
    tokens_issued: int = 0


def make_handler(state: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _send(self, code: int, body: dict[str, Any], headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            if self.path == "/token":
                basic = base64.b64encode(b"client-1:s3cret").decode()
                if self.headers.get("Authorization") != f"Basic {basic}":
                    return self._send(401, {"error": "invalid_client"})
                if b"grant_type=client_credentials" not in body:
                    return self._send(400, {"error": "unsupported_grant_type"})
                state.tokens_issued += 1
                return self._send(
                    200, {"access_token": f"tok-{state.tokens_issued}", "expires_in": 3600}
                )
            state.requests.append({"headers": dict(self.headers), "body": body, "path": self.path})
            auth = self.headers.get("Authorization", "")
            if state.expire_first_token and auth == "Bearer tok-1":
                return self._send(401, {"message": "token expired"})
            if auth not in ("Bearer fixed-token", f"Bearer tok-{state.tokens_issued}"):
                return self._send(401, {"message": "who are you?"})
            if len(state.requests) <= state.fail_first:
                return self._send(503, {"message": "busy"}, {"Retry-After": "0"})
            if state.reject:
                return self._send(422, {"message": "campo desconocido: CAMPO-TEST"})
            return self._send(
                200,
                {"status": state.status, "receipt": f"R-{len(state.requests)}", "message": "ok"},
            )

    return Handler


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def outgoing(tmp_path: Path) -> Outgoing:
    data = b'{"a":1}'
    env = sign(data, load_or_create_key(tmp_path), dt.datetime(2026, 2, 3, tzinfo=dt.UTC))
    return Outgoing("IDP-X-20260202", 1, "IDP-X-20260202-v1", data, env, "IDP-X-20260202-v1-abc")


def no_sleep(delays: list[float]):  # type: ignore[no-untyped-def]
    return delays.append


def test_bearer_upload_with_retries_keeps_one_idempotency_key(
    receiver: tuple[Receiver, str], tmp_path: Path
) -> None:
    state, url = receiver
    state.fail_first = 2
    delays: list[float] = []
    channel = HttpUploadChannel(
        url + "/upload", auth=BearerAuth("fixed-token"), backoff_s=0.5, sleep=no_sleep(delays)
    )
    item = outgoing(tmp_path)

    receipt = channel.deliver(item)

    assert (receipt.status, receipt.attempts, receipt.http_status) == ("accepted", 3, 200)
    assert receipt.body["receipt"] == "R-3"
    # Backoff 0.5 s, then 1.0 s (doubled); Retry-After 0 does not shorten it.
    assert delays == [0.5, 1.0]
    keys = {r["headers"]["Idempotency-Key"] for r in state.requests}
    assert keys == {"IDP-X-20260202-v1-abc"}
    last = state.requests[-1]
    assert last["body"] == b'{"a":1}'
    assert last["headers"]["X-Content-SHA256"] == item.envelope.sha256
    assert last["headers"]["X-Signature"] == item.envelope.signature


def test_oauth2_client_credentials_and_token_refresh(
    receiver: tuple[Receiver, str], tmp_path: Path
) -> None:
    state, url = receiver
    state.expire_first_token = True
    auth = OAuth2ClientCredentials(url + "/token", "client-1", "s3cret", scope="idp.write")
    channel = HttpUploadChannel(url + "/upload", auth=auth, sleep=lambda s: None)

    receipt = channel.deliver(outgoing(tmp_path))

    assert receipt.status == "accepted"
    assert state.tokens_issued == 2  # the first was refused (401), a new one was fetched
    assert [r["headers"]["Authorization"] for r in state.requests] == [
        "Bearer tok-1",
        "Bearer tok-2",
    ]


def test_wrong_client_secret_fails_with_the_reason(
    receiver: tuple[Receiver, str], tmp_path: Path
) -> None:
    _, url = receiver
    auth = OAuth2ClientCredentials(url + "/token", "client-1", "wrong")
    channel = HttpUploadChannel(url + "/upload", auth=auth, sleep=lambda s: None)
    with pytest.raises(DeliveryFailed, match="refused the client credentials: HTTP 401"):
        channel.deliver(outgoing(tmp_path))


def test_receiver_rejection_is_not_retried(receiver: tuple[Receiver, str], tmp_path: Path) -> None:
    state, url = receiver
    state.reject = True
    channel = HttpUploadChannel(url + "/upload", auth=BearerAuth("fixed-token"))
    receipt = channel.deliver(outgoing(tmp_path))
    assert (receipt.status, receipt.http_status, receipt.attempts) == ("rejected", 422, 1)
    assert receipt.message == "campo desconocido: CAMPO-TEST"


def test_unreachable_endpoint_gives_up_after_the_attempts(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a free loopback port with nobody listening on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    delays: list[float] = []
    channel = HttpUploadChannel(
        f"http://127.0.0.1:{port}/upload", max_attempts=3, backoff_s=1, sleep=no_sleep(delays),
        timeout_s=2,
    )  # fmt: skip
    with pytest.raises(DeliveryFailed, match="failed after 3 attempt"):
        channel.deliver(outgoing(tmp_path))
    assert delays == [1.0, 2.0]


def test_file_drop_and_manual_download(tmp_path: Path) -> None:
    item = outgoing(tmp_path / "k")
    receipt = FileDropChannel(tmp_path / "drop").deliver(item)
    assert receipt.status == "delivered"
    assert (tmp_path / "drop" / "IDP-X-20260202-v1.json").read_bytes() == b'{"a":1}'
    assert (tmp_path / "drop" / "IDP-X-20260202-v1.sig").exists()
    manual = ManualDownloadChannel(tmp_path / "down").deliver(item)
    assert "report ack" in (manual.message or "")


def test_submit_stores_the_receipt_and_moves_the_status(
    conn: psycopg.Connection[object], receiver: tuple[Receiver, str], tmp_path: Path
) -> None:
    state, url = receiver
    state.fail_first = 1
    ctx = context(tmp_path)
    ready_day(conn)
    signed = generate(conn, ctx)
    channel = HttpUploadChannel(
        url + "/upload", auth=BearerAuth("fixed-token"), sleep=lambda s: None
    )

    result = submission.submit(conn, field_code=FIELD, day=DAY_D, channel=channel, created_by="t")

    assert (result.status, result.message) == ("accepted", "ok")
    row = conn.execute(
        "SELECT status, attempts, http_status, receipt->>'receipt', idempotency_key FROM deliveries"
    ).fetchone()
    assert row == ("accepted", 2, 200, "R-2", f"{signed.report_id}-v1-{signed.sha256[:16]}")
    assert conn.execute("SELECT status FROM report_versions").fetchone() == ("accepted",)
    # The uploaded bytes are the signed canonical report.
    assert state.requests[-1]["body"] == signed.path.read_bytes() if signed.path else False


def test_file_submit_then_manual_acknowledgement(
    conn: psycopg.Connection[object], tmp_path: Path
) -> None:
    ctx = context(tmp_path)
    ready_day(conn)
    generate(conn, ctx)
    result = submission.submit(
        conn,
        field_code=FIELD,
        day=DAY_D,
        channel=submission.channel_from_settings(ctx.options, ctx.drop_dir),
        created_by="t",
    )
    assert result.status == "submitted"
    assert Path(result.receipt["report"]).parent == tmp_path / "outbox"
    status = submission.acknowledge(
        conn, field_code=FIELD, day=DAY_D, accepted=False, message="falta el pozo W-4", actor="t"
    )
    assert status == "rejected"
    assert conn.execute("SELECT status, status_message FROM report_versions").fetchone() == (
        "rejected",
        "falta el pozo W-4",
    )
