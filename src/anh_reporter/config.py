"""Every settings section of a process (environment variables with the ``ANH_`` prefix).

Nested sections read ``ANH_<SECTION>__<NAME>``, e.g. ``ANH_API__JWT_SECRET`` or
``ANH_REPORTS__DELIVERY__HTTP_URL``. :func:`get_settings` loads them once, on demand.
"""

from __future__ import annotations

import os
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


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


class WorkerSettings(BaseModel):
    """The ingest worker's place in the Redis consumer group (``ANH_WORKER__<NAME>``)."""

    consumer: str | None = Field(None, description="Consumer name in the group (default host-pid)")
    claim_idle_ms: int = Field(
        30_000, ge=100, description="Claim entries another worker left unacknowledged this long"
    )
    forget_idle_ms: int = Field(
        600_000,
        ge=100,
        description="Forget consumers holding nothing that have been idle this long",
    )
    shard_affinity: bool = Field(
        True,
        description="Each worker serves its own share of the shards (fields), so two never "
        "write one field's rollups at once; false: every worker reads every shard",
    )


class MetricsSettings(BaseModel):
    """Where a process without an HTTP API serves ``/metrics`` (``ANH_METRICS__<NAME>``)."""

    port: int | None = Field(None, ge=1, le=65_535, description="Serve /metrics on this port")
    host: str = Field("0.0.0.0", description="Listen on this address")  # noqa: S104


class LogSettings(BaseModel):
    """How processes write their logs (``ANH_LOG__<NAME>``)."""

    format: Literal["text", "json"] = Field(
        "text", description="text: readable lines; json: one JSON object per line (Loki)"
    )

    @field_validator("format", mode="before")
    @classmethod
    def _any_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value


class OtelSettings(BaseModel):
    """OpenTelemetry traces, off by default (``ANH_OTEL__<NAME>``).

    Also on when the standard ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set.
    """

    enabled: bool = Field(False, description="Export traces over OTLP/HTTP")
    endpoint: str | None = Field(
        None, description="The OTLP/HTTP collector's base URL (http://host:4318); turns traces on"
    )
    service_name: str | None = Field(
        None, description="service.name of the traces (default anh-reporter-<command>)"
    )
    sample_ratio: float = Field(1.0, ge=0, le=1, description="Share of traces kept")


class StorageSettings(BaseModel):
    """Partitioning and retention (``ANH_STORAGE__<NAME>``)."""

    retention_years: int = Field(5, ge=1, le=100, description="Drop telemetry older than this")
    partitions_ahead: int = Field(4, ge=1, le=104, description="Weekly partitions made ahead")
    use_timescaledb: bool = Field(True, description="Use TimescaleDB where it can be created")
    cold_after_days: int | None = Field(
        None,
        ge=1,
        le=36_500,
        description="Archive weekly partitions that ended this many days ago to Parquet "
        "(None: only `db archive --older-than`)",
    )
    cold_dir: Path | None = Field(None, description="Parquet archive folder (default <data>/cold)")


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
    profile: str = "idp-1.4"
    compress: bool = Field(False, description="Write reports as .json.gz")
    completeness_warning_pct: Decimal = Field(
        Decimal("95"), ge=0, le=100, description="Warn below this flow-time coverage, %"
    )
    property_coverage_pct: Decimal = Field(
        Decimal("95"), ge=0, le=100, description="Warn when a property series covers less, %"
    )
    quality_warning: Decimal = Field(Decimal("60"), ge=0, le=100)
    estimate_approval_pct: Decimal = Field(
        Decimal("5"), ge=0, le=100, description="An estimated share above this needs approval"
    )
    plausibility_band_pct: Decimal = Field(
        Decimal("25"), gt=0, description="Warn when a volume leaves the recent mean by more"
    )
    meter_factor_change_pct: Decimal = Field(
        Decimal("0.25"), gt=0, description="Warn when a proving moves the factor by more"
    )
    allocation_error_severity: Literal["error", "warning"] = Field(
        "warning",
        description="IDP032 (a producing well without a test, volume left unallocated): "
        "'error' blocks signing",
    )
    balance_severity: Literal["error", "warning"] = Field(
        "warning", description="IDP034 (a balance does not close): 'error' blocks signing"
    )
    virtual_meter_severity: Literal["error", "warning"] = Field(
        "warning",
        description="IDP035 (the wells' virtual meters diverge from the PMO): 'error' blocks "
        "signing",
    )
    amendment_materiality_pct: Decimal = Field(
        Decimal("0.1"),
        ge=0,
        description="An amendment changing a volume by more needs a second person's approval",
    )
    report_delay_minutes: int = Field(
        30, ge=0, le=720, description="Run the daily report this long after the day ends"
    )
    misfire_grace_s: int = Field(3600, ge=1)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)


class ApiSettings(BaseModel):
    """What the HTTP API needs beyond the process settings."""

    jwt_secret: SecretStr | None = Field(
        None, description="HMAC key for access tokens (>= 32 chars); required in production"
    )
    access_token_ttl_s: int = Field(900, ge=30, le=86_400, description="Access token lifetime")
    refresh_token_ttl_s: int = Field(
        14 * 86_400, ge=300, le=366 * 86_400, description="Refresh token lifetime"
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed by CORS; empty: CORS off"
    )
    auth_rate_per_minute: int = Field(
        60, ge=1, description="Requests per minute per client on /api/v1/auth/*"
    )
    rate_per_minute: int = Field(
        1200, ge=1, description="Requests per minute per client elsewhere under /api"
    )
    trust_forwarded_for: bool = Field(
        False, description="Key rate limits by X-Forwarded-For (only behind a trusted proxy)"
    )
    max_request_bytes: int = Field(
        1 << 20, ge=1024, description="Largest request body, except ingest"
    )
    max_ingest_bytes: int = Field(
        32 << 20, ge=1024, description="Largest request body on /api/v1/ingest/*"
    )
    cache_ttl_s: float = Field(300.0, ge=0, description="Analytics response cache lifetime")
    cache_max_entries: int = Field(2048, ge=0, description="In-process cache entries (L1)")
    principal_cache_s: float = Field(
        5.0, ge=0, description="How long a request may reuse a user's looked-up grants"
    )
    pool_size: int = Field(10, ge=1, le=200, description="Database connections per process")
    service_pool_size: int = Field(
        4, ge=1, le=50, description="Connections for production, anomaly and report services"
    )
    statement_timeout_ms: int = Field(15_000, ge=100, description="Per-query limit for the API")
    ws_frame_ms: int = Field(250, ge=10, le=10_000, description="WebSocket batching interval")
    ws_queue_batches: int = Field(
        64, ge=1, description="Batches a WebSocket client may lag before it is dropped"
    )
    ws_send_timeout_s: float = Field(5.0, gt=0, description="A send slower than this drops")
    ws_auth_timeout_s: float = Field(
        5.0, gt=0, le=60, description="Wait this long for a WebSocket's first auth message"
    )
    ws_recheck_s: float = Field(
        5.0, gt=0, le=300, description="Re-check an open WebSocket's credentials this often"
    )
    ws_max_per_user: int = Field(
        8, ge=1, le=1000, description="Open WebSockets per user or API key (all processes)"
    )
    login_lockout_after: int = Field(
        5, ge=1, le=100, description="Failed logins of one account before it is locked"
    )
    login_lockout_base_s: float = Field(
        30.0, gt=0, description="First lockout; doubled for each further failure"
    )
    login_lockout_max_s: float = Field(3600.0, gt=0, description="Longest lockout")
    auth_account_rate_per_minute: int = Field(
        10, ge=1, description="Login attempts per minute per account (whatever the client)"
    )
    cache_max_bytes: int = Field(
        64 << 20, ge=0, description="In-process analytics cache (L1) size, bytes"
    )
    export_max_rows: int = Field(
        5_000_000, ge=1, description="Most rows a CSV export may hold (422 above)"
    )
    totp_required_roles: list[str] = Field(
        default_factory=list, description='Roles that must log in with TOTP (e.g. ["admin"])'
    )
    totp_issuer: str = Field("ANH Smart Reporter", min_length=1)
    host: str = Field("127.0.0.1", description="Address `serve` listens on")
    port: int = Field(8000, ge=1, le=65_535, description="Port `serve` listens on")


class SecretsSettings(BaseModel):
    """The key-encryption key (``ANH_SECRETS__<NAME>``): seals secrets kept at rest.

    TOTP secrets, the report signing key, and settings given as sealed values (``anhenc:v1:…``,
    made by ``anh-reporter security seal``) are encrypted with it (AES-256-GCM). Rotation: set
    the new key as ``KEK``, the old one as ``KEK_PREVIOUS``, run ``security rotate-kek``, then
    drop ``KEK_PREVIOUS``.
    """

    kek: SecretStr | None = Field(None, description="Key-encryption key (>= 32 characters)")
    kek_file: Path | None = Field(None, description="Or read it from this file (first line)")
    kek_previous: SecretStr | None = Field(None, description="The previous KEK, while rotating")
    kek_previous_file: Path | None = None


class TlsSettings(BaseModel):
    """TLS of the API (``ANH_TLS__<NAME>``); ``serve --certfile --keyfile`` override these."""

    certfile: Path | None = Field(None, description="PEM certificate chain of the API")
    keyfile: Path | None = Field(None, description="PEM private key of the API")
    hsts_max_age_s: int = Field(31_536_000, ge=0, description="HSTS max-age when TLS is on")
    forwarded_allow_ips: str | None = Field(
        None,
        description="Proxies whose X-Forwarded-Proto/For uvicorn trusts (comma-separated "
        "addresses, or '*'); unset: none",
    )
    behind_tls_proxy: bool = Field(
        False, description="A trusted proxy terminates TLS in front of the API (send HSTS)"
    )


class SecurityTargets(BaseModel):
    """What ``security assess`` measures against (``ANH_SECURITY__<NAME>``)."""

    target_sl: int = Field(2, ge=1, le=4, description="IEC 62443 target security level SL-T")
    backups_configured: bool = Field(
        False, description="Database backups are set up and tested (declared by the operator)"
    )


class Settings(BaseSettings):
    """Everything a process needs to know about its environment."""

    model_config = SettingsConfigDict(
        env_prefix="ANH_", env_nested_delimiter="__", env_file=None, extra="ignore"
    )

    environment: Literal["development", "production"] = "development"
    database_url: str | None = Field(
        None, description="PostgreSQL URL; unset: start a private embedded PostgreSQL"
    )
    database_owner_url: str | None = Field(
        None,
        description="URL of the owner role that runs migrations and `db roles`; unset: "
        "ANH_DATABASE_URL (which should then name the application role, see docs/security.md)",
    )
    database_app_role: str | None = Field(
        None, description="The application role: `db migrate` re-applies its grants after"
    )
    database_read_url: str | None = Field(
        None,
        description="URL of a streaming replica for read-only queries (history, analytics, "
        "exports); unset: ANH_DATABASE_URL",
    )
    database_direct_url: str | None = Field(
        None,
        description="URL of PostgreSQL itself, never through a transaction pooler: the "
        "scheduler's leader lock; unset: ANH_DATABASE_URL",
    )
    database_pooled: bool = Field(
        False,
        description="ANH_DATABASE_URL and ANH_DATABASE_READ_URL go through PgBouncer in "
        "transaction mode: no server-side prepared statements, no session settings",
    )
    data_dir: Path = Field(default_factory=_default_data_dir)
    redis_url: str | None = None
    redis_prefix: str = Field("anh", description="Prefix of the bus's Redis keys")
    site_file: Path | None = None
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    otel: OtelSettings = Field(default_factory=OtelSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    reports: ReportSettings = Field(default_factory=ReportSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    secrets: SecretsSettings = Field(default_factory=SecretsSettings)
    tls: TlsSettings = Field(default_factory=TlsSettings)
    security: SecurityTargets = Field(default_factory=SecurityTargets)

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

    @property
    def keys_dir(self) -> Path:
        """Where the report signing key lives."""
        return self.reports.keys_dir or self.data_dir / "keys"

    @property
    def reports_dir(self) -> Path:
        """Where signed reports are written."""
        return self.reports.reports_dir or self.data_dir / "reports"

    @property
    def cold_dir(self) -> Path:
        """Where archived telemetry partitions are kept as Parquet files."""
        return self.storage.cold_dir or self.data_dir / "cold"

    @property
    def profile_dirs(self) -> tuple[Path, ...]:
        """Extra report profile directories (the operator's), after the built-in one."""
        return (self.reports.profiles_dir or self.data_dir / "profiles",)

    @property
    def drop_dir(self) -> Path:
        """The report file-drop directory."""
        return self.reports.delivery.drop_dir or self.data_dir / "outbox"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process settings, read from the environment once."""
    return Settings()
