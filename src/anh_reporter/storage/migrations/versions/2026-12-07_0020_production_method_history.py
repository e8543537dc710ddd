"""A well's production method joins the topology's configuration log.

Whether a well is an injector decides whether it takes part in the production allocation, so
``wells.production_method`` is logged like the rest of the topology (``config_log`` attribute
``production_method`` of the well): a producer converted to an injector with ``site load
--effective`` leaves the production allocation from that instant, not back to the well's
creation. This revision logs, for every existing well without such an entry, the method it has
now as where its history starts (no table changes).

``config_log`` is append-only: the downgrade leaves those entries (they restate the stored
values; a release before this one does not read them).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

BACKFILL = """
INSERT INTO config_log (changed_by, entity, entity_code, attribute, old_value, new_value, reason)
SELECT 'migration 0020', 'well', fl.code || '.' || w.code, 'production_method', NULL,
       to_jsonb(w.production_method),
       'production method tracked from revision 0020: its value when the history starts'
FROM wells w JOIN fields fl ON fl.id = w.field_id
WHERE NOT EXISTS (
    SELECT 1 FROM config_log c
    WHERE c.entity = 'well' AND c.entity_code = fl.code || '.' || w.code
      AND c.attribute = 'production_method'
)
ORDER BY fl.code, w.code;
"""


def upgrade() -> None:
    op.execute(BACKFILL)


def downgrade() -> None:
    """Nothing to undo: no table changed, and the config_log entries stay (append-only)."""
