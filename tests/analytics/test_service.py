"""Train and score against PostgreSQL: hourly rollups in, a model version and anomalies out."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import psycopg
import pytest

from anh_reporter.analytics import history, service, store
from anh_reporter.analytics.alerts import AlertDispatcher
from anh_reporter.analytics.records import Severity
from anh_reporter.domain.batch import Batch
from anh_reporter.domain.timeutil import US_PER_DAY, US_PER_HOUR, from_us, to_us
from anh_reporter.observability.metrics import REGISTRY
from anh_reporter.simulator.backfill import signal_specs
from anh_reporter.simulator.faults import Fault, FaultKind, apply_faults
from anh_reporter.simulator.signals import generate, sample_times
from anh_reporter.site import load_site
from anh_reporter.storage.database import Database
from anh_reporter.storage.series_repo import list_series
from anh_reporter.storage.site_repo import load_site_into
from anh_reporter.storage.telemetry import TelemetryWriter
from tests.conftest import EXAMPLE_SITE

START = to_us(dt.datetime(2026, 3, 2, tzinfo=dt.UTC))
PMO = "PMO-GAS-01"


@pytest.fixture
def gas_pmo(conn: psycopg.Connection[Any]) -> tuple[service.PmoGroups, Fault]:
    """Three days of the gas PMO's series (one reading a minute); the gas rate flat at zero
    for an hour on the third day."""
    site = load_site(EXAMPLE_SITE)
    load_site_into(conn, site, changed_by="test")
    rows = [r for r in list_series(conn) if r.owner_code == PMO]
    specs = signal_specs(site, rows)
    gas = next(r.id for r in rows if r.variable == "gas_rate")
    flat = Fault(FaultKind.FLATLINE, gas, START + 60 * US_PER_HOUR, START + 61 * US_PER_HOUR)
    writer = TelemetryWriter(conn)
    times = sample_times(START, START + 3 * US_PER_DAY, 60.0)
    for r in rows:
        values = generate(specs[r.id], times, seed=3)
        quality = np.zeros(times.size, dtype=np.uint32)
        values, quality, _ = apply_faults([flat], r.id, times, values, quality)
        writer.write(np.full(times.size, r.id, dtype=np.int32), times, values, quality)
    conn.commit()
    return service.pmo_groups(conn, pmo_code=PMO), flat


def test_train_then_score_finds_the_flat_hour(
    conn: psycopg.Connection[Any], gas_pmo: tuple[service.PmoGroups, Fault]
) -> None:
    groups, flat = gas_pmo
    assert [s.info.variable for s in next(iter(groups.values()))] == [
        "gas_rate",
        "meter_temperature",
        "meter_pressure",
    ]
    # Day 1 is the context of day 2's levels; the model learns day 2.
    (trained,) = service.train_models(conn, groups=groups, end_us=START + 2 * US_PER_DAY, days=1)
    assert trained.problem is None and trained.model is not None
    assert trained.model.version == 1 and trained.model.metrics["rows"] == 24
    (scored,) = service.score_models(
        conn, groups=groups, until=from_us(START + 3 * US_PER_DAY), hours=24
    )
    assert scored.model_version == 1
    flat_hour = [
        a for a in scored.anomalies if a.window_start_us <= flat.start_us < a.window_end_us
    ]
    (a,) = flat_hour
    assert a.severity is Severity.CRITICAL and a.detector == "isolation_forest"
    assert a.explanation["beyond_training"][0]["feature"].startswith("gas_rate.")
    assert scored.new == scored.anomalies
    again = service.score_models(
        conn, groups=groups, until=from_us(START + 3 * US_PER_DAY), hours=24
    )
    assert again[0].new == []  # the same episodes: rows updated, none added
    assert len(store.list_anomalies(conn)) == len(scored.anomalies)


def test_score_without_a_model_and_training_without_data(
    conn: psycopg.Connection[Any], gas_pmo: tuple[service.PmoGroups, Fault]
) -> None:
    groups, _ = gas_pmo
    (scored,) = service.score_models(conn, groups=groups, until=None, hours=1)
    assert scored.model_version is None and scored.anomalies == []
    (trained,) = service.train_models(conn, groups=groups, end_us=START, days=2)
    assert trained.model is None and "complete feature windows" in str(trained.problem)


def test_nothing_to_analyse_says_what_was_asked(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(service.AnalyticsError, match="no PMO series to analyse for field 'X'"):
        service.pmo_groups(conn, field_code="X")


def test_raw_windows_and_rollup_windows_agree(
    conn: psycopg.Connection[Any], gas_pmo: tuple[service.PmoGroups, Fault]
) -> None:
    groups, _ = gas_pmo
    series = next(iter(groups.values()))
    span = {"start_us": START + US_PER_DAY, "end_us": START + 2 * US_PER_DAY}
    hourly = service.pmo_feature_matrix(conn, series, window_us=US_PER_HOUR, **span)
    raw = service.pmo_feature_matrix(conn, series, window_us=US_PER_HOUR // 2, **span)
    assert hourly.names == raw.names and hourly.values.shape == (24, 12)
    spread = {n: i for i, n in enumerate(raw.names)}["gas_rate.range"]
    # An hour's range (from the rollup) spans both its half hours' (from raw samples).
    halves = np.maximum(raw.values[0::2, spread], raw.values[1::2, spread])
    assert (hourly.values[:, spread] >= halves - 1e-9).all()
    t, v, q = history.read_samples(
        conn, series_id=series[0].info.series_id, start_us=START, end_us=START + US_PER_HOUR
    )
    assert t.size == 60 and (t[1:] - t[:-1] == 60_000_000).all() and (q == 0).all()
    assert np.isfinite(v).all()


def test_daily_rates_by_hand(conn: psycopg.Connection[Any]) -> None:
    load_site_into(conn, load_site(EXAMPLE_SITE), changed_by="test")
    (oil,) = [r for r in list_series(conn) if r.code.endswith("PMO-LACT-01.oil_rate")]
    times = sample_times(START, START + 3 * US_PER_DAY, 60.0)
    TelemetryWriter(conn).write(
        np.full(times.size, oil.id, dtype=np.int32),
        times,
        np.full(times.size, 1000.0),
        np.zeros(times.size, dtype=np.uint32),
    )
    conn.commit()
    daily = history.daily_rates(
        conn, series_id=oil.id, since=from_us(START), until=from_us(START + 3 * US_PER_DAY)
    )
    # Contract days start 06:00 Bogota = 11:00 UTC: 03-02 and 03-03 are whole; the 11 h before
    # and the 13 h after are partial. Readings each minute: an hour covers :00 to :59, 3540 s.
    assert daily.dates() == [dt.date(2026, 3, 2), dt.date(2026, 3, 3)]
    np.testing.assert_allclose(daily.rate, [1000.0, 1000.0])
    np.testing.assert_allclose(daily.coverage, [24 * 3540 / 86_400] * 2)


async def test_online_hook_stores_counts_and_picks_up_new_series(db: Database) -> None:
    hook = service.OnlineAnomalyHook(db, dispatcher=AlertDispatcher([]))
    assert hook.analytics.series_ids == set()  # started before the site was loaded
    with db.connect() as conn:
        load_site_into(conn, load_site(EXAMPLE_SITE), changed_by="test")
        (oil,) = [r for r in list_series(conn) if r.code.endswith("PMO-LACT-01.oil_rate")]
    before = REGISTRY.get_sample_value(
        "anomalies_detected_total", {"field_id": str(oil.field_id), "severity": "CRITICAL"}
    )
    values = np.random.default_rng(1).normal(9000.0, 100.0, 600)
    values[400] = 20_000.0
    times = START + np.arange(600, dtype=np.int64) * 10_000_000
    try:
        for lo in range(0, 600, 100):
            batch = Batch.of(np.full(100, oil.id), times[lo : lo + 100], values[lo : lo + 100])
            await hook([], batch, 0.0)
    finally:
        hook.close()
    with db.connect() as conn:
        (row,) = store.list_anomalies(conn)
    assert (row.anomaly.series_id, row.anomaly.detector) == (oil.id, "SPIKE")
    assert row.anomaly.window_start_us == int(times[400])
    after = REGISTRY.get_sample_value(
        "anomalies_detected_total", {"field_id": str(oil.field_id), "severity": "CRITICAL"}
    )
    assert (after or 0.0) == (before or 0.0) + 1
