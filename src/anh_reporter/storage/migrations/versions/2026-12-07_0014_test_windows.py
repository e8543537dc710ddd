"""Well tests from a test separator: the test's window and the series it was computed from.

* ``well_tests.window_start`` / ``well_tests.window_end``: the instants the test ran between
  (a separator test always has them; a test typed by hand has none). The virtual meter reads
  the pump speed during the test over this window instead of the test's whole contract day.
* ``well_tests.separator``: the rate series the test was computed from (codes) and the share
  of the window each covered; NULL for a test typed by hand.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE well_tests
    ADD COLUMN window_start timestamptz,
    ADD COLUMN window_end timestamptz,
    ADD COLUMN separator jsonb,
    ADD CONSTRAINT well_tests_window_check CHECK (
        (window_start IS NULL AND window_end IS NULL)
        OR (window_end > window_start AND window_end - window_start <= interval '168 hours')
    );
COMMENT ON COLUMN well_tests.window_start IS
    'Start of the test (separator tests); NULL for a test typed by hand';
COMMENT ON COLUMN well_tests.window_end IS 'End of the test (separator tests)';
COMMENT ON COLUMN well_tests.separator IS
    'The rate series a separator test was computed from, with their coverage of the window';
"""

DOWNGRADE = """
ALTER TABLE well_tests
    DROP CONSTRAINT well_tests_window_check,
    DROP COLUMN separator,
    DROP COLUMN window_end,
    DROP COLUMN window_start;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
