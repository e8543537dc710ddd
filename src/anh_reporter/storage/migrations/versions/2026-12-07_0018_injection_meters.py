"""An injection well's meter: the series whose day volume counts in the water balance.

``wells.injection_meter`` holds the code of an injector's ``water_rate`` or ``water_total``
series (site file ``wells[].injection_meter``). It joins the topology's configuration log
(``config_log`` attribute ``injection_meter`` of the well), so a meter named later counts from
its effective instant, not back to the well's creation: this revision logs, for every existing
well without such an entry, the value it has now (none) as where its history starts.

``config_log`` is append-only: the downgrade drops the column and leaves those entries.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE wells ADD COLUMN injection_meter text;
COMMENT ON COLUMN wells.injection_meter IS
    'Code of the injector''s water_rate or water_total series counted in the water balance '
    '(NULL: not metered).';
"""

BACKFILL = """
INSERT INTO config_log (changed_by, entity, entity_code, attribute, old_value, new_value, reason)
SELECT 'migration 0018', 'well', fl.code || '.' || w.code, 'injection_meter', NULL,
       to_jsonb(w.injection_meter),
       'injection meter tracked from revision 0018: its value when the history starts'
FROM wells w JOIN fields fl ON fl.id = w.field_id
WHERE NOT EXISTS (
    SELECT 1 FROM config_log c
    WHERE c.entity = 'well' AND c.entity_code = fl.code || '.' || w.code
      AND c.attribute = 'injection_meter'
)
ORDER BY fl.code, w.code;
"""

DOWNGRADE = """
ALTER TABLE wells DROP COLUMN injection_meter;
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    op.execute(BACKFILL)


def downgrade() -> None:
    """The config_log entries stay (append-only; they restate the stored values)."""
    op.execute(DOWNGRADE)
