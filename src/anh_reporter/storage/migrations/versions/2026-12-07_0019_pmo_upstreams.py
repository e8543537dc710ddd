"""A PMO may be downstream of several PMOs (flows converging, e.g. two batteries into a station).

``measurement_points.downstream_of_id`` held one upstream PMO; ``measurement_point_upstreams``
holds one row per (PMO, upstream PMO), both referencing ``measurement_points``. The upgrade
copies every stored link there. It is an *expand* step (docs/operations.md, upgrades without
downtime): the column stays, no longer read or written by this version (a release running
beside it during a rolling upgrade still reads it; a later release drops it, a contract step).

The configuration log is unchanged: a PMO's ``downstream_of_id`` attribute still logs the
upstream PMO's id (an integer) when it has one, NULL when none, and a sorted list of ids when
it has several, so the history written before this revision reads back as it was.

The downgrade writes the table's links back into the column (they may have changed since) and
drops the table; it refuses, naming them, while a PMO has more than one upstream PMO (the column
cannot hold them; change the site file first).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE measurement_point_upstreams (
    pmo_id       int NOT NULL REFERENCES measurement_points (id),
    upstream_id  int NOT NULL REFERENCES measurement_points (id),
    PRIMARY KEY (pmo_id, upstream_id),
    CHECK (pmo_id <> upstream_id)
);
CREATE INDEX measurement_point_upstreams_upstream ON measurement_point_upstreams (upstream_id);
COMMENT ON TABLE measurement_point_upstreams IS
    'The PMOs a PMO''s fluid passed through just before it (site file pmos[].downstream_of); '
    'several where flows converge.';
INSERT INTO measurement_point_upstreams (pmo_id, upstream_id)
SELECT id, downstream_of_id FROM measurement_points WHERE downstream_of_id IS NOT NULL;
COMMENT ON COLUMN measurement_points.downstream_of_id IS
    'Not used from revision 0019 (see measurement_point_upstreams); dropped by a later release.';
"""

REFUSE_SEVERAL = """
DO $$
DECLARE several text;
BEGIN
    SELECT string_agg(f.code || '.' || p.code, ', ' ORDER BY f.code, p.code) INTO several
    FROM measurement_points p JOIN fields f ON f.id = p.field_id
    WHERE (SELECT count(*) FROM measurement_point_upstreams u WHERE u.pmo_id = p.id) > 1;
    IF several IS NOT NULL THEN
        RAISE EXCEPTION 'cannot downgrade below revision 0019: PMO(s) % are downstream of more '
            'than one PMO, which measurement_points.downstream_of_id cannot hold; load a site '
            'file giving each one upstream PMO first', several;
    END IF;
END $$;
"""

DOWNGRADE = """
UPDATE measurement_points p SET downstream_of_id = (
    SELECT u.upstream_id FROM measurement_point_upstreams u WHERE u.pmo_id = p.id
);
COMMENT ON COLUMN measurement_points.downstream_of_id IS NULL;
DROP TABLE measurement_point_upstreams;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(REFUSE_SEVERAL)
    op.execute(DOWNGRADE)
