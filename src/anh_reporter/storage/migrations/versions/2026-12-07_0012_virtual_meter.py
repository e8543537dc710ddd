"""Virtual meter per well: its pump data, the speed of a test, the day's estimate and check.

* ``wells.virtual_meter``: the site file's ``virtual_meter`` block (pump geometry, ESP load
  correction); NULL: the well has no virtual meter.
* ``well_tests.pump_speed``: the pump speed during the test typed with it (Hz, spm or rpm by
  the well's lift method), used to calibrate when the speed series has no data for the test.
* ``well_days.virtual_liquid_bbl`` and ``well_days.virtual_meter``: the day's virtual liquid
  and how it was obtained (calibration, speeds, coverage, why none).
* ``allocation_days.virtual_meter``: per production PMO, Σ virtual against the measured volume.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE wells ADD COLUMN virtual_meter jsonb;
ALTER TABLE well_tests ADD COLUMN pump_speed numeric CHECK (pump_speed > 0);
COMMENT ON COLUMN well_tests.pump_speed IS
    'Pump speed during the test (ESP Hz, rod pump spm, PCP rpm), typed with the test';
ALTER TABLE well_days
    ADD COLUMN virtual_liquid_bbl numeric,
    ADD COLUMN virtual_meter jsonb;
ALTER TABLE allocation_days ADD COLUMN virtual_meter jsonb NOT NULL DEFAULT '[]'::jsonb;
"""

DOWNGRADE = """
ALTER TABLE allocation_days DROP COLUMN virtual_meter;
ALTER TABLE well_days DROP COLUMN virtual_liquid_bbl, DROP COLUMN virtual_meter;
ALTER TABLE well_tests DROP COLUMN pump_speed;
ALTER TABLE wells DROP COLUMN virtual_meter;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
