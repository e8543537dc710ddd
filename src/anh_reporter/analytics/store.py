"""The anomalies and models tables: save with de-duplication, list, acknowledge, close.

Every function takes the connection and keyword arguments, and runs in its own transaction (a
savepoint inside the caller's). An anomaly episode is one row: saving an anomaly whose
``dedup_key`` is already stored widens that row's window and keeps the worst score, severity
and the explanation of the worst point, so re-running a detector over the same data, or an
episode reported again as it goes on, adds nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import psycopg
from psycopg.types.json import Jsonb

from anh_reporter.analytics.records import Anomaly, Severity
from anh_reporter.domain.timeutil import from_us, to_us
from anh_reporter.errors import AnhError
from anh_reporter.storage.database import returned

if TYPE_CHECKING:
    from anh_reporter.analytics.anomaly import PmoModel


class AnomalyStatus(StrEnum):
    """Where an anomaly is in its review: open, acknowledged (someone looks at it), closed."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


class AnomalyNotFound(AnhError):
    """No anomaly has that id."""


class AnomalyStateError(AnhError):
    """The anomaly's status does not allow the change asked for."""


@dataclass(frozen=True)
class SavedAnomaly:
    """The row an anomaly went to, and whether the row is new (False: an episode went on)."""

    id: int
    created: bool


@dataclass(frozen=True)
class StoredAnomaly:
    """An anomaly as stored, with its review status."""

    id: int
    anomaly: Anomaly
    status: AnomalyStatus
    acknowledged_by: str | None
    acknowledged_at: dt.datetime | None
    closed_by: str | None
    closed_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


_SEVERITY_ORDER = "ARRAY['INFO', 'WARNING', 'CRITICAL']"

_UPSERT = f"""
INSERT INTO anomalies AS a (field_id, series_id, pmo_id, window_start, window_end, score,
                            severity, detector, model_version, explanation, dedup_key)
VALUES (%(field_id)s, %(series_id)s, %(pmo_id)s, %(window_start)s, %(window_end)s, %(score)s,
        %(severity)s, %(detector)s, %(model_version)s, %(explanation)s, %(dedup_key)s)
ON CONFLICT (dedup_key) DO UPDATE SET
    window_start = least(a.window_start, excluded.window_start),
    window_end = greatest(a.window_end, excluded.window_end),
    explanation = CASE WHEN excluded.score > a.score THEN excluded.explanation
                       ELSE a.explanation END,
    score = greatest(a.score, excluded.score),
    severity = CASE WHEN array_position({_SEVERITY_ORDER}, excluded.severity)
                         > array_position({_SEVERITY_ORDER}, a.severity)
                    THEN excluded.severity ELSE a.severity END,
    updated_at = now()
RETURNING id, (xmax = 0) AS created
"""  # noqa: S608 - column list is a module constant

_COLUMNS = """
id, field_id, series_id, pmo_id, window_start, window_end, score, severity, detector,
model_version, explanation, status, acknowledged_by, acknowledged_at, closed_by, closed_at,
created_at, updated_at
"""


def save_anomalies(
    conn: psycopg.Connection[Any], *, anomalies: Sequence[Anomaly]
) -> list[SavedAnomaly]:
    """Insert new episodes and widen the rows of known ones (same ``dedup_key``)."""
    saved = []
    with conn.transaction():
        for a in anomalies:
            row = returned(
                conn.execute(
                    _UPSERT,
                    {
                        "field_id": a.field_id,
                        "series_id": a.series_id,
                        "pmo_id": a.pmo_id,
                        "window_start": from_us(a.window_start_us),
                        "window_end": from_us(a.window_end_us),
                        "score": a.score,
                        "severity": a.severity.value,
                        "detector": a.detector,
                        "model_version": a.model_version,
                        "explanation": Jsonb(a.explanation, dumps=_dumps),
                        "dedup_key": a.dedup_key,
                    },
                ).fetchone()
            )
            saved.append(SavedAnomaly(int(row[0]), bool(row[1])))
    return saved


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()


def _stored(row: tuple[Any, ...]) -> StoredAnomaly:
    (
        id_,
        field_id,
        series_id,
        pmo_id,
        window_start,
        window_end,
        score,
        severity,
        detector,
        model_version,
        explanation,
        status,
        acknowledged_by,
        acknowledged_at,
        closed_by,
        closed_at,
        created_at,
        updated_at,
    ) = row
    anomaly = Anomaly(
        field_id=field_id,
        series_id=series_id,
        pmo_id=pmo_id,
        window_start_us=to_us(window_start),
        window_end_us=to_us(window_end),
        score=score,
        severity=Severity(severity),
        detector=detector,
        explanation=explanation,
        model_version=model_version,
    )
    return StoredAnomaly(
        id=id_,
        anomaly=anomaly,
        status=AnomalyStatus(status),
        acknowledged_by=acknowledged_by,
        acknowledged_at=acknowledged_at,
        closed_by=closed_by,
        closed_at=closed_at,
        created_at=created_at,
        updated_at=updated_at,
    )


def get_anomaly(conn: psycopg.Connection[Any], *, anomaly_id: int) -> StoredAnomaly | None:
    """One anomaly by id, or None."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM anomalies WHERE id = %s", (anomaly_id,)).fetchone()  # noqa: S608 - column list is a module constant
    return None if row is None else _stored(row)


def list_anomalies(
    conn: psycopg.Connection[Any],
    *,
    field_ids: Sequence[int] | None = None,
    series_id: int | None = None,
    pmo_id: int | None = None,
    status: AnomalyStatus | None = None,
    min_severity: Severity = Severity.INFO,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 100,
) -> list[StoredAnomaly]:
    """Anomalies newest first, filtered; ``field_ids`` scopes them to the fields a user sees.

    ``since`` / ``until`` keep the anomalies whose window overlaps ``[since, until)``.
    """
    if not 1 <= limit <= 10_000:
        raise ValueError(f"limit must be between 1 and 10000, got {limit}")
    severities = [s.value for s in Severity if s.rank >= min_severity.rank]
    rows = conn.execute(
        f"""
        SELECT {_COLUMNS} FROM anomalies
        WHERE (%(fields)s::int[] IS NULL OR field_id = ANY(%(fields)s::int[]))
          AND (%(series)s::int IS NULL OR series_id = %(series)s)
          AND (%(pmo)s::int IS NULL OR pmo_id = %(pmo)s)
          AND (%(status)s::text IS NULL OR status = %(status)s)
          AND severity = ANY(%(severities)s::text[])
          AND (%(since)s::timestamptz IS NULL OR window_end >= %(since)s)
          AND (%(until)s::timestamptz IS NULL OR window_start < %(until)s)
        ORDER BY window_start DESC, id DESC
        LIMIT %(limit)s
        """,  # noqa: S608 - column list is a module constant
        {
            "fields": list(field_ids) if field_ids is not None else None,
            "series": series_id,
            "pmo": pmo_id,
            "status": status.value if status is not None else None,
            "severities": severities,
            "since": since,
            "until": until,
            "limit": limit,
        },
    ).fetchall()
    return [_stored(r) for r in rows]


def acknowledge(conn: psycopg.Connection[Any], *, anomaly_id: int, by: str) -> StoredAnomaly:
    """Mark an open anomaly as acknowledged by ``by`` (now)."""
    return _transition(
        conn,
        anomaly_id,
        by,
        allowed=(AnomalyStatus.OPEN,),
        assignments="status = 'acknowledged', acknowledged_by = %(by)s, acknowledged_at = now()",
        verb="acknowledge",
    )


def close(conn: psycopg.Connection[Any], *, anomaly_id: int, by: str) -> StoredAnomaly:
    """Close an open or acknowledged anomaly, by ``by`` (now)."""
    return _transition(
        conn,
        anomaly_id,
        by,
        allowed=(AnomalyStatus.OPEN, AnomalyStatus.ACKNOWLEDGED),
        assignments="status = 'closed', closed_by = %(by)s, closed_at = now()",
        verb="close",
    )


def _transition(
    conn: psycopg.Connection[Any],
    anomaly_id: int,
    by: str,
    *,
    allowed: tuple[AnomalyStatus, ...],
    assignments: str,
    verb: str,
) -> StoredAnomaly:
    if not by.strip():
        raise AnomalyStateError(f"cannot {verb} anomaly {anomaly_id}: 'by' must name a person")
    with conn.transaction():
        current = conn.execute(
            "SELECT status, acknowledged_by, closed_by FROM anomalies WHERE id = %s FOR UPDATE",
            (anomaly_id,),
        ).fetchone()
        if current is None:
            raise AnomalyNotFound(f"anomaly {anomaly_id} does not exist")
        status = AnomalyStatus(current[0])
        if status not in allowed:
            who = current[2] if status is AnomalyStatus.CLOSED else current[1]
            raise AnomalyStateError(
                f"cannot {verb} anomaly {anomaly_id}: it is {status.value} (by {who}); "
                f"only {' or '.join(a.value for a in allowed)} anomalies can be"
            )
        row = returned(
            conn.execute(
                f"UPDATE anomalies SET {assignments}, updated_at = now() WHERE id = %(id)s "  # noqa: S608 - assignments from a fixed whitelist
                f"RETURNING {_COLUMNS}",
                {"id": anomaly_id, "by": by},
            ).fetchone()
        )
    return _stored(row)


# --------------------------------------------------------------------------------------------
# Models


@dataclass(frozen=True)
class ModelInfo:
    """A stored model's metadata (without its artefact)."""

    id: int
    pmo_id: int
    kind: str
    version: int
    trained_from: dt.datetime
    trained_to: dt.datetime
    features: list[str]
    training_metrics: dict[str, Any]
    created_at: dt.datetime


def save_model(conn: psycopg.Connection[Any], *, model: PmoModel) -> int:
    """Store a trained model as the PMO's next version; sets and returns ``model.version``."""
    from anh_reporter.analytics import anomaly

    artefact = anomaly.artefact_bytes(model)
    metrics = {
        **model.metrics,
        "thresholds": dataclasses.asdict(model.thresholds),
        "envelope": {"min": model.envelope_lo.tolist(), "max": model.envelope_hi.tolist()},
    }
    with conn.transaction():
        # One trainer at a time per PMO: the lock makes max(version) + 1 safe.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('anh.models'), %s)", (model.pmo_id,))
        row = returned(
            conn.execute(
                """
            INSERT INTO models (pmo_id, kind, version, trained_from, trained_to, window_seconds,
                                features, params, training_metrics, artefact, artefact_sha256)
            SELECT %(pmo)s, %(kind)s, coalesce(max(version), 0) + 1, %(from)s, %(to)s,
                   %(window)s, %(features)s, %(params)s, %(metrics)s, %(artefact)s, %(sha)s
            FROM models WHERE pmo_id = %(pmo)s AND kind = %(kind)s
            RETURNING version
            """,
                {
                    "pmo": model.pmo_id,
                    "kind": anomaly.MODEL_KIND,
                    "from": from_us(model.trained_from_us),
                    "to": from_us(model.trained_to_us),
                    "window": model.window_us // 1_000_000,
                    "features": Jsonb(list(model.features)),
                    "params": Jsonb(model.params, dumps=_dumps),
                    "metrics": Jsonb(metrics, dumps=_dumps),
                    "artefact": artefact,
                    "sha": anomaly.artefact_digest(artefact),
                },
            ).fetchone()
        )
    model.version = int(row[0])
    return model.version


def latest_model(conn: psycopg.Connection[Any], *, pmo_id: int) -> PmoModel | None:
    """The newest model of a PMO, ready to score (None when it has none)."""
    from anh_reporter.analytics import anomaly

    row = conn.execute(
        """
        SELECT version, trained_from, trained_to, window_seconds, features, params,
               training_metrics, artefact, artefact_sha256
        FROM models WHERE pmo_id = %s AND kind = %s ORDER BY version DESC LIMIT 1
        """,
        (pmo_id, anomaly.MODEL_KIND),
    ).fetchone()
    if row is None:
        return None
    version, trained_from, trained_to, window_s, features, params, metrics, blob, sha = row
    try:
        scaler, forest = anomaly.load_estimators(bytes(blob), sha256=sha)
    except ValueError as exc:
        raise AnhError(f"model version {version} of PMO {pmo_id}: {exc}") from None
    thresholds = metrics.pop("thresholds")
    envelope = metrics.pop("envelope")
    return anomaly.PmoModel(
        pmo_id=pmo_id,
        features=tuple(features),
        window_us=int(window_s) * 1_000_000,
        trained_from_us=to_us(trained_from),
        trained_to_us=to_us(trained_to),
        scaler=scaler,
        forest=forest,
        envelope_lo=np.asarray(envelope["min"], dtype=np.float64),
        envelope_hi=np.asarray(envelope["max"], dtype=np.float64),
        thresholds=anomaly.SeverityThresholds(**thresholds),
        metrics=metrics,
        params=params,
        version=int(version),
    )


def list_models(conn: psycopg.Connection[Any], *, pmo_id: int | None = None) -> list[ModelInfo]:
    """Stored models (newest first), without their artefacts."""
    rows = conn.execute(
        """
        SELECT id, pmo_id, kind, version, trained_from, trained_to, features, training_metrics,
               created_at
        FROM models WHERE %(pmo)s::int IS NULL OR pmo_id = %(pmo)s
        ORDER BY pmo_id, version DESC
        """,
        {"pmo": pmo_id},
    ).fetchall()
    return [ModelInfo(*r) for r in rows]
