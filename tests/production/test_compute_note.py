"""`production compute` never says "figures unchanged" of a signed day whose wells moved."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from anh_reporter.config import get_settings
from anh_reporter.production.cli import app as production_app
from anh_reporter.production.manual import add_entry
from anh_reporter.storage.database import Database

from ..reports.helpers import context, generate
from .helpers import DAY_D, FIELD, prove_meters
from .wells_site import wells_day


def _compute(db: Database, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ANH_DATABASE_URL", db.url)
    get_settings.cache_clear()
    try:
        args = ["compute", "--field", FIELD, "--day", str(DAY_D)]
        result = CliRunner().invoke(production_app, args, env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        return " ".join(result.output.split()[-40:])  # the note after the figures table
    finally:
        get_settings.cache_clear()


def test_a_signed_day_whose_wells_moved_is_not_called_unchanged(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.connect() as conn:
        wells_day(conn)
        prove_meters(conn)
        generate(conn, context(tmp_path))
    assert _compute(db, monkeypatch).endswith("figures unchanged")  # nothing moved since signed
    with db.connect() as conn:
        # W-2's hours corrected from 24 to 20 and not yet computed: its PMO's volume stays,
        # its share of the oil does not.
        add_entry(
            conn, field_code=FIELD, day=DAY_D, kind="well_hours_on", value="20",
            well_code="W-2", entered_by="test", reason="parte corregido", recompute=False,
        )  # fmt: skip
        conn.commit()
    note = _compute(db, monkeypatch)
    assert "figures unchanged" not in note
    assert "the PMOs' figures are unchanged" in note and "needs an amendment" in note
