"""Manual entries: lab BSW and API gravity, tank gauging, Tipo B volumes, well tests, and a
field's oil consumption and losses.

An entry says who typed which value, for which PMO (or well, or the field as a whole: the oil
consumption and losses of :mod:`~anh_reporter.production.oil_terms`) and contract day, when
and why.
Entries are never edited: a correction is a new entry that *replaces* an older one (the old one
gets ``superseded_by``). An active entry is used instead of telemetry for its PMO and day (see
:mod:`~anh_reporter.production.figures`), so adding one recomputes that day; if the day's
report was already signed, the report is marked as needing an amendment.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from anh_reporter.domain.mpms import TEMPERATURE_RANGE_F, density_to_api
from anh_reporter.errors import AnhError
from anh_reporter.production.config import FieldConfig, load_field
from anh_reporter.production.daily import ComputeResult, compute_day
from anh_reporter.production.inputs import DEFAULT_SETTINGS, VOLUME_KINDS, ProductionSettings
from anh_reporter.production.store import flag_issued_report
from anh_reporter.production.tank_gauging import Gauge, load_tank, transfer
from anh_reporter.storage import audit_log
from anh_reporter.storage.config_history import topology_in_force
from anh_reporter.storage.database import returned

Conn = psycopg.Connection[Any]

FIELD_OIL_LIMIT_BBL = 100_000.0
"""The most oil a field's day may consume or lose by one entry (bbl at 60 °F)."""

API_RANGE = (round(density_to_api(1163.5), 1), round(density_to_api(610.6), 1))
"""API gravity limits of crude oil in API MPMS 11.1-2004 (base density 610.6-1163.5 kg/m³)."""


MIN_REASON = 3
"""The shortest reason a manual entry takes (the API's limit too): a word, not a keystroke."""

REPORTED_INCREMENT = {
    "well_hours_on": Decimal("0.01"),
    "oil_consumption": Decimal("0.01"),
    "oil_losses": Decimal("0.01"),
}
"""Kinds reported as typed, and their increment (hours on to 0.01 h, the field's oil terms to
0.01 bbl): a value with more decimals is refused, not rounded."""


@dataclass(frozen=True)
class Kind:
    """A kind of manual entry: its unit, accepted range and what it belongs to."""

    name: str
    unit: str
    low: float
    high: float
    owner: str
    """``pmo``, ``well`` or ``field`` (the field as a whole: no PMO, no well)."""
    fluid: str | None = None
    """The PMO kind a volume entry must match (``None``: any liquid)."""
    description: str = ""


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("bsw", "%", 0.0, 100.0, "pmo", "oil", "lab BSW (sediment and water), volume %"),
        Kind("api_gravity", "degAPI", *API_RANGE, "pmo", "oil", "lab API gravity at 60 °F"),
        Kind("temperature", "degF", *TEMPERATURE_RANGE_F, "pmo", None, "meter temperature"),
        Kind("pressure", "psig", 0.0, 1500.0, "pmo", None, "meter pressure"),
        Kind("oil_volume", "bbl", 0.0, 10_000_000.0, "pmo", "oil", "indicated oil volume"),
        Kind("water_volume", "bbl", 0.0, 10_000_000.0, "pmo", "water", "indicated water volume"),
        Kind("gas_volume", "kscf", 0.0, 100_000_000.0, "pmo", "gas", "gas at base conditions"),
        Kind(
            "tank_gauging",
            "bbl",
            0.0,
            10_000_000.0,
            "pmo",
            None,
            "NSV a tank received between two gauges (API MPMS 12.1.1; `manual tank`)",
        ),
        Kind("well_test_oil", "bbl/d", 0.0, 1_000_000.0, "well", None, "well test oil rate"),
        Kind("well_test_water", "bbl/d", 0.0, 10_000_000.0, "well", None, "well test water"),
        Kind("well_test_gas", "kscf/d", 0.0, 100_000_000.0, "well", None, "well test gas"),
        Kind(
            "well_hours_on",
            "h",
            0.0,
            24.0,
            "well",
            None,
            "hours on production of a well for the day, replacing its telemetry",
        ),
        Kind(
            "oil_consumption",
            "bbl",
            0.0,
            FIELD_OIL_LIMIT_BBL,
            "field",
            None,
            "oil used on site in the day (heaters, engines...), NSV at 60 °F: the oil balance's "
            "consumption",
        ),
        Kind(
            "oil_losses",
            "bbl",
            0.0,
            FIELD_OIL_LIMIT_BBL,
            "field",
            None,
            "oil lost in the day (evaporation, a spill...), NSV at 60 °F: the oil balance's "
            "losses; the reason says how it was lost",
        ),
    )
}


class ManualEntryError(AnhError):
    """A manual entry that cannot be accepted; the message names the field and the limit."""


@dataclass(frozen=True)
class ManualEntry:
    """A stored manual entry."""

    id: int
    field_code: str
    owner_code: str
    """The PMO or well code (the field code for a field-level entry)."""
    owner: str
    """``pmo``, ``well`` or ``field``."""
    contract_day: dt.date
    kind: str
    value: Decimal
    unit: str
    entered_by: str
    entered_at: dt.datetime
    reason: str
    superseded_by: int | None
    level: str | None = None
    window_start: dt.datetime | None = None
    window_end: dt.datetime | None = None
    details: dict[str, Any] | None = None


@dataclass(frozen=True)
class AddResult:
    """The new entry and the recompute it caused."""

    entry: ManualEntry
    replaced: int | None
    recomputed: ComputeResult | None


def _decimal(value: Decimal | float | str) -> Decimal:
    try:
        out = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise ManualEntryError(f"value {value!r} is not a number") from None
    if not out.is_finite():
        raise ManualEntryError(f"value {value!r} is not a finite number")
    return out


def not_after_today(
    config: FieldConfig, day: dt.date, now: dt.datetime | None, error: type[AnhError]
) -> None:
    """Refuse an entry for a contract day that has not come (the field's day at ``now``)."""
    today = config.today(now)
    if day > today.day:
        raise error(f"day: {day} has not come; the field's current contract day is {today.day}")


def add_entry(
    conn: Conn,
    *,
    field_code: str,
    day: dt.date,
    kind: str,
    value: Decimal | float | str,
    entered_by: str,
    reason: str,
    pmo_code: str | None = None,
    well_code: str | None = None,
    unit: str | None = None,
    replaces: int | None = None,
    level: str | None = None,
    window: tuple[dt.datetime, dt.datetime] | None = None,
    details: dict[str, Any] | None = None,
    recompute: bool = True,
    settings: ProductionSettings = DEFAULT_SETTINGS,
    now: dt.datetime | None = None,
) -> AddResult:
    """Store a manual entry (replacing ``replaces`` when given) and recompute its day.

    ``day`` cannot be after the field's current contract day at ``now`` (default: the clock).

    A volume says its ``level``: ``indicated`` (default: the meter factor and corrections are
    applied), ``gov``, ``gsv`` or ``nsv`` (taken as they are, so no factor is applied twice), or
    ``tank`` (a tank gauging). A volume at the indicated level may cover a ``window`` of the
    day (a gap) instead of the whole day.
    """
    spec = KINDS.get(kind)
    if spec is None:
        raise ManualEntryError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    level = _level(kind, level, window)
    if kind == "tank_gauging" and not (details or {}).get("net_standard_volume"):
        raise ManualEntryError(
            "a tank gauging is entered with its gauges (`manual tank`), so that its 12.1.1 "
            "corrections are computed and kept"
        )
    number = _decimal(value)
    if unit is not None and unit != spec.unit:
        raise ManualEntryError(
            f"{kind}: unit {unit!r} is not accepted; enter the value in {spec.unit!r}"
        )
    if not spec.low <= float(number) <= spec.high:
        raise ManualEntryError(
            f"{kind} {number} {spec.unit} is outside [{spec.low:g}, {spec.high:g}] {spec.unit}"
        )
    if kind == "bsw" and number >= 100:
        raise ManualEntryError(f"bsw {number} % must be below 100 % (NSV would be zero)")
    increment = REPORTED_INCREMENT.get(kind)
    if increment is not None and number != number.quantize(increment):
        raise ManualEntryError(
            f"{kind} {number} {spec.unit} has more decimals than it is reported with "
            f"({increment} {spec.unit}): enter e.g. {number.quantize(increment)}"
        )
    if len(reason.strip()) < MIN_REASON:
        raise ManualEntryError(
            f"a reason is required (why the value is entered by hand, at least {MIN_REASON} "
            f"characters; got {reason.strip()!r})"
        )
    if not entered_by.strip():
        raise ManualEntryError("entered_by is required (who enters the value)")
    config = load_field(conn, field_code)
    not_after_today(config, day, now, ManualEntryError)
    if window is not None:
        _check_window(window, config.day(day))
    pmo_id = well_id = None
    if spec.owner == "pmo":
        if pmo_code is None or well_code is not None:
            raise ManualEntryError(f"{kind} is entered for a PMO: give the PMO code, not a well")
        pmo = next((p for p in config.pmos if p.code == pmo_code), None)
        if pmo is None:
            codes = ", ".join(p.code for p in config.pmos)
            raise ManualEntryError(f"PMO {pmo_code!r} is not in field {field_code} ({codes})")
        if spec.fluid is not None and pmo.kind != spec.fluid:
            raise ManualEntryError(
                f"{kind} applies to {spec.fluid} PMOs; {pmo_code} measures {pmo.kind}"
            )
        if kind == "tank_gauging" and pmo.kind == "gas":
            raise ManualEntryError(f"tank gauging applies to liquid PMOs; {pmo_code} is gas")
        pmo_id = pmo.id
    elif spec.owner == "field":
        _check_field_entry(conn, config, day, kind, pmo_code, well_code)
    else:
        if well_code is None or pmo_code is not None:
            raise ManualEntryError(f"{kind} is entered for a well: give the well code")
        row = conn.execute(
            "SELECT id FROM wells WHERE field_id = %s AND code = %s", (config.id, well_code)
        ).fetchone()
        if row is None:
            raise ManualEntryError(f"well {well_code!r} is not in field {field_code}")
        well_id = row[0]
    with conn.transaction():
        if replaces is not None:
            old = conn.execute(
                "SELECT field_id, pmo_id, well_id, kind, contract_day, superseded_by "
                "FROM manual_entries WHERE id = %s FOR UPDATE",
                (replaces,),
            ).fetchone()
            if old is None:
                raise ManualEntryError(f"manual entry #{replaces} does not exist")
            if old[5] is not None:
                raise ManualEntryError(
                    f"manual entry #{replaces} was already replaced by #{old[5]}"
                )
            if tuple(old[:5]) != (config.id, pmo_id, well_id, kind, day):  # same target
                raise ManualEntryError(
                    f"manual entry #{replaces} is for another PMO, well, kind or day; "
                    "a replacement must be for the same one"
                )
        if window is not None:
            _refuse_overlap(conn, pmo_id, day, window, replaces)
        row = returned(
            conn.execute(
                "INSERT INTO manual_entries (field_id, pmo_id, well_id, contract_day, kind, value, "
                "unit, entered_by, reason, level, window_start, window_end, details) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (
                    config.id,
                    pmo_id,
                    well_id,
                    day,
                    kind,
                    number,
                    spec.unit,
                    entered_by,
                    reason,
                    level,
                    window[0] if window else None,
                    window[1] if window else None,
                    Jsonb(details or {}),
                ),
            ).fetchone()
        )
        new_id = int(row[0])
        if replaces is not None:
            conn.execute(
                "UPDATE manual_entries SET superseded_by = %s WHERE id = %s", (new_id, replaces)
            )
        audit_log.record(
            conn,
            actor=entered_by,
            action="manual_entry.add",
            target=f"{field_code}/{day.isoformat()}",
            details={
                "id": new_id,
                "kind": kind,
                "value": str(number),
                "level": level,
                "window": None if window is None else [w.isoformat() for w in window],
                "replaces": replaces,
            },
            field_code=field_code,
        )
    conn.commit()
    recomputed = compute_day(conn, field_code, day, settings=settings) if recompute else None
    if spec.owner in ("well", "field"):
        # Well and field entries do not change a PMO's figures, only the per-well allocation
        # or the balances.
        flag_issued_report(conn, config.id, day)
        conn.commit()
    entry = get_entry(conn, new_id)
    return AddResult(entry, replaces, recomputed)


def _check_field_entry(
    conn: Conn,
    config: FieldConfig,
    day: dt.date,
    kind: str,
    pmo_code: str | None,
    well_code: str | None,
) -> None:
    """A field-level entry has no PMO and no well, and needs an oil balance to count in: the
    field's topology in force on the day has wells and an oil production PMO."""
    if pmo_code is not None or well_code is not None:
        given = f"PMO {pmo_code!r}" if pmo_code is not None else f"well {well_code!r}"
        raise ManualEntryError(
            f"{kind} is entered for field {config.code} as a whole, not for a PMO or a well "
            f"({given} given): leave the PMO and the well out"
        )
    rows = topology_in_force(conn, config.id, config.day(day).start)
    oil = [p.code for p in rows.pmos if p.kind == "oil" and p.role == "production"]
    if not rows.facilities or not rows.wells or not oil:
        raise ManualEntryError(
            f"{kind}: field {config.code} has no oil balance on {day} (it needs facilities, "
            "wells and an oil production PMO in its site file), so there is nothing for the "
            "entry to count in"
        )


def _refuse_overlap(
    conn: Conn,
    pmo_id: int | None,
    day: dt.date,
    window: tuple[dt.datetime, dt.datetime],
    replaces: int | None,
) -> None:
    """A window may not overlap another active window of the PMO's day: one volume per stretch
    of time (correct an entry by replacing it)."""
    row = conn.execute(
        "SELECT id, window_start, window_end FROM manual_entries WHERE pmo_id = %s "
        "AND contract_day = %s AND superseded_by IS NULL AND window_start IS NOT NULL "
        "AND window_start < %s AND window_end > %s AND id IS DISTINCT FROM %s "
        "ORDER BY window_start LIMIT 1 FOR UPDATE",
        (pmo_id, day, window[1], window[0], replaces),
    ).fetchone()
    if row is not None:
        raise ManualEntryError(
            f"window {window[0].isoformat()} to {window[1].isoformat()} overlaps manual entry "
            f"#{row[0]} ({row[1].isoformat()} to {row[2].isoformat()}): replace that entry "
            "instead of adding another"
        )


LEVELS = ("indicated", "gov", "gsv", "nsv", "tank")


def _level(
    kind: str, level: str | None, window: tuple[dt.datetime, dt.datetime] | None
) -> str | None:
    """The level a volume entry is at (checked); ``None`` for other kinds."""
    if kind not in VOLUME_KINDS:
        if level is not None or window is not None:
            raise ManualEntryError(
                f"{kind} has no level and no window (only a PMO's volume has): level {level!r}, "
                f"window {'given' if window else 'none'}"
            )
        return None
    if kind == "tank_gauging":
        if level not in (None, "tank"):
            raise ManualEntryError(f"tank_gauging is at level 'tank', not {level!r}")
        if window is not None:
            raise ManualEntryError("a tank gauging covers the whole day (opening to closing)")
        return "tank"
    chosen = level or "indicated"
    if chosen not in LEVELS[:4]:
        raise ManualEntryError(
            f"level {chosen!r} is not one of {', '.join(LEVELS[:4])} (tank: use tank_gauging)"
        )
    if window is not None and chosen != "indicated":
        raise ManualEntryError(
            f"a volume for a window of the day fills a gap in the meter's count: it is an "
            f"indicated volume, not {chosen!r} (a whole-day entry may be at any level)"
        )
    return chosen


def _check_window(window: tuple[dt.datetime, dt.datetime], day: Any) -> None:
    start, end = window
    if start.tzinfo is None or end.tzinfo is None:
        raise ManualEntryError("window: give times with a time zone (or UTC)")
    if not (day.start <= start < end <= day.end):
        raise ManualEntryError(
            f"window {start.isoformat()} → {end.isoformat()} must be a non-empty part of the "
            f"contract day {day.start.isoformat()} → {day.end.isoformat()}; a gap across the "
            "contract hour is entered as one entry per day"
        )


_SELECT = """
SELECT m.id, f.code, coalesce(p.code, w.code, f.code), CASE WHEN m.pmo_id IS NOT NULL
       THEN 'pmo' WHEN m.well_id IS NOT NULL THEN 'well' ELSE 'field' END, m.contract_day,
       m.kind, m.value, m.unit, m.entered_by, m.entered_at,
       m.reason, m.superseded_by, m.level, m.window_start, m.window_end, m.details
FROM manual_entries m
JOIN fields f ON f.id = m.field_id
LEFT JOIN measurement_points p ON p.id = m.pmo_id
LEFT JOIN wells w ON w.id = m.well_id
"""


def get_entry(conn: Conn, entry_id: int) -> ManualEntry:
    """One entry by id."""
    row = conn.execute(_SELECT + " WHERE m.id = %s", (entry_id,)).fetchone()
    if row is None:
        raise ManualEntryError(f"manual entry #{entry_id} does not exist")
    return ManualEntry(*row)


def list_entries(
    conn: Conn,
    *,
    field_code: str,
    day: dt.date | None = None,
    include_superseded: bool = False,
    ids: list[int] | None = None,
) -> list[ManualEntry]:
    """Entries of a field (one day, when given), oldest first."""
    rows = conn.execute(
        _SELECT + " WHERE f.code = %(field)s"
        " AND (%(day)s::date IS NULL OR m.contract_day = %(day)s)"
        " AND (%(all)s OR m.superseded_by IS NULL)"
        " AND (%(ids)s::bigint[] IS NULL OR m.id = ANY(%(ids)s))"
        " ORDER BY m.contract_day, m.id",
        {"field": field_code, "day": day, "all": include_superseded, "ids": ids},
    ).fetchall()
    return [ManualEntry(*r) for r in rows]


def latest_well_tests(conn: Conn, field_id: int, day: dt.date) -> dict[str, dict[str, ManualEntry]]:
    """Per well code and kind, the active well test entered for ``day`` or the latest before it."""
    rows = conn.execute(
        _SELECT.replace("SELECT", "SELECT DISTINCT ON (m.well_id, m.kind)", 1)
        + " WHERE m.field_id = %s AND m.well_id IS NOT NULL AND m.contract_day <= %s"
        " AND m.superseded_by IS NULL AND m.kind LIKE 'well_test_%%'"
        " ORDER BY m.well_id, m.kind, m.contract_day DESC, m.id DESC",
        (field_id, day),
    ).fetchall()
    out: dict[str, dict[str, ManualEntry]] = {}
    for r in rows:
        entry = ManualEntry(*r)
        out.setdefault(entry.owner_code, {})[entry.kind] = entry
    return out


def add_tank_gauging(
    conn: Conn,
    *,
    field_code: str,
    day: dt.date,
    pmo_code: str,
    tank: str,
    opening: Gauge,
    closing: Gauge,
    api60: Decimal | float | str,
    bsw_percent: Decimal | float | str,
    entered_by: str,
    reason: str,
    replaces: int | None = None,
) -> AddResult:
    """A tank gauging (opening and closing gauges) as the PMO's volume for the day.

    The volume is what the tank received, by API MPMS 12.1.1; every step is kept with the entry.
    """
    config = load_field(conn, field_code)
    _, definition = load_tank(conn, config.id, tank)
    moved, details = transfer(
        tank, definition, opening, closing, api60=_decimal(api60), bsw_percent=_decimal(bsw_percent)
    )
    if moved.net_standard_volume < 0:
        raise ManualEntryError(
            f"tank {tank} delivered {-moved.net_standard_volume} bbl NSV between the gauges "
            "(closing below opening): enter the delivery's ticket as the volume instead"
        )
    details["api60"] = str(api60)
    details["bsw_percent"] = str(bsw_percent)
    return add_entry(
        conn, field_code=field_code, day=day, kind="tank_gauging",
        value=moved.net_standard_volume, entered_by=entered_by, reason=reason, pmo_code=pmo_code,
        level="tank", details=details, replaces=replaces,
    )  # fmt: skip
