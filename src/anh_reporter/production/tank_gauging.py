"""A tank gauging as a day's volume: opening and closing gauges through API MPMS 12.1.1.

The tank's strapping table, shell and floating roof come from the site file (``tanks``). Each
gauge (level, liquid and ambient temperature, free water) goes through TOV, free water, CTSh,
the roof adjustment, CTL at the tank temperature and CSW
(:func:`anh_reporter.domain.mpms.gauge_tank`); the day's volume is what the tank received,
closing minus opening. The whole calculation is kept with the manual entry, so the report shows
every step.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

import psycopg

from anh_reporter.domain import mpms
from anh_reporter.errors import AnhError

Conn = psycopg.Connection[Any]


class TankGaugingError(AnhError):
    """A tank gauging that cannot be used; the message names the value and the limit."""


@dataclass(frozen=True)
class Gauge:
    """One reading of a tank: level, temperatures, free water."""

    level: Decimal
    temperature_f: Decimal
    ambient_f: Decimal | None = None
    free_water_level: Decimal | None = None


def load_tank(conn: Conn, field_id: int, code: str) -> tuple[int | None, dict[str, Any]]:
    """A tank's PMO id and definition (strapping, shell, roof) from the site as loaded."""
    row = conn.execute(
        "SELECT pmo_id, definition FROM tanks WHERE field_id = %s AND code = %s", (field_id, code)
    ).fetchone()
    if row is None:
        known = [r[0] for r in conn.execute(
            "SELECT code FROM tanks WHERE field_id = %s ORDER BY code", (field_id,)
        ).fetchall()]  # fmt: skip
        raise TankGaugingError(
            f"tank {code!r} is not in the site (tanks: {', '.join(known) or 'none'})"
        )
    return row[0], row[1]


def transfer(
    code: str,
    definition: dict[str, Any],
    opening: Gauge,
    closing: Gauge,
    *,
    api60: Decimal,
    bsw_percent: Decimal,
) -> tuple[mpms.TankTransfer, dict[str, Any]]:
    """What the tank received between the gauges, and every step as JSON-ready details."""
    table = mpms.StrappingTable.from_rows(
        code, [tuple(row) for row in definition["strapping"]], level_unit=definition["level_unit"]
    )
    shell_def = definition.get("shell") or {}
    shell = mpms.TankShell(
        insulated=bool(shell_def.get("insulated", False)),
        expansion_per_f=Decimal(str(shell_def["expansion_per_f"]))
        if shell_def.get("expansion_per_f")
        else mpms.MILD_STEEL_EXPANSION_PER_F,
        reference_temperature_f=Decimal(str(shell_def.get("reference_temperature_f", 60))),
    )
    roof = _roof(definition.get("roof"))
    # A gauge without an ambient temperature takes the one the site file gives the tank (its
    # level_telemetry's ambient_f), as the level telemetry itself does.
    site_ambient = (definition.get("level_telemetry") or {}).get("ambient_f")
    default_ambient = None if site_ambient is None else Decimal(str(site_ambient))
    try:
        gauges = [
            mpms.gauge_tank(
                table=table,
                level=g.level,
                liquid_temperature_f=g.temperature_f,
                ambient_temperature_f=default_ambient if g.ambient_f is None else g.ambient_f,
                free_water_level=g.free_water_level,
                api60=api60,
                bsw_percent=bsw_percent,
                shell=shell,
                roof=roof,
            )
            for g in (opening, closing)
        ]
    except mpms.MeasurementError as exc:
        raise TankGaugingError(f"tank {code}: {exc}") from None
    moved = mpms.tank_transfer(gauges[0], gauges[1])
    details = {
        "tank": code,
        "opening": _plain(asdict(gauges[0])),
        "closing": _plain(asdict(gauges[1])),
        "gross_observed_volume": str(
            gauges[1].gross_observed_volume - gauges[0].gross_observed_volume
        ),
        "gross_standard_volume": str(moved.gross_standard_volume),
        "net_standard_volume": str(moved.net_standard_volume),
        "method": "API MPMS 12.1.1: TOV − FW, × CTSh, + roof, × CTL(tank T), × CSW; closing − "
        "opening",
    }
    return moved, details


def _roof(conf: dict[str, Any] | None) -> mpms.FloatingRoof | None:
    if not conf:
        return None
    landed, floating = Decimal(str(conf["landed_level"])), Decimal(str(conf["floating_level"]))
    if conf["kind"] == "gravity":
        return mpms.RoofByGravity(
            landed, floating, Decimal(str(conf["reference_api"])), Decimal(str(conf["bbl_per_api"]))
        )
    return mpms.RoofByWeight(landed, floating, Decimal(str(conf["weight_lb"])))


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in values.items()}
