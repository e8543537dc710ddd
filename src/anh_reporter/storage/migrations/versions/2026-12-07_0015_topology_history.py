"""The topology is date-effective (its attributes join the configuration log); the virtual
meters' changes on a signed day are kept.

From this revision the site load logs, like a meter factor, a well's fluids and entry PMOs, a
PMO's facility and upstream PMO, a facility's kind and the field's allocation settings (a
well's facility and legacy PMO, a PMO's role and a well's virtual meter already were), and the
daily compute allocates a day with the topology in force when it started.

An attribute's first log entry is the value it was created with and holds from the beginning.
So that the first change of a newly tracked attribute of an existing row is read as a change
from its effective instant (and not as that row's value since the beginning), this revision
logs, for every existing field, facility, PMO and well, the current value of each topology
attribute that has no log entry yet: the value it had when the history starts.

``config_log`` is append-only: the downgrade leaves these entries (they only restate values).

``virtual_meter_changes``: when a recompute changes a virtual-meter figure of a day whose report
is signed (a well's virtual liquid or how it was obtained, Σ virtual against a PMO), which
figure, from what to what, against which signed version. The signed document carries the
virtual meters only in its findings; these rows let the amendment list what changed.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

BACKFILL = """
INSERT INTO config_log (changed_by, entity, entity_code, attribute, old_value, new_value, reason)
SELECT 'migration 0015', v.entity, v.code, v.attribute, NULL, v.value,
       'topology tracked from revision 0015: its value when the history starts'
FROM (
    SELECT 1 AS ord, 'field' AS entity, f.code AS code, 'allocation' AS attribute,
           f.allocation AS value
    FROM fields f
    UNION ALL
    SELECT 2, 'facility', fl.code || '.' || fa.code, 'kind', to_jsonb(fa.kind)
    FROM facilities fa JOIN fields fl ON fl.id = fa.field_id
    UNION ALL
    SELECT 3, 'measurement_point', fl.code || '.' || p.code, a.attribute, a.value
    FROM measurement_points p JOIN fields fl ON fl.id = p.field_id
    CROSS JOIN LATERAL (VALUES
        ('role', to_jsonb(p.role)),
        ('facility_id', to_jsonb(p.facility_id)),
        ('downstream_of_id', to_jsonb(p.downstream_of_id))
    ) AS a(attribute, value)
    UNION ALL
    SELECT 4, 'well', fl.code || '.' || w.code, a.attribute, a.value
    FROM wells w JOIN fields fl ON fl.id = w.field_id
    CROSS JOIN LATERAL (VALUES
        ('pmo_id', to_jsonb(w.pmo_id)),
        ('facility_id', to_jsonb(w.facility_id)),
        ('fluids', to_jsonb(w.fluids)),
        ('entries', to_jsonb(w.entries)),
        ('virtual_meter', w.virtual_meter)
    ) AS a(attribute, value)
) AS v
WHERE NOT EXISTS (
    SELECT 1 FROM config_log c
    WHERE c.entity = v.entity AND c.entity_code = v.code AND c.attribute = v.attribute
)
ORDER BY v.ord, v.code, v.attribute;
"""

UPGRADE = """
CREATE TABLE virtual_meter_changes (
    id                 bigserial PRIMARY KEY,
    field_id           int NOT NULL REFERENCES fields (id),
    contract_day       date NOT NULL,
    signed_version_id  bigint NOT NULL REFERENCES report_versions (id),
    target             text NOT NULL,
    figure             text NOT NULL,
    old_value          jsonb,
    new_value          jsonb,
    logged_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX virtual_meter_changes_day ON virtual_meter_changes (field_id, contract_day);
COMMENT ON TABLE virtual_meter_changes IS
    'Virtual-meter figures a recompute changed on a signed day: what, old and new, against '
    'which signed version (listed by the amendment). Append-only.';
CREATE TRIGGER virtual_meter_changes_append_only BEFORE UPDATE OR DELETE ON virtual_meter_changes
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
"""

DOWNGRADE = """
DROP TABLE virtual_meter_changes;
"""


def upgrade() -> None:
    op.execute(BACKFILL)
    op.execute(UPGRADE)


def downgrade() -> None:
    """The config_log entries stay (append-only; they restate the stored values)."""
    op.execute(DOWNGRADE)
