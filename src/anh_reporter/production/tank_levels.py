"""A day's storage-tank stocks for the oil balance: hand gauging first, else level telemetry.

For each storage tank of the field (a site-file tank without a PMO):

* a **hand gauging** of the day (``tank_stocks``, ``manual stock``) gives its opening and
  closing stock, as before, and wins over telemetry;
* else, when the tank has ``level_telemetry``, its level series gives the level at the contract
  day's start and end (:func:`~anh_reporter.allocation.tank_levels.value_at`: at the boundary,
  interpolated between the good readings around it, or the last good reading within
  ``max_age_s``), the liquid temperature comes from its temperature series (or the fixed
  ``temperature_f``), the API gravity at 60 °F and the S&W from the day's figures of the
  ``oil_from`` PMO, and both gauges go through the strapping table and API MPMS 12.1.1 exactly
  as a hand gauging does (:func:`~anh_reporter.production.tank_gauging.transfer`);
* a tank with telemetry whose stock cannot be had (a stale level, a level off the strapping
  table, no API for the day) is **unknown**: a finding says why and the oil balance does not
  close (never a silent zero);
* a tank with neither is left out of the balance, as before.

An info finding per tank (``tank_stock_source``) names where its opening and closing stock came
from, so the signed report says it; the stored allocation keeps every step (``tank_stocks``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg

from anh_reporter.allocation.balances import TankStock
from anh_reporter.allocation.findings import Code, Finding, Severity
from anh_reporter.allocation.tank_levels import BoundaryPolicy, BoundaryValue, Reading, value_at
from anh_reporter.domain.quality import GOOD_STORED_UPPER
from anh_reporter.domain.timeutil import to_us
from anh_reporter.production.config import FieldConfig
from anh_reporter.production.contract_day import ContractDay
from anh_reporter.production.store import load_day
from anh_reporter.production.tank_gauging import Gauge, TankGaugingError, transfer
from anh_reporter.storage import well_records as records

Conn = psycopg.Connection[Any]
GAUGING = "gauging"
LEVEL_TELEMETRY = "level_telemetry"


@dataclass(frozen=True)
class DayTankStocks:
    """The storage tanks of a day: known stocks, unknown tanks, findings, stored details."""

    stocks: tuple[TankStock, ...] = ()
    unknown: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    details: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class OilQuality:
    """API gravity at 60 °F and S&W of the oil a tank holds (None: not measured that day)."""

    api60: Decimal | None
    bsw_percent: Decimal | None


def day_tank_stocks(conn: Conn, config: FieldConfig, window: ContractDay) -> DayTankStocks:
    """Every storage tank's stock of the day (module docstring)."""
    manual = {r.tank: r for r in records.tank_stocks_of_day(conn, config.id, window.day)}
    tanks = conn.execute(
        "SELECT code, definition FROM tanks WHERE field_id = %s AND pmo_id IS NULL ORDER BY code",
        (config.id,),
    ).fetchall()
    stocks: list[TankStock] = []
    unknown: list[str] = []
    findings: list[Finding] = []
    details: list[dict[str, Any]] = []
    quality: dict[str, OilQuality] | None = None
    for code, definition in tanks:
        row = manual.get(code)
        if row is not None:
            stock = TankStock(code, row.opening_nsv, row.closing_nsv, row.capacity_bbl)
            stocks.append(stock)
            findings.append(_source_finding(stock, "hand gauging entered for the day"))
            details.append({"tank": code, "opening_source": GAUGING, "closing_source": GAUGING})
            continue
        conf = definition.get("level_telemetry")
        if not conf:
            continue
        if quality is None:
            quality = _oil_quality(conn, config.id, window.day)
        found = telemetry_stock(conn, config.id, code, definition, window, quality)
        findings.extend(found.findings)
        details.extend(found.details)
        stocks.extend(found.stocks)
        unknown.extend(found.unknown)
    return DayTankStocks(tuple(stocks), tuple(unknown), tuple(findings), tuple(details))


def telemetry_stock(
    conn: Conn,
    field_id: int,
    code: str,
    definition: dict[str, Any],
    window: ContractDay,
    quality: dict[str, OilQuality],
) -> DayTankStocks:
    """One tank's stock from its level (and temperature) series at the day's two boundaries."""
    conf = definition["level_telemetry"]
    policy = BoundaryPolicy(float(conf["max_age_s"]), conf.get("stuck_after_s"))
    steps: dict[str, Any] = {"tank": code}
    findings: list[Finding] = []
    wanted = [c for c in (conf["level_series"], conf.get("temperature_series")) if c]
    ids = _series_ids(conn, field_id, wanted)
    if len(ids) != len(wanted):
        absent = sorted(set(wanted) - set(ids))
        return _unknown(code, f"its series {absent} are not loaded", steps, findings)
    gauges: list[Gauge] = []
    missing: list[str] = []
    for label, at in (("opening", window.start), ("closing", window.end)):
        read = _boundary_readings(conn, list(ids.values()), at, policy)
        level = value_at(
            read.get(ids[conf["level_series"]], []),
            to_us(at),
            policy,
            what=f"level of tank {code} ({conf['level_series']})",
            unit=definition["level_unit"],
            target=code,
        )
        temperature = _temperature(conf, ids, read, to_us(at), policy, code)
        findings.extend((*level.findings, *temperature.findings))
        steps[label] = {
            "level": _text(level.value),
            "level_how": level.how,
            "temperature_f": _text(temperature.value),
            "temperature_how": temperature.how,
        }
        if level.value is None or temperature.value is None:
            missing.append(label)
            continue
        ambient = conf.get("ambient_f")
        gauges.append(
            Gauge(
                level=level.value,
                temperature_f=temperature.value,
                ambient_f=None if ambient is None else Decimal(repr(float(ambient))),
            )
        )
    oil = quality.get(conf["oil_from"], OilQuality(None, None))
    steps |= {"opening_source": LEVEL_TELEMETRY, "closing_source": LEVEL_TELEMETRY}
    steps |= {
        "oil_from": conf["oil_from"],
        "api60": _text(oil.api60),
        "bsw_percent": _text(oil.bsw_percent),
    }
    why = ""
    if missing:
        why = f"no {' and no '.join(missing)} level or temperature"
    elif oil.api60 is None or oil.bsw_percent is None:
        why = f"{conf['oil_from']} has no API gravity at 60 °F or S&W for the day"
    else:
        try:
            moved, steps["api_mpms_12_1_1"] = transfer(
                code, definition, gauges[0], gauges[1], api60=oil.api60, bsw_percent=oil.bsw_percent
            )
        except TankGaugingError as exc:
            why = str(exc)
        else:
            top = max(Decimal(str(row[1])) for row in definition["strapping"])
            stock = TankStock(
                code,
                moved.opening.net_standard_volume,
                moved.closing.net_standard_volume,
                top,
                LEVEL_TELEMETRY,
                LEVEL_TELEMETRY,
            )
            how = (
                f"level {steps['opening']['level']} → {steps['closing']['level']} "
                f"{definition['level_unit']} ({conf['level_series']}), API {oil.api60} and S&W "
                f"{oil.bsw_percent} % of {conf['oil_from']}"
            )
            findings.append(_source_finding(stock, how))
            return DayTankStocks((stock,), (), tuple(findings), (steps,))
    return _unknown(code, why, steps, findings)


def _unknown(code: str, why: str, steps: dict[str, Any], findings: list[Finding]) -> DayTankStocks:
    """A tank with telemetry whose stock cannot be had: a finding says why."""
    message = f"the stock of tank {code} from level telemetry is unknown: {why}"
    found = (*findings, Finding(Code.TANK_STOCK_UNKNOWN, Severity.WARNING, message, code))
    return DayTankStocks((), (code,), found, (steps | {"unknown": why},))


def _source_finding(stock: TankStock, how: str) -> Finding:
    sources = (
        stock.opening_source
        if stock.opening_source == stock.closing_source
        else f"{stock.opening_source} (opening), {stock.closing_source} (closing)"
    )
    return Finding(
        Code.TANK_STOCK_SOURCE,
        Severity.INFO,
        f"stock from {sources}: opening {stock.opening_bbl} bbl, closing {stock.closing_bbl} "
        f"bbl NSV, change {stock.change_bbl} bbl ({how})",
        stock.tank,
    )


def _temperature(
    conf: dict[str, Any],
    ids: dict[str, int],
    read: dict[int, list[Reading]],
    at_us: int,
    policy: BoundaryPolicy,
    code: str,
) -> BoundaryValue:
    """The liquid temperature at a boundary: its series, else (or when stale) the fixed one."""
    raw = conf.get("temperature_f")
    fixed = None if raw is None else Decimal(repr(float(raw)))
    series = conf.get("temperature_series")
    if series is None:
        return BoundaryValue(fixed, "fixed temperature_f")
    found = value_at(
        read.get(ids[series], []),
        at_us,
        policy,
        what=f"temperature of tank {code} ({series})",
        unit="degF",
        target=code,
    )
    if found.value is not None or fixed is None:
        return found
    return BoundaryValue(fixed, "fixed temperature_f (the series is stale)", found.findings)


def _series_ids(conn: Conn, field_id: int, codes: list[str]) -> dict[str, int]:
    rows = conn.execute(
        "SELECT code, id FROM series WHERE field_id = %s AND code = ANY(%s)", (field_id, codes)
    ).fetchall()
    return {str(code): int(sid) for code, sid in rows}


def _boundary_readings(
    conn: Conn, series_ids: list[int], at: dt.datetime, policy: BoundaryPolicy
) -> dict[int, list[Reading]]:
    """Each series' readings from (the longer of) max age or the stuck window before ``at`` to
    max age after it."""
    back = dt.timedelta(seconds=max(policy.max_age_s, policy.stuck_after_s or 0))
    ahead = dt.timedelta(seconds=policy.max_age_s)
    out: dict[int, list[Reading]] = {}
    for sid, time, value, quality in conn.execute(
        "SELECT series_id, time, coalesce(value, 'NaN'::float8), quality FROM telemetry "
        "WHERE series_id = ANY(%s) AND time >= %s AND time <= %s ORDER BY series_id, time",
        (series_ids, at - back, at + ahead),
    ).fetchall():
        good = 0 <= int(quality) < GOOD_STORED_UPPER
        out.setdefault(int(sid), []).append(Reading(to_us(time), float(value), good))
    return out


def _oil_quality(conn: Conn, field_id: int, day: dt.date) -> dict[str, OilQuality]:
    """API gravity at 60 °F and S&W of each oil PMO's figures of the day."""
    out: dict[str, OilQuality] = {}
    for stored in load_day(conn, field_id, day):
        f = stored.figures
        if f.fluid == "oil":
            out[stored.pmo.code] = OilQuality(_decimal(f.api_gravity), _decimal(f.bsw_percent))
    return out


def _decimal(value: Decimal | float | None) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(repr(value))


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
