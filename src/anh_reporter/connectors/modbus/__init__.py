"""Modbus TCP connector (pymodbus): planned block reads, vectorised decoding, Bad on failure."""

from anh_reporter.connectors.modbus.config import (
    REGISTERS_PER_TYPE,
    DataType,
    ModbusConfig,
    ModbusDevice,
    ModbusTag,
    RegisterType,
    load_config,
)
from anh_reporter.connectors.modbus.connector import ModbusConnector
from anh_reporter.connectors.modbus.decode import BlockDecoder
from anh_reporter.connectors.modbus.plan import ReadBlock, plan_reads

__all__ = [
    "REGISTERS_PER_TYPE",
    "BlockDecoder",
    "DataType",
    "ModbusConfig",
    "ModbusConnector",
    "ModbusDevice",
    "ModbusTag",
    "ReadBlock",
    "RegisterType",
    "load_config",
    "plan_reads",
]
