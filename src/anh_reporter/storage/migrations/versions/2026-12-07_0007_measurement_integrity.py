"""Figures a regulator can trust: date-effective configuration, provings, approvals, amendments.

* ``config_log.effective_from``: when a logged value takes effect (NULL: when it was logged).
  The configuration in force on a contract day is read from the log, so recomputing an old day
  uses the meter factor, base conditions, contract hour and ranges of that day.
* New site attributes: PMO role, meter maximum rate, uncertainty and proving interval, custody
  series, the sales BSW specification; totalizer resolution and backstep tolerance, rate
  low-flow cutoff, API gravity basis; the field's gas reporting base.
* ``provings``: each meter proving (date, factor, previous factor, run reference, who).
* ``day_approvals``: a person's confirmation of a meter reset or approval of an estimate.
* ``manual_entries.level`` (indicated volume, GOV, GSV, NSV or tank gauge) and an optional
  window, so a manual figure fills a gap or replaces a whole day without applying a factor twice.
* ``amendment_requests``: an amendment's reason code, the per-figure changes, and the second
  person's approval when the change is material.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE config_log ADD COLUMN effective_from timestamptz;
COMMENT ON COLUMN config_log.effective_from IS
    'When the new value takes effect; NULL: from changed_at. A value in force at T is the '
    'latest entry with coalesce(effective_from, changed_at) <= T.';
CREATE INDEX config_log_in_force_idx
    ON config_log (entity, entity_code, attribute, (coalesce(effective_from, changed_at)));

ALTER TABLE fields
    ADD COLUMN gas_base_pressure_psia double precision,
    ADD COLUMN gas_base_temperature_f double precision,
    ADD CONSTRAINT fields_gas_base CHECK (
        (gas_base_pressure_psia IS NULL) = (gas_base_temperature_f IS NULL));
COMMENT ON COLUMN fields.gas_base_pressure_psia IS
    'Base pressure of the reported gas; NULL: each gas PMO at its flow computer''s base';

ALTER TABLE measurement_points
    ADD COLUMN role text NOT NULL DEFAULT 'production' CHECK (role IN (
        'production', 'transfer', 'sales', 'fuel', 'flare', 'vent', 'reinjection', 'gas_lift',
        'water_disposal', 'water_injection')),
    ADD COLUMN max_rate double precision CHECK (max_rate > 0),
    ADD COLUMN uncertainty_pct double precision CHECK (uncertainty_pct > 0),
    ADD COLUMN proving_interval_days int NOT NULL DEFAULT 31 CHECK (proving_interval_days > 0),
    ADD COLUMN custody jsonb NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN sales_bsw_spec_pct double precision NOT NULL DEFAULT 0.5;

ALTER TABLE series
    ADD COLUMN resolution double precision CHECK (resolution > 0),
    ADD COLUMN backstep_tolerance double precision CHECK (backstep_tolerance >= 0),
    ADD COLUMN low_flow_cutoff double precision CHECK (low_flow_cutoff >= 0),
    ADD COLUMN basis text CHECK (basis IN ('observed', 'base'));

CREATE TABLE tanks (
    id          serial PRIMARY KEY,
    field_id    int NOT NULL REFERENCES fields (id),
    code        text NOT NULL,
    name        text NOT NULL,
    pmo_id      int REFERENCES measurement_points (id),
    definition  jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (field_id, code)
);
COMMENT ON COLUMN tanks.definition IS
    'Strapping table, level unit, shell and floating roof (the site file''s tank, as loaded)';

CREATE TABLE provings (
    id               bigserial PRIMARY KEY,
    pmo_id           int NOT NULL REFERENCES measurement_points (id),
    proved_at        timestamptz NOT NULL,
    effective_from   timestamptz NOT NULL,
    meter_factor     numeric NOT NULL CHECK (meter_factor > 0.8 AND meter_factor < 1.2),
    previous_factor  numeric,
    run_reference    text NOT NULL CHECK (length(run_reference) > 0),
    proved_by        text NOT NULL,
    recorded_by      text NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    notes            text
);
CREATE INDEX provings_pmo_idx ON provings (pmo_id, effective_from);
COMMENT ON TABLE provings IS
    'Meter provings (API MPMS 4.8): the factor applies from effective_from. Append-only.';
CREATE TRIGGER provings_append_only BEFORE UPDATE OR DELETE ON provings
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

CREATE TABLE day_approvals (
    id            bigserial PRIMARY KEY,
    pmo_id        int NOT NULL REFERENCES measurement_points (id),
    contract_day  date NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('reset_confirmation', 'estimate_approval')),
    subject       jsonb NOT NULL,
    reason        text NOT NULL CHECK (length(reason) > 0),
    decided_by    text NOT NULL,
    decided_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX day_approvals_day_idx ON day_approvals (pmo_id, contract_day);
COMMENT ON TABLE day_approvals IS
    'A person confirms a meter reset or approves an estimate so the day can be signed. '
    'subject identifies what was approved (the reset''s readings, the estimate''s volume); '
    'a later change of it needs a new approval. Append-only.';
CREATE TRIGGER day_approvals_append_only BEFORE UPDATE OR DELETE ON day_approvals
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

ALTER TABLE manual_entries
    ADD COLUMN level text CHECK (level IN ('indicated', 'gov', 'gsv', 'nsv', 'tank')),
    ADD COLUMN window_start timestamptz,
    ADD COLUMN window_end timestamptz,
    ADD COLUMN details jsonb NOT NULL DEFAULT '{}'::jsonb,
    ADD CONSTRAINT manual_entries_window CHECK (
        (window_start IS NULL) = (window_end IS NULL) AND
        (window_start IS NULL OR window_end > window_start));
-- Entries made before levels existed were indicated volumes (the trigger keeps them append-only).
ALTER TABLE manual_entries DISABLE TRIGGER manual_entries_append_only;
UPDATE manual_entries SET level = CASE kind WHEN 'tank_gauging' THEN 'tank' ELSE 'indicated' END
    WHERE kind IN ('oil_volume', 'water_volume', 'gas_volume', 'tank_gauging');
ALTER TABLE manual_entries ENABLE TRIGGER manual_entries_append_only;
COMMENT ON COLUMN manual_entries.level IS
    'What a volume entry is: indicated volume (meter factor and corrections applied), GOV, GSV, '
    'NSV (taken as is) or a tank gauge (API MPMS 12.1.1 from details)';

CREATE TABLE amendment_requests (
    id              bigserial PRIMARY KEY,
    field_id        int NOT NULL REFERENCES fields (id),
    contract_day    date NOT NULL,
    amends_version  int NOT NULL,
    reason_code     text NOT NULL,
    reason          text NOT NULL CHECK (length(reason) > 0),
    changes         jsonb NOT NULL DEFAULT '[]'::jsonb,
    material        boolean NOT NULL,
    requested_by    text NOT NULL,
    requested_at    timestamptz NOT NULL DEFAULT now(),
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN (
                        'pending', 'approved', 'signed', 'withdrawn')),
    decided_by      text,
    decided_at      timestamptz,
    version         int,
    CHECK (decided_by IS NULL OR decided_by <> requested_by)
);
CREATE UNIQUE INDEX amendment_requests_open_idx ON amendment_requests (field_id, contract_day)
    WHERE status IN ('pending', 'approved');
COMMENT ON TABLE amendment_requests IS
    'An amendment asked for, with a reason code and the per-figure changes; a material one '
    'waits for a second person (decided_by <> requested_by) before it is signed.';

ALTER TABLE report_versions
    ADD COLUMN reason_code text,
    ADD COLUMN approved_by text;
"""

DOWNGRADE = """
ALTER TABLE report_versions DROP COLUMN reason_code, DROP COLUMN approved_by;
DROP TABLE amendment_requests;
ALTER TABLE manual_entries DROP CONSTRAINT manual_entries_window, DROP COLUMN level,
    DROP COLUMN window_start, DROP COLUMN window_end, DROP COLUMN details;
DROP TABLE day_approvals;
DROP TABLE provings;
DROP TABLE tanks;
ALTER TABLE series DROP COLUMN resolution, DROP COLUMN backstep_tolerance,
    DROP COLUMN low_flow_cutoff, DROP COLUMN basis;
ALTER TABLE measurement_points DROP COLUMN role, DROP COLUMN max_rate,
    DROP COLUMN uncertainty_pct, DROP COLUMN proving_interval_days, DROP COLUMN custody,
    DROP COLUMN sales_bsw_spec_pct;
ALTER TABLE fields DROP CONSTRAINT fields_gas_base, DROP COLUMN gas_base_pressure_psia,
    DROP COLUMN gas_base_temperature_f;
DROP INDEX config_log_in_force_idx;
ALTER TABLE config_log DROP COLUMN effective_from;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
