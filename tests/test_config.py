"""Settings come from ANH_ variables, nested with __, read only when asked for."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from anh_reporter.config import Settings, get_settings


def test_prefix_and_nesting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ANH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ANH_INGEST__FLUSH_ROWS", "12345")
    monkeypatch.setenv("ANH_STORAGE__RETENTION_YEARS", "7")
    settings = Settings()
    assert settings.data_dir == tmp_path
    assert settings.embedded_pgdata == tmp_path / "pgdata"
    assert settings.ingest.flush_rows == 12345
    assert settings.storage.retention_years == 7
    assert settings.storage.partitions_ahead == 4


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANH_DATABASE_URL", raising=False)
    settings = Settings()
    assert settings.database_url is None
    assert settings.storage.retention_years == 5
    assert settings.ingest.future_tolerance_s == 300
    assert settings.ingest.flush_deadline_ms == 200


def test_cached_and_read_on_demand(monkeypatch: pytest.MonkeyPatch) -> None:
    get_settings.cache_clear()
    monkeypatch.setenv("ANH_REDIS_URL", "redis://example:6379/0")
    first = get_settings()
    assert first is get_settings()
    assert first.redis_url == "redis://example:6379/0"
    get_settings.cache_clear()


def test_production_refuses_embedded_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANH_DATABASE_URL", raising=False)
    monkeypatch.setenv("ANH_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="ANH_DATABASE_URL must be set"):
        Settings()


def test_bad_value_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANH_INGEST__FLUSH_ROWS", "0")
    with pytest.raises(ValidationError, match="flush_rows"):
        Settings()
