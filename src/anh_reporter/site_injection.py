"""An injection well's meter in the site file: which of its series gives the water it injects.

An injector (``production_method: injector``) may name, as ``injection_meter``, one of its own
series: a ``water_rate`` in bbl/d (integrated over the day) or a ``water_total`` in bbl (the
counter's difference), read the way a PMO's volume series is. The daily compute then counts
each such well's day in the water balance (docs/allocation.md, "Balances").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

INJECTION_METER_SERIES = ("water_rate", "water_total")
"""The variables an injection meter may be (a water_rate is in bbl/d, a water_total in bbl: the
series' own check refuses any other unit)."""


def injection_meter_problem(
    field_code: str,
    well_code: str,
    method: str,
    meter: str,
    series: Mapping[str, Any],
) -> str | None:
    """Why well ``well_code`` (of ``method``) cannot have ``meter``; None: it can.

    ``series`` are the well's own series by code (each with its ``variable``).
    """
    where = f"well {well_code!r} of field {field_code!r}: injection_meter {meter!r}"
    if method != "injector":
        return (
            f"{where}: only an injector's water is metered into the balance; this well's "
            f"production_method is {method!r} (write production_method: injector, or remove "
            "injection_meter)"
        )
    found = series.get(meter)
    if found is None:
        known = sorted(c for c, s in series.items() if s.variable in INJECTION_METER_SERIES)
        return f"{where} is not a series of the well (its water_rate / water_total series: {known})"
    if found.variable not in INJECTION_METER_SERIES:
        return (
            f"{where} is a {found.variable!r} series; expected one of "
            f"{list(INJECTION_METER_SERIES)}"
        )
    return None
