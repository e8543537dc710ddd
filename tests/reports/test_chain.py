"""The hash chain over all signed versions: an altered or removed version is detected."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg
import pytest

from anh_reporter.reports import chain

from .helpers import AFTER, context, generate, ready_day

Conn = psycopg.Connection[object]


def unlocked(conn: Conn) -> None:
    """What an attacker with the table owner's rights does first."""
    conn.execute("ALTER TABLE report_versions DISABLE TRIGGER report_versions_immutable")


def two_versions(conn: Conn, tmp_path: Path) -> None:
    ctx = context(tmp_path)
    ready_day(conn)
    generate(conn, ctx)
    generate(conn, ctx, reason="lab BSW corrected", now=AFTER + dt.timedelta(hours=1))
    generate(conn, ctx, reason="meter factor corrected", now=AFTER + dt.timedelta(hours=2))


def test_intact_chain(conn: Conn, tmp_path: Path) -> None:
    two_versions(conn, tmp_path)
    result = chain.audit(conn)
    assert result.ok, result.problems
    assert result.versions == 3
    links = conn.execute(
        "SELECT chain_seq, prev_hash, chain_hash FROM report_versions ORDER BY chain_seq"
    ).fetchall()
    assert links[0][1] == chain.GENESIS
    assert links[1][1] == links[0][2] and links[2][1] == links[1][2]


def test_signed_versions_refuse_changes_and_deletes(conn: Conn, tmp_path: Path) -> None:
    two_versions(conn, tmp_path)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("UPDATE report_versions SET reason = 'x' WHERE version = 1")
    conn.rollback()
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("DELETE FROM report_versions WHERE version = 1")
    conn.rollback()
    conn.execute("UPDATE report_versions SET status = 'submitted' WHERE version = 1")  # allowed


def test_altered_content_is_detected(conn: Conn, tmp_path: Path) -> None:
    two_versions(conn, tmp_path)
    unlocked(conn)
    conn.execute(
        "UPDATE report_versions SET canonical = convert_to(replace("
        "convert_from(canonical, 'UTF8'), '980.78', '990.78'), 'UTF8') WHERE version = 1"
    )
    assert conn.execute(
        "SELECT count(*) FROM report_versions WHERE position("
        "'990.78' in convert_from(canonical, 'UTF8')) > 0"
    ).fetchone() == (1,)
    problems = chain.audit(conn).problems
    assert any("chain #1" in p and "content does not match" in p for p in problems), problems


def test_altered_record_with_recomputed_hash_is_detected(conn: Conn, tmp_path: Path) -> None:
    two_versions(conn, tmp_path)
    unlocked(conn)
    # The attacker also fixes sha256: the signature and the chain hash still give it away.
    conn.execute(
        "UPDATE report_versions SET canonical = convert_to('{}', 'UTF8'), "
        "sha256 = encode(sha256(convert_to('{}', 'UTF8')), 'hex') WHERE version = 2"
    )
    problems = chain.audit(conn).problems
    assert any("chain #2" in p and "signature does not verify" in p for p in problems)
    assert any("chain #2" in p and "altered" in p for p in problems)


def test_removed_middle_version_is_detected(conn: Conn, tmp_path: Path) -> None:
    two_versions(conn, tmp_path)
    unlocked(conn)
    # Re-point version 3 at version 1 (the foreign key), then drop version 2.
    conn.execute(
        "UPDATE report_versions SET amends_version_id = "
        "(SELECT id FROM report_versions WHERE version = 1) WHERE version = 3"
    )
    conn.execute("DELETE FROM report_versions WHERE version = 2")
    problems = chain.audit(conn).problems
    assert any("chain #3" in p and "removed" in p for p in problems), problems
    assert any("prev_hash" in p for p in problems)


def test_removed_last_version_is_detected(conn: Conn, tmp_path: Path) -> None:
    two_versions(conn, tmp_path)
    unlocked(conn)
    conn.execute("DELETE FROM report_versions WHERE version = 3")
    problems = chain.audit(conn).problems
    assert problems == [
        "chain #3: signed version recorded in the audit log is missing from the chain "
        "(removed or altered)"
    ]


def test_reordered_versions_are_detected(conn: Conn, tmp_path: Path) -> None:
    two_versions(conn, tmp_path)
    unlocked(conn)
    conn.execute("UPDATE report_versions SET chain_seq = 10 + chain_seq")
    conn.execute("UPDATE report_versions SET chain_seq = 1 WHERE chain_seq = 12")
    conn.execute("UPDATE report_versions SET chain_seq = 2 WHERE chain_seq = 11")
    conn.execute("UPDATE report_versions SET chain_seq = 3 WHERE chain_seq = 13")
    assert not chain.audit(conn).ok
