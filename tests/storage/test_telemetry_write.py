"""Binary COPY round trip, idempotent replays, and rollups that equal the raw rows."""

from __future__ import annotations

import datetime as dt

import numpy as np
import psycopg
import pytest

from anh_reporter.domain.quality import BAD_NO_COMMUNICATION, UNCERTAIN
from anh_reporter.domain.timeutil import to_us
from anh_reporter.storage.telemetry import TelemetryWriter

T0 = to_us(dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC))


def test_round_trip_keeps_values_nulls_and_status_codes(conn: psycopg.Connection[object]) -> None:
    writer = TelemetryWriter(conn)
    sid = np.array([1, 1, 1, 2], dtype=np.int32)
    t = np.array([T0, T0 + 1, T0 + 2_500_000, T0], dtype=np.int64)
    v = np.array([1.5, -0.0, np.nan, 1e300])
    q = np.array([0, UNCERTAIN, BAD_NO_COMMUNICATION, 0], dtype=np.uint32)
    assert writer.write(sid, t, v, q).inserted == 4
    rows = conn.execute(
        "SELECT series_id, time, value, quality FROM telemetry ORDER BY series_id, time"
    ).fetchall()
    base = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)
    assert rows == [
        (1, base, 1.5, 0),
        (1, base + dt.timedelta(microseconds=1), -0.0, 0x40000000),
        (1, base + dt.timedelta(seconds=2.5), None, 0x80310000 - (1 << 32)),
        (2, base, 1e300, 0),
    ]


def test_replay_changes_nothing_and_raises_nothing(conn: psycopg.Connection[object]) -> None:
    writer = TelemetryWriter(conn)
    n = 5_000
    sid = (np.arange(n) % 5).astype(np.int32)
    t = T0 + np.arange(n, dtype=np.int64) * 1_000_000
    v = np.arange(n, dtype=np.float64)
    q = np.zeros(n, dtype=np.uint32)
    assert writer.write(sid, t, v, q).inserted == n
    replay = writer.write(sid, t, v + 1000, q)  # same keys, other values: first write wins
    assert (replay.inserted, replay.duplicates) == (0, n)
    half = writer.write(sid[::2], t[::2] + 500_000, v[::2], q[::2])  # new rows: all stored
    assert half.inserted == n // 2
    mixed_t = np.concatenate([t[:10], t[:10] + 250_000])
    mixed = writer.write(
        np.concatenate([sid[:10], sid[:10]]), mixed_t, np.zeros(20), np.zeros(20, dtype=np.uint32)
    )
    assert (mixed.inserted, mixed.duplicates) == (10, 10)
    row = conn.execute("SELECT count(*), sum(value) FROM telemetry").fetchone()
    assert row == (n + n // 2 + 10, float(v.sum() + v[::2].sum()))


@pytest.mark.parametrize("arrival", ["in_order_then_late", "shuffled"])
def test_rollups_equal_raw_with_late_and_out_of_order_data(
    conn: psycopg.Connection[object], arrival: str
) -> None:
    rng = np.random.default_rng(7)
    writer = TelemetryWriter(conn)
    n = 6_000
    sid = rng.integers(1, 4, n).astype(np.int32)
    t = T0 + rng.integers(0, 5 * 3_600_000_000, n).astype(np.int64)
    keys = np.unique(np.stack([sid.astype(np.int64), t]), axis=1)
    sid, t = keys[0].astype(np.int32), keys[1]
    v = rng.normal(100, 10, len(sid))
    q = np.where(rng.random(len(sid)) < 0.1, BAD_NO_COMMUNICATION, 0).astype(np.uint32)
    if arrival == "shuffled":
        order = rng.permutation(len(sid))
    else:  # time order (the merge path), with 5% held back and sent late at the end
        by_time = np.argsort(t, kind="stable")
        late = rng.random(len(by_time)) < 0.05
        order = np.concatenate([by_time[~late], by_time[late]])
    for chunk in np.array_split(order, 9):  # out of order, hours touched by several batches
        writer.write(sid[chunk], t[chunk], v[chunk], q[chunk])
    got = {
        (r[0], to_us(r[1])): r[2:]
        for r in conn.execute(
            "SELECT series_id, hour, count, good_count, avg, min, max, integral, first_time, "
            "first_value, last_time, last_value FROM telemetry_hourly"
        ).fetchall()
    }
    expected = {}
    hours = t // 3_600_000_000 * 3_600_000_000
    for s, h in set(zip(sid.tolist(), hours.tolist(), strict=True)):
        sel = (sid == s) & (hours == h)
        good = sel & (q == 0)
        tg, vg = t[good], v[good]
        o = np.argsort(tg)
        tg, vg = tg[o], vg[o]
        integral = float(np.sum((vg[1:] + vg[:-1]) / 2 * np.diff(tg) / 1e6))
        expected[(s, h)] = (
            int(sel.sum()),
            int(good.sum()),
            vg.mean(),
            vg.min(),
            vg.max(),
            integral,
            tg[0],
            vg[0],
            tg[-1],
            vg[-1],
        )
    assert got.keys() == expected.keys()
    for key, (count, good, avg, lo, hi, integral, t_first, v_first, t_last, v_last) in got.items():
        e = expected[key]
        assert (count, good) == e[:2]
        np.testing.assert_allclose([avg, lo, hi, integral], e[2:6], rtol=1e-12)
        assert (to_us(t_first), v_first, to_us(t_last), v_last) == (e[6], e[7], e[8], e[9])


def test_late_readings_in_a_gap_are_merged_without_recomputing_the_hour(
    conn: psycopg.Connection[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Good readings at 0, 10, 20, 30, 40 s with value = seconds / 10, written newest first
    (a dead worker's older batches claimed after newer ones were written):

    - 30 s and 40 s: stored integral (3 + 4) / 2 x 10 = 35;
    - then 0 s and 10 s (before the first stored reading): + 5 for the batch, + (1 + 3) / 2 x 20
      = 40 for the segment reaching 30 s: 80;
    - then 20 s and a Bad reading at 25 s (inside the gap 10-30 s): - 40 for the segment that
      bridged the gap, + (1 + 2) / 2 x 10 = 15 and (2 + 3) / 2 x 10 = 25: 80 again, as the
      raw rows give (10 x (0.5 + 1.5 + 2.5 + 3.5)).

    Neither late write recomputes the hour from the raw rows; readings that straddle a stored
    one (5 s and 35 s) do.
    """
    from anh_reporter.storage import rollups

    recomputed: list[int] = []
    real = rollups.recompute

    def spy(c: psycopg.Connection[object], series: np.ndarray, hours: np.ndarray) -> None:
        recomputed.append(len(series))
        real(c, series, hours)

    monkeypatch.setattr(rollups, "recompute", spy)
    writer = TelemetryWriter(conn)
    sid = 7

    def write(seconds: list[int], values: list[float], quality: list[int] | None = None) -> None:
        n = len(seconds)
        writer.write(
            np.full(n, sid, dtype=np.int32),
            T0 + np.array(seconds, dtype=np.int64) * 1_000_000,
            np.array(values, dtype=np.float64),
            np.array(quality or [0] * n, dtype=np.uint32),
        )

    def hourly() -> tuple[object, ...]:
        row = conn.execute(
            "SELECT count, good_count, avg, min, max, integral, first_time, first_value, "
            "last_time, last_value FROM telemetry_hourly WHERE series_id = %s",
            (sid,),
        ).fetchone()
        assert row is not None
        return (*row[:6], to_us(row[6]) - T0, row[7], to_us(row[8]) - T0, row[9])

    write([30, 40], [3.0, 4.0])
    write([0, 10], [0.0, 1.0])
    assert hourly() == (4, 4, 2.0, 0.0, 4.0, 80.0, 0, 0.0, 40_000_000, 4.0)
    write([20, 25], [2.0, 99.0], [0, BAD_NO_COMMUNICATION])
    assert hourly() == (6, 5, 2.0, 0.0, 4.0, 80.0, 0, 0.0, 40_000_000, 4.0)
    assert recomputed == []

    write([5, 35], [0.5, 3.5])  # straddles 10..30: recomputed
    assert recomputed == [1]
    # 0, 5, 10, 20, 30, 35, 40 s: 5 x (0.25 + 0.75) + 10 x (1.5 + 2.5) + 5 x (3.25 + 3.75) = 80
    assert hourly() == (8, 7, 2.0, 0.0, 4.0, 80.0, 0, 0.0, 40_000_000, 4.0)
