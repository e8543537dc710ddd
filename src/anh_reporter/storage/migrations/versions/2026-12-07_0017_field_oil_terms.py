"""Field-level manual entries: the day's oil consumption and oil losses.

``manual_entries`` gains the kinds ``oil_consumption`` (oil used on site) and ``oil_losses``
(oil lost: evaporation, a spill...), both in bbl at 60 °F, the oil balance's consumption and
losses terms. They belong to the field as a whole: such a row has neither a PMO nor a well
(nor a level or a window); every other kind still belongs to exactly one PMO or one well.

The downgrade puts the former constraints back ``NOT VALID``: field-level rows already entered
stay (``manual_entries`` is append-only) and new rows are held to the former rules.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

FORMER_KINDS = """
    'bsw', 'api_gravity', 'temperature', 'pressure',
    'oil_volume', 'water_volume', 'gas_volume', 'tank_gauging',
    'well_test_oil', 'well_test_water', 'well_test_gas', 'well_hours_on'"""

UPGRADE = f"""
ALTER TABLE manual_entries DROP CONSTRAINT manual_entries_kind_check;
ALTER TABLE manual_entries ADD CONSTRAINT manual_entries_kind_check CHECK (kind IN ({FORMER_KINDS},
    'oil_consumption', 'oil_losses'));
ALTER TABLE manual_entries DROP CONSTRAINT manual_entries_check;
ALTER TABLE manual_entries ADD CONSTRAINT manual_entries_owner CHECK (
    CASE WHEN kind IN ('oil_consumption', 'oil_losses')
         THEN pmo_id IS NULL AND well_id IS NULL AND level IS NULL AND window_start IS NULL
              AND unit = 'bbl' AND value >= 0
         ELSE (pmo_id IS NULL) <> (well_id IS NULL)
    END);
COMMENT ON CONSTRAINT manual_entries_owner ON manual_entries IS
    'An entry belongs to one PMO or one well; the field kinds (oil consumption and losses, bbl) '
    'to the field as a whole, without a PMO, a well, a level or a window.';
"""

DOWNGRADE = f"""
ALTER TABLE manual_entries DROP CONSTRAINT manual_entries_owner;
ALTER TABLE manual_entries ADD CONSTRAINT manual_entries_check
    CHECK ((pmo_id IS NULL) <> (well_id IS NULL)) NOT VALID;
ALTER TABLE manual_entries DROP CONSTRAINT manual_entries_kind_check;
ALTER TABLE manual_entries ADD CONSTRAINT manual_entries_kind_check
    CHECK (kind IN ({FORMER_KINDS})) NOT VALID;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    """Field-level rows stay (append-only); the former checks hold for new rows only."""
    op.execute(DOWNGRADE)
