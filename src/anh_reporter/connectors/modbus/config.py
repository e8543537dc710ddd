"""The Modbus TCP tag map: devices (host, port, unit id, poll period, timeout) and their tags.

A tag says which registers feed which series: unit id, register type (holding or input),
0-based PDU address, data type and byte/word order in Telegraf's vocabulary. The file is YAML
(see ``sample.yaml`` beside this module); :func:`load_config` validates it and reports problems
as one line naming the file, the path inside it, the value and the limit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from anh_reporter.connectors.runtime import LinkSettings
from anh_reporter.connectors.tagmap import ByteOrder, TagBase
from anh_reporter.site import load_yaml_model

DataType = Literal["int16", "uint16", "int32", "uint32", "float32", "float64"]
"""The register encodings the connector decodes."""

RegisterType = Literal["holding", "input"]
"""Holding registers (function 3) or input registers (function 4)."""

REGISTERS_PER_TYPE: dict[str, int] = {
    "int16": 1,
    "uint16": 1,
    "int32": 2,
    "uint32": 2,
    "float32": 2,
    "float64": 4,
}
"""How many 16-bit registers a value of each data type occupies."""

MAX_REGISTERS_PER_READ = 125
"""Modbus application protocol: a read of holding/input registers asks for at most 125."""


class ModbusTag(TagBase):
    """One value held in registers of a device, feeding one series."""

    unit_id: int | None = Field(
        None, ge=0, le=255, description="Unit id, when not the device's (devices behind a gateway)"
    )
    register_type: RegisterType = "holding"
    address: int = Field(ge=0, le=65_535, description="0-based PDU address (40001 is 0)")
    data_type: DataType
    byte_order: ByteOrder = "ABCD"

    @property
    def width(self) -> int:
        """Registers the value occupies."""
        return REGISTERS_PER_TYPE[self.data_type]

    @model_validator(mode="after")
    def _fits_address_space(self) -> ModbusTag:
        last = self.address + self.width - 1
        if last > 65_535:
            raise ValueError(
                f"{self.data_type} at address {self.address} ends at register {last}, "
                "beyond the last address 65535"
            )
        return self


class ModbusDevice(BaseModel):
    """A Modbus TCP device (or gateway) polled on one connection."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=120)
    host: str = Field(min_length=1)
    port: int = Field(502, ge=1, le=65_535)
    unit_id: int = Field(1, ge=0, le=255)
    poll_period_s: float | None = Field(
        None, gt=0, le=86_400, description="Default: the shortest sampling period of its tags"
    )
    timeout_s: float = Field(1.0, gt=0, le=60)
    retries: int = Field(0, ge=0, le=5, description="Resends of a request that got no answer")
    tags: tuple[ModbusTag, ...] = Field(min_length=1)

    @property
    def poll_period(self) -> float:
        """Seconds between polls."""
        if self.poll_period_s is not None:
            return self.poll_period_s
        return min(tag.sampling_period_s for tag in self.tags)


class ModbusConfig(LinkSettings):
    """The whole Modbus tag map (reconnect and outbox keys: :class:`LinkSettings`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_gap: int = Field(
        8, ge=0, le=MAX_REGISTERS_PER_READ, description="Unused registers a merged read may span"
    )
    max_registers: int = Field(
        MAX_REGISTERS_PER_READ, ge=1, le=MAX_REGISTERS_PER_READ, description="Registers per read"
    )
    devices: tuple[ModbusDevice, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> ModbusConfig:
        names: set[str] = set()
        fed_by: dict[str, str] = {}
        for device in self.devices:
            if device.name in names:
                raise ValueError(f"duplicate device name {device.name!r}")
            names.add(device.name)
            for tag in device.tags:
                # One series fed by two tags would get two rows per instant: refuse it.
                if tag.series in fed_by:
                    raise ValueError(
                        f"series {tag.series!r} is fed by two tags (devices "
                        f"{fed_by[tag.series]!r} and {device.name!r}); one tag per series"
                    )
                fed_by[tag.series] = device.name
        return self

    def series_codes(self) -> list[str]:
        """Every series the tag map feeds."""
        return [tag.series for device in self.devices for tag in device.tags]


def load_config(path: Path) -> ModbusConfig:
    """Read and validate a Modbus tag map; raise :class:`ConfigError` with one readable line."""
    return load_yaml_model(path, ModbusConfig, what="Modbus tag map", top="'devices'")
