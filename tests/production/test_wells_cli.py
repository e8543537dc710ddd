"""``anh-reporter wells``: tests, downtime, status and hours typed at the command line."""

from __future__ import annotations

from rich.console import Console
from typer.testing import CliRunner

from anh_reporter.production.config import load_field
from anh_reporter.production.daily import compute_day
from anh_reporter.production.wells_cli import allocation_table, wells_app
from anh_reporter.storage.database import Database

from .helpers import DAY_D, FIELD
from .wells_site import load_wells_site


def test_wells_commands(cli_db: Database) -> None:
    with cli_db.connect() as conn:
        load_wells_site(conn)
        conn.commit()
    runner = CliRunner()
    base = ["--field", FIELD, "--well", "W-2"]

    def run(*args: str) -> str:
        result = runner.invoke(wells_app, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return " ".join(result.output.split())

    out = run(
        "test", *base, "--day", "2026-02-01", "--duration", "12", "--oil", "500",
        "--gas", "500", "--water", "100", "--tested-by", "Ing. Pruebas", "--by", "tester",
    )  # fmt: skip
    assert out.startswith("well test of W-2 on 2026-02-01 #")
    assert "500" in run("tests", *base)
    out = run(
        "downtime", *base, "--from", "2026-02-02T11:00", "--to", "2026-02-02T13:00",
        "--cause", "flowline", "--by", "tester",
    )  # fmt: skip
    assert out.startswith("downtime of W-2 (flowline) #")
    assert "status of W-2: workover" in run(
        "status", *base, "--at", "2026-02-01T10:00", "--status", "workover", "--by", "tester"
    )
    assert "W-2 20.00 h on 2026-02-02" in run(
        "hours", *base, "--day", "2026-02-02", "--hours", "20", "--reason", "sheet"
    )
    assert "allocation 2026-02-02" in run("day", "--field", FIELD, "--day", "2026-02-02")
    # A day never computed: one line that says so, not two empty tables.
    never = runner.invoke(wells_app, ["day", "--field", FIELD, "--day", "2026-02-20"])
    assert never.exit_code != 0 and str(never.exception).startswith(
        "no well allocation stored for CAMPO-TEST on 2026-02-20: the day has not been computed"
    )
    with cli_db.connect() as conn:
        compute_day(conn, FIELD, DAY_D)
        field_id = load_field(conn, FIELD).id
        wide = Console(width=300, record=True)
        wide.print(allocation_table(conn, field_id, DAY_D))
    table = " ".join(wide.export_text().replace("│", " ").split())
    # W-2 is in workover with 20 h typed by hand, its test 1 day old, 2 h down (flowline).
    assert "W-2 workover 20.00 2026-02-01 1" in table
    assert "status_conflict" in table
