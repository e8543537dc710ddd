"""Process settings (environment variables with the ``ANH_`` prefix), loaded on demand."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from anh_reporter.api.settings import ApiSettings
from anh_reporter.reports.settings import ReportSettings


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "anh-reporter"


class IngestSettings(BaseModel):
    """Validation and writer tuning (``ANH_INGEST__<NAME>``)."""

    future_tolerance_s: float = Field(300.0, ge=0, description="Readings later than now + this")
    flush_rows: int = Field(10_000, ge=1, description="Flush the writer at this many rows")
    flush_deadline_ms: float = Field(200.0, gt=0, description="Or when the oldest row is this old")
    spool_max_bytes: int = Field(1 << 30, ge=1 << 20, description="Store-and-forward spool cap")
    spool_alarm_ratio: float = Field(0.8, gt=0, le=1, description="Alarm above this fill ratio")


class StorageSettings(BaseModel):
    """Partitioning and retention (``ANH_STORAGE__<NAME>``)."""

    retention_years: int = Field(5, ge=1, le=100, description="Drop telemetry older than this")
    partitions_ahead: int = Field(4, ge=1, le=104, description="Weekly partitions made ahead")
    use_timescaledb: bool = Field(True, description="Use TimescaleDB where it can be created")


class AlertSettings(BaseModel):
    """Alert channels and limits (``ANH_ALERTS__<NAME>``)."""

    webhook_url: str | None = Field(None, description="POST alerts as JSON to this URL")
    smtp_host: str | None = Field(None, description="Send alert e-mails through this server")
    smtp_port: int = Field(25, ge=1, le=65_535)
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    mail_from: str = "anh-reporter@localhost"
    mail_to: list[str] = Field(default_factory=list)
    min_severity: Literal["INFO", "WARNING", "CRITICAL"] = "WARNING"
    burst: int = Field(10, ge=1, description="Alerts a channel may send at once")
    per_hour: float = Field(60.0, gt=0, description="Alerts a channel may send per hour")


class Settings(BaseSettings):
    """Everything a process needs to know about its environment."""

    model_config = SettingsConfigDict(
        env_prefix="ANH_", env_nested_delimiter="__", env_file=None, extra="ignore"
    )

    environment: Literal["development", "production"] = "development"
    database_url: str | None = Field(
        None, description="PostgreSQL URL; unset: start a private embedded PostgreSQL"
    )
    data_dir: Path = Field(default_factory=_default_data_dir)
    redis_url: str | None = None
    site_file: Path | None = None
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    reports: ReportSettings = Field(default_factory=ReportSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Settings:
        if self.environment == "production" and self.database_url is None:
            raise ValueError(
                "ANH_DATABASE_URL must be set when ANH_ENVIRONMENT=production "
                "(the embedded PostgreSQL is for demos and development)"
            )
        return self

    @property
    def embedded_pgdata(self) -> Path:
        """Where the embedded PostgreSQL keeps its cluster."""
        return self.data_dir / "pgdata"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process settings, read from the environment once."""
    return Settings()
