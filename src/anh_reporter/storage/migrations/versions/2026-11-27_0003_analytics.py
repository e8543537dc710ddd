"""Anomalies and models (issue: analytics).

``models`` keeps every trained anomaly model of a PMO with what it was trained on; ``anomalies``
keeps what the detectors found, one row per episode (``dedup_key`` makes a re-detection of the
same episode update its row instead of adding one), with the operator's acknowledgement.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE models (
    id               bigserial PRIMARY KEY,
    pmo_id           int NOT NULL REFERENCES measurement_points (id),
    kind             text NOT NULL,
    version          int NOT NULL CHECK (version > 0),
    trained_from     timestamptz NOT NULL,
    trained_to       timestamptz NOT NULL,
    window_seconds   int NOT NULL CHECK (window_seconds > 0),
    features         jsonb NOT NULL,
    params           jsonb NOT NULL DEFAULT '{}'::jsonb,
    training_metrics jsonb NOT NULL,
    artefact         bytea NOT NULL,
    artefact_sha256  text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (pmo_id, kind, version),
    CHECK (trained_from < trained_to)
);
COMMENT ON COLUMN models.artefact IS
    'Serialised model (Python pickle of the scaler and forest): load only from a trusted database';

CREATE TABLE anomalies (
    id               bigserial PRIMARY KEY,
    field_id         int NOT NULL REFERENCES fields (id),
    series_id        int REFERENCES series (id),
    pmo_id           int REFERENCES measurement_points (id),
    window_start     timestamptz NOT NULL,
    window_end       timestamptz NOT NULL,
    score            double precision NOT NULL,
    severity         text NOT NULL CHECK (severity IN ('CRITICAL', 'WARNING', 'INFO')),
    detector         text NOT NULL,
    model_version    int,
    explanation      jsonb NOT NULL DEFAULT '{}'::jsonb,
    status           text NOT NULL DEFAULT 'open'
                     CHECK (status IN ('open', 'acknowledged', 'closed')),
    acknowledged_by  text,
    acknowledged_at  timestamptz,
    closed_by        text,
    closed_at        timestamptz,
    dedup_key        text NOT NULL UNIQUE,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((series_id IS NULL) <> (pmo_id IS NULL)),
    CHECK (window_start <= window_end),
    CHECK ((acknowledged_by IS NULL) = (acknowledged_at IS NULL)),
    CHECK ((closed_by IS NULL) = (closed_at IS NULL)),
    CHECK ((status = 'closed') = (closed_at IS NOT NULL)),
    CHECK (status <> 'acknowledged' OR acknowledged_at IS NOT NULL),
    -- A model-made anomaly names the model row that found it; rule-made ones have no version,
    -- and MATCH SIMPLE skips the check when model_version is NULL.
    FOREIGN KEY (pmo_id, detector, model_version) REFERENCES models (pmo_id, kind, version)
);
COMMENT ON COLUMN anomalies.field_id IS
    'Owner field of the series or PMO, kept on the row so that every query can be scoped to '
    'the fields a user may see without joining two owner tables';
COMMENT ON COLUMN anomalies.detector IS
    'The rule (SPIKE, STUCK, FLATLINE, SHIFT, BAD_STATUS, SPC) or model kind that found it';
CREATE INDEX anomalies_field_time_idx ON anomalies (field_id, window_start DESC);
CREATE INDEX anomalies_open_idx ON anomalies (field_id, severity) WHERE status = 'open';
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS anomalies, models CASCADE")
