"""Analytics against the database: what the CLI, the scheduler and the ingest pipeline call.

Plain functions over a connection: read the features (:mod:`history`, :mod:`features`), train
or score (:mod:`anomaly`), store (:mod:`store`). A scheduler retrains with
:func:`train_models` (say daily, on the last two weeks) and scores with :func:`score_models`
(say hourly, over the last few hours: overlapping runs find the same episodes, which the store
de-duplicates). :class:`OnlineAnomalyHook` is the ingest pipeline's commit hook for the online
rules.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import psycopg

from anh_reporter.analytics import history, store
from anh_reporter.analytics.alerts import AlertDispatcher, DispatchReport
from anh_reporter.analytics.features import FeatureMatrix, WindowStats, pmo_features, window_stats
from anh_reporter.analytics.online import OnlineAnalytics, OnlineSettings
from anh_reporter.analytics.records import Anomaly
from anh_reporter.bus.base import Delivery
from anh_reporter.domain.batch import Batch
from anh_reporter.domain.timeutil import US_PER_DAY, US_PER_HOUR, to_us
from anh_reporter.errors import AnhError
from anh_reporter.storage.database import Database

if TYPE_CHECKING:
    from anh_reporter.analytics.anomaly import PmoModel

PmoGroups = dict[int, list[history.PmoSeries]]
Progress = Callable[[], None]


class AnalyticsError(AnhError):
    """Analytics cannot do what was asked (nothing to analyse, no data, no model)."""


def pmo_groups(
    conn: psycopg.Connection[Any], *, field_code: str | None = None, pmo_code: str | None = None
) -> PmoGroups:
    """The watched series of each PMO (of one field / PMO if given); refuses an empty result."""
    series = history.watched_series(conn, field_code=field_code, pmo_code=pmo_code)
    if not series:
        where = " and ".join(
            part
            for part in (
                f"field {field_code!r}" if field_code else "",
                f"PMO {pmo_code!r}" if pmo_code else "",
            )
            if part
        )
        raise AnalyticsError(
            f"no PMO series to analyse{' for ' + where if where else ''}: load a site first "
            "(`anh-reporter site load`) or check the codes"
        )
    groups: PmoGroups = defaultdict(list)
    for s in series:
        assert s.info.pmo_id is not None  # noqa: S101 - narrows for mypy: the caller passes PMO series only
        groups[s.info.pmo_id].append(s)
    return dict(groups)


def window_end(until: dt.datetime | None, window_us: int) -> int:
    """The end of the last whole window at or before ``until`` (default: now; naive = UTC)."""
    when = until or dt.datetime.now(dt.UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    end = to_us(when)
    return end - end % window_us


def context_windows(window_us: int) -> int:
    """Windows in a day: what a feature level is measured against."""
    return max(1, round(US_PER_DAY / window_us))


def pmo_feature_matrix(
    conn: psycopg.Connection[Any],
    series: Sequence[history.PmoSeries],
    *,
    start_us: int,
    end_us: int,
    window_us: int,
) -> FeatureMatrix:
    """A PMO's feature windows in ``[start, end)``; a day before is read for the levels.

    Hourly windows come from the hourly rollups; other windows from raw samples.
    """
    context = context_windows(window_us)
    read_from = start_us - context * window_us
    stats: dict[str, WindowStats]
    if window_us == US_PER_HOUR:
        hourly = history.read_hourly(
            conn, series_ids=[s.info.series_id for s in series], start_us=read_from, end_us=end_us
        )
        stats = {s.info.variable: hourly[s.info.series_id] for s in series}
    else:
        stats = {}
        for s in series:
            t, v, q = history.read_samples(
                conn, series_id=s.info.series_id, start_us=read_from, end_us=end_us
            )
            stats[s.info.variable] = window_stats(
                t, v, q, start_us=read_from, end_us=end_us, window_us=window_us
            )
    matrix = pmo_features(stats, context=context)
    keep = matrix.window_start_us >= start_us
    return FeatureMatrix(
        matrix.window_start_us[keep], matrix.window_us, matrix.names, matrix.values[keep]
    )


@dataclass(frozen=True)
class Trained:
    """What training did for one PMO: a stored model, or why there is none."""

    pmo_code: str
    model: PmoModel | None
    problem: str | None = None


def train_models(
    conn: psycopg.Connection[Any],
    *,
    groups: PmoGroups,
    end_us: int,
    days: float,
    window_us: int = US_PER_HOUR,
    contamination: float = 0.005,
    on_progress: Progress | None = None,
) -> list[Trained]:
    """Train and store a new model version per PMO on the ``days`` before ``end_us``.

    One transaction per PMO (committed when the connection was idle).
    """
    from anh_reporter.analytics import anomaly  # scikit-learn: loaded when first needed

    start_us = end_us - int(days * US_PER_DAY)
    out = []
    for pmo_id, series in groups.items():
        with conn.transaction():
            matrix = pmo_feature_matrix(
                conn, series, start_us=start_us, end_us=end_us, window_us=window_us
            )
            try:
                model = anomaly.train(matrix, pmo_id=pmo_id, contamination=contamination)
            except ValueError as exc:
                out.append(Trained(series[0].pmo_code, None, str(exc)))
            else:
                store.save_model(conn, model=model)
                out.append(Trained(series[0].pmo_code, model))
        if on_progress:
            on_progress()
    return out


@dataclass
class Scored:
    """What scoring found for one PMO (empty, with no version, when it has no model yet)."""

    pmo_code: str
    model_version: int | None
    anomalies: list[Anomaly] = field(default_factory=list)
    saved: list[store.SavedAnomaly] = field(default_factory=list)

    @property
    def new(self) -> list[Anomaly]:
        """The anomalies that made a new row (not a known episode seen again)."""
        return [a for a, s in zip(self.anomalies, self.saved, strict=True) if s.created]


def score_models(
    conn: psycopg.Connection[Any],
    *,
    groups: PmoGroups,
    until: dt.datetime | None,
    hours: float,
    on_progress: Progress | None = None,
) -> list[Scored]:
    """Score the last ``hours`` of each PMO with its newest model; store the anomalies.

    One transaction per PMO (committed when the connection was idle).
    """
    from anh_reporter.analytics import anomaly  # scikit-learn: loaded when first needed

    out = []
    for pmo_id, series in groups.items():
        with conn.transaction():
            model = store.latest_model(conn, pmo_id=pmo_id)
            if model is None:
                out.append(Scored(series[0].pmo_code, None))
            else:
                end_us = window_end(until, model.window_us)
                matrix = pmo_feature_matrix(
                    conn,
                    series,
                    start_us=end_us - int(hours * US_PER_HOUR),
                    end_us=end_us,
                    window_us=model.window_us,
                )
                found = anomaly.detect(model, matrix, field_id=series[0].info.field_id)
                saved = store.save_anomalies(conn, anomalies=found)
                out.append(Scored(series[0].pmo_code, model.version, found, saved))
        if on_progress:
            on_progress()
    return out


class OnlineAnomalyHook:
    """The ingest pipeline's ``on_commit`` hook: online rules on each committed batch, the
    anomalies stored (one row per episode), new ones counted and alerted.

    The work runs in a worker thread (about 10 µs a reading: a 20,000-reading flush would
    otherwise hold the event loop for a fifth of a second); the pipeline awaits its hooks one
    flush at a time, so the online state is never used from two threads at once. Series that
    appear after start (a site reload) are picked up from the database on first sight.
    """

    def __init__(
        self,
        db: Database,
        *,
        dispatcher: AlertDispatcher | None = None,
        settings: OnlineSettings | None = None,
    ) -> None:
        self.db = db
        self.dispatcher = dispatcher
        self._conn: psycopg.Connection[Any] | None = None
        with db.connect() as conn:
            infos = history.all_series_infos(conn)
            conn.commit()
        self.analytics = OnlineAnalytics(infos, settings)
        self._known = {i.series_id for i in infos}

    async def __call__(self, deliveries: list[Delivery], good: Batch, committed: float) -> None:
        """Judge ``good`` (the committed readings); store and alert what it finds."""
        if len(good):
            await asyncio.to_thread(self.process, good)

    def process(self, good: Batch) -> tuple[list[Anomaly], DispatchReport | None]:
        """The synchronous work of one batch: rules, store, alerts."""
        conn = self._connection()
        ids = {int(i) for i in np.unique(good.series_id)}
        if not ids <= self._known:
            infos = history.all_series_infos(conn)
            conn.commit()
            self.analytics.watch(infos)
            self._known = {i.series_id for i in infos}
        found = self.analytics.on_batch(good)
        if not found:
            return found, None
        store.save_anomalies(conn, anomalies=found)
        report = self.dispatcher.publish(found) if self.dispatcher is not None else None
        return found, report

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = self.db.connect()
        return self._conn

    def close(self) -> None:
        """Close the hook's database connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
