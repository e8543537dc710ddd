"""Storage tank stock: a tank's opening and closing gauges of a contract day.

``tank_stocks``: one row per gauging of a storage tank (a site-file tank without a PMO) over a
contract day: the opening and closing net standard volumes through API MPMS 12.1.1, every step
in ``details``, who and why. Append-only: a correction is a new row that supersedes the old one.
The oil balance's Δ stock is Σ (closing − opening) over the field's tanks.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE tank_stocks (
    id            serial PRIMARY KEY,
    field_id      int NOT NULL REFERENCES fields (id),
    tank_id       int NOT NULL REFERENCES tanks (id),
    contract_day  date NOT NULL,
    opening_nsv   numeric NOT NULL CHECK (opening_nsv >= 0),
    closing_nsv   numeric NOT NULL CHECK (closing_nsv >= 0),
    details       jsonb NOT NULL,
    entered_by    text NOT NULL CHECK (length(entered_by) > 0),
    reason        text NOT NULL CHECK (length(reason) > 0),
    entered_at    timestamptz NOT NULL DEFAULT now(),
    superseded_by int REFERENCES tank_stocks (id)
);
CREATE INDEX tank_stocks_day ON tank_stocks (field_id, contract_day);
COMMENT ON TABLE tank_stocks IS
    'Opening and closing gauges of a storage tank over a contract day (API MPMS 12.1.1)';
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute("DROP TABLE tank_stocks")
