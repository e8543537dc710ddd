"""Daily figures as one JSON document per PMO and day, beside the columns queries filter on.

The figures of a day (volumes at each level, factors, properties, data quality, estimates,
events...) grow with the measurement rules; one ``figures`` document, validated by the code's
single ``DailyFigures`` type, replaces a column per figure. The columns that SQL sums and filters
(fluid, method, unit, GOV, GSV, NSV, quality score) stay, and ``completeness_pct`` becomes the
share of the volume that was measured.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Numbers go in as JSON strings: the code reads them back as exact decimals.
UPGRADE = """
ALTER TABLE daily_production ADD COLUMN figures jsonb;
UPDATE daily_production d SET figures = jsonb_build_object(
    'code', p.code, 'fluid', d.fluid, 'method', d.method, 'unit', d.unit,
    'indicated_volume', d.indicated_volume::text, 'meter_factor', d.meter_factor::text,
    'gross_observed_volume', d.gross_observed_volume::text, 'ctl', d.ctl::text,
    'cpl', d.cpl::text, 'ctpl', d.ctpl::text,
    'gross_standard_volume', d.gross_standard_volume::text, 'bsw_percent', d.bsw_percent::text,
    'net_standard_volume', d.net_standard_volume::text, 'temperature_f', d.temperature_f::text,
    'pressure_psig', d.pressure_psig::text, 'api_gravity', d.api_gravity::text,
    'sources', d.sources, 'samples_expected', d.samples_expected,
    'samples_received', d.samples_received, 'samples_good', d.samples_good,
    'longest_gap_s', d.longest_gap_s, 'flow_time_coverage_pct', d.time_completeness_pct,
    'completeness_pct', d.time_completeness_pct,
    'sample_completeness_pct', d.sample_completeness_pct, 'quality_score', d.quality_score,
    'quality_components', d.quality_components, 'quality_explanation', d.quality_explanation,
    'rollovers', d.rollovers, 'resets', d.resets, 'events', d.events, 'issues', d.issues,
    'manual_entry_ids', to_jsonb(d.manual_entry_ids))
FROM measurement_points p WHERE p.id = d.pmo_id;
ALTER TABLE daily_production ALTER COLUMN figures SET NOT NULL;
ALTER TABLE daily_production DROP COLUMN indicated_volume, DROP COLUMN meter_factor,
    DROP COLUMN ctl, DROP COLUMN cpl, DROP COLUMN ctpl, DROP COLUMN bsw_percent,
    DROP COLUMN temperature_f, DROP COLUMN pressure_psig, DROP COLUMN api_gravity,
    DROP COLUMN sources, DROP COLUMN samples_expected, DROP COLUMN samples_received,
    DROP COLUMN samples_good, DROP COLUMN longest_gap_s, DROP COLUMN sample_completeness_pct,
    DROP COLUMN quality_components, DROP COLUMN quality_explanation, DROP COLUMN rollovers,
    DROP COLUMN resets, DROP COLUMN events, DROP COLUMN issues, DROP COLUMN manual_entry_ids;
ALTER TABLE daily_production RENAME COLUMN time_completeness_pct TO completeness_pct;
COMMENT ON COLUMN daily_production.completeness_pct IS
    'Share of the day''s volume that was measured (the rest was estimated), %';
COMMENT ON COLUMN daily_production.figures IS
    'The PMO''s daily figures (the code''s DailyFigures); decimals as JSON strings';
"""

DOWNGRADE = """
ALTER TABLE daily_production RENAME COLUMN completeness_pct TO time_completeness_pct;
ALTER TABLE daily_production
    ADD COLUMN indicated_volume numeric, ADD COLUMN meter_factor numeric,
    ADD COLUMN ctl numeric, ADD COLUMN cpl numeric, ADD COLUMN ctpl numeric,
    ADD COLUMN bsw_percent numeric, ADD COLUMN temperature_f numeric,
    ADD COLUMN pressure_psig numeric, ADD COLUMN api_gravity numeric,
    ADD COLUMN sources jsonb NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN samples_expected int NOT NULL DEFAULT 0,
    ADD COLUMN samples_received int NOT NULL DEFAULT 0,
    ADD COLUMN samples_good int NOT NULL DEFAULT 0, ADD COLUMN longest_gap_s double precision,
    ADD COLUMN sample_completeness_pct double precision,
    ADD COLUMN quality_components jsonb NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN quality_explanation text, ADD COLUMN rollovers int NOT NULL DEFAULT 0,
    ADD COLUMN resets int NOT NULL DEFAULT 0,
    ADD COLUMN events jsonb NOT NULL DEFAULT '[]'::jsonb,
    ADD COLUMN issues jsonb NOT NULL DEFAULT '[]'::jsonb,
    ADD COLUMN manual_entry_ids bigint[] NOT NULL DEFAULT '{}';
UPDATE daily_production SET
    indicated_volume = (figures->>'indicated_volume')::numeric,
    meter_factor = (figures->>'meter_factor')::numeric,
    ctl = (figures->>'ctl')::numeric, cpl = (figures->>'cpl')::numeric,
    ctpl = (figures->>'ctpl')::numeric, bsw_percent = (figures->>'bsw_percent')::numeric,
    temperature_f = (figures->>'temperature_f')::numeric,
    pressure_psig = (figures->>'pressure_psig')::numeric,
    api_gravity = (figures->>'api_gravity')::numeric,
    sources = coalesce(figures->'sources', '{}'::jsonb),
    samples_expected = coalesce((figures->>'samples_expected')::int, 0),
    samples_received = coalesce((figures->>'samples_received')::int, 0),
    samples_good = coalesce((figures->>'samples_good')::int, 0),
    longest_gap_s = (figures->>'longest_gap_s')::float8,
    sample_completeness_pct = (figures->>'sample_completeness_pct')::float8,
    quality_components = coalesce(figures->'quality_components', '{}'::jsonb),
    quality_explanation = figures->>'quality_explanation',
    rollovers = coalesce((figures->>'rollovers')::int, 0),
    resets = coalesce((figures->>'resets')::int, 0),
    events = coalesce(figures->'events', '[]'::jsonb),
    issues = coalesce(figures->'issues', '[]'::jsonb),
    manual_entry_ids = coalesce(ARRAY(SELECT jsonb_array_elements_text(
        figures->'manual_entry_ids')::bigint), '{}');
ALTER TABLE daily_production DROP COLUMN figures;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
