"""The connectors' shared runtime: backoff, supervisor, outbox, deadband, and the shared keys."""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from anh_reporter.connectors.base import ConnectorError
from anh_reporter.connectors.modbus import load_config as load_modbus
from anh_reporter.connectors.mqtt import load_config as load_mqtt
from anh_reporter.connectors.opcua import load_config as load_opcua
from anh_reporter.connectors.runtime import (
    Backoff,
    Outbox,
    Supervisor,
    deadband_keep,
    deadband_limits,
)
from anh_reporter.domain.batch import Batch
from anh_reporter.errors import ConfigError

# -- Backoff -----------------------------------------------------------------------------------


def test_backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half() -> None:
    rng = random.Random(1)
    for attempt, ceiling in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (6, 30.0), (60, 30.0)]:
        delays = []
        for _ in range(200):
            backoff = Backoff(0.5, 30.0, rng=rng)
            backoff.attempt = attempt
            delays.append(backoff.next_delay())
        assert min(delays) >= ceiling / 2 and max(delays) <= ceiling
        assert max(delays) - min(delays) > ceiling / 4  # jittered, not constant


def test_backoff_counts_attempts_and_reset_starts_over() -> None:
    class Top(random.Random):
        def random(self) -> float:
            return 1.0  # the top of the jitter range: the ceiling itself

    backoff = Backoff(0.5, 3.0, rng=Top())
    assert [backoff.next_delay() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.next_delay() == 0.5
    with pytest.raises(ValueError, match="initial_s 2 and max_s 1"):
        Backoff(2, 1)


# -- Outbox -----------------------------------------------------------------------------------


def batch(first: int, n: int = 3) -> Batch:
    """Readings numbered first .. first + n - 1 (the number is the series id and the value)."""
    ids = np.arange(first, first + n)
    return Batch.of(ids, ids, ids.astype(float), None, "test")


class FlakySink:
    """Fails its first ``failures`` calls; records what it took and the outbox's fill."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0
        self.taken: list[int] = []
        self.sizes: list[int] = []
        self.outbox: Outbox | None = None
        self.most_pending = 0

    async def __call__(self, b: Batch) -> None:
        self.calls += 1
        assert self.outbox is not None
        self.most_pending = max(self.most_pending, self.outbox.pending)
        if self.calls <= self.failures:
            raise ConnectionError("bus down")
        self.taken.extend(b.series_id.tolist())
        self.sizes.append(len(b))


async def test_a_failing_sink_loses_nothing_keeps_the_order_and_the_bound() -> None:
    sink = FlakySink(failures=5)
    outbox = Outbox(
        sink, name="t", capacity=10, backoff=Backoff(0.001, 0.004), max_batch=6, linger_s=0
    )
    sink.outbox = outbox
    outbox.start()
    for i in range(10):  # 30 readings into room for 10: the producer has to wait
        await outbox.put(batch(3 * i))
        assert outbox.pending <= 10
    await outbox.flush()
    assert sink.taken == list(range(30))  # all of them, in order
    assert sink.most_pending <= 10 and max(sink.sizes) <= 6
    c = outbox.counters
    assert (c.accepted, c.delivered, c.sink_failures) == (30, 30, 5)
    assert c.full_waits >= 1 and outbox.pending == 0 and outbox.last_error is None
    assert await outbox.close() == 0


async def test_close_delivers_the_queue_first_and_keeps_what_a_dead_sink_refused() -> None:
    sink = FlakySink(failures=1_000_000)
    outbox = Outbox(sink, name="t", capacity=100, backoff=Backoff(0.001, 0.002))
    sink.outbox = outbox
    outbox.start()
    await outbox.put(batch(0))
    await outbox.put(batch(3))
    assert await outbox.close(timeout_s=0.05) == 6  # not delivered, and not dropped either
    assert outbox.last_error == "sink failed: ConnectionError: bus down"
    sink.failures = 0
    outbox.start()  # the sink is back: what was left goes first
    await outbox.put(batch(6))
    assert await outbox.close() == 0
    assert sink.taken == list(range(9))


async def test_linger_gathers_small_batches_into_one_call() -> None:
    sink = FlakySink(failures=0)
    outbox = Outbox(
        sink, name="t", capacity=100, backoff=Backoff(0.01, 0.01), max_batch=100, linger_s=5.0
    )
    sink.outbox = outbox
    outbox.start()
    for i in range(4):
        await outbox.put(batch(3 * i))
    assert await outbox.close() == 0  # closing ends the linger at once
    assert sink.sizes == [12] and sink.taken == list(range(12))


# -- Supervisor -------------------------------------------------------------------------------


async def test_supervisor_backs_off_after_failures_and_reports_each_loss() -> None:
    downs: list[tuple[str, bool]] = []
    attempts = 0
    forever = asyncio.Event()

    async def session(up: Callable[[], None]) -> str:
        nonlocal attempts
        attempts += 1
        if attempts in (1, 2, 4):
            raise OSError(f"refused {attempts}")
        up()
        if attempts == 3:
            return "closed by the server"
        await forever.wait()
        return "never"

    async def on_down(reason: str, was_up: bool) -> None:
        downs.append((reason, was_up))

    supervisor = Supervisor("t", session, Backoff(0.001, 0.002), on_down=on_down, describe=str)
    await supervisor.start()  # returns after the first (failed) attempt
    assert downs == [("refused 1", False)] and not supervisor.connected
    for _ in range(1000):  # a guard against hanging, not a timing assertion
        if attempts == 5 and supervisor.connected:
            break
        await asyncio.sleep(0.005)
    assert supervisor.connected and supervisor.reconnects == 1
    assert downs == [
        ("refused 1", False),
        ("refused 2", False),
        ("closed by the server", True),
        ("refused 4", False),
    ]
    assert supervisor.backoff.attempt == 0  # reset by the last success
    await supervisor.stop()
    assert not supervisor.connected and not supervisor.running


async def test_supervisor_raises_a_fatal_error_of_the_first_attempt_only() -> None:
    async def refused(up: Callable[[], None]) -> str:
        raise ConnectorError("certificate not trusted")

    async def on_down(reason: str, was_up: bool) -> None:
        raise AssertionError("a fatal first attempt is not a loss")

    supervisor = Supervisor("t", refused, Backoff(1, 1), on_down=on_down, fatal=(ConnectorError,))
    with pytest.raises(ConnectorError, match="not trusted"):
        await supervisor.start()
    assert not supervisor.running


# -- deadband ---------------------------------------------------------------------------------


def test_deadband_limits_absolute_and_percent_of_span() -> None:
    limits = deadband_limits(["absolute", "percent", "percent"], [0.5, 5.0, 0.0], [1.0, 200.0, 9])
    assert limits.tolist() == [0.5, 10.0, 0.0]  # 5 % of a 200-unit span is 10


def test_deadband_one_reading_per_tag() -> None:
    tag = np.array([0, 1, 2, 3, 4, 5], dtype=np.intp)
    value = np.array([10.4, 10.6, 3.0, 7.0, np.nan, 99.0])
    good = np.array([True, True, True, True, True, False])
    limit = np.array([0.5, 0.5, 0.5, 0.0, 0.5, 0.5])
    last = np.array([10.0, 10.0, np.nan, 7.0, 1.0, 50.0])
    keep = deadband_keep(tag, value, good, limit, last)
    # moved 0.4 (kept back), moved 0.6, nothing reported yet, no deadband, a non-finite value
    # (reported: ingest decides), a Bad status (always reported)
    assert keep.tolist() == [False, True, True, True, True, True]
    # last reported: unchanged, 10.6, 3.0, 7.0, cleared by NaN, cleared by Bad
    assert last[:4].tolist() == [10.0, 10.6, 3.0, 7.0]
    assert math.isnan(last[4]) and math.isnan(last[5])


def test_deadband_several_readings_of_a_tag_compare_with_the_last_reported_one() -> None:
    tag = np.array([0, 0, 0, 0, 1, 0, 0], dtype=np.intp)
    value = np.array([10.0, 10.3, 10.6, 11.0, 5.0, 4.0, 4.2])
    good = np.array([True, True, True, True, True, False, True])
    limit = np.array([0.5, 0.0])
    last = np.full(2, np.nan)
    keep = deadband_keep(tag, value, good, limit, last)
    # 10.0 first; 10.3 is 0.3 from 10.0; 10.6 is 0.6 from 10.0; 11.0 is 0.4 from 10.6;
    # tag 1 has no deadband; Bad reported; 4.2 is the first Good after Bad
    assert keep.tolist() == [True, False, True, False, True, True, True]
    assert last.tolist() == [4.2, 5.0]


# -- the shared keys --------------------------------------------------------------------------

OPCUA = "name: x\nendpoint: opc.tcp://h:4840\ntags: [{series: a, node_id: 'ns=2;s=a'}]\n"
MODBUS = "devices: [{name: d, host: h, tags: [{series: a, address: 0, data_type: int16}]}]\n"
MQTT = "tags: [{series: a, group_id: g, edge_node_id: n, metric: m}]\n"


@pytest.mark.parametrize(
    ("text", "load", "error"),
    [
        (OPCUA, load_opcua, ConfigError),
        (MODBUS, load_modbus, ConfigError),
        (MQTT, load_mqtt, ConnectorError),
    ],
)
def test_the_three_connector_files_share_the_reconnect_keys(
    tmp_path: Path, text: str, load: object, error: type[Exception]
) -> None:
    assert callable(load)
    path = tmp_path / "c.yaml"
    path.write_text(text + "reconnect_initial_s: 0.2\nreconnect_max_s: 4\n")
    config = load(path)
    assert (config.reconnect_initial_s, config.reconnect_max_s) == (0.2, 4)
    assert config.outbox_max_readings == 500_000
    path.write_text(text + "reconnect_min_s: 0.2\n")
    with pytest.raises(
        error,
        match="'reconnect_min_s' is not a key any more: it is now called 'reconnect_initial_s'",
    ):
        load(path)
    path.write_text(text + "reconect_max_s: 4\n")
    with pytest.raises(error, match="reconect_max_s"):
        load(path)
    path.write_text(text + "reconnect_initial_s: 5\nreconnect_max_s: 1\n")
    with pytest.raises(error, match=r"reconnect_max_s \(1.0\) must be at least"):
        load(path)
