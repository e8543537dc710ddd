"""Issue 13, transport: ``opcua browse``, ``opcua tagmap`` and ``opcua certs`` take the connector's
security options, against a real asyncua server that offers Basic256Sha256 SignAndEncrypt only.

The commands run as the user runs them (``python -m anh_reporter`` in a subprocess) while the
simulator serves from this test's event loop.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from click.testing import Result
from cryptography import x509
from typer.testing import CliRunner

from anh_reporter.connectors.opcua.config import OpcUaSecurity, load_config
from anh_reporter.connectors.opcua.security import thumbprint
from anh_reporter.errors import AnhError
from anh_reporter.simulator.cli import opcua_app
from anh_reporter.simulator.opcua_server import OpcUaSimulator
from anh_reporter.site import load_site

from ..conftest import EXAMPLE_SITE

on_module_loop = pytest.mark.asyncio(loop_scope="module")


@dataclass
class Run:
    code: int
    out: str
    err: str


async def cli(*args: str | Path) -> Run:
    """``anh-reporter ARGS`` as the user runs it: a subprocess (slow to start: used sparingly)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "anh_reporter",
        *map(str, args),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": "400", "NO_COLOR": "1"},
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return Run(proc.returncode, out.decode(), err.decode())


async def opcua(*args: str | Path) -> Result:
    """``anh-reporter opcua ARGS`` in this process, in a thread (the server is on this loop)."""
    runner = CliRunner(env={"COLUMNS": "400", "NO_COLOR": "1"})
    return await asyncio.to_thread(runner.invoke, opcua_app, list(map(str, args)))


def ok(result: Result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def refused(result: Result) -> str:
    """The error the CLI would print as its one line (``error: <this>``)."""
    assert isinstance(result.exception, AnhError), (result.output, result.exception)
    text = str(result.exception)
    assert "\n" not in text
    return text


def one_line_error(run: Run) -> str:
    assert run.code == 1, (run.out, run.err)
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.err
    return lines[0]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[OpcUaSimulator]:
    pki = tmp_path_factory.mktemp("server-pki")
    async with OpcUaSimulator(
        load_site(EXAMPLE_SITE),
        port=0,
        pki_dir=pki,
        policies=("Basic256Sha256_SignAndEncrypt",),
    ) as sim:
        yield sim


def server_thumbprint(sim: OpcUaSimulator) -> str:
    assert sim.pki_dir is not None
    der = (sim.pki_dir / "own" / "cert.der").read_bytes()
    return thumbprint(x509.load_der_x509_certificate(der))


def server_trusts(sim: OpcUaSimulator, client_cert: Path) -> None:
    """What the server's administrator does with our certificate."""
    assert sim.pki_dir is not None
    shutil.copy(client_cert, sim.pki_dir / "trusted" / f"client-{client_cert.stat().st_ino}.der")


@on_module_loop
async def test_browse_and_certs_round_trip_with_sign_and_encrypt(
    server: OpcUaSimulator, tmp_path: Path
) -> None:
    pki = tmp_path / "opcua-client"
    cert, key, trusted = pki / "cert.der", pki / "key.pem", pki / "trusted"
    endpoint = server.endpoint

    # A client certificate for the connector's application URI; the key is private.
    made = ok(
        await opcua("certs", "renew", "--certificate", cert, "--private-key", key, "--days", "30")
    )
    assert "urn:anh-reporter:opcua-connector" in made
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    server_trusts(server, cert)

    # Without security options: refused; the real CLI says so in one line, with what to try.
    plain = one_line_error(await cli("opcua", "browse", endpoint, "--depth", "1"))
    assert f"cannot connect to {endpoint}" in plain and "--policy Basic256Sha256" in plain

    # The tag-map tool writes the same options into the connector file it makes.
    conn = pki / "connector.yaml"
    ok(
        await opcua(
            "tagmap", "--site", EXAMPLE_SITE, "--endpoint", endpoint, "-o", conn,
            "--policy", "Basic256Sha256", "--mode", "SignAndEncrypt",
            "--certificate", cert, "--private-key", key, "--trust-dir", trusted,
        )
    )  # fmt: skip
    assert load_config(conn).security == OpcUaSecurity(
        policy="Basic256Sha256",
        mode="SignAndEncrypt",
        certificate=cert,
        private_key=key,
        trust_dir=trusted,
    )

    # A mode the server does not offer: the policy and mode are named.
    sign = refused(await opcua("browse", endpoint, "--connector", conn, "--mode", "Sign"))
    assert "offers no endpoint with security policy Basic256Sha256 and mode Sign" in sign

    # The connector's settings, but we do not trust the server yet: its certificate is kept.
    untrusted = one_line_error(await cli("opcua", "browse", endpoint, "--connector", conn))
    assert "BadCertificateUntrusted" in untrusted and "certs trust" in untrusted
    server_print = server_thumbprint(server)
    listed = ok(await opcua("certs", "list", "--connector", conn)).splitlines()
    (row,) = [line for line in listed if server_print in line]
    assert row.split()[1] == "rejected" and "simulator:opcua" in row, row
    (own,) = [line for line in listed if str(cert) in line]
    assert own.split()[1] == "own", own

    ok(await opcua("certs", "trust", server_print[:10], "--connector", conn))
    assert (trusted / f"{server_print}.der").exists()
    browsed = ok(await opcua("browse", endpoint, "--connector", conn, "--depth", "2"))
    assert "CAMPO-DEMO-LLANOS" in browsed and "PMO-LACT-01" in browsed

    # Rejected again: refused again.
    ok(await opcua("certs", "reject", server_print, "--connector", conn))
    assert not (trusted / f"{server_print}.der").exists()
    assert "BadCertificateUntrusted" in refused(
        await opcua("browse", endpoint, "--connector", conn)
    )
    ok(await opcua("certs", "trust", server_print, "--connector", conn))

    # Renewed: a new certificate the server does not know, until its administrator trusts it.
    old = thumbprint(x509.load_der_x509_certificate(cert.read_bytes()))
    ok(await opcua("certs", "renew", "--connector", conn))
    new = thumbprint(x509.load_der_x509_certificate(cert.read_bytes()))
    assert new != old
    assert "BadCertificateUntrusted" in refused(
        await opcua("browse", endpoint, "--connector", conn)
    )
    server_trusts(server, cert)
    ok(await opcua("browse", endpoint, "--connector", conn, "--depth", "1"))


async def test_certs_and_option_errors_name_the_problem(tmp_path: Path) -> None:
    assert "--trust-dir" in refused(await opcua("certs", "list"))
    unknown = refused(
        await opcua("certs", "trust", "deadbeef00", "--trust-dir", tmp_path / "trusted")
    )
    assert "no certificate 'deadbeef00'" in unknown
    mismatch = refused(
        await opcua("browse", "opc.tcp://127.0.0.1:1/x", "--policy", "Basic256Sha256")
    )
    assert "security policy 'Basic256Sha256' and mode 'None' do not fit" in mismatch
    assert "--certificate and --private-key" in refused(await opcua("certs", "renew"))


@on_module_loop
async def test_browse_as_a_user_and_the_refusals_say_what_to_set(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("clave de campo\n")
    wrong = tmp_path / "wrong"
    wrong.write_text("otra\n")
    async with OpcUaSimulator(
        load_site(EXAMPLE_SITE), port=0, users={"operador": "clave de campo"}
    ) as sim:
        endpoint = sim.endpoint
        anonymous = refused(await opcua("browse", endpoint, "--depth", "1"))
        assert "BadIdentityTokenRejected" in anonymous
        assert "set --username and --password-file" in anonymous
        denied = refused(
            await opcua("browse", endpoint, "--username", "operador", "--password-file", wrong)
        )
        assert "BadUserAccessDenied" in denied and "check --username" in denied
        assert "otra" not in denied
        tree = ok(
            await opcua(
                "browse", endpoint, "--depth", "2", "--username", "operador",
                "--password-file", secret,
            )
        )  # fmt: skip
        assert "CAMPO-DEMO-LLANOS" in tree
        # The tag-map tool writes the user into the connector file it makes.
        conn = tmp_path / "connector.yaml"
        ok(
            await opcua(
                "tagmap", "--site", EXAMPLE_SITE, "--endpoint", endpoint, "-o", conn,
                "--username", "operador", "--password-file", secret,
            )
        )  # fmt: skip
        loaded = load_config(conn).security
        assert (loaded.username, loaded.password_file) == ("operador", secret)
