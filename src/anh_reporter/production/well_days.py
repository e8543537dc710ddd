"""A field's day at well level: read what allocation needs, run it, store the well days.

Called by :func:`~anh_reporter.production.daily.compute_day` once a field-day's PMO figures are
stored (and again when a well test, status change, downtime event or hours entry changes a
stored day). A field without facilities in its site file is not allocated per well.

For each well of the day (docs/allocation.md, "Integration"):

* **the test in force**: the latest accepted, not superseded ``well_tests`` row taken on or
  before the day (valid within the field's window, else expired and flagged); a well with no
  such row falls back on the legacy manual entries ``well_test_oil``/``gas``/``water`` (the
  latest of each on or before the day, dated by the latest of them, 24 h);
* **the status**: from ``well_status_changes`` (a well never logged is producing, an injector
  injecting). An injector (``production_method: injector``), and any well that is ``injecting``
  from the day's start to its end, takes no part in the production allocation: no test, no
  hours on (0 h unless entered), no downtime, no volumes (docs/allocation.md, "Injectors");
* **hours on**: a ``well_hours_on`` manual entry, else the well's on-signal telemetry (pump
  status, speed, strokes or choke, by production method), else 0 h when the status kept it
  from producing, else none (not allocated, with a finding);
* **downtime**: the active ``downtime_events`` clipped to the day, per cause, with the deferred
  volume (test rate × hours down / 24);
* **virtual meters**: each configured well's liquid from its pump speed and Σ against each
  production PMO (:mod:`~anh_reporter.production.virtual_days`), stored beside the well day.

Each production PMO's measured volume is the figure the report shows for it (oil: NSV; gas:
GSV at the reporting base; water: GSV, else GOV), rounded half up to 0.01, so that the wells
add up to the report's PMO figure exactly. The pure work is :func:`~anh_reporter.allocation.
field_day.allocate_field_day`; the field totals by role and the oil, gas and water balances
come from :mod:`~anh_reporter.allocation.topology` and :mod:`~anh_reporter.allocation.balances`
(the metered injection wells' water from :mod:`~anh_reporter.production.injection_days`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import psycopg

from anh_reporter.allocation.allocation import AllocationSettings
from anh_reporter.allocation.balances import (
    DEFAULT_BALANCE_SETTINGS,
    Balance,
    BalanceSettings,
    FieldBalances,
    Tolerance,
    balances_from_totals,
)
from anh_reporter.allocation.deferred import (
    DEFAULT_CAUSES,
    CauseCodes,
    DowntimeEvent,
    deferred_for_events,
)
from anh_reporter.allocation.errors import AllocationError
from anh_reporter.allocation.field_day import FieldDay, WellDayInput, allocate_field_day
from anh_reporter.allocation.findings import Finding
from anh_reporter.allocation.fluids import FLUIDS, check_fluid
from anh_reporter.allocation.hours_on import (
    NOT_PRODUCING,
    ON_SIGNALS,
    SIGNALS_BY_METHOD,
    StatusChange,
    TelemetryHours,
    WellStatus,
    day_status,
    resolve_hours_on,
    telemetry_hours,
)
from anh_reporter.allocation.timeseries import Window
from anh_reporter.allocation.topology import (
    Facility,
    FacilityKind,
    FieldTotals,
    Role,
    Topology,
    TopologyPmo,
    TopologyWell,
    field_totals,
)
from anh_reporter.allocation.well_tests import WellTest, WellTestPolicy, well_test_in_force
from anh_reporter.domain.quality import GOOD_STORED_UPPER
from anh_reporter.domain.timeutil import to_us
from anh_reporter.production import virtual_changes
from anh_reporter.production.config import FieldConfig
from anh_reporter.production.contract_day import ContractDay
from anh_reporter.production.figures import DailyFigures
from anh_reporter.production.injection_days import injection_day
from anh_reporter.production.inputs import DEFAULT_SETTINGS, ProductionSettings
from anh_reporter.production.oil_terms import day_oil_terms
from anh_reporter.production.store import load_day
from anh_reporter.production.tank_levels import day_tank_stocks
from anh_reporter.production.virtual_days import virtual_day
from anh_reporter.storage import well_records as records
from anh_reporter.storage.config_history import topology_in_force

Conn = psycopg.Connection[Any]
CENT = Decimal("0.01")
INJECTOR = "injector"
"""The production method of an injector (``site.Well.production_method``)."""
PUMP_SIGNALS = frozenset({"pump_status", "pump_speed", "strokes_per_minute"})


@dataclass(frozen=True)
class AllocationConfig:
    """A field's allocation settings (site file ``allocation``)."""

    settings: AllocationSettings
    policy: WellTestPolicy
    causes: CauseCodes
    balances: BalanceSettings = DEFAULT_BALANCE_SETTINGS


def _number(value: Any) -> Decimal:
    return Decimal(repr(float(value)))


def allocation_config(raw: dict[str, Any]) -> AllocationConfig:
    """The settings stored in ``fields.allocation`` (defaults for what is missing)."""
    band = raw.get("factor_band") or (0.85, 1.15)
    settings = AllocationSettings(
        factor_band=(_number(band[0]), _number(band[1])),
        expired_tests="exclude" if raw.get("expired_tests") == "exclude" else "use_flagged",
    )
    causes = raw.get("downtime_causes")
    tolerances = raw.get("balance_tolerance") or {}
    balances = BalanceSettings(
        **{
            fluid: Tolerance(_number(t["relative_pct"]), _number(t["absolute"]))
            for fluid in FLUIDS
            if (t := tolerances.get(fluid))
        }
    )
    return AllocationConfig(
        settings,
        WellTestPolicy(int(raw.get("test_validity_days") or 90)),
        CauseCodes(tuple(causes)) if causes else DEFAULT_CAUSES,
        balances,
    )


def topology_of(field_code: str, rows: records.FieldTopologyRows) -> Topology:
    """The field's topology from its stored rows (validated again, as when the site loaded)."""
    facilities = tuple(Facility(f.code, FacilityKind(f.kind), f.name) for f in rows.facilities)
    only = facilities[0].code if len(facilities) == 1 else ""
    pmos = tuple(
        TopologyPmo(
            p.code,
            p.facility or only,
            check_fluid("PMO kind", p.kind),
            Role(p.role),
            p.downstream_of,
        )
        for p in rows.pmos
    )
    wells = tuple(
        TopologyWell(w.code, w.facility or only, injector=True, fluids=frozenset())
        if w.production_method == INJECTOR  # its stored fluids (older site files) are not read
        else TopologyWell(
            w.code,
            w.facility or only,
            frozenset(check_fluid("well fluid", f) for f in w.fluids),
            w.entries,
        )
        for w in rows.wells
    )
    return Topology(field_code, facilities, wells, pmos)


def reported_volume(figures: DailyFigures) -> Decimal | None:
    """The PMO's figure as the report shows it (oil NSV, gas GSV, water GSV or GOV), 0.01."""
    if figures.fluid == "oil":
        value = figures.net_standard_volume
    elif figures.fluid == "gas":
        value = figures.gross_standard_volume
    else:
        value = figures.gross_standard_volume
        if value is None:
            value = figures.gross_observed_volume
    if value is None:
        return None
    number = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    return number.quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True)
class WellDaysResult:
    """What one allocation of a field's day did."""

    field_day: FieldDay
    totals: dict[str, Any]
    changed: bool


def allocate_day(
    conn: Conn,
    config: FieldConfig,
    window: ContractDay,
    settings: ProductionSettings = DEFAULT_SETTINGS,
) -> WellDaysResult | None:
    """Allocate the stored field-day to its wells and store the well days (no commit).

    The topology (wells → facilities, PMO roles and paths) and the allocation settings are
    those in force when the day started
    (:func:`~anh_reporter.storage.config_history.topology_in_force`), like every other
    configured value: a later re-routing does not move an earlier day's volumes.

    None when the field has no facilities (not allocated per well) or no wells. Data the
    allocation refuses (say, a topology changed by hand in the database) does not stop the
    PMO figures: no well day is stored and an ``allocation_failed`` error finding says why.
    """
    rows = topology_in_force(conn, config.id, window.start)
    if not rows.facilities or not rows.wells:
        return None
    try:
        return _allocate(conn, config, window, settings, rows)
    except AllocationError as exc:
        failed = {
            "code": "allocation_failed",
            "severity": "error",
            "target": config.code,
            "message": f"the wells of the day are not allocated: {exc}",
        }
        allocation = {"pmos": [], "totals": {}, "findings": [failed]}
        changed = records.save_well_days(conn, config.id, window.day, {}, allocation)
        return WellDaysResult(FieldDay(config.code, (), (), ()), {}, changed)


def _allocate(
    conn: Conn,
    config: FieldConfig,
    window: ContractDay,
    settings: ProductionSettings,
    rows: records.FieldTopologyRows,
) -> WellDaysResult:
    topology = topology_of(config.code, rows)
    conf = allocation_config(rows.allocation)
    day = window.day
    span = Window(window.start_us, window.end_us)
    volumes: dict[str, Decimal] = {}
    for stored in load_day(conn, config.id, day):
        volume = reported_volume(stored.figures)
        if volume is not None:
            volumes[stored.pmo.code] = volume
    production = {p.code for p in topology.production_pmos()}
    histories, test_ids = _test_histories(conn, config.id, day)
    statuses = _statuses(conn, config.id, window)
    telemetry = _telemetry_hours(conn, config.id, rows.wells, window, settings)
    manual = {w: h for w, (_, h) in records.manual_hours_entries(conn, config.id, day).items()}
    events: dict[str, list[DowntimeEvent]] = defaultdict(list)
    for e in records.downtime_events(conn, config.id, window.start, window.end):
        events[e.well].append(
            DowntimeEvent(e.well, to_us(e.starts_at), to_us(e.ends_at), e.cause, e.comment)
        )
    inputs: list[WellDayInput] = []
    hours_source: dict[str, str] = {}
    for w in rows.wells:
        injector = w.production_method == INJECTOR
        initial = WellStatus.INJECTING if injector else WellStatus.PRODUCING
        status = day_status(w.code, statuses.get(w.code, []), span, initial=initial)
        test = well_test_in_force(w.code, histories.get(w.code, []), day, conf.policy)
        if injector or set(status.hours) == {WellStatus.INJECTING}:
            # Injects all day: out of the production allocation (allocation/field_day.py), 0 h
            # on production by its status (hours typed for it are only warned about), no
            # deferred production.
            hours = resolve_hours_on(
                w.code, manual_h=manual.get(w.code), status=WellStatus.INJECTING
            )
            hours_source[w.code] = "status"
            inputs.append(
                WellDayInput(
                    w.code, hours.hours, test, status.status, findings=hours.findings,
                    injecting=True,
                )
            )  # fmt: skip
            continue
        signal = telemetry.get(w.code)
        hours = resolve_hours_on(
            w.code, telemetry=signal, manual_h=manual.get(w.code), status=status.status,
            producing_status_h=status.hours_in(s for s in WellStatus if s not in NOT_PRODUCING),
        )  # fmt: skip
        hours_source[w.code] = hours.source
        deferred = None
        if events.get(w.code):
            deferred = deferred_for_events(w.code, events[w.code], span, test, causes=conf.causes)
        known = hours.telemetry  # None when the signal knew nothing of the day
        pump = known.on_h if known is not None and known.variable in PUMP_SIGNALS else None
        inputs.append(
            WellDayInput(w.code, hours.hours, test, status.status, pump, deferred, hours.findings)
        )
    field_day = allocate_field_day(
        topology, {c: v for c, v in volumes.items() if c in production}, inputs, conf.settings
    )
    totals = field_totals(topology, volumes)
    stocks = day_tank_stocks(conn, config, window)
    oil_terms = day_oil_terms(conn, config.id, day)  # the field's consumption and losses entries
    injection = injection_day(conn, config.id, rows.wells, window, settings)
    balances = balances_from_totals(
        totals,
        settings=conf.balances,
        tanks=stocks.stocks,
        oil_consumption=oil_terms.consumption,
        oil_losses=oil_terms.losses,
        target=config.code,
        unknown_tanks=stocks.unknown,
        stock_findings=stocks.findings,
        injection=injection.metered,
    )
    by_code, totals_doc, allocation = day_records(
        field_day, totals, balances, inputs, hours_source, test_ids
    )
    totals_doc["tank_stocks"] = list(stocks.details)
    totals_doc["oil_terms"] = oil_terms.as_dict()
    if injection.details:  # a field without metered injection wells stores what it did before
        totals_doc["injection_wells"] = injection.details
    virtual = virtual_day(
        conn, config.id, wells=rows.wells, inputs=inputs, test_ids=test_ids, topology=topology,
        measured={c: v for c, v in volumes.items() if c in production}, window=span,
        day_window=lambda d: _window(config.day(d)), allocation=rows.allocation,
        settings=settings,
    )  # fmt: skip
    allocation["virtual_meter"] = virtual.checks
    allocation["findings"].extend(f.as_dict() for f in virtual.findings)
    by_id = {w.code: w.id for w in rows.wells}
    stored_rows = {
        by_id[code]: {**row, **virtual.rows.get(code, {})} for code, row in by_code.items()
    }
    before = virtual_changes.virtual_figures(conn, config.id, day)
    changed = records.save_well_days(conn, config.id, day, stored_rows, allocation)
    # The virtual meters count too: a signed day whose virtual figures move is flagged, and
    # what moved is kept for its amendment (production/virtual_changes.py).
    moved = virtual_changes.changed_figures(
        before, virtual_changes.virtual_figures(conn, config.id, day)
    )
    if moved:
        virtual_changes.log_if_signed(conn, config.id, day, moved)
    return WellDaysResult(field_day, totals_doc, changed or bool(moved))


def _window(day: ContractDay) -> Window:
    return Window(day.start_us, day.end_us)


def day_records(
    field_day: FieldDay,
    totals: FieldTotals,
    balances: FieldBalances,
    inputs: list[WellDayInput],
    hours_source: dict[str, str],
    test_ids: dict[int, int],
) -> tuple[dict[str, dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """What is stored of an allocated day (pure): the rows by well code, the totals by role
    with the balances, and the allocation record (``allocation_days``)."""
    theoretical = {
        w.well: w.theoretical for a in field_day.pmos if a.fluid == "oil" for w in a.wells
    }
    about: dict[str, list[Finding]] = defaultdict(list)
    for f in field_day.findings:
        about[f.target].append(f)
    rows = {
        r.well: _row(
            r, hours_source[r.well], test_ids, inputs, theoretical.get(r.well), about[r.well]
        )
        for r in field_day.wells
    }
    totals_doc = {
        "by_role": [
            {
                "fluid": fluid,
                "role": str(role),
                "total": str(total),
                "pmos": list(totals.counted.get((fluid, role), ())),
            }
            for (fluid, role), total in sorted(totals.totals.items())
        ],
        "left_out": list(totals.left_out),
        "missing": list(totals.missing),
        "balances": [
            _balance(b) for b in (balances.oil, balances.gas, balances.water) if b is not None
        ],
    }
    findings = [f.as_dict() for f in (*field_day.findings, *balances.findings)]
    allocation = {
        "pmos": [
            {
                "pmo": a.pmo,
                "fluid": a.fluid,
                "measured": str(a.measured),
                "theoretical_total": str(a.theoretical_total),
                "factor": _text(a.factor),
                "allocated_total": str(a.allocated_total),
                "unallocated": str(a.unallocated),
            }
            for a in field_day.pmos
        ],
        "totals": totals_doc,
        "findings": findings,
    }
    return rows, totals_doc, allocation


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _balance(b: Balance) -> dict[str, Any]:
    return {
        "fluid": b.fluid,
        "produced": str(b.produced),
        "terms": [{"name": t.name, "volume": str(t.volume)} for t in b.terms],
        "residual": str(b.residual),
        "tolerance": str(b.tolerance),
        "closes": b.closes,
        "incomplete_terms": list(b.incomplete_terms),
    }


def _row(
    r: Any,
    source: str,
    test_ids: dict[int, int],
    inputs: list[WellDayInput],
    theoretical_oil: Decimal | None,
    about: list[Finding],
) -> dict[str, Any]:
    w = next(i for i in inputs if i.well == r.well)
    deferred = r.deferred
    return {
        "status": str(r.status),
        "hours_on": r.hours_on,
        "hours_source": source,
        "test_id": None if w.test.test is None else test_ids.get(id(w.test.test)),
        "test_date": r.test_date,
        "test_age_days": r.test_age_days,
        "test_state": str(r.test_state),
        "oil_bbl": r.oil_bbl,
        "gas_kscf": r.gas_kscf,
        "water_bbl": r.water_bbl,
        "theoretical_oil_bbl": theoretical_oil,
        "factors": {f: _text(v) for f, v in sorted(r.factors.items())},
        "pmos": dict(sorted(r.pmos.items())),
        "bsw_pct": r.ratios.bsw_pct,
        "gor_scf_bbl": r.ratios.gor_scf_bbl,
        "wor": r.ratios.wor,
        "hours_down": Decimal(0) if deferred is None else deferred.hours_down,
        "deferred_oil_bbl": None if deferred is None else deferred.total("oil"),
        "deferred_gas_kscf": None if deferred is None else deferred.total("gas"),
        "deferred_water_bbl": None if deferred is None else deferred.total("water"),
        "deferred_causes": []
        if deferred is None
        else [
            {
                "cause": v.cause,
                "hours_down": str(v.hours_down),
                **{f: _text(v.volume(f)) for f in FLUIDS},
            }
            for v in deferred.volumes
        ],
        "findings": [f.as_dict() for f in dict.fromkeys((*r.findings, *about))],
    }


def _test_histories(
    conn: Conn, field_id: int, day: dt.date
) -> tuple[dict[str, list[WellTest]], dict[int, int]]:
    """Per well, its tests up to the day; and each test object's row id."""
    out: dict[str, list[WellTest]] = defaultdict(list)
    ids: dict[int, int] = {}
    for t in records.well_tests_of_field(conn, field_id, until=day):
        test = WellTest(
            well=t.well,
            tested_on=t.tested_on,
            duration_h=Decimal(t.duration_h),
            oil_bbl_d=Decimal(t.oil_bbl_d),
            gas_kscf_d=Decimal(t.gas_kscf_d),
            water_bbl_d=Decimal(t.water_bbl_d),
            tested_by=t.tested_by,
            bsw_pct=None if t.bsw_pct is None else Decimal(t.bsw_pct),
            source="test_separator" if t.source == "test_separator" else "manual",
            accepted=t.accepted,
        )
        out[t.well].append(test)
        ids[id(test)] = t.id
    for legacy in records.legacy_well_tests(conn, field_id, day):
        if legacy.well in out:
            continue
        out[legacy.well].append(
            WellTest(
                well=legacy.well,
                tested_on=legacy.tested_on,
                duration_h=Decimal(24),
                oil_bbl_d=legacy.rates.get("oil", Decimal(0)),
                gas_kscf_d=legacy.rates.get("gas", Decimal(0)),
                water_bbl_d=legacy.rates.get("water", Decimal(0)),
                tested_by=legacy.entered_by,
            )
        )
    return out, ids


def _statuses(conn: Conn, field_id: int, window: ContractDay) -> dict[str, list[StatusChange]]:
    out: dict[str, list[StatusChange]] = defaultdict(list)
    for s in records.status_changes(conn, field_id, window.end):
        out[s.well].append(
            StatusChange(s.well, to_us(s.at), WellStatus(s.status), s.reason, s.changed_by)
        )
    return out


def _telemetry_hours(
    conn: Conn,
    field_id: int,
    wells: tuple[records.WellRow, ...],
    window: ContractDay,
    settings: ProductionSettings,
) -> dict[str, TelemetryHours]:
    """Hours on of each well with an on-signal series, from its raw readings of the day."""
    series: dict[str, dict[str, records.WellSeriesRow]] = defaultdict(dict)
    for s in records.well_series(conn, field_id):
        series[s.well][s.variable] = s
    chosen: dict[str, records.WellSeriesRow] = {}
    for w in wells:
        for variable in SIGNALS_BY_METHOD.get(w.production_method, ()):
            if variable in series[w.code]:
                chosen[w.code] = series[w.code][variable]
                break
    if not chosen:
        return {}
    raw = records.series_readings(conn, [s.id for s in chosen.values()], window.start, window.end)
    span = Window(window.start_us, window.end_us)
    out: dict[str, TelemetryHours] = {}
    for code, s in chosen.items():
        if s.id not in raw:
            continue
        times = np.array([to_us(r[0]) for r in raw[s.id]], dtype=np.int64)
        values = np.array([r[1] for r in raw[s.id]], dtype=np.float64)
        quality = np.array([r[2] for r in raw[s.id]], dtype=np.int64)
        good = (quality >= 0) & (quality < GOOD_STORED_UPPER) & np.isfinite(values)
        out[code] = telemetry_hours(
            ON_SIGNALS[s.variable],
            times,
            values,
            span,
            gap_tolerance_s=settings.gap_tolerance_s(s.sampling_period_s),
            good=good,
        )
    return out
