"""Gather the assessment's :class:`~anh_reporter.security.assessment.Facts` from the live
settings, the key directory and the database (as the role the application connects with)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from pydantic import SecretStr

from anh_reporter.config import Settings
from anh_reporter.connectors.opcua.config import load_config
from anh_reporter.reports import chain, signing
from anh_reporter.secretbox import box_from, is_sealed
from anh_reporter.security.assessment import Facts, OpcUaEndpoint
from anh_reporter.storage import roles

_DEFAULT_EMAILS = ("admin@%", "demo@%", "test@%", "root@%")


def _sealed(secret: SecretStr | None) -> bool:
    return secret is not None and is_sealed(secret.get_secret_value())


def settings_facts(settings: Settings) -> dict[str, Any]:
    """What the settings (and the key directory) alone say."""
    api, tls, d, alerts = settings.api, settings.tls, settings.reports.delivery, settings.alerts
    credential_settings = [d.bearer_token, d.oauth_client_secret, alerts.smtp_password]
    return {
        "production": settings.environment == "production",
        "api_tls": bool(tls.certfile and tls.keyfile) or tls.behind_tls_proxy,
        "api_public_bind": api.host not in ("127.0.0.1", "localhost", "::1"),
        "jwt_secret_configured": api.jwt_secret is not None,
        "jwt_secret_sealed": _sealed(api.jwt_secret),
        "access_token_ttl_s": api.access_token_ttl_s,
        "refresh_token_ttl_s": api.refresh_token_ttl_s,
        "auth_rate_per_minute": api.auth_rate_per_minute,
        "rate_per_minute": api.rate_per_minute,
        "cors_any_origin": "*" in api.cors_origins,
        "kek_configured": box_from(settings.secrets) is not None,
        "signing_key_sealed": signing.key_is_sealed(settings.keys_dir),
        "plain_delivery_secrets": sum(
            1 for s in credential_settings if s is not None and not _sealed(s)
        ),
        "backups_configured": settings.security.backups_configured,
        "alerts_configured": bool(alerts.webhook_url or alerts.smtp_host),
    }


def database_facts(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """What the database says: accounts, MFA, API keys, the report chain, role separation."""
    users: dict[str, int] = {}
    mfa: dict[str, int] = {}
    for role, n, with_mfa in conn.execute(
        "SELECT role, count(*), count(*) FILTER (WHERE totp_enabled) FROM users "
        "WHERE NOT disabled GROUP BY role"
    ).fetchall():
        users[str(role)], mfa[str(role)] = int(n), int(with_mfa)
    row = conn.execute(
        "SELECT count(*) FILTER (WHERE last_login_at IS NULL), "
        "count(*) FILTER (WHERE email LIKE ANY (%s)), "
        "count(*) FILTER (WHERE totp_secret IS NOT NULL AND totp_secret NOT LIKE 'anhenc:%%') "
        "FROM users WHERE NOT disabled",
        (list(_DEFAULT_EMAILS),),
    ).fetchone()
    keys = conn.execute(
        "SELECT count(*) FILTER (WHERE expires_at IS NULL), "
        "count(*) FILTER (WHERE field_ids IS NULL OR cardinality(scopes) >= 5) FROM api_keys "
        "WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())"
    ).fetchone()
    audit = chain.audit(conn)
    separation = roles.separation(conn)
    return {
        "users_by_role": users,
        "mfa_by_role": mfa,
        "never_logged_in": int(row[0]) if row else 0,
        "default_accounts": int(row[1]) if row else 0,
        "plain_totp_secrets": int(row[2]) if row else 0,
        "api_keys_without_expiry": int(keys[0]) if keys else 0,
        "api_keys_broad": int(keys[1]) if keys else 0,
        "audit_chain_ok": audit.ok,
        "audit_chain_versions": audit.versions,
        "db_role_separated": separation.separated,
        "db_role": separation.role,
    }


def opcua_facts(paths: list[Path]) -> tuple[OpcUaEndpoint, ...]:
    """The security of each OPC UA tag map (the connector's configuration files)."""
    out = []
    for path in paths:
        cfg = load_config(path)
        out.append(
            OpcUaEndpoint(
                cfg.name, cfg.endpoint, cfg.security.mode, cfg.security.trust_dir is not None
            )
        )
    return tuple(out)


def gather(
    settings: Settings, conn: psycopg.Connection[Any] | None, opcua: list[Path] | None = None
) -> Facts:
    """Every fact: settings, then the database when ``conn`` is given, then OPC UA maps."""
    values = settings_facts(settings)
    if conn is not None:
        values |= database_facts(conn)
    return Facts(**values, opcua=opcua_facts(opcua or []))
