"""Production per well: facilities, topology, well tests, status log, downtime, well days.

* ``facilities``: the batteries and stations of a field; ``wells.facility_id`` and
  ``measurement_points.facility_id`` place wells and PMOs, ``measurement_points.downstream_of_id``
  chains PMOs of one fluid (battery transfer → station production → LACT).
* ``wells``: the fluids a well produces, the PMOs it enters (parallel trains), its DANE
  municipality; ``fields.allocation``: the field's allocation settings (test validity window,
  factor band, expired tests, downtime causes).
* ``well_tests``: one row per test (date, duration, rates at standard conditions, BSW, who, source,
  accepted). Append-only; a correction is a new test that supersedes the old one.
* ``well_status_changes``: the log of a well's status (who, when, why). Append-only.
* ``downtime_events``: a well down over a window for a cause code; a correction supersedes.
* ``manual_entries`` gains the kind ``well_hours_on`` (hours on production typed by hand).
* ``well_days``: per well and contract day, what allocation gave: hours on and their source,
  status, test used and its age, allocated oil, gas and water, factors, ratios, deferred volume
  per cause, findings. ``allocation_days``: per field and day, the production PMOs' allocation
  (measured, Σ theoretical, factor, unallocated), the field totals by role and the findings.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE facilities (
    id          serial PRIMARY KEY,
    field_id    int NOT NULL REFERENCES fields (id),
    code        text NOT NULL,
    name        text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('battery', 'station')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (field_id, code)
);

ALTER TABLE fields ADD COLUMN allocation jsonb NOT NULL DEFAULT '{}'::jsonb;
COMMENT ON COLUMN fields.allocation IS
    'Allocation settings: test_validity_days, factor_band, expired_tests, downtime_causes';

ALTER TABLE measurement_points
    ADD COLUMN facility_id int REFERENCES facilities (id),
    ADD COLUMN downstream_of_id int REFERENCES measurement_points (id);

ALTER TABLE wells
    ADD COLUMN facility_id int REFERENCES facilities (id),
    ADD COLUMN fluids text[] NOT NULL DEFAULT '{}',
    ADD COLUMN entries text[] NOT NULL DEFAULT '{}',
    ADD COLUMN municipality_dane text CHECK (municipality_dane ~ '^[0-9]{5}$');
COMMENT ON COLUMN wells.entries IS
    'PMO codes the well''s fluids enter, when not all of its facility''s entry PMOs';

CREATE TABLE well_tests (
    id             bigserial PRIMARY KEY,
    well_id        int NOT NULL REFERENCES wells (id),
    tested_on      date NOT NULL,
    duration_h     numeric NOT NULL CHECK (duration_h > 0 AND duration_h <= 168),
    oil_bbl_d      numeric NOT NULL CHECK (oil_bbl_d >= 0),
    gas_kscf_d     numeric NOT NULL CHECK (gas_kscf_d >= 0),
    water_bbl_d    numeric NOT NULL CHECK (water_bbl_d >= 0),
    bsw_pct        numeric CHECK (bsw_pct >= 0 AND bsw_pct <= 100),
    source         text NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'test_separator')),
    accepted       boolean NOT NULL DEFAULT true,
    tested_by      text NOT NULL CHECK (length(tested_by) > 0),
    entered_by     text NOT NULL,
    entered_at     timestamptz NOT NULL DEFAULT now(),
    notes          text NOT NULL DEFAULT '',
    superseded_by  bigint REFERENCES well_tests (id)
);
CREATE INDEX well_tests_well_idx ON well_tests (well_id, tested_on);
COMMENT ON TABLE well_tests IS
    'Well tests (rates at standard conditions, bbl/d and kscf/d). Append-only but for '
    'superseded_by, set once when a correction replaces the test.';

CREATE TABLE well_status_changes (
    id          bigserial PRIMARY KEY,
    well_id     int NOT NULL REFERENCES wells (id),
    at          timestamptz NOT NULL,
    status      text NOT NULL CHECK (status IN ('producing', 'shut_in', 'workover',
                    'suspended', 'abandoned', 'injecting')),
    reason      text NOT NULL DEFAULT '',
    changed_by  text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX well_status_changes_idx ON well_status_changes (well_id, at);
CREATE TRIGGER well_status_changes_append_only BEFORE UPDATE OR DELETE ON well_status_changes
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

CREATE TABLE downtime_events (
    id             bigserial PRIMARY KEY,
    well_id        int NOT NULL REFERENCES wells (id),
    starts_at      timestamptz NOT NULL,
    ends_at        timestamptz NOT NULL CHECK (ends_at > starts_at),
    cause          text NOT NULL,
    comment        text NOT NULL DEFAULT '',
    entered_by     text NOT NULL,
    entered_at     timestamptz NOT NULL DEFAULT now(),
    superseded_by  bigint REFERENCES downtime_events (id)
);
CREATE INDEX downtime_events_idx ON downtime_events (well_id, starts_at);

ALTER TABLE manual_entries DROP CONSTRAINT manual_entries_kind_check;
ALTER TABLE manual_entries ADD CONSTRAINT manual_entries_kind_check CHECK (kind IN (
    'bsw', 'api_gravity', 'temperature', 'pressure',
    'oil_volume', 'water_volume', 'gas_volume', 'tank_gauging',
    'well_test_oil', 'well_test_water', 'well_test_gas', 'well_hours_on'));

CREATE TABLE well_days (
    well_id          int NOT NULL REFERENCES wells (id),
    contract_day     date NOT NULL,
    status           text NOT NULL,
    hours_on         numeric,
    hours_source     text NOT NULL,
    test_id          bigint REFERENCES well_tests (id),
    test_date        date,
    test_age_days    int,
    test_state       text NOT NULL CHECK (test_state IN ('valid', 'expired', 'none')),
    oil_bbl          numeric,
    gas_kscf         numeric,
    water_bbl        numeric,
    theoretical_oil_bbl numeric,
    factors          jsonb NOT NULL DEFAULT '{}'::jsonb,
    pmos             jsonb NOT NULL DEFAULT '{}'::jsonb,
    bsw_pct          numeric,
    gor_scf_bbl      numeric,
    wor              numeric,
    hours_down       numeric NOT NULL DEFAULT 0,
    deferred_oil_bbl numeric,
    deferred_gas_kscf numeric,
    deferred_water_bbl numeric,
    deferred_causes  jsonb NOT NULL DEFAULT '[]'::jsonb,
    findings         jsonb NOT NULL DEFAULT '[]'::jsonb,
    computed_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (well_id, contract_day)
);
COMMENT ON TABLE well_days IS
    'Per well and contract day: the allocated volumes and how they were obtained (recomputed '
    'with the field''s day)';

CREATE TABLE allocation_days (
    field_id      int NOT NULL REFERENCES fields (id),
    contract_day  date NOT NULL,
    pmos          jsonb NOT NULL DEFAULT '[]'::jsonb,
    totals        jsonb NOT NULL DEFAULT '[]'::jsonb,
    findings      jsonb NOT NULL DEFAULT '[]'::jsonb,
    computed_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (field_id, contract_day)
);
"""

DOWNGRADE = """
DROP TABLE allocation_days;
DROP TABLE well_days;
ALTER TABLE manual_entries DROP CONSTRAINT manual_entries_kind_check;
ALTER TABLE manual_entries ADD CONSTRAINT manual_entries_kind_check CHECK (kind IN (
    'bsw', 'api_gravity', 'temperature', 'pressure',
    'oil_volume', 'water_volume', 'gas_volume', 'tank_gauging',
    'well_test_oil', 'well_test_water', 'well_test_gas')) NOT VALID;
DROP TABLE downtime_events;
DROP TABLE well_status_changes;
DROP TABLE well_tests;
ALTER TABLE wells DROP COLUMN facility_id, DROP COLUMN fluids, DROP COLUMN entries,
    DROP COLUMN municipality_dane;
ALTER TABLE measurement_points DROP COLUMN facility_id, DROP COLUMN downstream_of_id;
ALTER TABLE fields DROP COLUMN allocation;
DROP TABLE facilities;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
