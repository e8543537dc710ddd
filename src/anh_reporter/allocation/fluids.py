"""The three fluids of a well, their units and the default volume increment."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from anh_reporter.allocation.errors import AllocationError

Fluid = Literal["oil", "gas", "water"]
FLUIDS: tuple[Fluid, ...] = ("oil", "gas", "water")

VOLUME_UNIT: dict[Fluid, str] = {"oil": "bbl", "gas": "kscf", "water": "bbl"}
"""Oil and water in barrels at 60 °F, gas in thousands of standard cubic feet (KPC)."""

RATE_UNIT: dict[Fluid, str] = {"oil": "bbl/d", "gas": "kscf/d", "water": "bbl/d"}

VOLUME_INCREMENT = Decimal("0.01")
"""The reporting increment of volumes (0.01 bbl, 0.01 kscf), as the daily figures use."""

HOURS_PER_DAY = Decimal(24)
"""Rates are per day of 24 h: theoretical = rate × hours on / 24."""

HOURS_INCREMENT = Decimal("0.01")
"""Hours are reported to 0.01 h (36 s)."""


def check_fluid(field: str, value: object) -> Fluid:
    """``value`` when it is one of oil, gas, water; else an error naming ``field``."""
    for fluid in FLUIDS:
        if value == fluid:
            return fluid
    raise AllocationError(f"{field} {value!r} is not a fluid; expected one of {list(FLUIDS)}")
