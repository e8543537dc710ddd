"""Report settings: where keys and reports live, the profile, the rules' thresholds, delivery.

Meant to be nested in the process :class:`~anh_reporter.config.Settings` as ``reports``
(environment ``ANH_REPORTS__<NAME>``, e.g. ``ANH_REPORTS__DELIVERY__HTTP_URL``);
:func:`report_settings` reads it from there, or uses the defaults until it is.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field, SecretStr

if TYPE_CHECKING:  # config.py nests ReportSettings: no import cycle at run time
    from anh_reporter.config import Settings


class DeliverySettings(BaseModel):
    """How a signed report reaches the receiver (``ANH_REPORTS__DELIVERY__<NAME>``)."""

    channel: Literal["file", "http", "manual"] = "file"
    drop_dir: Path | None = Field(None, description="File drop directory (default: <data>/outbox)")
    http_url: str | None = Field(None, description="Upload endpoint (POST) for the http channel")
    auth: Literal["none", "bearer", "oauth2"] = "none"
    bearer_token: SecretStr | None = None
    oauth_token_url: str | None = None
    oauth_client_id: str | None = None
    oauth_client_secret: SecretStr | None = None
    oauth_scope: str | None = None
    max_attempts: int = Field(5, ge=1, le=20)
    backoff_s: float = Field(2.0, ge=0, le=300, description="First retry delay, doubled each time")
    max_backoff_s: float = Field(60.0, ge=0, le=3600)
    timeout_s: float = Field(30.0, gt=0, le=600)


class ReportSettings(BaseModel):
    """Report generation and signing (``ANH_REPORTS__<NAME>``)."""

    keys_dir: Path | None = Field(None, description="Signing key directory (default <data>/keys)")
    reports_dir: Path | None = Field(None, description="Signed reports (default <data>/reports)")
    profiles_dir: Path | None = Field(None, description="Extra profiles (default <data>/profiles)")
    profile: str = "idp-1.0"
    compress: bool = Field(False, description="Write reports as .json.gz")
    completeness_warning_pct: Decimal = Field(Decimal("95"), ge=0, le=100)
    completeness_floor_pct: Decimal = Field(Decimal("50"), ge=0, le=100)
    quality_warning: Decimal = Field(Decimal("60"), ge=0, le=100)
    report_delay_minutes: int = Field(
        30, ge=0, le=720, description="Run the daily report this long after the day ends"
    )
    misfire_grace_s: int = Field(3600, ge=1)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)


def report_settings(settings: Settings) -> ReportSettings:
    """The ``reports`` section of the process settings (defaults until it is added there)."""
    value = getattr(settings, "reports", None)
    return value if isinstance(value, ReportSettings) else ReportSettings()


def keys_dir(settings: Settings) -> Path:
    """Where the signing key lives."""
    return report_settings(settings).keys_dir or settings.data_dir / "keys"


def reports_dir(settings: Settings) -> Path:
    """Where signed reports are written."""
    return report_settings(settings).reports_dir or settings.data_dir / "reports"


def profile_dirs(settings: Settings) -> tuple[Path, ...]:
    """Extra profile directories (the operator's), after the built-in one."""
    return (report_settings(settings).profiles_dir or settings.data_dir / "profiles",)


def drop_dir(settings: Settings) -> Path:
    """The file drop directory."""
    return report_settings(settings).delivery.drop_dir or settings.data_dir / "outbox"
