"""The process set-up: without tracing settings no SDK is loaded; with them, spans leave the
process over OTLP/HTTP (protobuf) to the configured collector, here a local HTTP receiver."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

PROBE = """
from anh_reporter.cli import _setup_observability
from anh_reporter.observability import tracing
_setup_observability("probe")
import sys
print("sdk" if "opentelemetry.sdk" in sys.modules else "no-sdk", tracing.enabled())
with tracing.span("probe-span"):
    pass
"""


def _run(env: dict[str, str]) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "ANH_OTEL"))}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.strip()


def test_tracing_is_off_and_unloaded_by_default() -> None:
    assert _run({}) == "no-sdk False"


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    """An HTTP server that records what is POSTed to it: (path, content type, body)."""
    got: list[tuple[str, str, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            got.append((self.path, self.headers.get("content-type", ""), body))
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", got
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("variable", ["ANH_OTEL__ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"])
def test_spans_are_exported_over_otlp_http(
    receiver: tuple[str, list[tuple[str, str, bytes]]], variable: str
) -> None:
    url, got = receiver
    # The process exits right after its span: the exporter flushes on the way out.
    assert _run({variable: url}) == "sdk True"
    assert [(path, kind) for path, kind, _ in got] == [("/v1/traces", "application/x-protobuf")]
    body = got[0][2]
    assert b"probe-span" in body and b"anh-reporter-probe" in body
