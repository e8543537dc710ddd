"""API settings (``ANH_API__<NAME>``): token secret and lifetimes, CORS, rate limits, sizes.

The JWT secret must be a real secret outside development: :func:`jwt_secret` refuses to start a
production process without one, and in development generates one and keeps it under
``Settings.data_dir`` so tokens survive a restart.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from anh_reporter.errors import ConfigError

if TYPE_CHECKING:  # config.py will import ApiSettings from here: no import cycle at run time
    from anh_reporter.config import Settings

MIN_SECRET_CHARS = 32
PLACEHOLDER_SECRETS = frozenset(
    {"changeme", "change-me", "change_me", "secret", "jwt-secret", "please-change", "dev", "test"}
)
SECRET_FILE = "api_jwt_secret"


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
    totp_issuer: str = Field("ANH Smart Reporter", min_length=1)
    host: str = Field("127.0.0.1", description="Address `serve` listens on")
    port: int = Field(8000, ge=1, le=65_535, description="Port `serve` listens on")


class _ApiEnvironment(ApiSettings, BaseSettings):
    """ApiSettings read from ``ANH_API__*`` while ``Settings`` has no ``api`` member."""

    model_config = SettingsConfigDict(env_prefix="ANH_API__", extra="ignore")


def api_settings(settings: Settings) -> ApiSettings:
    """``settings.api`` when the process settings carry it, else read from the environment."""
    nested = getattr(settings, "api", None)
    if isinstance(nested, ApiSettings):
        return nested
    return ApiSettings.model_validate(_ApiEnvironment().model_dump())


def jwt_secret(settings: Settings, api: ApiSettings) -> str:
    """The token signing key: configured, or (development only) generated and kept on disk."""
    if api.jwt_secret is not None:
        value = api.jwt_secret.get_secret_value()
        if value.strip().lower() in PLACEHOLDER_SECRETS or len(value) < MIN_SECRET_CHARS:
            if settings.environment == "production":
                raise ConfigError(
                    f"ANH_API__JWT_SECRET is a placeholder or shorter than {MIN_SECRET_CHARS} "
                    f"characters ({len(value)}); set a random secret, e.g. "
                    "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
                )
        else:
            return value
    if settings.environment == "production":
        raise ConfigError(
            "ANH_API__JWT_SECRET must be set when ANH_ENVIRONMENT=production (>= "
            f"{MIN_SECRET_CHARS} random characters)"
        )
    return _development_secret(settings.data_dir / SECRET_FILE)


def _development_secret(path: Path) -> str:
    try:
        existing = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        existing = ""
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the development JWT secret ({exc})") from None
    if len(existing) >= MIN_SECRET_CHARS:
        return existing
    value = secrets.token_urlsafe(48)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written with 0600 from the start: the key signs every access token.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(value + "\n")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write the development JWT secret ({exc})") from None
    return value
