"""Two batteries converging on one station (see tests/production/test_two_batteries.py).

BAT-1's transfer meter B1-T and BAT-2's B2-T feed the station EST-1's production PMO ST-OIL
(``downstream_of: [B1-T, B2-T]``), then the LACT; wells W-1 at BAT-1, W-2 and W-3 at BAT-2.
"""

from __future__ import annotations

from typing import Any

from .helpers import site_dict

METER = {"type": "coriolis", "has_totalizer": True, "meter_factor": 1.0}


def _pmo(code: str, facility: str, role: str, downstream_of: Any = None) -> dict[str, Any]:
    out = {"code": code, "name": code, "kind": "oil", "role": role, "facility": facility}
    out["meter"] = dict(METER)
    return out | ({"downstream_of": downstream_of} if downstream_of is not None else {})


def two_batteries_dict() -> dict[str, Any]:
    """The site: report type B, three facilities, four oil PMOs, three wells."""
    raw = site_dict(report_type="B")
    field = raw["fields"][0]
    field["facilities"] = [
        {"code": "BAT-1", "name": "Batería 1"},
        {"code": "BAT-2", "name": "Batería 2"},
        {"code": "EST-1", "name": "Estación central", "kind": "station"},
    ]
    field["pmos"] = [
        _pmo("B1-T", "BAT-1", "transfer"),
        _pmo("B2-T", "BAT-2", "transfer"),
        _pmo("ST-OIL", "EST-1", "production", ["B1-T", "B2-T"]),
        _pmo("LACT", "EST-1", "sales", "ST-OIL"),
    ]
    field["wells"] = [
        {"code": "W-1", "name": "Pozo 1", "production_method": "esp", "facility": "BAT-1"},
        {"code": "W-2", "name": "Pozo 2", "production_method": "esp", "facility": "BAT-2"},
        {"code": "W-3", "name": "Pozo 3", "production_method": "esp", "facility": "BAT-2"},
    ]
    return raw
