"""The OPC UA connector against the simulator on a free port, end to end into PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytest_asyncio
from asyncua import ua

import anh_reporter.connectors.opcua as opcua_pkg
from anh_reporter.connectors.base import ConnectorError
from anh_reporter.connectors.opcua import (
    OpcUaConfig,
    OpcUaConnector,
    OpcUaSecurity,
    OpcUaTag,
    load_config,
)
from anh_reporter.connectors.opcua.client import datavalue_columns
from anh_reporter.connectors.runtime import deadband_keep
from anh_reporter.connectors.tagmap import Deadband
from anh_reporter.domain.batch import Batch
from anh_reporter.domain.quality import BAD_NO_COMMUNICATION, BAD_TIMEOUT, to_stored
from anh_reporter.domain.timeutil import to_us
from anh_reporter.errors import ConfigError
from anh_reporter.simulator.faults import FaultKind
from anh_reporter.simulator.opcua_server import NAMESPACE_URI, OpcUaSimulator
from anh_reporter.site import Site, load_site
from anh_reporter.storage.database import Database
from anh_reporter.storage.site_repo import load_site_into
from anh_reporter.storage.telemetry import TelemetryWriter

from ..conftest import EXAMPLE_SITE

PERIOD_S = 0.2
STEP_US = 200_000
OIL = "CAMPO-DEMO-LLANOS.PMO-LACT-01.oil_rate"
GAS = "CAMPO-DEMO-LLANOS.PMO-GAS-01.gas_rate"
TEMP = "CAMPO-DEMO-LLANOS.PMO-LACT-01.meter_temperature"
NODE_OIL = "CAMPO-DEMO-LLANOS/PMO-LACT-01/oil_rate"
BAD_NO_COMMUNICATION_STORED = int(to_stored(np.array([BAD_NO_COMMUNICATION], np.uint32))[0])
BAD_TIMEOUT_STORED = int(to_stored(np.array([BAD_TIMEOUT], np.uint32))[0])
FAST = {"publishing_interval_ms": 200, "flush_interval_ms": 100}

on_module_loop = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def site() -> Site:
    return load_site(EXAMPLE_SITE)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sim(site: Site) -> AsyncIterator[OpcUaSimulator]:
    """A plain simulator (no security) shared by the tests that do not restart it."""
    async with OpcUaSimulator(
        site, port=0, period_s=PERIOD_S, max_nodes_per_read=10, record=True
    ) as s:
        yield s


@pytest.fixture
def series_ids(db: Database, site: Site) -> dict[str, int]:
    with db.connect() as conn:
        load_site_into(conn, site, changed_by="test")
        rows = conn.execute("SELECT code, id FROM series").fetchall()
    return {code: sid for code, sid in rows}


class DatabaseSink:
    """What ingest does, minus the bus: write each batch with the idempotent writer."""

    def __init__(self, db: Database) -> None:
        self.conn = db.connect()
        self.writer = TelemetryWriter(self.conn)
        self.offered = 0
        self.duplicates = 0

    async def __call__(self, batch: Batch) -> None:
        # In a thread, as ingest would: the simulator shares this event loop.
        result = await asyncio.to_thread(
            self.writer.write, batch.series_id, batch.time_us, batch.value, batch.quality
        )
        self.offered += result.offered
        self.duplicates += result.duplicates

    def rows(self) -> list[tuple[Any, ...]]:
        return self.conn.execute(
            "SELECT series_id, time, value, quality FROM telemetry ORDER BY series_id, time"
        ).fetchall()


@pytest.fixture
def sink(db: Database) -> Iterator[DatabaseSink]:
    s = DatabaseSink(db)
    yield s
    s.conn.close()


async def run(connector: OpcUaConnector, seconds: float) -> OpcUaConnector:
    await connector.start()
    try:
        await asyncio.sleep(seconds)
    finally:
        await connector.stop()
    return connector


def assert_served_exactly(
    rows: list[tuple[Any, ...]], sim: OpcUaSimulator, code_of: dict[int, str]
) -> None:
    """Every stored row holds what the simulator served for that series at that instant."""
    assert rows
    for sid, time, value, quality in rows:
        t = to_us(time)
        assert t % STEP_US == 0, f"source timestamp {time} is not a sampling instant"
        expected_v, expected_q = sim.expected(code_of[sid], np.array([t]))
        stored_q = int(to_stored(expected_q)[0])
        assert quality == stored_q, (code_of[sid], time)
        if math.isnan(expected_v[0]):
            assert value is None
        else:
            assert value == expected_v[0], (code_of[sid], time)  # exact: float64 end to end


# -- pure parts ------------------------------------------------------------------------


def test_sample_config_loads() -> None:
    config = load_config(Path(opcua_pkg.__file__).parent / "sample.yaml")
    assert config.acquisition == "subscription"
    assert config.tags[0].node_id.startswith("nsu=urn:anh-reporter:simulator;")
    assert config.tags[3].deadband == Deadband(kind="percent", value=0.5)


def test_config_errors_name_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "name: x\nendpoint: opc.tcp://h:4840\nsecurity: {policy: Basic256Sha256, mode: None}\n"
        "tags: [{series: a, node_id: 'ns=2;s=a'}]\n"
    )
    with pytest.raises(ConfigError, match=r"c.yaml: security: .*'Basic256Sha256' and mode 'None'"):
        load_config(path)
    path.write_text("name: x\nendpoint: opc.tcp://h:4840\ntags: [{series: a, node_id: 'x=1'}]\n")
    with pytest.raises(ConfigError, match=r"tags\[0\]\.node_id: .*not an OPC UA node id"):
        load_config(path)


def test_datavalue_columns_fall_back_from_source_to_server_to_receive_time() -> None:
    t_source = dt.datetime(2026, 1, 2, 3, 4, 5, 600_000, tzinfo=dt.UTC)
    t_server = dt.datetime(2026, 1, 2, 3, 4, 6, tzinfo=dt.UTC)
    dvs = [
        ua.DataValue(ua.Variant(1.5), SourceTimestamp=t_source, ServerTimestamp=t_server),
        ua.DataValue(ua.Variant(2), ServerTimestamp=t_server),
        ua.DataValue(ua.Variant(None), StatusCode=ua.StatusCode(BAD_TIMEOUT), SourceTimestamp=None),
        ua.DataValue(ua.Variant(True), SourceTimestamp=t_source.replace(tzinfo=None)),
    ]
    times, values, quality = datavalue_columns(dvs, receive_us=42)
    # 2026-01-02T03:04:05.6Z = 1767323045.6 s since the epoch
    assert times.tolist() == [
        1_767_323_045_600_000,
        1_767_323_046_000_000,
        42,
        1_767_323_045_600_000,
    ]
    assert values[0] == 1.5 and values[1] == 2.0 and math.isnan(values[2]) and values[3] == 1.0
    assert quality.tolist() == [0, 0, BAD_TIMEOUT, 0]


def test_client_deadband_reports_moves_beyond_the_threshold_and_every_bad_status() -> None:
    handles = np.array([0, 1, 0, 0, 0, 1], dtype=np.intp)
    values = np.array([10.0, 5.0, 10.4, 10.6, 10.6, 9.0])
    quality = np.array([0, 0, 0, 0, BAD_TIMEOUT, 0], dtype=np.uint32)
    last = np.full(2, math.nan)
    limits = np.array([0.5, 0.0])  # the server refused tag 0's filter; tag 1 has none
    keep = deadband_keep(handles, values, quality == 0, limits, last)
    # tag 0: 10.0 first (kept), 10.4 within 0.5 of 10.0, 10.6 beyond, Bad kept; tag 1 unfiltered
    assert keep.tolist() == [True, True, False, True, True, True]
    assert math.isnan(last[0])  # after a Bad status the next value is reported


def test_unknown_series_are_refused() -> None:
    config = OpcUaConfig(
        name="x", endpoint="opc.tcp://127.0.0.1:4840", tags=(OpcUaTag(series=OIL, node_id="i=1"),)
    )

    async def nowhere(batch: Batch) -> None:
        raise AssertionError("no batch expected")

    with pytest.raises(ConnectorError, match=f"not in the database, e.g. '{OIL}'"):
        OpcUaConnector(config, {GAS: 1}, nowhere)


# -- against the simulator ---------------------------------------------------------------


@on_module_loop
async def test_subscription_end_to_end_into_postgresql(
    sim: OpcUaSimulator, series_ids: dict[str, int], sink: DatabaseSink
) -> None:
    config = sim.connector_config(**FAST)
    connector = OpcUaConnector(config, series_ids, sink)
    await connector.start()
    try:
        await asyncio.sleep(1.0)
        sim.inject_now(FaultKind.BAD_STATUS, OIL, 0.6)
        await asyncio.sleep(1.2)
    finally:
        await connector.stop()
    code_of = {sid: code for code, sid in series_ids.items()}
    rows = sink.rows()
    assert_served_exactly(rows, sim, code_of)
    # stop() returned after the outbox delivered everything: nothing still in flight
    assert connector.outbox.pending == 0 and connector.outbox.counters.sink_failures == 0
    assert len(rows) == connector.counters.readings == sink.offered
    assert sink.duplicates == 0
    assert {sid for sid, *_ in rows} == set(series_ids.values())
    assert sim.served is not None
    for sid in series_ids.values():  # every value served while subscribed, none missing
        times = [to_us(t) for s, t, *_ in rows if s == sid]
        served = [t for t in sim.served[code_of[sid]] if times[0] <= t <= times[-1]]
        assert times == served, code_of[sid]
    oil_bad = [r for r in rows if r[0] == series_ids[OIL] and r[3] == BAD_TIMEOUT_STORED]
    assert 2 <= len(oil_bad) <= 4 and all(r[2] is None for r in oil_bad)
    status = connector.status()
    assert not status.connected and status.last_error is None
    assert status.last_value_time == max(r[1] for r in rows)
    assert status.readings == len(rows) and status.reconnects == 0
    sim.clear()


@on_module_loop
async def test_items_sharded_over_subscriptions_all_arrive(
    sim: OpcUaSimulator, series_ids: dict[str, int], sink: DatabaseSink
) -> None:
    """The site's tags in subscriptions of at most 25 items: 25 + 25 + the rest, none missing."""
    config = sim.connector_config(max_items_per_subscription=25, **FAST)
    rest = len(config.tags) - 50
    assert 0 < rest <= 25  # the example site: three subscriptions
    connector = OpcUaConnector(config, series_ids, sink)
    await connector.start()
    try:
        assert sim.subscription_sizes() == sorted([25, 25, rest])
        await asyncio.sleep(1.5)
    finally:
        await connector.stop()
    code_of = {sid: code for code, sid in series_ids.items()}
    rows = sink.rows()
    assert_served_exactly(rows, sim, code_of)
    assert {sid for sid, *_ in rows} == set(series_ids.values())
    assert len(rows) == connector.counters.readings == sink.offered and sink.duplicates == 0
    assert sim.served is not None
    for sid in series_ids.values():  # every value served while subscribed, in every shard
        times = [to_us(t) for s, t, *_ in rows if s == sid]
        assert times == [t for t in sim.served[code_of[sid]] if times[0] <= t <= times[-1]]
    assert connector.status().reconnects == 0 and connector.counters.markers == 0


@on_module_loop
@pytest.mark.parametrize("max_nodes_per_read", [None, 48])
async def test_polling_respects_max_nodes_per_read(
    sim: OpcUaSimulator,
    series_ids: dict[str, int],
    sink: DatabaseSink,
    max_nodes_per_read: int | None,
) -> None:
    """The server allows 10 nodes per read: learnt from its limits, or by refusal (48)."""
    config = sim.connector_config(acquisition="polling", max_nodes_per_read=max_nodes_per_read)
    connector = await run(OpcUaConnector(config, series_ids, sink), 1.3)
    rows = sink.rows()
    assert_served_exactly(rows, sim, {sid: code for code, sid in series_ids.items()})
    assert {sid for sid, *_ in rows} == set(series_ids.values())
    assert connector.counters.read_requests >= 3 * 5  # 62 nodes in reads of <= 10
    assert connector.counters.markers == 0 and connector.status().reconnects == 0
    assert sink.duplicates == 0


@on_module_loop
async def test_deadband_filters_on_the_server(sim: OpcUaSimulator) -> None:
    base = sim.connector_config(**FAST)
    tags = {t.series: t for t in base.tags}
    config = base.model_copy(
        update={
            "tags": (
                # by namespace URI: the connector looks the index up on the server
                tags[OIL].model_copy(update={"node_id": f"nsu={NAMESPACE_URI};s={NODE_OIL}"}),
                tags[TEMP].model_copy(update={"deadband": Deadband(value=1e6)}),
                # 50 % of the 0-5000 kscf/d EURange, sent as an absolute 2500
                tags[GAS].model_copy(update={"deadband": Deadband(kind="percent", value=50)}),
            )
        }
    )
    batches: list[Batch] = []

    async def keep(batch: Batch) -> None:
        batches.append(batch)

    await run(OpcUaConnector(config, {OIL: 1, TEMP: 2, GAS: 3}, keep), 1.5)
    counts = np.bincount(Batch.concat(batches).series_id, minlength=4)
    assert counts[1] >= 4  # the unfiltered tag: every 0.2 s sample
    assert counts[2] == 1 and counts[3] == 1  # only the first value: nothing moved that much


async def test_security_untrusted_client_refused_then_trusted_connects(
    site: Site, tmp_path: Path
) -> None:
    server_pki, client_pki = tmp_path / "server", tmp_path / "client"
    async with OpcUaSimulator(site, port=0, period_s=PERIOD_S, pki_dir=server_pki) as sim:
        security = OpcUaSecurity(
            policy="Basic256Sha256",
            mode="SignAndEncrypt",
            certificate=client_pki / "cert.der",
            private_key=client_pki / "key.pem",
            trust_dir=client_pki / "trusted",
        )
        config = sim.connector_config(security=security, **FAST)
        ids = {s.code: s.key for s in sim.series}
        batches: list[Batch] = []

        async def keep(batch: Batch) -> None:
            batches.append(batch)

        # The server does not trust us: refused there, our certificate saved in its rejected/.
        with pytest.raises(ConnectorError, match="BadCertificateUntrusted"):
            await OpcUaConnector(config, ids, keep).start()
        assert not batches  # refused before it ever ran: nothing to mark
        (client_cert,) = (server_pki / "rejected").iterdir()
        client_cert.rename(server_pki / "trusted" / client_cert.name)

        # Now it does, but we do not trust the server: refused on our side, its certificate kept.
        with pytest.raises(ConnectorError, match="BadCertificateUntrusted"):
            await OpcUaConnector(config, ids, keep).start()
        (server_cert,) = (client_pki / "rejected").iterdir()
        server_cert.rename(client_pki / "trusted" / server_cert.name)

        for mode in ("SignAndEncrypt", "Sign"):
            batches.clear()
            secured = config.model_copy(
                update={"security": security.model_copy(update={"mode": mode})}
            )
            connector = await run(OpcUaConnector(secured, ids, keep), 0.8)
            assert connector.status().last_error is None
            data = Batch.concat(batches)
            assert len(data) >= 48 and np.all(data.quality == 0), mode


async def test_a_server_with_users_takes_the_user_and_refuses_anyone_else(
    site: Site, tmp_path: Path
) -> None:
    secret = tmp_path / "password"
    secret.write_text("clave de campo\n")  # as `echo ... > file` leaves it
    async with OpcUaSimulator(
        site, port=0, period_s=PERIOD_S, users={"operador": "clave de campo"}
    ) as sim:
        ids = {s.code: s.key for s in sim.series}
        batches: list[Batch] = []

        async def keep(batch: Batch) -> None:
            batches.append(batch)

        refusals = {
            "anonymous": (OpcUaSecurity(), "BadIdentityTokenRejected .*set security.username"),
            "wrong password": (
                OpcUaSecurity(username="operador", password="otra"),
                "BadUserAccessDenied .*check security.username and its password",
            ),
        }
        for what, (security, status) in refusals.items():
            config = sim.connector_config(security=security, **FAST)
            with pytest.raises(ConnectorError, match=status) as refused:
                await OpcUaConnector(config, ids, keep).start()
            assert "otra" not in str(refused.value), what
        assert not batches

        user = OpcUaSecurity(username="operador", password_file=secret)
        connector = await run(
            OpcUaConnector(sim.connector_config(security=user, **FAST), ids, keep), 0.8
        )
        assert connector.status().last_error is None
        data = Batch.concat(batches)
        assert len(data) >= 48 and np.all(data.quality == 0)


def test_a_user_identity_needs_a_name_and_one_password(tmp_path: Path) -> None:
    for bad, message in [
        ({"username": "operador"}, "needs both 'username' and 'password'"),
        ({"password": "x"}, "needs both 'username' and 'password'"),
        ({"username": "u", "password": "x", "password_file": "p"}, "not both"),
    ]:
        with pytest.raises(ValueError, match=message):
            OpcUaSecurity.model_validate(bad)
    missing = OpcUaSecurity(username="u", password_file=tmp_path / "nope")
    with pytest.raises(ConfigError, match=r"password_file .*nope: No such file"):
        missing.user_password()
    assert "x" not in repr(OpcUaSecurity(username="u", password="x"))


@pytest.mark.slow
async def test_reconnects_after_a_server_restart(
    site: Site, series_ids: dict[str, int], sink: DatabaseSink
) -> None:
    async with OpcUaSimulator(site, port=0, period_s=PERIOD_S) as sim:
        config = sim.connector_config(reconnect_initial_s=0.2, reconnect_max_s=2.0, **FAST)
        connector = OpcUaConnector(config, series_ids, sink)
        await connector.start()
        try:
            await asyncio.sleep(1.0)
            down = dt.datetime.now(dt.UTC)
            await sim.stop()
            await asyncio.sleep(1.5)
            assert not connector.status().connected
            restart = dt.datetime.now(dt.UTC)
            await sim.start()  # same port
            async with asyncio.timeout(10):  # the requirement: back within 10 s
                while not connector.status().connected:  # noqa: ASYNC110 - the connector offers no event; bounded
                    await asyncio.sleep(0.1)
            await asyncio.sleep(0.8)
        finally:
            await connector.stop()
    status = connector.status()
    assert status.reconnects == 1
    rows = sink.rows()
    markers = [r for r in rows if r[3] == BAD_NO_COMMUNICATION_STORED]
    assert len(markers) == len(series_ids)  # one per series of the connection
    assert all(r[2] is None and down <= r[1] <= restart for r in markers)
    good = [r for r in rows if r[3] == 0]
    assert not [r for r in good if down + dt.timedelta(seconds=0.5) < r[1] < restart]  # the gap
    after = {r[0] for r in good if r[1] >= restart}
    assert after == set(series_ids.values())  # resubscribed: every series flows again
    assert sink.duplicates == 0
    count, distinct = sink.conn.execute(
        "SELECT count(*), count(DISTINCT (series_id, time)) FROM telemetry"
    ).fetchone() or (0, 0)
    assert count == distinct == len(rows)
