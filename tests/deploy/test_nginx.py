"""deploy/nginx: ``nginx -t`` on the edge configuration, then real nginx in front of two backends.

The configuration is rendered into a temporary prefix: the /etc/nginx/anh/ paths point there,
the listen ports are free ports on 127.0.0.1, the certificate is self-signed (made here), and
the upstreams are two small HTTP servers of this test that answer with what they received.
Killing one backend shows the passive health check at work: no request fails.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import json
import re
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .conftest import DEPLOY, free_port, require_tool

NGINX = DEPLOY / "nginx"


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 / localhost and its key, as PEM files in ``folder``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


@dataclass
class Rendered:
    """A runnable copy of the deploy/nginx configuration."""

    prefix: Path
    main: Path
    http_port: int
    https_port: int
    certificate: Path


def render(prefix: Path, backends: list[int]) -> Rendered:
    """Copy anh.conf into ``prefix`` with test paths, ports and upstreams."""
    anh = prefix / "anh"
    (anh / "tls").mkdir(parents=True)
    cert, _ = self_signed(anh / "tls")
    http_port, https_port = free_port(), free_port()
    conf = (NGINX / "anh.conf").read_text()
    conf = conf.replace("/etc/nginx/anh/", f"{anh}/")
    conf = re.sub(r"listen 80 ", f"listen 127.0.0.1:{http_port} ", conf)
    conf = re.sub(r"listen 443 ", f"listen 127.0.0.1:{https_port} ", conf)
    assert str(anh) in conf and str(https_port) in conf
    (prefix / "anh.conf").write_text(conf)
    upstreams = (NGINX / "upstreams.host.conf").read_text()
    for old, new in zip(("127.0.0.1:8001", "127.0.0.1:8002"), backends, strict=True):
        upstreams = upstreams.replace(old, f"127.0.0.1:{new}")
    upstreams = upstreams.replace("127.0.0.1:3000", f"127.0.0.1:{backends[0]}")
    (anh / "upstreams.conf").write_text(upstreams)
    # The part of nginx.conf that Debian's package (or the image) provides around conf.d/.
    main = prefix / "nginx.conf"
    main.write_text(
        f"""
user root;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/anh.conf;
}}
"""
    )
    return Rendered(prefix, main, http_port, https_port, cert)


class Backend:
    """An HTTP/1.1 server answering every request with what it received, as JSON."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.connections: set[socket.socket] = set()
        backend = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                backend.connections.add(self.connection)

            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                payload = json.dumps(
                    {
                        "backend": backend.name,
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body_bytes": len(body),
                    }
                ).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                # The API sets HSTS itself behind TLS: nginx must not send it twice.
                self.send_header("strict-transport-security", "max-age=1")
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port: int = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Die like a killed process: refuse new connections, drop the open ones."""
        self.server.shutdown()
        self.server.server_close()
        for conn in list(self.connections):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


def test_nginx_t_accepts_the_configuration(tmp_path: Path) -> None:
    nginx = require_tool("nginx", "nginx-light")
    rendered = render(tmp_path, [free_port(), free_port()])
    result = subprocess.run(
        [nginx, "-t", "-q", "-p", str(tmp_path), "-c", str(rendered.main)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[tuple[Rendered, list[Backend]]]:
    """nginx with the rendered configuration in front of two backends, until the test ends."""
    nginx = require_tool("nginx", "nginx-light")
    backends = [Backend("api-1"), Backend("api-2")]
    rendered = render(tmp_path, [b.port for b in backends])
    process = subprocess.Popen(
        [nginx, "-p", str(tmp_path), "-c", str(rendered.main), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_listening(process, rendered)
        yield rendered, backends
    finally:
        process.terminate()
        process.wait(timeout=10)
        for b in backends:
            b.stop()


def _wait_listening(process: subprocess.Popen[bytes], rendered: Rendered) -> None:
    """Until nginx answers its health location (it fails fast on a bad configuration)."""
    url = f"http://127.0.0.1:{rendered.http_port}/nginx-health"
    for _ in range(500):
        if process.poll() is not None:
            assert process.stderr is not None
            pytest.fail(f"nginx exited: {process.stderr.read().decode()}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            threading.Event().wait(0.02)
    pytest.fail("nginx did not start listening")


def _client(rendered: Rendered) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(rendered.certificate))
    return httpx.Client(
        base_url=f"https://127.0.0.1:{rendered.https_port}", verify=context, timeout=10.0
    )


def test_edge_balances_forwards_and_limits(edge: tuple[Rendered, list[Backend]]) -> None:
    rendered, _ = edge
    with _client(rendered) as client:
        seen = [client.get("/api/v1/fields").json()["backend"] for _ in range(4)]
        assert set(seen) == {"api-1", "api-2"}

        response = client.get("/api/v1/fields", headers={"X-Forwarded-For": "6.6.6.6"})
        received = response.json()["headers"]
        # Set, not appended: a client cannot choose the address the API rate-limits on.
        assert received["x-forwarded-for"] == "127.0.0.1"
        assert received["x-real-ip"] == "127.0.0.1"
        assert received["x-forwarded-proto"] == "https"
        assert received["x-request-id"] == response.headers["x-request-id"]
        assert "upgrade" not in received
        assert "connection" not in received  # keep-alive to the upstream
        assert response.headers.get_list("strict-transport-security") == [
            "max-age=31536000; includeSubDomains"
        ]

        # WebSocket handshake headers reach the API.
        upgrade = {"Upgrade": "websocket", "Connection": "Upgrade"}
        for path in ("/ws/telemetry/1", "/api/v1/ws/telemetry/1"):
            received = client.get(path, headers=upgrade).json()["headers"]
            assert received["upgrade"] == "websocket", path
            assert received["connection"] == "upgrade", path

        # Request size: 1 MiB in general, 33 MiB for ingest.
        two_mib = b"x" * (2 << 20)
        assert client.post("/api/v1/fields", content=two_mib).status_code == 413
        response = client.post("/api/v1/ingest/readings", content=two_mib)
        assert response.status_code == 200
        assert response.json()["body_bytes"] == len(two_mib)

        # Metrics stay inside; the UI and health pass through.
        assert client.get("/metrics").status_code == 404
        assert client.get("/health/ready").json()["path"] == "/health/ready"

        # The login route's edge limit: 1 a second with a burst of 10. Forty requests in a
        # row cannot all pass unless they take more than half a minute.
        statuses = [client.post("/api/v1/auth/login").status_code for _ in range(40)]
        assert 429 in statuses and statuses[0] == 200

    with httpx.Client(timeout=10.0) as plain:
        response = plain.get(f"http://127.0.0.1:{rendered.http_port}/api/v1/fields?a=1")
        assert response.status_code == 301
        assert response.headers["location"].startswith("https://")
        assert response.headers["location"].endswith("/api/v1/fields?a=1")


def test_edge_survives_a_dead_replica(edge: tuple[Rendered, list[Backend]]) -> None:
    rendered, backends = edge
    with _client(rendered) as client:
        assert client.get("/api/v1/fields").status_code == 200
        backends[0].stop()
        answers = [client.get("/api/v1/fields") for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 6
    assert {a.json()["backend"] for a in answers} == {"api-2"}
