"""``manual add`` of the field's oil consumption and losses: the balance it gives, one-line errors.

The day of oil_site.oil_day (produced 1,000.00, dispatched 980.00, no tank; tolerance 5.00):
consumption 12.50 leaves 1,000.00 − 992.50 = 7.50 > 5.00 (open); losses 6.00 then leaves
7.50 − 6.00 = 1.50 ≤ 5.00 (closes).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from anh_reporter import cli
from anh_reporter.config import get_settings
from anh_reporter.production.daily import compute_day
from anh_reporter.production.manual_cli import manual_app
from anh_reporter.storage.database import Database

from .helpers import DAY_D, FIELD
from .oil_site import oil_day


@pytest.fixture
def cli_db(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("ANH_DATABASE_URL", db.url)
    get_settings.cache_clear()
    with db.connect() as conn:
        oil_day(conn)
        compute_day(conn, FIELD, DAY_D)
    yield db
    get_settings.cache_clear()


BASE = ["add", "--field", FIELD, "--day", DAY_D.isoformat(), "--by", "ana"]


def test_manual_add_prints_the_oil_balance(cli_db: Database) -> None:
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(manual_app, [*BASE, *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return " ".join(result.output.split())

    out = run("--kind", "oil_consumption", "--value", "12.50", "--reason", "heater fuel")
    assert f"oil_consumption = 12.50 bbl for {FIELD} on 2026-02-02 by ana" in out
    assert (
        "oil balance: produced 1000.00 bbl = dispatched 980.00, stock_change 0, consumption "
        "12.50, losses 0 + residual 7.50 bbl; tolerance 5.00 bbl: does not close"
    ) in out
    out = run("--kind", "oil_losses", "--value", "6.00", "--unit", "bbl", "--reason", "spill")
    assert "losses 6.00 + residual 1.50 bbl; tolerance 5.00 bbl: closes" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--kind", "oil_losses", "--value", "-3", "--reason", "spill"],
            "error: oil_losses -3 bbl is outside [0, 100000] bbl",
        ),
        (
            ["--kind", "oil_losses", "--value", "3", "--unit", "m3", "--reason", "spill"],
            "error: oil_losses: unit 'm3' is not accepted; enter the value in 'bbl'",
        ),
        (
            ["--kind", "oil_consumption", "--value", "3", "--pmo", "PMO-OIL", "--reason", "fuel"],
            f"error: oil_consumption is entered for field {FIELD} as a whole, not for a PMO or a "
            "well (PMO 'PMO-OIL' given): leave the PMO and the well out",
        ),
    ],
)
def test_a_refused_entry_is_one_line(
    cli_db: Database, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["manual", *BASE, *args])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.strip() == message, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
