"""What a report is built from: the stored figures, wells and tests, manual entries, anomalies."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import psycopg

from anh_reporter import __version__
from anh_reporter.production import store
from anh_reporter.production.approvals import approvals_of_day
from anh_reporter.production.config import FieldConfig
from anh_reporter.production.contract_day import ContractDay
from anh_reporter.production.manual import latest_well_tests, list_entries
from anh_reporter.production.oil_terms import stored_entry_ids
from anh_reporter.production.provings import proving_in_force
from anh_reporter.reports.errors import ReportError
from anh_reporter.reports.model import (
    AllocationInfo,
    Anomaly,
    ApprovalInfo,
    FacilityInfo,
    ManualEntryUsed,
    OperatorInfo,
    PmoContext,
    ProvingInfo,
    ReportInputs,
    VersionInfo,
    WellDayInfo,
    WellInfo,
)
from anh_reporter.storage import well_records
from anh_reporter.storage.config_history import topology_in_force

Conn = psycopg.Connection[Any]


def load_inputs(
    conn: Conn,
    config: FieldConfig,
    day: dt.date,
    *,
    version: VersionInfo,
    threshold_pct: Any,
) -> ReportInputs:
    """Everything the report of ``config``'s ``day`` is built from."""
    window = config.day(day)
    pmos = store.load_day(conn, config.id, day)
    if not pmos:
        raise ReportError(
            f"no daily production stored for {config.code} on {day}: run "
            f"`production compute --field {config.code} --day {day}` first"
        )
    tests = latest_well_tests(conn, config.id, day)
    # The wells' facilities and PMOs as in force on the day, as its allocation used them.
    topology = topology_in_force(conn, config.id, window.start)
    wells = []
    for w in topology.wells:
        entries = tests.get(w.code, {})
        wells.append(
            WellInfo(
                code=w.code,
                name=w.name,
                pmo=w.pmo,
                production_method=w.production_method,
                tests={k: e.value for k, e in entries.items()},
                test_entry_ids=sorted(e.id for e in entries.values()),
                facility=w.facility,
                municipality_dane=w.municipality_dane,
                avm_code=w.avm_code,
            )
        )
    # The hours typed by hand a well day was allocated with: the day's active entry (the day is
    # recomputed whenever an hours entry is added or replaced).
    typed_hours = well_records.manual_hours_entries(conn, config.id, day)
    well_days = [
        WellDayInfo(
            code=code,
            **row,
            hours_entry_id=typed_hours[code][0]
            if row.get("hours_source") == "manual" and code in typed_hours
            else None,
        )
        for code, row in well_records.load_well_days(conn, config.id, day).items()
    ]
    stored_allocation = well_records.load_allocation_day(conn, config.id, day)
    ids = sorted(
        {i for p in pmos for i in p.figures.manual_entry_ids}
        | {i for w in wells for i in w.test_entry_ids}
        | {d.hours_entry_id for d in well_days if d.hours_entry_id is not None}
        | set(stored_entry_ids(stored_allocation["totals"] if stored_allocation else {}))
    )
    manual = [
        ManualEntryUsed(
            id=e.id,
            kind=e.kind,
            target=e.owner_code,
            contract_day=e.contract_day,
            value=e.value,
            unit=e.unit,
            entered_by=e.entered_by,
            entered_at=e.entered_at,
            reason=e.reason,
            level=e.level,
            window_start=e.window_start,
            window_end=e.window_end,
            details=e.details or {},
        )
        for e in (
            list_entries(conn, field_code=config.code, include_superseded=True, ids=ids)
            if ids
            else []
        )
    ]
    return ReportInputs(
        operator=OperatorInfo(nit=config.operator_nit, name=config.operator_name),
        field={
            "code": config.code,
            "name": config.name,
            "contract": config.contract,
            "municipality_dane": config.municipality_dane,
            "timezone": config.timezone,
            "start_hour": config.start_hour,
            "report_type": config.report_type,
        },
        contract_day=day,
        day_start=window.start,
        day_end=window.end,
        pmos=pmos,
        wells=wells,
        well_days=well_days,
        facilities=[
            FacilityInfo(code=f.code, name=f.name, kind=f.kind) for f in topology.facilities
        ],
        allocation=None if stored_allocation is None else AllocationInfo(**stored_allocation),
        manual_entries=manual,
        anomalies=load_anomalies(conn, config.id, window.start, window.end),
        context=load_context(conn, config, window),
        approvals=[
            ApprovalInfo(
                pmo=a.pmo_code,
                kind=a.kind,
                subject=a.subject,
                reason=a.reason,
                decided_by=a.decided_by,
                decided_at=a.decided_at,
            )
            for a in approvals_of_day(conn, config.id, day)
        ],
        version=version,
        software_version=__version__,
        completeness_threshold_pct=threshold_pct,
    )


HISTORY_DAYS = 7


def load_context(conn: Conn, config: FieldConfig, window: ContractDay) -> dict[str, PmoContext]:
    """Per PMO: role, meter ceiling, sales spec, proving in force, last signed volumes."""
    hours = Decimal(repr(window.hours))
    history = _history(conn, config.id, window.day)
    out = {}
    for pmo in config.pmos:
        rate = pmo.rate_series()
        max_rate = pmo.max_rate or (rate.range_hi if rate is not None else None)
        ceiling = None
        if max_rate:
            ceiling = (Decimal(repr(float(max_rate))) * hours / 24).quantize(Decimal("0.01"))
        proving = proving_in_force(conn, pmo.id, window.start)
        out[pmo.code] = PmoContext(
            role=pmo.role,
            max_daily_volume=ceiling,
            sales_bsw_spec_pct=Decimal(repr(float(pmo.sales_bsw_spec_pct))),
            proving_interval_days=pmo.proving_interval_days,
            proving=None
            if proving is None
            else ProvingInfo(
                proved_at=proving.proved_at,
                effective_from=proving.effective_from,
                meter_factor=proving.meter_factor,
                previous_factor=proving.previous_factor,
                run_reference=proving.run_reference,
                proved_by=proving.proved_by,
            ),
            history=history.get(pmo.code, []),
        )
    return out


def _history(conn: Conn, field_id: int, day: dt.date) -> dict[str, list[Decimal]]:
    """Reported volumes of the last signed days (unchanged since signing), newest first."""
    rows = conn.execute(
        "SELECT p.code, d.net_standard_volume FROM daily_production d "
        "JOIN measurement_points p ON p.id = d.pmo_id "
        "JOIN reports r ON r.field_id = p.field_id AND r.contract_day = d.contract_day "
        "WHERE p.field_id = %s AND d.contract_day < %s AND d.contract_day >= %s "
        "AND NOT d.needs_amendment AND d.net_standard_volume IS NOT NULL "
        "AND EXISTS (SELECT 1 FROM report_versions v WHERE v.report_id = r.id "
        "AND v.chain_seq IS NOT NULL) ORDER BY d.contract_day DESC",
        (field_id, day, day - dt.timedelta(days=HISTORY_DAYS)),
    ).fetchall()
    out: dict[str, list[Decimal]] = {}
    for code, volume in rows:
        out.setdefault(code, []).append(Decimal(volume))
    return out


def load_anomalies(
    conn: Conn, field_id: int, start: dt.datetime, end: dt.datetime
) -> list[Anomaly]:
    """The field's anomalies whose episode overlaps the contract day (analytics' table).

    Read from ``anomalies`` (migration 0003, the analytics package): one row per episode, with
    its series or PMO, severity, detector and explanation. Without the table, no anomalies.
    """
    if conn.execute("SELECT to_regclass('anomalies')").fetchone() == (None,):
        return []
    rows = conn.execute(
        """
        SELECT a.window_start, coalesce(s.code, p.code, ''), lower(a.severity), a.detector,
               coalesce(a.explanation->>'summary', a.explanation->>'message',
                        a.explanation::text)
        FROM anomalies a
        LEFT JOIN series s ON s.id = a.series_id
        LEFT JOIN measurement_points p ON p.id = a.pmo_id
        WHERE a.field_id = %s AND a.window_start < %s AND a.window_end >= %s
        ORDER BY a.window_start, a.id
        """,
        (field_id, end, start),
    ).fetchall()
    return [
        Anomaly(at=t, target=tg, severity=sev, kind=k, message=m or "") for t, tg, sev, k, m in rows
    ]
