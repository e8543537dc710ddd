"""Initial schema: site model, partitioned telemetry, rollups, quarantine, config and audit logs.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from alembic import context, op
from sqlalchemy import text

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SITE_MODEL = """
CREATE TABLE operators (
    id          serial PRIMARY KEY,
    nit         text NOT NULL UNIQUE,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE fields (
    id                       serial PRIMARY KEY,
    operator_id              int NOT NULL REFERENCES operators (id),
    code                     text NOT NULL UNIQUE,
    name                     text NOT NULL,
    contract                 text NOT NULL,
    municipality_dane        text NOT NULL CHECK (municipality_dane ~ '^[0-9]{5}$'),
    timezone                 text NOT NULL DEFAULT 'America/Bogota',
    contract_day_start_hour  smallint NOT NULL DEFAULT 6
                             CHECK (contract_day_start_hour BETWEEN 0 AND 23),
    report_type              char(1) NOT NULL CHECK (report_type IN ('A', 'B')),
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE measurement_points (
    id                  serial PRIMARY KEY,
    field_id            int NOT NULL REFERENCES fields (id),
    code                text NOT NULL,
    name                text NOT NULL,
    kind                text NOT NULL CHECK (kind IN ('oil', 'gas', 'water')),
    meter_type          text NOT NULL,
    has_totalizer       boolean NOT NULL,
    meter_factor        double precision NOT NULL CHECK (meter_factor > 0),
    base_temperature_f  double precision NOT NULL,
    base_pressure_psia  double precision NOT NULL CHECK (base_pressure_psia > 0),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (field_id, code)
);
CREATE TABLE wells (
    id                 serial PRIMARY KEY,
    field_id           int NOT NULL REFERENCES fields (id),
    pmo_id             int REFERENCES measurement_points (id),
    code               text NOT NULL,
    name               text NOT NULL,
    production_method  text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (field_id, code)
);
CREATE TABLE series (
    id                 serial PRIMARY KEY,
    code               text NOT NULL UNIQUE,
    field_id           int NOT NULL REFERENCES fields (id),
    pmo_id             int REFERENCES measurement_points (id),
    well_id            int REFERENCES wells (id),
    variable           text NOT NULL,
    unit               text NOT NULL,
    range_lo           double precision NOT NULL,
    range_hi           double precision NOT NULL,
    sampling_period_s  double precision NOT NULL CHECK (sampling_period_s > 0),
    commissioned_at    timestamptz NOT NULL,
    rollover           double precision CHECK (rollover > 0),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (range_lo < range_hi),
    CHECK ((pmo_id IS NULL) <> (well_id IS NULL))
);
CREATE INDEX series_field_idx ON series (field_id);
"""

# No foreign key from telemetry to series: it would cost a lookup per COPY'd row; ingest
# validation rejects unknown series before the write.
TELEMETRY_COLUMNS = """
    time       timestamptz NOT NULL,
    series_id  int NOT NULL,
    value      double precision,
    quality    int NOT NULL DEFAULT 0,
    PRIMARY KEY (series_id, time)
"""

ROLLUPS_AND_LOGS = """
COMMENT ON COLUMN telemetry.quality IS
    'OPC UA status code as signed int4 bit pattern: Good iff 0 <= quality < 2^30';
COMMENT ON COLUMN telemetry.value IS 'NULL only for Bad-quality markers (communication lost)';

CREATE TABLE telemetry_hourly (
    series_id    int NOT NULL,
    hour         timestamptz NOT NULL,
    count        int NOT NULL,
    good_count   int NOT NULL,
    avg          double precision,
    min          double precision,
    max          double precision,
    integral     double precision,
    first_time   timestamptz,
    first_value  double precision,
    last_time    timestamptz,
    last_value   double precision,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (series_id, hour)
);
COMMENT ON TABLE telemetry_hourly IS
    'Per series and hour. count: all readings; the other figures use Good readings only. '
    'integral: trapezoid of value over time (value x seconds) between Good readings of the hour.';

CREATE TABLE quarantine (
    id           bigserial PRIMARY KEY,
    received_at  timestamptz NOT NULL DEFAULT now(),
    source       text NOT NULL,
    series_id    int,
    series_ref   text,
    time         timestamptz,
    value        double precision,
    quality      int,
    raw          text,
    reason       text NOT NULL,
    message      text NOT NULL
);
CREATE INDEX quarantine_received_idx ON quarantine (received_at);
CREATE INDEX quarantine_reason_idx ON quarantine (reason, received_at);

CREATE TABLE config_log (
    id           bigserial PRIMARY KEY,
    changed_at   timestamptz NOT NULL DEFAULT now(),
    changed_by   text NOT NULL,
    entity       text NOT NULL,
    entity_code  text NOT NULL,
    attribute    text NOT NULL,
    old_value    jsonb,
    new_value    jsonb,
    reason       text
);
CREATE INDEX config_log_entity_idx ON config_log (entity, entity_code, changed_at);

CREATE TABLE audit_log (
    id       bigserial PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now(),
    actor    text NOT NULL,
    action   text NOT NULL,
    target   text,
    details  jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_at_idx ON audit_log (at);

-- API MPMS 21.1 asks for original, unaltered records: the logs are append-only.
CREATE FUNCTION forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER config_log_append_only BEFORE UPDATE OR DELETE ON config_log
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
"""


def _timescaledb_created() -> bool:
    """Create the TimescaleDB extension where it is available and wanted; never fail."""
    if not context.config.attributes.get("use_timescaledb", True):
        return False
    bind = op.get_bind()
    available = bind.execute(
        text("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
    ).first()
    if not available:
        return False
    savepoint = bind.begin_nested()
    try:
        bind.execute(text("CREATE EXTENSION IF NOT EXISTS timescaledb"))
    except Exception:
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def upgrade() -> None:
    op.execute(SITE_MODEL)
    if _timescaledb_created():
        # Hypertable path (not testable on the CI machine, which has no TimescaleDB):
        # 7-day chunks, compression after 30 days, retention instead of dropping partitions.
        years = int(context.config.attributes.get("retention_years", 5))
        op.execute(f"CREATE TABLE telemetry ({TELEMETRY_COLUMNS})")
        op.execute(
            "SELECT create_hypertable('telemetry', 'time', chunk_time_interval => "
            "INTERVAL '7 days')"
        )
        op.execute(
            "ALTER TABLE telemetry SET (timescaledb.compress, "
            "timescaledb.compress_segmentby = 'series_id', "
            "timescaledb.compress_orderby = 'time')"
        )
        op.execute("SELECT add_compression_policy('telemetry', INTERVAL '30 days')")
        op.execute(f"SELECT add_retention_policy('telemetry', INTERVAL '{years} years')")
    else:
        op.execute(f"CREATE TABLE telemetry ({TELEMETRY_COLUMNS}) PARTITION BY RANGE (time)")
    op.execute(ROLLUPS_AND_LOGS)


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE IF EXISTS audit_log, config_log, quarantine, telemetry_hourly, telemetry,
            series, wells, measurement_points, fields, operators CASCADE;
        DROP FUNCTION IF EXISTS forbid_change();
        """
    )
