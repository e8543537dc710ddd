"""Well-level records: topology rows, well tests, status log, downtime, well days (SQL only).

Reads and writes of the tables of migration 0008. No rule lives here: what a value may be is
checked by :mod:`anh_reporter.production.well_entries` (and the pure
:mod:`anh_reporter.allocation` package) before it is written; what a day's allocation is, by
:mod:`anh_reporter.production.well_days`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from anh_reporter.allocation.topology import Upstream, upstream_value
from anh_reporter.storage.database import returned

Conn = psycopg.Connection[Any]


@dataclass(frozen=True)
class FacilityRow:
    """A facility of a field."""

    code: str
    name: str
    kind: str


@dataclass(frozen=True)
class TopologyPmoRow:
    """A PMO as the topology needs it."""

    id: int
    code: str
    kind: str
    role: str
    facility: str | None
    downstream_of: Upstream
    """The upstream PMO's code, or a sorted tuple of codes when several (None: none)."""


@dataclass(frozen=True)
class WellRow:
    """A well of a field, with its place in the topology."""

    id: int
    code: str
    name: str
    production_method: str
    facility: str | None
    fluids: tuple[str, ...]
    entries: tuple[str, ...]
    municipality_dane: str | None
    pmo: str | None
    virtual_meter: dict[str, Any] | None = None
    """The site file's ``virtual_meter`` block (None: no virtual meter)."""
    avm_code: str | None = None
    """The ANH's code of the well when it differs from ``code`` (None: ``code``)."""
    injection_meter: str | None = None
    """An injector's metered series (code) counted in the water balance (None: not metered)."""


@dataclass(frozen=True)
class FieldTopologyRows:
    """Everything a field's topology is built from, plus its allocation settings."""

    facilities: tuple[FacilityRow, ...]
    pmos: tuple[TopologyPmoRow, ...]
    wells: tuple[WellRow, ...]
    allocation: dict[str, Any]


def load_topology_rows(conn: Conn, field_id: int) -> FieldTopologyRows:
    """The field's facilities, PMOs (role, facility, upstream PMO) and wells."""
    facilities = tuple(
        FacilityRow(*r)
        for r in conn.execute(
            "SELECT code, name, kind FROM facilities WHERE field_id = %s ORDER BY code",
            (field_id,),
        ).fetchall()
    )
    pmos = tuple(
        TopologyPmoRow(pid, code, kind, role, facility, upstream_value(ups))
        for pid, code, kind, role, facility, ups in conn.execute(
            "SELECT p.id, p.code, p.kind, p.role, f.code, ARRAY(SELECT u.code "
            "FROM measurement_point_upstreams x JOIN measurement_points u ON u.id = x.upstream_id "
            "WHERE x.pmo_id = p.id) FROM measurement_points p "
            "LEFT JOIN facilities f ON f.id = p.facility_id "
            "WHERE p.field_id = %s ORDER BY p.code",
            (field_id,),
        ).fetchall()
    )
    rows = conn.execute(
        "SELECT w.id, w.code, w.name, w.production_method, f.code, w.fluids, w.entries, "
        "w.municipality_dane, p.code, w.virtual_meter, w.avm_code, w.injection_meter "
        "FROM wells w "
        "LEFT JOIN facilities f ON f.id = w.facility_id "
        "LEFT JOIN measurement_points p ON p.id = w.pmo_id "
        "WHERE w.field_id = %s ORDER BY w.code",
        (field_id,),
    ).fetchall()
    wells = tuple(
        WellRow(wid, code, name, method, fac, tuple(fluids), tuple(entries), *rest)
        for wid, code, name, method, fac, fluids, entries, *rest in rows
    )
    row = conn.execute("SELECT allocation FROM fields WHERE id = %s", (field_id,)).fetchone()
    return FieldTopologyRows(facilities, pmos, wells, dict(row[0]) if row else {})


def well_id(conn: Conn, field_id: int, code: str) -> int | None:
    """The id of well ``code`` of the field, or None."""
    row = conn.execute(
        "SELECT id FROM wells WHERE field_id = %s AND code = %s", (field_id, code)
    ).fetchone()
    return None if row is None else int(row[0])


# --- Well tests -------------------------------------------------------------------------------


@dataclass(frozen=True)
class WellTestRow:
    """A stored well test."""

    id: int
    well: str
    tested_on: dt.date
    duration_h: Decimal
    oil_bbl_d: Decimal
    gas_kscf_d: Decimal
    water_bbl_d: Decimal
    bsw_pct: Decimal | None
    source: str
    accepted: bool
    tested_by: str
    entered_by: str
    entered_at: dt.datetime
    notes: str
    superseded_by: int | None
    pump_speed: Decimal | None = None
    """The pump speed during the test as typed with it (Hz, spm or rpm; migration 0012)."""
    window_start: dt.datetime | None = None
    """When the test started (a separator test; None for a test typed by hand; 0014)."""
    window_end: dt.datetime | None = None
    separator: dict[str, Any] | None = None
    """A separator test's rate series (codes) and their coverage of the window."""


_TEST_SELECT = (
    "SELECT t.id, w.code, t.tested_on, t.duration_h, t.oil_bbl_d, t.gas_kscf_d, t.water_bbl_d, "
    "t.bsw_pct, t.source, t.accepted, t.tested_by, t.entered_by, t.entered_at, t.notes, "
    "t.superseded_by, t.pump_speed, t.window_start, t.window_end, t.separator "
    "FROM well_tests t JOIN wells w ON w.id = t.well_id "
)


def insert_well_test(
    conn: Conn, well: int, values: dict[str, Any], *, replaces: int | None = None
) -> int:
    """Store a test (``values``: the columns); ``replaces`` gets ``superseded_by``."""
    cols = list(values)
    row = returned(
        conn.execute(
            f"INSERT INTO well_tests (well_id, {', '.join(cols)}) "  # noqa: S608 - own column names
            f"VALUES (%s, {', '.join(['%s'] * len(cols))}) RETURNING id",
            (well, *(_jsonb(v) for v in values.values())),
        ).fetchone()
    )
    new_id = int(row[0])
    if replaces is not None:
        conn.execute("UPDATE well_tests SET superseded_by = %s WHERE id = %s", (new_id, replaces))
    return new_id


def well_test(conn: Conn, test_id: int) -> WellTestRow | None:
    """One test by id."""
    row = conn.execute(_TEST_SELECT + "WHERE t.id = %s", (test_id,)).fetchone()
    return None if row is None else WellTestRow(*row)


def well_tests_by_id(conn: Conn, test_ids: list[int]) -> dict[int, WellTestRow]:
    """Tests by id (one query); an unknown id is absent."""
    rows = conn.execute(_TEST_SELECT + "WHERE t.id = ANY(%s)", (test_ids,)).fetchall()
    return {int(r[0]): WellTestRow(*r) for r in rows}


def well_tests_of_field(
    conn: Conn,
    field_id: int,
    *,
    until: dt.date | None = None,
    well: str | None = None,
    include_superseded: bool = False,
) -> list[WellTestRow]:
    """Tests of the field's wells (of one well), oldest first, up to ``until``."""
    rows = conn.execute(
        _TEST_SELECT + "WHERE w.field_id = %(field)s"
        " AND (%(until)s::date IS NULL OR t.tested_on <= %(until)s)"
        " AND (%(well)s::text IS NULL OR w.code = %(well)s)"
        " AND (%(all)s OR t.superseded_by IS NULL)"
        " ORDER BY w.code, t.tested_on, t.id",
        {"field": field_id, "until": until, "well": well, "all": include_superseded},
    ).fetchall()
    return [WellTestRow(*r) for r in rows]


# --- Status log and downtime ------------------------------------------------------------------


@dataclass(frozen=True)
class StatusRow:
    """A logged status change."""

    id: int
    well: str
    at: dt.datetime
    status: str
    reason: str
    changed_by: str


def insert_status_change(
    conn: Conn, well: int, at: dt.datetime, status: str, reason: str, changed_by: str
) -> int:
    """Log a status change."""
    row = returned(
        conn.execute(
            "INSERT INTO well_status_changes (well_id, at, status, reason, changed_by) "
            "VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (well, at, status, reason, changed_by),
        ).fetchone()
    )
    return int(row[0])


def status_changes(conn: Conn, field_id: int, until: dt.datetime) -> list[StatusRow]:
    """The field's status changes before ``until``, in time order (log order at one instant)."""
    rows = conn.execute(
        "SELECT s.id, w.code, s.at, s.status, s.reason, s.changed_by "
        "FROM well_status_changes s JOIN wells w ON w.id = s.well_id "
        "WHERE w.field_id = %s AND s.at < %s ORDER BY w.code, s.at, s.id",
        (field_id, until),
    ).fetchall()
    return [StatusRow(*r) for r in rows]


@dataclass(frozen=True)
class DowntimeRow:
    """A downtime event."""

    id: int
    well: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    cause: str
    comment: str
    entered_by: str
    entered_at: dt.datetime
    superseded_by: int | None


_DOWN_SELECT = (
    "SELECT d.id, w.code, d.starts_at, d.ends_at, d.cause, d.comment, d.entered_by, "
    "d.entered_at, d.superseded_by FROM downtime_events d JOIN wells w ON w.id = d.well_id "
)


def insert_downtime(
    conn: Conn,
    well: int,
    window: tuple[dt.datetime, dt.datetime],
    cause: str,
    comment: str,
    entered_by: str,
    *,
    replaces: int | None = None,
) -> int:
    """Store a downtime event (``replaces`` gets ``superseded_by``)."""
    row = returned(
        conn.execute(
            "INSERT INTO downtime_events (well_id, starts_at, ends_at, cause, comment, "
            "entered_by) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            (well, window[0], window[1], cause, comment, entered_by),
        ).fetchone()
    )
    new_id = int(row[0])
    if replaces is not None:
        conn.execute(
            "UPDATE downtime_events SET superseded_by = %s WHERE id = %s", (new_id, replaces)
        )
    return new_id


def downtime_events(
    conn: Conn,
    field_id: int,
    start: dt.datetime,
    end: dt.datetime,
    *,
    well: str | None = None,
    exclude: int | None = None,
) -> list[DowntimeRow]:
    """Active events of the field's wells (of one well) overlapping ``[start, end)``."""
    rows = conn.execute(
        _DOWN_SELECT + "WHERE w.field_id = %(field)s AND d.superseded_by IS NULL"
        " AND d.starts_at < %(end)s AND d.ends_at > %(start)s"
        " AND (%(well)s::text IS NULL OR w.code = %(well)s)"
        " AND d.id IS DISTINCT FROM %(exclude)s ORDER BY w.code, d.starts_at, d.id",
        {"field": field_id, "start": start, "end": end, "well": well, "exclude": exclude},
    ).fetchall()
    return [DowntimeRow(*r) for r in rows]


def downtime_event(conn: Conn, event_id: int) -> DowntimeRow | None:
    """One event by id."""
    row = conn.execute(_DOWN_SELECT + "WHERE d.id = %s", (event_id,)).fetchone()
    return None if row is None else DowntimeRow(*row)


def manual_hours_entries(conn: Conn, field_id: int, day: dt.date) -> dict[str, tuple[int, Decimal]]:
    """Per well code, the id and value of the active ``well_hours_on`` entry of the day (the
    latest): the entry a well day with hours from ``manual`` was allocated with."""
    rows = conn.execute(
        "SELECT DISTINCT ON (m.well_id) w.code, m.id, m.value FROM manual_entries m "
        "JOIN wells w ON w.id = m.well_id WHERE m.field_id = %s AND m.contract_day = %s "
        "AND m.kind = 'well_hours_on' AND m.superseded_by IS NULL "
        "ORDER BY m.well_id, m.entered_at DESC, m.id DESC",
        (field_id, day),
    ).fetchall()
    return {code: (int(entry_id), Decimal(value)) for code, entry_id, value in rows}


@dataclass(frozen=True)
class WellSeriesRow:
    """A telemetry series of a well."""

    id: int
    well: str
    variable: str
    sampling_period_s: float


def well_series(conn: Conn, field_id: int) -> list[WellSeriesRow]:
    """Every series of the field's wells."""
    rows = conn.execute(
        "SELECT s.id, w.code, s.variable, s.sampling_period_s FROM series s "
        "JOIN wells w ON w.id = s.well_id WHERE w.field_id = %s ORDER BY w.code, s.variable",
        (field_id,),
    ).fetchall()
    return [WellSeriesRow(*r) for r in rows]


# --- Well days --------------------------------------------------------------------------------

WELL_DAY_COLUMNS = (
    "status",
    "hours_on",
    "hours_source",
    "test_id",
    "test_date",
    "test_age_days",
    "test_state",
    "oil_bbl",
    "gas_kscf",
    "water_bbl",
    "theoretical_oil_bbl",
    "factors",
    "pmos",
    "bsw_pct",
    "gor_scf_bbl",
    "wor",
    "hours_down",
    "deferred_oil_bbl",
    "deferred_gas_kscf",
    "deferred_water_bbl",
    "deferred_causes",
    "findings",
)
"""The stored columns of a well day (besides well and day), in this order."""

VIRTUAL_COLUMNS = ("virtual_liquid_bbl", "virtual_meter")
"""The well day's virtual meter columns (migration 0012): not part of the report's well row."""


def _jsonb(value: Any) -> Any:
    return Jsonb(value) if isinstance(value, dict | list) else value


def save_well_days(
    conn: Conn,
    field_id: int,
    day: dt.date,
    rows: dict[int, dict[str, Any]],
    allocation: dict[str, Any],
) -> bool:
    """Replace the field's well days and allocation day; True when any stored value changed."""
    before = load_well_days(conn, field_id, day)
    old_alloc = conn.execute(
        "SELECT pmos, totals, findings FROM allocation_days WHERE field_id = %s "
        "AND contract_day = %s",
        (field_id, day),
    ).fetchone()
    conn.execute(
        "DELETE FROM well_days WHERE contract_day = %s AND well_id IN "
        "(SELECT id FROM wells WHERE field_id = %s)",
        (day, field_id),
    )
    columns = (*WELL_DAY_COLUMNS, *VIRTUAL_COLUMNS)
    cols = ", ".join(columns)
    marks = ", ".join(["%s"] * (len(columns) + 2))
    for wid, values in rows.items():
        conn.execute(
            f"INSERT INTO well_days (well_id, contract_day, {cols}) VALUES ({marks})",  # noqa: S608 - own columns
            (wid, day, *(_jsonb(values.get(c)) for c in columns)),
        )
    conn.execute(
        "INSERT INTO allocation_days (field_id, contract_day, pmos, totals, findings, "
        "virtual_meter) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (field_id, contract_day) "
        "DO UPDATE SET pmos = excluded.pmos, totals = excluded.totals, "
        "findings = excluded.findings, virtual_meter = excluded.virtual_meter, "
        "computed_at = now()",
        (
            field_id,
            day,
            Jsonb(allocation["pmos"]),
            Jsonb(allocation["totals"]),
            Jsonb(allocation["findings"]),
            Jsonb(allocation.get("virtual_meter", [])),
        ),
    )
    after = load_well_days(conn, field_id, day)
    same_alloc = old_alloc is not None and tuple(old_alloc) == (
        allocation["pmos"],
        allocation["totals"],
        allocation["findings"],
    )
    return _reported(before) != _reported(after) or not same_alloc


NOT_REPORTED = frozenset({"test_id"})
"""Stored with a well day but in no report: a test entered again with the same figures (a new
id) changes no signed figure, so it flags nothing."""


def _reported(days: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        code: {k: v for k, v in row.items() if k not in NOT_REPORTED} for code, row in days.items()
    }


def load_well_days(conn: Conn, field_id: int, day: dt.date) -> dict[str, dict[str, Any]]:
    """The stored well days of a field's day, by well code (values as stored)."""
    cols = ", ".join(f"d.{c}" for c in WELL_DAY_COLUMNS)
    rows = conn.execute(
        f"SELECT w.code, {cols} FROM well_days d JOIN wells w ON w.id = d.well_id "  # noqa: S608 - own columns
        "WHERE w.field_id = %s AND d.contract_day = %s ORDER BY w.code",
        (field_id, day),
    ).fetchall()
    return {r[0]: dict(zip(WELL_DAY_COLUMNS, r[1:], strict=True)) for r in rows}


def load_virtual_days(conn: Conn, field_id: int, day: dt.date) -> dict[str, dict[str, Any]]:
    """The stored virtual meter of each well of a field's day, by well code."""
    cols = ", ".join(f"d.{c}" for c in VIRTUAL_COLUMNS)
    rows = conn.execute(
        f"SELECT w.code, {cols} FROM well_days d JOIN wells w ON w.id = d.well_id "  # noqa: S608 - own columns
        "WHERE w.field_id = %s AND d.contract_day = %s ORDER BY w.code",
        (field_id, day),
    ).fetchall()
    return {r[0]: dict(zip(VIRTUAL_COLUMNS, r[1:], strict=True)) for r in rows}


def load_virtual_checks(conn: Conn, field_id: int, day: dt.date) -> list[dict[str, Any]]:
    """The stored Σ virtual against measured of each production PMO of the day."""
    row = conn.execute(
        "SELECT virtual_meter FROM allocation_days WHERE field_id = %s AND contract_day = %s",
        (field_id, day),
    ).fetchone()
    return [] if row is None else list(row[0])


def load_allocation_day(conn: Conn, field_id: int, day: dt.date) -> dict[str, Any] | None:
    """The stored allocation day (PMOs, totals by role, findings), or None."""
    row = conn.execute(
        "SELECT pmos, totals, findings FROM allocation_days WHERE field_id = %s "
        "AND contract_day = %s",
        (field_id, day),
    ).fetchone()
    return None if row is None else {"pmos": row[0], "totals": row[1], "findings": row[2]}


def allocated_days(conn: Conn, field_id: int, start: dt.date, end: dt.date) -> list[dt.date]:
    """Contract days in ``[start, end]`` whose allocation is stored."""
    rows = conn.execute(
        "SELECT contract_day FROM allocation_days WHERE field_id = %s AND contract_day >= %s "
        "AND contract_day <= %s ORDER BY contract_day",
        (field_id, start, end),
    ).fetchall()
    return [r[0] for r in rows]


@dataclass(frozen=True)
class LegacyTest:
    """The latest manual ``well_test_*`` entries of a well (before the well_tests table)."""

    well: str
    tested_on: dt.date
    rates: dict[str, Decimal]
    entered_by: str


def legacy_well_tests(conn: Conn, field_id: int, day: dt.date) -> list[LegacyTest]:
    """Per well, the latest active ``well_test_*`` entries on or before ``day``."""
    rows = conn.execute(
        "SELECT DISTINCT ON (m.well_id, m.kind) w.code, m.kind, m.value, m.contract_day, "
        "m.entered_by, m.id FROM manual_entries m JOIN wells w ON w.id = m.well_id "
        "WHERE m.field_id = %s AND m.contract_day <= %s AND m.superseded_by IS NULL "
        "AND m.kind IN ('well_test_oil', 'well_test_gas', 'well_test_water') "
        "ORDER BY m.well_id, m.kind, m.contract_day DESC, m.id DESC",
        (field_id, day),
    ).fetchall()
    by_well: dict[str, list[tuple[Any, ...]]] = {}
    for r in rows:
        by_well.setdefault(r[0], []).append(r)
    out = []
    for well, entries in sorted(by_well.items()):
        latest = max(entries, key=lambda r: (r[3], r[5]))
        rates = {str(r[1]).removeprefix("well_test_"): Decimal(r[2]) for r in entries}
        out.append(LegacyTest(well, latest[3], rates, latest[4]))
    return out


_RAW = """
SELECT s.id, x.time, coalesce(x.value, 'NaN'::float8), x.quality
FROM unnest(%(ids)s::int[]) AS s(id)
CROSS JOIN LATERAL (
    (SELECT time, value, quality FROM telemetry WHERE series_id = s.id AND time < %(start)s
      ORDER BY time DESC LIMIT 1)
    UNION ALL
    (SELECT time, value, quality FROM telemetry
      WHERE series_id = s.id AND time >= %(start)s AND time < %(end)s)
    UNION ALL
    (SELECT time, value, quality FROM telemetry WHERE series_id = s.id AND time >= %(end)s
      ORDER BY time LIMIT 1)
) AS x
ORDER BY s.id, x.time
"""


def series_readings(
    conn: Conn, series_ids: list[int], start: dt.datetime, end: dt.datetime
) -> dict[int, list[tuple[dt.datetime, float, int]]]:
    """Readings of each series in ``[start, end)`` plus the one before and the one after."""
    if not series_ids:
        return {}
    out: dict[int, list[tuple[dt.datetime, float, int]]] = {}
    for sid, time, value, quality in conn.execute(
        _RAW, {"ids": series_ids, "start": start, "end": end}
    ).fetchall():
        out.setdefault(int(sid), []).append((time, float(value), int(quality)))
    return out


@dataclass(frozen=True)
class TankStockRow:
    """A storage tank's gauged stock of a day (migration 0010), the latest entry."""

    tank: str
    opening_nsv: Decimal
    closing_nsv: Decimal
    capacity_bbl: Decimal
    """The top of the tank's strapping table."""


def tank_stocks_of_day(conn: Conn, field_id: int, day: dt.date) -> list[TankStockRow]:
    """The field's storage tanks gauged on ``day`` (the entry not superseded), by tank code."""
    rows = conn.execute(
        "SELECT t.code, s.opening_nsv, s.closing_nsv, t.definition FROM tank_stocks s "
        "JOIN tanks t ON t.id = s.tank_id WHERE s.field_id = %s AND s.contract_day = %s "
        "AND s.superseded_by IS NULL ORDER BY t.code",
        (field_id, day),
    ).fetchall()
    return [
        TankStockRow(
            code,
            Decimal(opening),
            Decimal(closing),
            max(Decimal(str(row[1])) for row in definition["strapping"]),
        )
        for code, opening, closing, definition in rows
    ]
