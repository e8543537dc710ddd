"""A well's AVM code joins the topology's configuration log.

The AVM code (``wells.avm_code``) is what each well row of a signed report carries and what the
Forma 9SH lists, so it is logged like the rest of the topology (``config_log`` attribute
``avm_code`` of the well): a code changed with ``site load --effective`` is read from that
instant, and a day signed before keeps the code it was signed with when it is regenerated or
amended. This revision logs, for every existing well without such an entry, the code it has now
as where its history starts (no table changes).

``config_log`` is append-only: the downgrade leaves those entries (they restate the stored
values; a release before this one does not read them).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

BACKFILL = """
INSERT INTO config_log (changed_by, entity, entity_code, attribute, old_value, new_value, reason)
SELECT 'migration 0021', 'well', fl.code || '.' || w.code, 'avm_code', NULL,
       to_jsonb(w.avm_code),
       'AVM code tracked from revision 0021: its value when the history starts'
FROM wells w JOIN fields fl ON fl.id = w.field_id
WHERE NOT EXISTS (
    SELECT 1 FROM config_log c
    WHERE c.entity = 'well' AND c.entity_code = fl.code || '.' || w.code
      AND c.attribute = 'avm_code'
)
ORDER BY fl.code, w.code;
"""


def upgrade() -> None:
    op.execute(BACKFILL)


def downgrade() -> None:
    """Nothing to undo: no table changed, and the config_log entries stay (append-only)."""
