"""A field's configuration as the daily computation needs it, as it was in force on a day.

:func:`load_field` reads the field, its PMOs and their series. Given a contract day, every
logged attribute (meter factor, base conditions, meter type, custody series, ranges, rollover,
resolution, contract hour...) is the value in force when that day started, read back from the
configuration log (:mod:`anh_reporter.storage.config_history`): recomputing an old day uses that
day's configuration, whatever is configured today. The day's window uses the contract hour in
force on that day and on the next, so consecutive windows always meet.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from anh_reporter.errors import AnhError
from anh_reporter.production.contract_day import ContractDay, contract_day, contract_day_of
from anh_reporter.production.inputs import Fluid
from anh_reporter.storage.config_history import InForce, values_in_force

Conn = psycopg.Connection[Any]


class UnknownFieldError(AnhError):
    """A field code that is not in the database."""


@dataclass(frozen=True)
class SeriesInfo:
    """A series of a PMO as the computation needs it."""

    id: int
    code: str
    variable: str
    unit: str
    sampling_period_s: float
    rollover: float | None = None
    range_lo: float | None = None
    range_hi: float | None = None
    resolution: float | None = None
    backstep_tolerance: float | None = None
    low_flow_cutoff: float | None = None
    basis: str | None = None


@dataclass(frozen=True)
class Custody:
    """Which of the PMO's variables give its custody temperature and pressure."""

    temperature: str = "meter_temperature"
    pressure: str = "meter_pressure"
    fallback_temperature: str | None = None
    fallback_pressure: str | None = None


@dataclass(frozen=True)
class PmoConfig:
    """A measurement point and its series."""

    id: int
    code: str
    name: str
    kind: Fluid
    meter_type: str
    has_totalizer: bool
    meter_factor: float
    series: dict[str, SeriesInfo]
    role: str = "production"
    base_temperature_f: float = 60.0
    base_pressure_psia: float = 14.696
    max_rate: float | None = None
    uncertainty_pct: float | None = None
    proving_interval_days: int = 31
    custody: Custody = Custody()
    sales_bsw_spec_pct: float = 0.5

    def volume_series(self) -> SeriesInfo | None:
        """The totalizer when the meter has one, else the flow rate, else ``None``."""
        total = self.series.get(f"{self.kind}_total")
        if self.has_totalizer and total is not None:
            return total
        return self.series.get(f"{self.kind}_rate")

    def rate_series(self) -> SeriesInfo | None:
        """The PMO's own fluid's flow rate series, if it has one."""
        return self.series.get(f"{self.kind}_rate")


@dataclass(frozen=True)
class FieldConfig:
    """A field with its operator and PMOs (as in force on ``window``'s day, when given)."""

    id: int
    code: str
    name: str
    contract: str
    municipality_dane: str
    timezone: str
    start_hour: int
    report_type: str
    operator_nit: str
    operator_name: str
    pmos: tuple[PmoConfig, ...]
    gas_base_pressure_psia: float | None = None
    gas_base_temperature_f: float | None = None
    """The field's gas reporting base (``None``: each gas PMO at its flow computer's base)."""
    window: ContractDay | None = None
    """The contract day this configuration was loaded for."""
    report_profile: str | None = None
    """The profile of the field's reports (``None``: the configured default)."""

    def day(self, day: dt.date) -> ContractDay:
        """The window of ``day``: the loaded one, or from this configuration's contract hour."""
        if self.window is not None and self.window.day == day:
            return self.window
        return contract_day(day, timezone=self.timezone, start_hour=self.start_hour)

    def today(self, now: dt.datetime | None = None) -> ContractDay:
        """The field's contract day at ``now`` (aware; default: the clock): the current one."""
        at = dt.datetime.now(dt.UTC) if now is None else now
        return contract_day_of(at, timezone=self.timezone, start_hour=self.start_hour)


def load_field(conn: Conn, field_code: str, *, day: dt.date | None = None) -> FieldConfig:
    """A field's configuration: as stored today, or as in force on contract day ``day``.

    :class:`UnknownFieldError` when there is no such field.
    """
    config = _load_current(conn, field_code)
    if day is None:
        return config
    hours = _start_hours(conn, config, day)
    window = contract_day(
        day, timezone=config.timezone, start_hour=hours[0], next_start_hour=hours[1]
    )
    objects = [("field", config.code)]
    for pmo in config.pmos:
        objects.append(("measurement_point", f"{config.code}.{pmo.code}"))
        objects += [("series", s.code) for s in pmo.series.values()]
    in_force = values_in_force(conn, objects, window.start)
    return dataclasses.replace(
        _overlay(config, in_force, ("field", config.code)),
        start_hour=hours[0],
        pmos=tuple(_pmo_in_force(config.code, p, in_force) for p in config.pmos),
        window=window,
    )


def _load_current(conn: Conn, field_code: str) -> FieldConfig:
    row = conn.execute(
        "SELECT f.id, f.code, f.name, f.contract, f.municipality_dane, f.timezone, "
        "f.contract_day_start_hour, f.report_type, o.nit, o.name, f.gas_base_pressure_psia, "
        "f.gas_base_temperature_f, f.report_profile "
        "FROM fields f JOIN operators o ON o.id = f.operator_id WHERE f.code = %s",
        (field_code,),
    ).fetchone()
    if row is None:
        known = [r[0] for r in conn.execute("SELECT code FROM fields ORDER BY code").fetchall()]
        raise UnknownFieldError(
            f"field {field_code!r} is not in the database (known: {', '.join(known) or 'none'}; "
            "load the site file first)"
        )
    series: dict[int, dict[str, SeriesInfo]] = defaultdict(dict)
    for sid, pmo_id, *values in conn.execute(
        "SELECT id, pmo_id, code, variable, unit, sampling_period_s, rollover, range_lo, "
        "range_hi, resolution, backstep_tolerance, low_flow_cutoff, basis FROM series "
        "WHERE field_id = %s AND pmo_id IS NOT NULL ORDER BY id",
        (row[0],),
    ).fetchall():
        info = SeriesInfo(sid, *values)
        series[pmo_id][info.variable] = info
    rows = conn.execute(
        "SELECT id, code, name, kind, meter_type, has_totalizer, meter_factor, role, "
        "base_temperature_f, base_pressure_psia, max_rate, uncertainty_pct, "
        "proving_interval_days, custody, sales_bsw_spec_pct "
        "FROM measurement_points WHERE field_id = %s ORDER BY code",
        (row[0],),
    ).fetchall()
    pmos = []
    for pid, code, name, kind, meter, has_tot, mf, *rest in rows:
        role, base_t, base_p, max_rate, uncertainty, interval, custody, sales_bsw = rest
        pmos.append(
            PmoConfig(
                id=pid,
                code=code,
                name=name,
                kind=kind,
                meter_type=meter,
                has_totalizer=has_tot,
                meter_factor=mf,
                series=series.get(pid, {}),
                role=role,
                base_temperature_f=base_t,
                base_pressure_psia=base_p,
                max_rate=max_rate,
                uncertainty_pct=uncertainty,
                proving_interval_days=interval,
                custody=Custody(**custody),
                sales_bsw_spec_pct=sales_bsw,
            )
        )
    fid, code, name, contract, dane, zone, hour, rtype, nit, operator, gas_p, gas_t, prof = row
    return FieldConfig(
        fid, code, name, contract, dane, zone, int(hour), str(rtype), nit, operator, tuple(pmos),
        None if gas_p is None else float(gas_p), None if gas_t is None else float(gas_t),
        report_profile=prof,
    )  # fmt: skip


def _start_hours(conn: Conn, config: FieldConfig, day: dt.date) -> tuple[int, int]:
    """The contract hour in force on ``day`` and on the day after (at their local midnight)."""
    zone = ZoneInfo(config.timezone)
    hours = []
    for d in (day, day + dt.timedelta(days=1)):
        midnight = dt.datetime.combine(d, dt.time(), zone).astimezone(dt.UTC)
        logged = values_in_force(conn, [("field", config.code)], midnight)
        hour = logged.get(("field", config.code, "contract_day_start_hour"), config.start_hour)
        hours.append(int(hour))
    return hours[0], hours[1]


_FIELD_ATTRIBUTES = ("gas_base_pressure_psia", "gas_base_temperature_f")
_PMO_ATTRIBUTES = {
    "meter_factor": "meter_factor",
    "base_temperature_f": "base_temperature_f",
    "base_pressure_psia": "base_pressure_psia",
    "has_totalizer": "has_totalizer",
    "meter_type": "meter_type",
    "role": "role",
    "max_rate": "max_rate",
    "uncertainty_pct": "uncertainty_pct",
}
_SERIES_ATTRIBUTES = (
    "unit", "sampling_period_s", "rollover", "range_lo", "range_hi", "resolution",
    "backstep_tolerance", "low_flow_cutoff", "basis",
)  # fmt: skip


def _overlay(config: FieldConfig, in_force: InForce, key: tuple[str, str]) -> FieldConfig:
    changes = {a: in_force[(*key, a)] for a in _FIELD_ATTRIBUTES if (*key, a) in in_force}
    return dataclasses.replace(config, **changes) if changes else config


def _pmo_in_force(field_code: str, pmo: PmoConfig, in_force: InForce) -> PmoConfig:
    key = ("measurement_point", f"{field_code}.{pmo.code}")
    changes: dict[str, Any] = {
        name: in_force[(*key, attribute)]
        for attribute, name in _PMO_ATTRIBUTES.items()
        if (*key, attribute) in in_force
    }
    if (*key, "custody") in in_force:
        changes["custody"] = Custody(**(in_force[(*key, "custody")] or {}))
    series = {variable: series_in_force(info, in_force) for variable, info in pmo.series.items()}
    return dataclasses.replace(pmo, series=series, **changes)


def series_in_force(info: SeriesInfo, in_force: InForce) -> SeriesInfo:
    """``info`` with its logged attributes (unit, ranges, rollover...) as in ``in_force``."""
    logged = {
        a: in_force[("series", info.code, a)]
        for a in _SERIES_ATTRIBUTES
        if ("series", info.code, a) in in_force
    }
    return dataclasses.replace(info, **logged) if logged else info
