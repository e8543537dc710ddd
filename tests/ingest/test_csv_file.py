"""``anh-reporter ingest FILE``: good lines written, every bad line or reading quarantined."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from anh_reporter.site import load_site
from anh_reporter.storage.database import Database
from anh_reporter.storage.site_repo import load_site_into

from ..conftest import EXAMPLE_SITE, ROOT

CSV = """time,series,value,quality
2026-11-20T06:00:00-05:00,CAMPO-DEMO-LLANOS.PMO-LACT-01.oil_rate,12000.5,
2026-11-20T06:00:10-05:00,CAMPO-DEMO-LLANOS.PMO-LACT-01.oil_rate,12001.5,good
2026-11-20T11:00:20Z,CAMPO-DEMO-LLANOS.PMO-LACT-01.oil_rate,12002.5,0x00000000
2026-11-20T11:00:30Z,CAMPO-DEMO-LLANOS.PMO-LACT-01.oil_rate,,bad
2026-11-20T11:00:40Z,CAMPO-DEMO-LLANOS.PMO-LACT-01.oil_rate,NaN,bad
2026-11-20T11:00:50Z,CAMPO-DEMO-LLANOS.PMO-LACT-01.oil_rate,NaN,good
2026-11-20T11:01:00Z,CAMPO-DEMO-LLANOS.PMO-LACT-01.oil_rate,inf,
2026-11-20T11:01:10Z,CAMPO-DEMO-LLANOS.PMO-LACT-01.oil_rate,-inf,
2026-11-20T11:01:20Z,CAMPO-DEMO-LLANOS.PMO-LACT-01.oil_rate,99999999,
2999-01-01T00:00:00Z,CAMPO-DEMO-LLANOS.PMO-LACT-01.oil_rate,12000,
2026-11-20T11:01:30Z,CAMPO-DEMO-LLANOS.PMO-NOPE.oil_rate,1,
2026-11-20T06:00:00-05:00,CAMPO-DEMO-LLANOS.PMO-LACT-01.oil_rate,1,
2026-11-20 11:02:00,CAMPO-DEMO-LLANOS.PMO-LACT-01.oil_rate,3,
yesterday,CAMPO-DEMO-LLANOS.PMO-LACT-01.oil_rate,3,
2026-11-20T11:02:10Z,CAMPO-DEMO-LLANOS.PMO-LACT-01.oil_rate,3,maybe
2026-11-20T11:02:20Z
"""


def run_ingest(path: Path, db: Database, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANH_")}
    env.update(ANH_DATABASE_URL=db.url, COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "anh_reporter", "ingest", str(path), *extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


def test_bad_input_is_quarantined_with_reasons(db: Database, tmp_path: Path) -> None:
    with db.connect() as conn:
        load_site_into(conn, load_site(EXAMPLE_SITE), changed_by="test")
    path = tmp_path / "readings.csv"
    path.write_text(CSV)
    proc = run_ingest(path, db)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "readings.csv line 5: value '' is not a number" in proc.stderr
    assert "line 14: time '2026-11-20 11:02:00' has no UTC offset" in proc.stderr
    assert "line 16: quality 'maybe' is not a status code" in proc.stderr
    assert "line 17: expected at least 3 fields, got 1" in proc.stderr
    assert "4 written" in proc.stdout
    with db.connect() as conn:
        rows = conn.execute(
            "SELECT reason, count(*) FROM quarantine GROUP BY reason ORDER BY reason"
        ).fetchall()
        stored = conn.execute("SELECT count(*), count(value), sum(value) FROM telemetry").fetchone()
    assert dict(rows) == {
        "duplicate_in_batch": 1,
        "future": 1,
        "malformed": 5,
        "non_finite": 3,
        "out_of_range": 1,
        "unknown_series": 1,
    }
    # 3 good readings and one Bad NaN marker (stored, NULL value)
    assert stored == (4, 3, 12000.5 + 12001.5 + 12002.5)

    again = run_ingest(path, db)  # replaying the file stores nothing twice
    assert again.returncode == 0, again.stderr
    assert "0 written, 4 duplicate" in again.stdout


def test_bad_header_is_one_line(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("when,what\n1,2\n")
    proc = run_ingest(path, db)
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("error:")
    assert "must name time, value and either series or pmo + variable" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
