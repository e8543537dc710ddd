"""The report profile a field's daily reports are written in.

``fields.report_profile``: the profile (e.g. ``anh-es-1.0``, the ANH's Spanish field names) the
site file chose for the field; NULL: the process's default (``ANH_REPORTS__PROFILE``).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE fields ADD COLUMN report_profile text; "
        "COMMENT ON COLUMN fields.report_profile IS "
        "'Profile of the field''s reports (NULL: the configured default)'"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE fields DROP COLUMN report_profile")
