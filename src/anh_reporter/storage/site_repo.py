"""Upsert a site file into the database, writing every configuration change to ``config_log``.

API MPMS 21.1 asks for a configuration log of meter factors, ranges and base conditions:
who changed what, when, from which value to which. Creation is logged too (old value NULL),
so the log alone tells the configuration in force at any instant.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import orjson
import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from anh_reporter.site import FieldSite, Site, field_series, series_code
from anh_reporter.site import Series as SeriesConf
from anh_reporter.site_tanks import Tank
from anh_reporter.storage.avm_codes import check_stored_avm_codes, signed_days_with_earlier_codes
from anh_reporter.storage.database import returned
from anh_reporter.storage.site_topology import check_site

# Attributes whose changes go to the configuration log, per table.
TRACKED: dict[str, tuple[str, ...]] = {
    "fields": (
        "timezone",
        "contract_day_start_hour",
        "gas_base_pressure_psia",
        "gas_base_temperature_f",
        "allocation",
        "report_profile",
    ),
    "facilities": ("kind",),
    "measurement_points": (
        "meter_factor",
        "base_temperature_f",
        "base_pressure_psia",
        "has_totalizer",
        "meter_type",
        "role",
        "max_rate",
        "uncertainty_pct",
        "custody",
        "facility_id",
        "downstream_of_id",
    ),
    "series": (
        "range_lo",
        "range_hi",
        "unit",
        "rollover",
        "sampling_period_s",
        "commissioned_at",
        "resolution",
        "backstep_tolerance",
        "low_flow_cutoff",
        "basis",
    ),
    "wells": (
        "pmo_id",
        "facility_id",
        "fluids",
        "entries",
        "virtual_meter",
        "injection_meter",
        "production_method",
        "avm_code",
    ),
    "tanks": ("definition",),
}
"""Attributes whose history the computation reads back: a day uses the values in force on it.

The topology is among them (a well's facility, fluids, entry PMOs, legacy PMO, injection
meter, production method and AVM code; a PMO's role, facility and upstream PMO; a facility's
kind; the field's allocation settings), so a day is allocated, and its report names its wells,
with the topology in force when it started
(:func:`anh_reporter.storage.config_history.topology_in_force`). A field's report profile is
logged for the record (who moved the field's reports to which format, when); a day keeps the
profile it was first signed in. Facilities and PMOs are logged
by row id: they are never deleted, so an id names the same one for good."""


@dataclass
class SiteLoadSummary:
    """What a site load did."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    config_changes: int = 0
    notes: list[str] = field(default_factory=list)

    def count(self, table: str, created: bool) -> None:
        """Count one created or updated row of ``table``."""
        bucket = self.created if created else self.updated
        bucket[table] = bucket.get(table, 0) + 1


def load_site_into(
    conn: psycopg.Connection[Any],
    site: Site,
    *,
    changed_by: str,
    reason: str | None = None,
    effective_from: dt.datetime | None = None,
) -> SiteLoadSummary:
    """Upsert the whole site in one transaction; unchanged rows are left as they are.

    Changed values take effect at ``effective_from`` (default: now, so the contract day under
    way keeps the values it started with); the configuration log keeps both instants.
    """
    topologies = check_site(site)
    summary = SiteLoadSummary()
    summary.notes += [f"{code}: {w}" for code, t in topologies.items() for w in t.warnings]
    log = _ConfigLog(conn, changed_by, reason, summary, effective_from)
    with conn.transaction():
        operator_id = _upsert(
            conn,
            "operators",
            {"nit": site.operator.nit},
            {"name": site.operator.name},
            "operator",
            site.operator.nit,
            log,
            summary,
        )
        for field_conf in site.fields:
            log.field = field_conf.code
            _load_field(conn, operator_id, field_conf, log, summary)
        log.flush()
        # Checked here, once every well holds its new code (a swap passes), not at the commit.
        conn.execute("SET CONSTRAINTS wells_field_avm_code IMMEDIATE")
        if effective_from is not None:
            for code in sorted(log.changed_fields):
                _note_days_to_recompute(conn, code, effective_from, summary)
            for code, wells in sorted(log.avm_changes.items()):
                summary.notes += signed_days_with_earlier_codes(conn, code, wells, effective_from)
    return summary


def _note_days_to_recompute(
    conn: psycopg.Connection[Any], field_code: str, effective: dt.datetime, summary: SiteLoadSummary
) -> None:
    """Say which stored days a back-dated change applies to: the load does not recompute them
    (the next compute of each does, and flags a signed one whose figures change)."""
    row = conn.execute(
        "SELECT min(d.contract_day), max(d.contract_day), count(DISTINCT d.contract_day), "
        "count(DISTINCT d.contract_day) FILTER (WHERE EXISTS (SELECT 1 FROM reports r "
        "JOIN report_versions v ON v.report_id = r.id WHERE r.field_id = f.id "
        "AND r.contract_day = d.contract_day AND v.chain_seq IS NOT NULL)) "
        "FROM daily_production d JOIN measurement_points p ON p.id = d.pmo_id "
        "JOIN fields f ON f.id = p.field_id WHERE f.code = %s AND d.day_end > %s",
        (field_code, effective),
    ).fetchone()
    if row is None or not row[2]:
        return
    first, last, days, signed = row
    summary.notes.append(
        f"{field_code}: {days} stored day(s) from {first} to {last} ({signed} signed) end after "
        f"the changes take effect ({effective.isoformat()}) and were computed without them: "
        f"recompute them (production compute --field {field_code} --day {first} --to {last}); "
        "a signed day whose figures change is flagged for an amendment"
    )


def _load_field(
    conn: psycopg.Connection[Any],
    operator_id: int,
    f: FieldSite,
    log: _ConfigLog,
    summary: SiteLoadSummary,
) -> None:
    field_id = _upsert(
        conn,
        "fields",
        {"code": f.code},
        {
            "operator_id": operator_id,
            "name": f.name,
            "contract": f.contract,
            "municipality_dane": f.municipality_dane,
            "timezone": f.timezone,
            "contract_day_start_hour": f.contract_day_start_hour,
            "report_type": f.report_type,
            "report_profile": f.report_profile,
            "gas_base_pressure_psia": f.gas_reporting_base.pressure_psia
            if f.gas_reporting_base
            else None,
            "gas_base_temperature_f": f.gas_reporting_base.temperature_f
            if f.gas_reporting_base
            else None,
            "allocation": Jsonb(f.allocation.model_dump(mode="json")),
        },
        "field",
        f.code,
        log,
        summary,
    )
    facility_ids: dict[str, int] = {}
    for facility in f.facilities:
        facility_ids[facility.code] = _upsert(
            conn,
            "facilities",
            {"field_id": field_id, "code": facility.code},
            {"name": facility.name, "kind": facility.kind},
            "facility",
            f"{f.code}.{facility.code}",
            log,
            summary,
        )

    def facility_id(named: str | None) -> int | None:
        code = f.facility_of(named)
        return None if code is None else facility_ids.get(code)

    pmo_ids: dict[str, int] = {}
    known_pmos = {
        str(r[0])
        for r in conn.execute(
            "SELECT code FROM measurement_points WHERE field_id = %s", (field_id,)
        ).fetchall()
    }
    series = _SeriesUpsert(conn, list(field_series(f)), log, summary)
    for pmo in f.pmos:
        meter_factor = _proved_factor(conn, field_id, pmo.code, pmo.meter.meter_factor, summary)
        pmo_ids[pmo.code] = _upsert(
            conn,
            "measurement_points",
            {"field_id": field_id, "code": pmo.code},
            {
                "name": pmo.name,
                "kind": pmo.kind,
                "meter_type": pmo.meter.type,
                "has_totalizer": pmo.meter.has_totalizer,
                "meter_factor": meter_factor,
                "base_temperature_f": pmo.base_conditions.temperature_f,
                "base_pressure_psia": pmo.base_conditions.pressure_psia,
                "role": pmo.role,
                "max_rate": pmo.meter.max_rate,
                "uncertainty_pct": pmo.meter.uncertainty_pct,
                "proving_interval_days": pmo.meter.proving_interval_days,
                "custody": Jsonb(pmo.custody.model_dump()),
                "sales_bsw_spec_pct": pmo.sales_bsw_spec_pct,
                "facility_id": facility_id(pmo.facility),
            },
            "measurement_point",
            f"{f.code}.{pmo.code}",
            log,
            summary,
        )
        for s in pmo.series:
            series.add(*_series_row(f, field_id, pmo.code, {"pmo_id": pmo_ids[pmo.code]}, s))
    for pmo in f.pmos:
        named = (pmo.downstream_of,) if isinstance(pmo.downstream_of, str) else pmo.downstream_of
        _set_upstream(
            conn, f"{f.code}.{pmo.code}", pmo_ids[pmo.code],
            sorted(pmo_ids[code] for code in named or ()),
            created=pmo.code not in known_pmos, log=log,
        )  # fmt: skip
    for tank in f.tanks:
        _upsert(
            conn,
            "tanks",
            {"field_id": field_id, "code": tank.code},
            {
                "name": tank.name,
                "pmo_id": pmo_ids.get(tank.pmo) if tank.pmo else None,
                "definition": Jsonb(_tank_definition(tank)),
            },
            "tank",
            f"{f.code}.{tank.code}",
            log,
            summary,
        )
    check_stored_avm_codes(conn, field_id, f)
    for well in f.wells:
        well_id = _upsert(
            conn,
            "wells",
            {"field_id": field_id, "code": well.code},
            {
                "name": well.name,
                "production_method": well.production_method,
                "pmo_id": pmo_ids.get(well.pmo) if well.pmo else None,
                "facility_id": facility_id(well.facility),
                "fluids": list(f.well_fluids(well)) if f.facilities else [],
                "entries": list(well.entries),
                "municipality_dane": well.municipality_dane,
                "avm_code": well.avm_code,
                "virtual_meter": None
                if well.virtual_meter is None
                else Jsonb(well.virtual_meter.model_dump(mode="json")),
                "injection_meter": well.injection_meter,
            },
            "well",
            f"{f.code}.{well.code}",
            log,
            summary,
        )
        for s in well.series:
            series.add(*_series_row(f, field_id, well.code, {"well_id": well_id}, s))
    series.flush()


def _set_upstream(
    conn: psycopg.Connection[Any],
    code: str,
    pmo_id: int,
    upstream: list[int],
    *,
    created: bool,
    log: _ConfigLog,
) -> None:
    """Set a PMO's upstream PMOs (ids, sorted; once every PMO has an id) and log them.

    The log's ``downstream_of_id`` holds one id, None, or a sorted list of ids when there are
    several (:func:`logged_upstream`), so a single upstream PMO is logged as it always was.
    """
    current = [
        int(r[0])
        for r in conn.execute(
            "SELECT upstream_id FROM measurement_point_upstreams WHERE pmo_id = %s "
            "ORDER BY upstream_id",
            (pmo_id,),
        ).fetchall()
    ]
    old, new = logged_upstream(current), logged_upstream(upstream)
    if created:
        log.write("measurement_point", code, "downstream_of_id", None, new, created=True)
    elif current != upstream:
        log.write("measurement_point", code, "downstream_of_id", old, new, created=False)
    if current != upstream:
        conn.execute("DELETE FROM measurement_point_upstreams WHERE pmo_id = %s", (pmo_id,))
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO measurement_point_upstreams (pmo_id, upstream_id) VALUES (%s, %s)",
                [(pmo_id, up) for up in upstream],
            )
        conn.execute("UPDATE measurement_points SET updated_at = now() WHERE id = %s", (pmo_id,))


def logged_upstream(ids: list[int]) -> int | list[int] | None:
    """A PMO's upstream PMO ids as logged: None, the one id, or the sorted list of them."""
    if not ids:
        return None
    return ids[0] if len(ids) == 1 else sorted(ids)


def _tank_definition(tank: Tank) -> dict[str, Any]:
    """What a tank's 12.1.1 gauging needs, and its level telemetry when it has one."""
    out = tank.model_dump(mode="json", include={"level_unit", "strapping", "shell", "roof"})
    if tank.level_telemetry is not None:
        out["level_telemetry"] = tank.level_telemetry.model_dump(mode="json")
    return out


def _proved_factor(
    conn: psycopg.Connection[Any],
    field_id: int,
    pmo_code: str,
    from_file: float,
    summary: SiteLoadSummary,
) -> float:
    """The factor a site load may set: once a meter is proved, provings set its factor."""
    row = conn.execute(
        "SELECT p.meter_factor FROM measurement_points p WHERE p.field_id = %s AND p.code = %s "
        "AND EXISTS (SELECT 1 FROM provings v WHERE v.pmo_id = p.id)",
        (field_id, pmo_code),
    ).fetchone()
    if row is None or float(row[0]) == from_file:
        return from_file
    summary.notes.append(
        f"{pmo_code}: meter factor kept at {float(row[0]):g} from its provings (the site file "
        f"says {from_file:g}); record a proving to change it"
    )
    return float(row[0])


def _series_row(
    f: FieldSite, field_id: int, owner_code: str, owner: dict[str, int], s: SeriesConf
) -> tuple[str, dict[str, Any]]:
    """A series' code and its column values."""
    commissioned = dt.datetime.combine(s.commissioned, dt.time(), dt.UTC)
    values = {
        "field_id": field_id,
        "pmo_id": owner.get("pmo_id"),
        "well_id": owner.get("well_id"),
        "variable": s.variable,
        "unit": s.unit,
        "range_lo": s.range[0],
        "range_hi": s.range[1],
        "sampling_period_s": s.sampling_period_s,
        "commissioned_at": commissioned,
        "rollover": s.rollover,
        "resolution": s.resolution,
        "backstep_tolerance": s.backstep_tolerance,
        "low_flow_cutoff": s.low_flow_cutoff,
        "basis": s.basis,
    }
    return series_code(f.code, owner_code, s), values


class _SeriesUpsert:
    """:func:`_upsert` for a field's series, in bulk (a national site has 10^5 series): one query
    finds and locks the existing ones, the new ones go in as one pipelined batch at the end, and
    the log entries keep the site file's order."""

    COLUMNS = (
        "field_id", "pmo_id", "well_id", "variable", "unit", "range_lo", "range_hi",
        "sampling_period_s", "commissioned_at", "rollover", "resolution",
        "backstep_tolerance", "low_flow_cutoff", "basis",
    )  # fmt: skip

    def __init__(
        self,
        conn: psycopg.Connection[Any],
        codes: list[str],
        log: _ConfigLog,
        summary: SiteLoadSummary,
    ) -> None:
        self.conn, self.log, self.summary = conn, log, summary
        select = sql.SQL("SELECT id, code, {} FROM series WHERE code = ANY(%s) FOR UPDATE").format(
            sql.SQL(", ").join(map(sql.Identifier, self.COLUMNS))
        )
        self.existing = {
            r[1]: (int(r[0]), dict(zip(self.COLUMNS, r[2:], strict=True)))
            for r in conn.execute(select, (codes,))
        }
        self.new: list[list[Any]] = []

    def add(self, code: str, values: dict[str, Any]) -> None:
        """Update the series if it exists, else keep it for :meth:`flush`; log either way."""
        if code in self.existing:
            row_id, current = self.existing[code]
            _update(self.conn, "series", row_id, current, values, "series", code, self.log,
                    self.summary)  # fmt: skip
            return
        self.new.append([code, *(values[c] for c in self.COLUMNS)])
        for attr in TRACKED["series"]:
            self.log.write("series", code, attr, None, values[attr], created=True)
        self.summary.count("series", created=True)

    def flush(self) -> None:
        """Insert the new series."""
        if self.new:
            insert = sql.SQL("INSERT INTO series (code, {}) VALUES (%s, {})").format(
                sql.SQL(", ").join(map(sql.Identifier, self.COLUMNS)),
                sql.SQL(", ").join(sql.Placeholder() * len(self.COLUMNS)),
            )
            with self.conn.cursor() as cur:
                cur.executemany(insert, self.new)
            self.new = []


class _ConfigLog:
    def __init__(
        self,
        conn: psycopg.Connection[Any],
        changed_by: str,
        reason: str | None,
        summary: SiteLoadSummary,
        effective_from: dt.datetime | None,
    ) -> None:
        self.conn, self.changed_by, self.reason, self.summary = conn, changed_by, reason, summary
        self.effective_from = effective_from
        self.rows: list[tuple[Any, ...]] = []
        self.field: str | None = None
        """The field being loaded (None: the operator)."""
        self.changed_fields: set[str] = set()
        """Fields with a change (not a creation) logged."""
        self.avm_changes: dict[str, list[str]] = {}
        """Per field, the wells whose AVM code changed."""

    def write(
        self, entity: str, code: str, attribute: str, old: Any, new: Any, *, created: bool
    ) -> None:
        # What a new object starts with holds from its creation back: it has no earlier value.
        effective = None if created else self.effective_from
        if not created and self.field is not None:
            self.changed_fields.add(self.field)
            if attribute == "avm_code":
                self.avm_changes.setdefault(self.field, []).append(code)
        self.rows.append(
            (self.changed_by, entity, code, attribute, _json(old), _json(new), self.reason,
             effective)
        )  # fmt: skip
        self.summary.config_changes += 1

    def flush(self) -> None:
        """Write the entries kept so far, in their order, as one pipelined batch."""
        if self.rows:
            with self.conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO config_log (changed_by, entity, entity_code, attribute, "
                    "old_value, new_value, reason, effective_from) "
                    "VALUES (%s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s)",
                    self.rows,
                )
            self.rows = []


def _plain(value: Any) -> Any:
    """A column value as the database gives it back (a JSON document as Python data)."""
    return value.obj if isinstance(value, Jsonb) else value


def _json(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Jsonb):
        value = value.obj
    if isinstance(value, dt.datetime):
        value = value.isoformat()
    return orjson.dumps(value).decode()


def _upsert(
    conn: psycopg.Connection[Any],
    table: str,
    key: dict[str, Any],
    values: dict[str, Any],
    entity: str,
    entity_code: str,
    log: _ConfigLog,
    summary: SiteLoadSummary,
) -> int:
    """Insert or update one row by its natural key; log tracked attribute changes."""
    tracked = TRACKED.get(table, ())
    cols = list(values)
    where = sql.SQL(" AND ").join(
        sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder()) for k in key
    )
    select = sql.SQL("SELECT id, {} FROM {} WHERE {} FOR UPDATE").format(
        sql.SQL(", ").join(map(sql.Identifier, cols)), sql.Identifier(table), where
    )
    row = conn.execute(select, list(key.values())).fetchone()
    if row is None:
        all_cols = [*key, *cols]
        insert = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING id").format(
            sql.Identifier(table),
            sql.SQL(", ").join(map(sql.Identifier, all_cols)),
            sql.SQL(", ").join(sql.Placeholder() * len(all_cols)),
        )
        new = returned(conn.execute(insert, [*key.values(), *values.values()]).fetchone())
        for attr in tracked:
            if attr in values:  # downstream_of_id is set (and logged) once every PMO has an id
                log.write(entity, entity_code, attr, None, values[attr], created=True)
        summary.count(table, created=True)
        return int(new[0])
    row_id, current = int(row[0]), dict(zip(cols, row[1:], strict=True))
    _update(conn, table, row_id, current, values, entity, entity_code, log, summary)
    return row_id


def _update(
    conn: psycopg.Connection[Any],
    table: str,
    row_id: int,
    current: dict[str, Any],
    values: dict[str, Any],
    entity: str,
    entity_code: str,
    log: _ConfigLog,
    summary: SiteLoadSummary,
) -> None:
    """Update an existing row's changed columns; log the tracked ones."""
    tracked = TRACKED.get(table, ())
    changed = {c: v for c, v in values.items() if current[c] != _plain(v)}
    if changed:
        update = sql.SQL("UPDATE {} SET {}, updated_at = now() WHERE id = {}").format(
            sql.Identifier(table),
            sql.SQL(", ").join(
                sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder()) for c in changed
            ),
            sql.Placeholder(),
        )
        conn.execute(update, [*changed.values(), row_id])
        for attr in tracked:
            if attr in changed:
                log.write(entity, entity_code, attr, current[attr], changed[attr], created=False)
        summary.count(table, created=False)
