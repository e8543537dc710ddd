"""Report tasks in the database, so that any API replica answers a poll of any task.

``report_tasks``: one row per background report task (generate, amend, approve an amendment):
its operator and field (for scoping), its record as the API shows it (``record``), and when it
was last written. Rows older than a day are deleted by the API as it queues new tasks.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE report_tasks (
    task_id      text PRIMARY KEY,
    operator_id  int NOT NULL,
    field_id     int NOT NULL,
    record       jsonb NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX report_tasks_updated_at ON report_tasks (updated_at);
"""

DOWNGRADE = """
DROP TABLE report_tasks;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
