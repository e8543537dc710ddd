"""A well's AVM code: the ANH's own code of the well, when the operator's differs.

``wells.avm_code`` (NULL: the well's site-file code is its AVM code) is what report profiles
from idp-1.3 and anh-es-1.1 carry in each well row and what the Forma 9SH lists. Unique within
a field when set, whatever its case (``AVM-0001`` and ``avm-0001`` are one code to the ANH): an
exclusion constraint on ``lower(avm_code)``, checked when the transaction commits (DEFERRABLE
INITIALLY DEFERRED) so that one site load may swap two wells' codes, row by row.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE wells ADD COLUMN avm_code text
            CHECK (avm_code IS NULL OR length(avm_code) BETWEEN 1 AND 60);
        ALTER TABLE wells ADD CONSTRAINT wells_field_avm_code
            EXCLUDE USING btree (field_id WITH =, lower(avm_code) WITH =)
            WHERE (avm_code IS NOT NULL) DEFERRABLE INITIALLY DEFERRED;
        """
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE wells DROP CONSTRAINT wells_field_avm_code; "
        "ALTER TABLE wells DROP COLUMN avm_code;"
    )
