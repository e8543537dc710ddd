"""The restore drill: base backup, more ingest, restore to a point in time, then check.

A primary of the test's own (tests/deploy/clusters.py) archives its WAL to a folder
(``archive_mode = on``, ``archive_command`` copying each segment). Readings A and a signed report
are written; ``anh-reporter backup take`` makes a base backup; readings B are written and the
target time noted; then readings C and an amendment of the report (after the target). ``anh-reporter
backup restore`` unpacks the backup into a new data directory with recovery up to the target;
PostgreSQL started on it replays the archive and opens. The restored database has A and B (their
counts and sums), not C; its report chain audits intact with the one version signed before the
target, and the signed report file verifies.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from anh_reporter.reports import chain
from anh_reporter.reports.verify import verify_file
from anh_reporter.storage import migrate
from anh_reporter.storage.database import Database
from anh_reporter.storage.telemetry import TelemetryWriter
from tests.reports.helpers import context, generate, ready_day

from .clusters import Clusters, give_to_server_user, wait_for

T_A = 1_736_121_600_000_000  # 2025-01-06T00:00:00Z, a Monday, far from the report's day


def _cli(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "anh_reporter", *args],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, f"anh-reporter {' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout


def _write(db: Database, series_id: int, offset_s: int, value: float, n: int = 1000) -> None:
    """``n`` readings of ``value``, one a second from T_A + ``offset_s``, committed."""
    with db.connect() as conn:
        t = T_A + (offset_s + np.arange(n, dtype=np.int64)) * 1_000_000
        TelemetryWriter(conn).write(
            np.full(n, series_id, dtype=np.int32), t, np.full(n, value), np.zeros(n, np.uint32)
        )
        conn.commit()


def test_restore_to_a_point_in_time_keeps_counts_sums_and_the_report_chain(
    clusters: Clusters, tmp_path: Path
) -> None:
    archive = clusters.folder("wal-archive")
    primary = clusters.new("primary")
    primary.initdb(
        archive_mode="on", archive_command=f"test ! -f {archive}/%f && cp %p {archive}/%f"
    )
    primary.start()
    primary.query("CREATE DATABASE anh")
    db = Database(primary.url("anh"))
    migrate.upgrade(db)
    ctx = context(tmp_path)
    with db.connect() as conn:
        ids = ready_day(conn)
        signed = generate(conn, ctx)
    series = ids["PMO-OIL.oil_rate"]
    _write(db, series, 0, 1.0)  # A

    env = {k: v for k, v in os.environ.items() if not k.startswith("ANH_")}
    env.update(ANH_DATABASE_DIRECT_URL=primary.url("anh"), COLUMNS="250")
    taken = _cli("backup", "take", str(tmp_path / "backups"), env=env)
    assert "base backup:" in taken
    (base,) = (tmp_path / "backups").iterdir()

    _write(db, series, 1000, 2.0)  # B, after the backup
    target = primary.query("SELECT clock_timestamp()")
    _write(db, series, 2000, 4.0)  # C, after the target
    with db.connect() as conn:
        generate(conn, ctx, reason="a correction after the target")
    # The segment holding C is finished and archived: the archive covers the target.
    last = primary.query("SELECT pg_walfile_name(pg_switch_wal())")
    wait_for(
        f"WAL segment {last} to be archived",
        lambda: primary.query("SELECT last_archived_wal >= %s FROM pg_stat_archiver", (last,)),
    )

    restored = clusters.new("restored")
    until = ("--wal-archive", str(archive), "--target-time", target.isoformat())
    done = _cli("backup", "restore", str(base), str(restored.pgdata), *until, env=env)
    assert "is ready" in done
    give_to_server_user(restored.pgdata)
    restored.start(archive_mode="off")
    wait_for(
        "the restored server to reach the target and open",
        lambda: restored.query("SELECT NOT pg_is_in_recovery()"),
    )
    with Database(restored.url("anh")).connect() as conn:
        drill = conn.execute(
            "SELECT count(*), sum(value) FROM telemetry WHERE series_id = %s AND time < %s",
            (series, "2025-01-07T00:00:00Z"),
        ).fetchone()
        versions = conn.execute("SELECT count(*) FROM report_versions").fetchone()
        audit = chain.audit(conn)
    # A (1000 x 1.0) and B (1000 x 2.0), not C: 2000 readings, sum 1000 + 2000 = 3000.
    assert drill == (2000, 3000.0)
    assert versions == (1,)  # the amendment came after the target
    assert audit.ok, audit.problems
    assert audit.versions == 1
    assert signed.path is not None and verify_file(signed.path).ok
