"""``connector_last_reading_timestamp_seconds{connector}``: set as a connector takes readings.

A Modbus connector polls the simulator (real TCP); each device's gauge (labelled like its
``connector_connected``, ``modbus:<device>``) holds the time of its newest Good reading, the
same instant its status reports.
"""

from __future__ import annotations

from anh_reporter.domain.timeutil import to_us
from anh_reporter.observability.metrics import REGISTRY
from anh_reporter.storage.database import Database

from ..connectors.test_modbus import Clock, Field


async def test_a_connector_sets_the_time_of_its_newest_reading(db: Database) -> None:
    field = Field(db, Clock(None))
    try:
        connector = await field.start()
        await field.until("2 polls of every series", lambda: field.counts_reach(field.good, 2))
        await connector.stop()
        devices = connector.device_status()
        assert devices
        for device, status in devices.items():
            assert status.last_value_time is not None, device
            labels = {"connector": f"modbus:{device}"}
            seconds = REGISTRY.get_sample_value("connector_last_reading_timestamp_seconds", labels)
            assert seconds is not None, labels
            assert round(seconds * 1e6) == to_us(status.last_value_time), device
            assert REGISTRY.get_sample_value("connector_connected", labels) == 0.0  # stopped
    finally:
        await field.close()
