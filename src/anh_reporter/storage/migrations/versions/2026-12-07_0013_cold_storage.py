"""Cold storage: the catalog of telemetry partitions archived to Parquet files.

``cold_partitions``: one row per weekly partition exported by ``anh-reporter db archive`` and
dropped from ``telemetry``: its range, its file (absolute path), size in PostgreSQL before and
as a file, the file's SHA-256, and the checksums the export verified (row count, NULL values,
and sums modulo 2^64 of series ids, times in µs, value bit patterns and quality codes). The
hourly rollups of an archived week stay in ``telemetry_hourly``.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE cold_partitions (
    name           text PRIMARY KEY,
    range_start    timestamptz NOT NULL,
    range_end      timestamptz NOT NULL,
    path           text NOT NULL,
    rows           bigint NOT NULL,
    null_values    bigint NOT NULL,
    series_ids     int[] NOT NULL,
    file_bytes     bigint NOT NULL,
    pg_bytes       bigint NOT NULL,
    sha256         text NOT NULL,
    series_sum     numeric NOT NULL,
    time_sum       numeric NOT NULL,
    value_bits_sum numeric NOT NULL,
    quality_sum    numeric NOT NULL,
    archived_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (range_end > range_start)
);
CREATE INDEX cold_partitions_range ON cold_partitions (range_start, range_end);
COMMENT ON TABLE cold_partitions IS
    'Weekly telemetry partitions archived to Parquet (anh-reporter db archive); rollups stay';
"""

DOWNGRADE = """
DROP TABLE cold_partitions;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
