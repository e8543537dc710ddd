"""The OPC UA simulator serves the site's signals, status codes and faults over a real server."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterator

import numpy as np
import pytest
import pytest_asyncio
from asyncua import ua
from asyncua.client.client import Client
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.status_codes import StatusCodes
from asyncua.ua.uaerrors import UaStatusCodeError

from anh_reporter.domain.quality import BAD_NO_COMMUNICATION, BAD_TIMEOUT
from anh_reporter.domain.timeutil import to_us
from anh_reporter.simulator.faults import Fault, FaultKind, FaultLog
from anh_reporter.simulator.opcua_analog import eu_information, unit_id
from anh_reporter.simulator.opcua_server import OpcUaSimulator, served_series
from anh_reporter.simulator.signals import generate
from anh_reporter.site import Site, load_site

from ..conftest import EXAMPLE_SITE

PERIOD_S = 0.2
OIL = "CAMPO-DEMO-LLANOS.PMO-LACT-01.oil_rate"
GAS = "CAMPO-DEMO-LLANOS.PMO-GAS-01.gas_rate"
TEMP = "CAMPO-DEMO-LLANOS.PMO-LACT-01.meter_temperature"


# One server for the module (an asyncua server takes ~1 s to build); faults are cleared and
# the fault log emptied between tests.
on_module_loop = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def site() -> Site:
    return load_site(EXAMPLE_SITE)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sim(
    site: Site, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[OpcUaSimulator]:
    log = FaultLog(tmp_path_factory.mktemp("opcua-sim") / "faults.jsonl")
    simulator = OpcUaSimulator(
        site, port=0, period_s=PERIOD_S, max_nodes_per_read=10, fault_log=log
    )
    async with simulator:
        yield simulator


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(sim: OpcUaSimulator) -> AsyncIterator[Client]:
    c = Client(sim.endpoint)
    async with c:
        yield c


@pytest.fixture(autouse=True)
def no_faults(sim: OpcUaSimulator) -> Iterator[None]:
    yield
    sim.clear()
    assert sim.fault_log is not None
    sim.fault_log.path.unlink(missing_ok=True)


async def read(client: Client, sim: OpcUaSimulator, *codes: str) -> list[ua.DataValue]:
    return await client.uaclient.read(
        ua.ReadParameters(
            TimestampsToReturn=ua.TimestampsToReturn.Both,
            NodesToRead=[
                ua.ReadValueId(
                    NodeId=ua.NodeId.from_string(sim.node_id(c)), AttributeId=AttributeIds.Value
                )
                for c in codes
            ],
        )
    )


def test_node_names_follow_field_owner_variable(site: Site) -> None:
    served = served_series(site)
    assert len(served) == 64
    assert served[0].name == "CAMPO-DEMO-LLANOS/PMO-LACT-01/oil_rate"
    assert served[0].key == 1  # stable index without database ids
    assert {s.name.split("/")[1] for s in served} >= {"PMO-GAS-01", "CDL-006"}
    assert (
        served_series(site, {code: 100 + i for i, (code, _) in enumerate(site.series_codes())})[
            0
        ].key
        == 100
    )


@on_module_loop
async def test_browse_path_and_engineering_range(sim: OpcUaSimulator, client: Client) -> None:
    ns = sim.namespace_index
    node = await client.nodes.objects.get_child(
        [f"{ns}:CAMPO-DEMO-LLANOS", f"{ns}:PMO-LACT-01", f"{ns}:oil_rate"]
    )
    assert node.nodeid.to_string() == sim.node_id(OIL)
    eu_range = await (await node.get_child("0:EURange")).read_value()
    assert (eu_range.Low, eu_range.High) == (0, 25000)
    units = await (await node.get_child("0:EngineeringUnits")).read_value()
    assert units.DisplayName.Text == "bbl/d"


@on_module_loop
async def test_variables_are_analog_items_with_unece_units(
    sim: OpcUaSimulator, client: Client
) -> None:
    """A plain asyncua client sees an AnalogItemType with UNECE units, as foreign clients do."""
    node = client.get_node(sim.node_id(TEMP))
    assert (await node.read_type_definition()) == ua.NodeId(ua.ObjectIds.AnalogItemType)
    assert (await node.read_data_type()) == ua.NodeId(ua.ObjectIds.Double)
    eu_range = await (await node.get_child("0:EURange")).read_value()
    assert (eu_range.Low, eu_range.High) == (40, 250)  # examples/site.yaml: range [40, 250]
    units = await (await node.get_child("0:EngineeringUnits")).read_value()
    assert units.NamespaceUri == "http://www.opcfoundation.org/UA/units/un/cefact"
    # degF is UNECE "FAH": 0x46 << 16 | 0x41 << 8 | 0x48 = 4587520 + 16640 + 72
    assert (units.UnitId, units.DisplayName.Text) == (4_604_232, "degF")


def test_unit_ids_pack_the_unece_code() -> None:
    # Part 8's example: degree Celsius "CEL" = 67 << 16 | 69 << 8 | 76 = 4408652
    assert unit_id("CEL") == 4_408_652
    assert unit_id("B1") == 66 * 256 + 49  # barrel (US) per day
    assert eu_information("bbl/d").UnitId == 16_945
    assert eu_information("spm").UnitId == -1  # strokes per minute: no UNECE code


@on_module_loop
async def test_values_are_the_generator_at_the_source_timestamp(
    sim: OpcUaSimulator, client: Client
) -> None:
    for dv in await read(client, sim, OIL, GAS, TEMP):
        assert dv.StatusCode.is_good()
        t = to_us(dv.SourceTimestamp)
        assert t % 200_000 == 0  # on the 0.2 s grid
    spec = next(s.spec for s in sim.series if s.code == OIL)
    (dv,) = await read(client, sim, OIL)
    t = np.array([to_us(dv.SourceTimestamp)])
    assert dv.Value.Value == generate(spec, t, sim.seed)[0]


@on_module_loop
async def test_bad_status_and_communication_loss(sim: OpcUaSimulator, client: Client) -> None:
    sim.inject_now(FaultKind.BAD_STATUS, OIL, 5.0)
    sim.inject_now(FaultKind.COMM_LOSS, GAS, 5.0)
    await asyncio.sleep(3 * PERIOD_S)
    oil, gas = await read(client, sim, OIL, GAS)
    assert oil.StatusCode.value == BAD_TIMEOUT
    assert oil.Value.Value is None  # a Bad status carries no value
    assert gas.StatusCode.value == BAD_NO_COMMUNICATION
    first = gas.SourceTimestamp
    await asyncio.sleep(3 * PERIOD_S)
    (gas,) = await read(client, sim, GAS)
    assert gas.SourceTimestamp == first  # announced once, then silent
    assert sim.clear() == 2
    await asyncio.sleep(2 * PERIOD_S)
    oil, gas = await read(client, sim, OIL, GAS)
    assert oil.StatusCode.is_good() and gas.StatusCode.is_good()
    assert sim.fault_log is not None
    logged = FaultLog.read(sim.fault_log.path)
    assert [f.kind for f in logged] == [FaultKind.BAD_STATUS, FaultKind.COMM_LOSS]


@on_module_loop
async def test_stuck_holds_the_value_at_the_window_start(
    sim: OpcUaSimulator, client: Client
) -> None:
    spec = next(s.spec for s in sim.series if s.code == OIL)
    now = to_us(dt.datetime.now(dt.UTC))
    start = now - now % 200_000 + 200_000
    sim.inject(Fault(FaultKind.STUCK, sim.key_of(OIL), start, start + 10_000_000))
    await asyncio.sleep(4 * PERIOD_S)
    (dv,) = await read(client, sim, OIL)
    assert to_us(dv.SourceTimestamp) > start
    assert dv.Value.Value == generate(spec, np.array([start]), sim.seed)[0]


@on_module_loop
async def test_reads_above_max_nodes_per_read_are_refused(
    sim: OpcUaSimulator, client: Client
) -> None:
    codes = [s.code for s in sim.series]
    assert len(await read(client, sim, *codes[:10])) == 10
    with pytest.raises(UaStatusCodeError) as caught:
        await read(client, sim, *codes[:11])
    assert caught.value.code == StatusCodes.BadTooManyOperations


@on_module_loop
async def test_control_methods(sim: OpcUaSimulator, client: Client) -> None:
    ns = sim.namespace_index
    control = await client.nodes.objects.get_child(f"{ns}:Simulator")
    text = await control.call_method(f"{ns}:InjectFault", "flatline", OIL, 60.0, 0.0)
    assert text.startswith("flatline on " + OIL)
    await asyncio.sleep(2 * PERIOD_S)
    (dv,) = await read(client, sim, OIL)
    assert dv.Value.Value == 0.0
    with pytest.raises(UaStatusCodeError):
        await control.call_method(f"{ns}:InjectFault", "melt", OIL, 60.0, 0.0)
    assert await control.call_method(f"{ns}:ClearFaults", "") == 1


@on_module_loop
async def test_restart_on_the_same_port(sim: OpcUaSimulator) -> None:
    port = sim.port
    await sim.stop()
    assert not sim.running
    await sim.start()
    assert sim.port == port
    async with Client(sim.endpoint) as c:
        (dv,) = await read(c, sim, OIL)
        assert dv.StatusCode.is_good()
