"""Anomalies and models in PostgreSQL: de-duplication, filters, review, model versions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import psycopg
import pytest

from anh_reporter.analytics import anomaly, store
from anh_reporter.analytics.features import FeatureMatrix
from anh_reporter.analytics.online import OnlineAnalytics, SeriesInfo
from anh_reporter.analytics.records import Anomaly, Severity
from anh_reporter.domain.batch import Batch
from anh_reporter.domain.timeutil import from_us
from anh_reporter.site import load_site
from anh_reporter.storage import migrate
from anh_reporter.storage.database import Database
from anh_reporter.storage.site_repo import load_site_into
from tests.conftest import EXAMPLE_SITE

T0 = 1_780_000_000_000_000
MINUTE = 60_000_000


@pytest.fixture
def ids(conn: psycopg.Connection[Any]) -> dict[str, int]:
    load_site_into(conn, load_site(EXAMPLE_SITE), changed_by="test")
    row = conn.execute(
        "SELECT s.id, s.field_id, s.pmo_id FROM series s "
        "WHERE s.code = 'CAMPO-DEMO-LLANOS.PMO-LACT-01.oil_rate'"
    ).fetchone()
    assert row is not None
    conn.commit()
    return {"series": row[0], "field": row[1], "pmo": row[2]}


def spike(
    ids: dict[str, int],
    *,
    start: int = T0,
    end: int = T0,
    score: float = 20.0,
    severity: Severity = Severity.WARNING,
    why: str = "first",
) -> Anomaly:
    return Anomaly(
        field_id=ids["field"],
        series_id=ids["series"],
        pmo_id=None,
        window_start_us=start,
        window_end_us=end,
        score=score,
        severity=severity,
        detector="SPIKE",
        explanation={"why": why},
    )


def test_same_episode_updates_its_row(conn: psycopg.Connection[Any], ids: dict[str, int]) -> None:
    (first,) = store.save_anomalies(conn, anomalies=[spike(ids)])
    assert first.created
    later = spike(ids, end=T0 + 5 * MINUTE, score=40.0, severity=Severity.CRITICAL, why="worse")
    (again,) = store.save_anomalies(conn, anomalies=[later])
    assert again == store.SavedAnomaly(first.id, created=False)
    # A milder report of the same episode keeps the worst of both.
    (third,) = store.save_anomalies(conn, anomalies=[spike(ids, end=T0 + MINUTE, score=1.0)])
    assert not third.created
    row = store.get_anomaly(conn, anomaly_id=first.id)
    assert row is not None
    a = row.anomaly
    assert (a.window_start_us, a.window_end_us) == (T0, T0 + 5 * MINUTE)
    assert (a.score, a.severity, a.explanation) == (40.0, Severity.CRITICAL, {"why": "worse"})
    assert row.status is store.AnomalyStatus.OPEN
    assert conn.execute("SELECT count(*) FROM anomalies").fetchone() == (1,)


def test_list_filters(conn: psycopg.Connection[Any], ids: dict[str, int]) -> None:
    store.save_anomalies(
        conn,
        anomalies=[
            spike(ids, start=T0, end=T0, severity=Severity.INFO),
            spike(ids, start=T0 + 60 * MINUTE, end=T0 + 61 * MINUTE),
            spike(ids, start=T0 + 120 * MINUTE, end=T0 + 120 * MINUTE, severity=Severity.CRITICAL),
        ],
    )
    every = store.list_anomalies(conn)
    assert [s.anomaly.window_start_us for s in every] == [
        T0 + 120 * MINUTE,
        T0 + 60 * MINUTE,
        T0,
    ]
    warnings = store.list_anomalies(conn, min_severity=Severity.WARNING)
    assert [s.anomaly.severity for s in warnings] == [Severity.CRITICAL, Severity.WARNING]
    window = store.list_anomalies(
        conn, since=from_us(T0 + 61 * MINUTE), until=from_us(T0 + 90 * MINUTE)
    )
    assert [s.anomaly.window_start_us for s in window] == [T0 + 60 * MINUTE]
    assert store.list_anomalies(conn, field_ids=[ids["field"] + 100]) == []
    assert len(store.list_anomalies(conn, field_ids=[ids["field"]], series_id=ids["series"])) == 3
    assert store.list_anomalies(conn, pmo_id=ids["pmo"]) == []
    assert len(store.list_anomalies(conn, limit=2)) == 2


def test_acknowledge_then_close(conn: psycopg.Connection[Any], ids: dict[str, int]) -> None:
    (saved,) = store.save_anomalies(conn, anomalies=[spike(ids)])
    acked = store.acknowledge(conn, anomaly_id=saved.id, by="ana.gomez")
    assert acked.status is store.AnomalyStatus.ACKNOWLEDGED
    assert acked.acknowledged_by == "ana.gomez" and acked.acknowledged_at is not None
    with pytest.raises(store.AnomalyStateError, match=r"it is acknowledged \(by ana\.gomez\)"):
        store.acknowledge(conn, anomaly_id=saved.id, by="luis")
    closed = store.close(conn, anomaly_id=saved.id, by="luis")
    assert (closed.status, closed.closed_by) == (store.AnomalyStatus.CLOSED, "luis")
    assert closed.acknowledged_by == "ana.gomez"
    assert [s.id for s in store.list_anomalies(conn, status=store.AnomalyStatus.CLOSED)] == [
        saved.id
    ]
    with pytest.raises(store.AnomalyStateError, match="it is closed"):
        store.close(conn, anomaly_id=saved.id, by="luis")
    with pytest.raises(store.AnomalyNotFound, match="anomaly 999999 does not exist"):
        store.acknowledge(conn, anomaly_id=999_999, by="luis")
    with pytest.raises(store.AnomalyStateError, match="must name a person"):
        store.close(conn, anomaly_id=saved.id, by=" ")


def test_open_anomaly_can_be_closed_directly(
    conn: psycopg.Connection[Any], ids: dict[str, int]
) -> None:
    (saved,) = store.save_anomalies(conn, anomalies=[spike(ids)])
    closed = store.close(conn, anomaly_id=saved.id, by="luis")
    assert closed.status is store.AnomalyStatus.CLOSED and closed.acknowledged_at is None


def trained(pmo_id: int, seed: int) -> anomaly.PmoModel:
    rng = np.random.default_rng(seed)
    names = ("oil_rate.level", "oil_rate.range")
    starts = np.arange(200, dtype=np.int64) * 10 * MINUTE + T0
    return anomaly.train(
        FeatureMatrix(starts, 10 * MINUTE, names, rng.normal(size=(200, 2))), pmo_id=pmo_id
    )


def test_models_are_versioned_and_reload_identical(
    conn: psycopg.Connection[Any], ids: dict[str, int]
) -> None:
    assert store.latest_model(conn, pmo_id=ids["pmo"]) is None
    first, second = trained(ids["pmo"], 1), trained(ids["pmo"], 2)
    assert store.save_model(conn, model=first) == 1
    assert store.save_model(conn, model=second) == 2 == second.version
    loaded = store.latest_model(conn, pmo_id=ids["pmo"])
    assert loaded is not None and loaded.version == 2
    assert loaded.features == second.features and loaded.thresholds == second.thresholds
    assert (loaded.trained_from_us, loaded.trained_to_us) == (
        second.trained_from_us,
        second.trained_to_us,
    )
    assert loaded.metrics == second.metrics
    probe = FeatureMatrix(
        np.array([T0], dtype=np.int64), 10 * MINUTE, second.features, np.array([[3.0, -2.0]])
    )
    np.testing.assert_array_equal(anomaly.score(loaded, probe), anomaly.score(second, probe))
    infos = store.list_models(conn, pmo_id=ids["pmo"])
    assert [(m.version, m.kind) for m in infos] == [
        (2, "isolation_forest"),
        (1, "isolation_forest"),
    ]
    assert infos[0].training_metrics["thresholds"]["warning"] == second.thresholds.warning


def test_model_anomaly_must_name_a_stored_model_version(
    conn: psycopg.Connection[Any], ids: dict[str, int]
) -> None:
    model = trained(ids["pmo"], 1)
    store.save_model(conn, model=model)
    made = Anomaly(
        field_id=ids["field"],
        series_id=None,
        pmo_id=ids["pmo"],
        window_start_us=T0,
        window_end_us=T0 + 10 * MINUTE,
        score=0.7,
        severity=Severity.WARNING,
        detector="isolation_forest",
        explanation={"contributions": [{"feature": "oil_rate.level", "share": np.float64(1.0)}]},
        model_version=model.version,
    )
    (saved,) = store.save_anomalies(conn, anomalies=[made])
    row = store.get_anomaly(conn, anomaly_id=saved.id)
    assert row is not None and row.anomaly.model_version == 1
    unknown = Anomaly(**{**made.__dict__, "model_version": 7, "window_start_us": T0 + 1})
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        store.save_anomalies(conn, anomalies=[unknown])


def test_tampered_artefact_is_refused(conn: psycopg.Connection[Any], ids: dict[str, int]) -> None:
    store.save_model(conn, model=trained(ids["pmo"], 1))
    conn.execute("UPDATE models SET artefact = artefact || '\\x00'::bytea")
    with pytest.raises(store.AnhError, match="digest"):
        store.latest_model(conn, pmo_id=ids["pmo"])


def test_downgrade_drops_the_analytics_tables(db: Database) -> None:
    def tables() -> set[str]:
        with db.connect() as c:
            rows = c.execute(
                "SELECT tablename FROM pg_tables WHERE tablename IN "
                "('anomalies', 'models', 'alert_deliveries')"
            ).fetchall()
        return {r[0] for r in rows}

    assert tables() == {"anomalies", "models"}
    migrate.downgrade(db, "0002")
    assert tables() == set()
    migrate.upgrade(db)
    assert tables() == {"anomalies", "models"}


def test_timestamps_are_aware(conn: psycopg.Connection[Any], ids: dict[str, int]) -> None:
    (saved,) = store.save_anomalies(conn, anomalies=[spike(ids)])
    row = store.get_anomaly(conn, anomaly_id=saved.id)
    assert row is not None and row.created_at.tzinfo is not None
    assert row.created_at <= dt.datetime.now(dt.UTC)


def test_online_episode_over_many_batches_is_one_row(
    conn: psycopg.Connection[Any], ids: dict[str, int]
) -> None:
    info = SeriesInfo(ids["series"], ids["field"], "oil_rate", 10.0, 0.0, 25_000.0, ids["pmo"])
    online = OnlineAnalytics([info])
    values = np.random.default_rng(1).normal(9000.0, 100.0, 1200)
    values[600:700] = values[600]  # stuck for 100 readings, seen over five batches
    times = T0 + np.arange(1200, dtype=np.int64) * 10_000_000
    created = 0
    for lo in range(0, 1200, 20):
        found = online.on_batch(
            Batch.of(np.full(20, ids["series"]), times[lo : lo + 20], values[lo : lo + 20])
        )
        created += sum(s.created for s in store.save_anomalies(conn, anomalies=found))
    (row,) = store.list_anomalies(conn)
    assert created == 1
    assert (row.anomaly.detector, row.anomaly.window_start_us) == ("STUCK", int(times[600]))
    assert row.anomaly.window_end_us == int(times[699])
