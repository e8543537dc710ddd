"""Delivering a signed version (file drop, HTTP upload, manual download); the receiver's verdict."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from anh_reporter.config import ReportSettings
from anh_reporter.observability.metrics import (
    raise_to,
    report_deliveries,
    report_last_day_end_timestamp,
)
from anh_reporter.production.config import load_field
from anh_reporter.reports.delivery import (
    BearerAuth,
    DeliveryChannel,
    DeliveryFailed,
    FileDropChannel,
    HttpUploadChannel,
    ManualDownloadChannel,
    OAuth2ClientCredentials,
    Outgoing,
)
from anh_reporter.reports.errors import ReportError
from anh_reporter.reports.model import report_id
from anh_reporter.reports.records import envelope_of, signed_versions
from anh_reporter.secretbox import reveal_setting
from anh_reporter.storage import audit_log
from anh_reporter.storage.database import returned

Conn = psycopg.Connection[Any]
DELIVERY_OUTCOMES = ("delivered", "accepted", "rejected", "failed")
"""``anh_report_deliveries_total``'s ``status`` values."""


@dataclass(frozen=True)
class Submission:
    """The outcome of a submit."""

    report_id: str
    version: int
    channel: str
    target: str
    status: str
    message: str | None
    receipt: dict[str, Any]


def channel_from_settings(options: ReportSettings, drop_dir: Path) -> DeliveryChannel:
    """The configured delivery channel (``drop_dir`` for the file and manual channels)."""
    d = options.delivery
    if d.channel == "file":
        return FileDropChannel(drop_dir, compress=options.compress)
    if d.channel == "manual":
        return ManualDownloadChannel(drop_dir)
    if not d.http_url:
        raise ReportError("delivery channel 'http' needs ANH_REPORTS__DELIVERY__HTTP_URL")
    auth: BearerAuth | OAuth2ClientCredentials | None = None
    if d.auth == "bearer":
        if d.bearer_token is None:
            raise ReportError("auth 'bearer' needs ANH_REPORTS__DELIVERY__BEARER_TOKEN")
        auth = BearerAuth(reveal_setting(d.bearer_token, "reports.delivery.bearer_token") or "")
    elif d.auth == "oauth2":
        if not (d.oauth_token_url and d.oauth_client_id and d.oauth_client_secret):
            raise ReportError(
                "auth 'oauth2' needs OAUTH_TOKEN_URL, OAUTH_CLIENT_ID and OAUTH_CLIENT_SECRET "
                "(ANH_REPORTS__DELIVERY__...)"
            )
        auth = OAuth2ClientCredentials(
            d.oauth_token_url,
            d.oauth_client_id,
            reveal_setting(d.oauth_client_secret, "reports.delivery.oauth_client_secret") or "",
            d.oauth_scope,
        )
    return HttpUploadChannel(
        d.http_url,
        auth=auth,
        max_attempts=d.max_attempts,
        backoff_s=d.backoff_s,
        max_backoff_s=d.max_backoff_s,
        timeout_s=d.timeout_s,
    )


def submit(
    conn: Conn,
    *,
    field_code: str,
    day: dt.date,
    channel: DeliveryChannel,
    created_by: str,
    version: int | None = None,
) -> Submission:
    """Deliver the latest (or given) signed version and record the receipt and the status."""
    config = load_field(conn, field_code)
    for outcome in DELIVERY_OUTCOMES:  # at 0 from now on: increase() sees the first of each
        report_deliveries.labels(str(config.id), outcome)
    signed = signed_versions(conn, config.id, day)
    if version is not None:
        signed = [r for r in signed if r.version == version]
    if not signed:
        raise ReportError(f"{field_code} {day} has no signed report{_v(version)} to submit")
    vid, number, status, sha = (
        signed[-1].version_id,
        signed[-1].version,
        signed[-1].status,
        signed[-1].sha256,
    )
    if status in ("accepted",):
        raise ReportError(f"{report_id(field_code, day)} v{number} was already accepted")
    row = returned(
        conn.execute(
            "SELECT v.canonical, v.signature, v.key_id, v.signed_at, k.public_key "
            "FROM report_versions v JOIN signing_keys k ON k.key_id = v.key_id WHERE v.id = %s",
            (vid,),
        ).fetchone()
    )
    data, signature, key_id, signed_at, public_key = row
    rid = report_id(field_code, day)
    item = Outgoing(
        report_id=rid,
        version=number,
        stem=f"{rid}-v{number}",
        data=bytes(data),
        envelope=envelope_of(
            key_id=key_id,
            public_key=public_key,
            sha256=sha,
            signature=signature,
            signed_at=signed_at,
        ),
        idempotency_key=f"{rid}-v{number}-{sha[:16]}",
    )
    delivery = returned(
        conn.execute(
            "INSERT INTO deliveries (version_id, channel, target, idempotency_key, status, "
            "created_by) VALUES (%s, %s, %s, %s, 'pending', %s) RETURNING id",
            (vid, channel.name, channel.target, item.idempotency_key, created_by),
        ).fetchone()
    )
    conn.commit()
    try:
        receipt = channel.deliver(item)
    except DeliveryFailed as exc:
        conn.execute(
            "UPDATE deliveries SET status = 'failed', attempts = %s, http_status = %s, "
            "message = %s, finished_at = now() WHERE id = %s",
            (exc.attempts, exc.http_status, str(exc), delivery[0]),
        )
        conn.commit()
        report_deliveries.labels(str(config.id), "failed").inc()
        raise
    new_status = {"delivered": "submitted", "accepted": "accepted", "rejected": "rejected"}[
        receipt.status
    ]
    with conn.transaction():
        conn.execute(
            "UPDATE deliveries SET status = %s, attempts = %s, http_status = %s, receipt = %s, "
            "message = %s, finished_at = now() WHERE id = %s",
            (
                receipt.status,
                receipt.attempts,
                receipt.http_status,
                Jsonb(receipt.body),
                receipt.message,
                delivery[0],
            ),
        )
        conn.execute(
            "UPDATE report_versions SET status = %s, status_message = %s, updated_at = now() "
            "WHERE id = %s",
            (new_status, receipt.message, vid),
        )
    conn.commit()
    report_deliveries.labels(str(config.id), receipt.status).inc()
    if new_status != "rejected":
        end = config.day(day).end.timestamp()
        raise_to(report_last_day_end_timestamp, end, str(config.id), "submitted")
    return Submission(
        rid, number, channel.name, channel.target, new_status, receipt.message, receipt.body
    )


def _v(version: int | None) -> str:
    return "" if version is None else f" version {version}"


def acknowledge(
    conn: Conn,
    *,
    field_code: str,
    day: dt.date,
    accepted: bool,
    message: str | None,
    actor: str,
    version: int | None = None,
) -> str:
    """Record the receiver's verdict on a submitted version (manual channel, late answers)."""
    config = load_field(conn, field_code)
    signed = signed_versions(conn, config.id, day)
    if version is not None:
        signed = [r for r in signed if r.version == version]
    if not signed:
        raise ReportError(f"{field_code} {day} has no signed report{_v(version)}")
    vid, number, status = signed[-1].version_id, signed[-1].version, signed[-1].status
    if status not in ("submitted", "signed"):
        raise ReportError(f"{report_id(field_code, day)} v{number} is {status}, not submitted")
    new = "accepted" if accepted else "rejected"
    conn.execute(
        "UPDATE report_versions SET status = %s, status_message = %s, updated_at = now() "
        "WHERE id = %s",
        (new, message, vid),
    )
    audit_log.record(
        conn, actor=actor, action=f"report.{new}", target=f"{field_code}/{day}/v{number}",
        details={"message": message}, field_code=field_code,
    )  # fmt: skip
    conn.commit()
    return new
