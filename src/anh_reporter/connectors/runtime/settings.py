"""The reconnect and outbox keys the OPC UA, Modbus and MQTT connector files share."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

RENAMED_KEYS = {"reconnect_min_s": "reconnect_initial_s"}
"""Keys of older connector files and what they are called now."""


class LinkSettings(BaseModel):
    """Reconnect and outbox keys, the same in the OPC UA, Modbus and MQTT connector files."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reconnect_initial_s: float = Field(
        0.5, gt=0, le=600, description="Reconnect delay ceiling after the first failure"
    )
    reconnect_max_s: float = Field(
        30.0, gt=0, le=3_600, description="Reconnect delay cap (delays are jittered in [d/2, d])"
    )
    outbox_max_readings: int = Field(
        500_000,
        ge=1,
        le=100_000_000,
        description="Readings held for the sink at most (24 bytes each); when full, the "
        "connector waits for room instead of taking new data",
    )

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for old, new in RENAMED_KEYS.items():
                if old in data:
                    raise ValueError(f"{old!r} is not a key any more: it is now called {new!r}")
        return data

    @model_validator(mode="after")
    def _backoff_order(self) -> LinkSettings:
        if self.reconnect_max_s < self.reconnect_initial_s:
            raise ValueError(
                f"reconnect_max_s ({self.reconnect_max_s}) must be at least "
                f"reconnect_initial_s ({self.reconnect_initial_s})"
            )
        return self
