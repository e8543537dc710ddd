"""Daily production and manual entries (issue: production and IDP report).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE manual_entries (
    id             bigserial PRIMARY KEY,
    field_id       int NOT NULL REFERENCES fields (id),
    pmo_id         int REFERENCES measurement_points (id),
    well_id        int REFERENCES wells (id),
    contract_day   date NOT NULL,
    kind           text NOT NULL CHECK (kind IN (
                       'bsw', 'api_gravity', 'temperature', 'pressure',
                       'oil_volume', 'water_volume', 'gas_volume', 'tank_gauging',
                       'well_test_oil', 'well_test_water', 'well_test_gas')),
    value          numeric NOT NULL,
    unit           text NOT NULL,
    entered_by     text NOT NULL,
    entered_at     timestamptz NOT NULL DEFAULT now(),
    reason         text NOT NULL CHECK (length(reason) > 0),
    superseded_by  bigint REFERENCES manual_entries (id),
    CHECK ((pmo_id IS NULL) <> (well_id IS NULL))
);
CREATE INDEX manual_entries_day_idx ON manual_entries (field_id, contract_day);
COMMENT ON TABLE manual_entries IS
    'Values typed in by a person (lab BSW, API gravity, tank gauging, Tipo B volumes, well '
    'tests). Append-only: a correction is a new row, and the old row gets superseded_by.';

-- An entry is never edited or deleted; the only change allowed is setting superseded_by once.
CREATE FUNCTION manual_entries_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'manual_entries is append-only: DELETE refused'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.superseded_by IS NOT NULL
       OR (to_jsonb(NEW) - 'superseded_by') IS DISTINCT FROM (to_jsonb(OLD) - 'superseded_by') THEN
        RAISE EXCEPTION 'manual entry % can only be superseded once, never edited', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER manual_entries_append_only BEFORE UPDATE OR DELETE ON manual_entries
    FOR EACH ROW EXECUTE FUNCTION manual_entries_guard();

CREATE TABLE daily_production (
    id                         bigserial PRIMARY KEY,
    pmo_id                     int NOT NULL REFERENCES measurement_points (id),
    contract_day               date NOT NULL,
    day_start                  timestamptz NOT NULL,
    day_end                    timestamptz NOT NULL,
    fluid                      text NOT NULL CHECK (fluid IN ('oil', 'gas', 'water')),
    method                     text NOT NULL CHECK (method IN (
                                   'totalizer', 'rate_integration', 'manual', 'tank_gauging',
                                   'none')),
    unit                       text NOT NULL,
    indicated_volume           numeric,
    meter_factor               numeric,
    gross_observed_volume      numeric,
    ctl                        numeric,
    cpl                        numeric,
    ctpl                       numeric,
    gross_standard_volume      numeric,
    bsw_percent                numeric,
    net_standard_volume        numeric,
    temperature_f              numeric,
    pressure_psig              numeric,
    api_gravity                numeric,
    sources                    jsonb NOT NULL DEFAULT '{}'::jsonb,
    samples_expected           int NOT NULL DEFAULT 0,
    samples_received           int NOT NULL DEFAULT 0,
    samples_good               int NOT NULL DEFAULT 0,
    longest_gap_s              double precision,
    time_completeness_pct      double precision,
    sample_completeness_pct    double precision,
    quality_score              double precision,
    quality_components         jsonb NOT NULL DEFAULT '{}'::jsonb,
    quality_explanation        text,
    rollovers                  int NOT NULL DEFAULT 0,
    resets                     int NOT NULL DEFAULT 0,
    events                     jsonb NOT NULL DEFAULT '[]'::jsonb,
    issues                     jsonb NOT NULL DEFAULT '[]'::jsonb,
    manual_entry_ids           bigint[] NOT NULL DEFAULT '{}',
    digest                     text NOT NULL,
    computed_at                timestamptz NOT NULL DEFAULT now(),
    needs_amendment            boolean NOT NULL DEFAULT false,
    UNIQUE (pmo_id, contract_day),
    CHECK (day_end > day_start)
);
CREATE INDEX daily_production_day_idx ON daily_production (contract_day);
COMMENT ON COLUMN daily_production.digest IS
    'sha256 of the figures (not computed_at): a recompute that changes it marks the day';
COMMENT ON COLUMN daily_production.needs_amendment IS
    'The figures changed after the day''s report was signed: the report needs an amendment';
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE IF EXISTS daily_production, manual_entries CASCADE;
        DROP FUNCTION IF EXISTS manual_entries_guard();
        """
    )
