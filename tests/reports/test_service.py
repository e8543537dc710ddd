"""The workflow end to end on a real database: generate, block, amend, verify, CLI, demo."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from anh_reporter.production.manual import add_entry
from anh_reporter.reports import service
from anh_reporter.reports.canonical import parse
from anh_reporter.reports.cli import app as report_app
from anh_reporter.reports.errors import ReportBlocked, ReportError
from anh_reporter.reports.verify import verify_file
from anh_reporter.storage.database import Database

from .helpers import AFTER, DAY_D, FIELD, context, generate, ready_day

Conn = psycopg.Connection[object]


def test_generate_signs_once_and_writes_the_files(conn: Conn, tmp_path: Path) -> None:
    ctx = context(tmp_path)
    ready_day(conn)

    first = generate(conn, ctx)
    again = generate(conn, ctx, now=AFTER + dt.timedelta(hours=5))

    assert first.created and not again.created
    assert (again.version, again.sha256, again.version_id) == (1, first.sha256, first.version_id)
    assert first.path == tmp_path / "reports" / FIELD / "IDP-CAMPO-TEST-20260202-v1.json"
    assert first.signature_path is not None and first.signature_path.exists()
    assert verify_file(first.path).ok
    assert conn.execute("SELECT count(*) FROM report_versions").fetchone() == (1,)
    document = parse(first.path.read_bytes())
    assert document["totals"]["oil_net_bbl"] == parse(b"980.78")
    assert document["report"]["generated_by"] == "t"
    stored = conn.execute("SELECT canonical, status FROM report_versions").fetchone()
    assert stored is not None and bytes(stored[0]) == first.path.read_bytes()
    assert stored[1] == "signed"


def test_rule_errors_keep_a_draft_and_block_signing(conn: Conn, tmp_path: Path) -> None:
    ctx = context(tmp_path)
    ready_day(conn)
    during = dt.datetime(2026, 2, 3, 10, tzinfo=dt.UTC)  # 05:00 in Bogota: the day runs on

    with pytest.raises(ReportBlocked, match="IDP001") as blocked:
        generate(conn, ctx, now=during)

    assert [f.code for f in blocked.value.findings][:1] == ["IDP001"]
    row = conn.execute(
        "SELECT status, chain_seq, findings->0->>'code' FROM report_versions"
    ).fetchone()
    assert row == ("draft", None, "IDP001")
    assert not (tmp_path / "reports").exists()
    # Once the day is over, the draft is replaced by the signed version 1.
    assert generate(conn, ctx).version == 1
    assert conn.execute("SELECT count(*), min(status) FROM report_versions").fetchone() == (
        1,
        "signed",
    )


def test_amendment_links_to_the_previous_version(conn: Conn, tmp_path: Path) -> None:
    ctx = context(tmp_path)
    ready_day(conn)
    v1 = generate(conn, ctx)
    add_entry(
        conn, field_code=FIELD, day=DAY_D, kind="bsw", value="5", pmo_code="PMO-OIL",
        entered_by="lab", reason="lab re-test",
    )  # fmt: skip
    assert conn.execute("SELECT needs_amendment FROM reports").fetchone() == (True,)
    # Generating again returns version 1 and says that it needs an amendment.
    again = generate(conn, ctx)
    assert (again.version, again.created) == (1, False)
    assert [f["code"] for f in again.findings] == ["IDP018"]

    v2 = generate(conn, ctx, reason="lab BSW 5 %", now=AFTER + dt.timedelta(hours=1))

    assert v2.version == 2 and v2.chain_seq == v1.chain_seq + 1
    document = parse(v2.path.read_bytes()) if v2.path else {}
    assert document["report"]["amends"] == {
        "version": 1,
        "sha256": v1.sha256,
        "reason": "lab BSW 5 %",
        "reason_code": None,
        "changes": [],
        "requested_by": "t",
        "approved_by": None,
    }
    # NSV with the lab BSW: 1,000.80 × 0.95 = 950.76 bbl; the entry is listed.
    assert document["totals"]["oil_net_bbl"] == parse(b"950.76")
    assert [e["kind"] for e in document["manual_entries"]] == ["bsw"]
    assert conn.execute("SELECT needs_amendment FROM reports").fetchone() == (False,)
    link = conn.execute(
        "SELECT a.version FROM report_versions v JOIN report_versions a "
        "ON a.id = v.amends_version_id WHERE v.version = 2"
    ).fetchone()
    assert link == (1,)


def test_amend_needs_a_signed_version_and_a_reason(conn: Conn, tmp_path: Path) -> None:
    ctx = context(tmp_path)
    ready_day(conn)
    with pytest.raises(ReportError, match="no signed report to amend"):
        generate(conn, ctx, reason="why")
    with pytest.raises(ReportError, match="needs a reason"):
        generate(conn, ctx, reason=" ")


def test_cli_verify_says_what_failed(conn: Conn, tmp_path: Path) -> None:
    ctx = context(tmp_path)
    ready_day(conn)
    signed = generate(conn, ctx)
    assert signed.path is not None
    runner = CliRunner()
    keyset = ["--keyset", str(tmp_path / "keys" / "keyset.json")]

    ok = runner.invoke(report_app, ["verify", str(signed.path), *keyset])
    assert ok.exit_code == 0, ok.output
    assert "valid" in ok.output and "ok   key" in ok.output

    signed.path.write_bytes(signed.path.read_bytes().replace(b"980.78", b"980.79"))
    bad = runner.invoke(report_app, ["verify", str(signed.path), *keyset])
    assert bad.exit_code != 0
    assert "FAIL hash" in bad.output and "FAIL signature" in bad.output
    assert "ok   schema" in bad.output
    assert "verification failed (hash, signature)" in str(bad.exception)


def test_cli_verify_trusts_only_published_keys(
    conn: Conn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A report changed and signed again with another key carries that key in its envelope: its
    hash and signature check out, but the key is not the operator's, so it is not valid."""
    from anh_reporter.config import get_settings
    from anh_reporter.reports.signing import load_or_create_key, sign, signature_path_for

    ctx = context(tmp_path)
    ready_day(conn)
    signed = generate(conn, ctx)
    assert signed.path is not None
    forged = signed.path.read_bytes().replace(b"980.78", b"900.78")
    signed.path.write_bytes(forged)
    other = load_or_create_key(tmp_path / "forger")
    signature_path_for(signed.path).write_bytes(
        sign(forged, other, dt.datetime.now(dt.UTC)).to_bytes()
    )
    runner = CliRunner()
    ours = tmp_path / "keys"
    for trust in (
        ["--keyset", str(ours / "keyset.json")],
        ["--public-key", str(ours / "ed25519.pub.pem")],
    ):
        bad = runner.invoke(report_app, ["verify", str(signed.path), *trust])
        assert bad.exit_code != 0
        assert "ok   hash" in bad.output and "ok   signature" in bad.output
        assert f"FAIL key: key {other.key_id} is not among the 1 trusted key(s)" in bad.output
        assert "verification failed (key)" in str(bad.exception)
    # By default the installation's own key directory is trusted.
    monkeypatch.setenv("ANH_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        assert runner.invoke(report_app, ["verify", str(signed.path)]).exit_code != 0
        monkeypatch.setenv("ANH_DATA_DIR", str(tmp_path / "empty"))
        get_settings.cache_clear()
        none = runner.invoke(report_app, ["verify", str(signed.path)])
        assert none.exit_code != 0 and "no signing keys in" in str(none.exception)
    finally:
        get_settings.cache_clear()


def test_demo_report_signs_yesterday(db: Database, tmp_path: Path) -> None:
    from anh_reporter.config import Settings

    with db.connect() as conn:
        ready_day(conn)
    now = dt.datetime(2026, 2, 3, 12, tzinfo=dt.UTC)  # 07:00 Bogota: 2 Feb just ended
    result = service.demo_report(db, FIELD, settings=Settings(data_dir=tmp_path), now=now)
    assert (result.contract_day, result.version, result.status) == (DAY_D, 1, "signed")
    assert result.path is not None and result.path.exists()
    assert result.summary().startswith("IDP-CAMPO-TEST-20260202 v1 signed")


def test_cli_refuses_to_act_as_an_api_user(conn: Conn, tmp_path: Path) -> None:
    """`--by user:1:admin@…` would sign an API identity nobody signed in as: refused."""
    result = CliRunner().invoke(
        report_app,
        ["approve-amendment", "--field", FIELD, "--day", str(DAY_D), "--by", "user:1:a@b.co"],
    )
    assert result.exit_code != 0
    assert "the command line cannot act as one" in str(result.exception)
