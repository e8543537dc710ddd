"""Reports per second, and daily production from the rollups, for a 50-PMO field.

1. Reports: build the model from a day's stored figures, run the rules, map to the idp-1.0
   document, validate it (compiled schema check), canonicalise and sign (Ed25519): reports per
   second in one process and in two processes (2 cores). As the service does it, a profile's
   big lists (the well rows) are rendered straight to canonical rows, each checked against its
   row schema as it is made (stage "document"); "validate" checks the rest of the document.
   Headline ratio: the two-process rate against the original design's target of 500 reports/s.
   Also where the time of one report goes (µs per stage, one process), and the rate of
   jsonschema validation alone on the same document (what validating with jsonschema on every
   report would cap at).
   The same with per-well allocation: a 50-PMO, 500-well field (``bench/allocation.py``'s: 10
   batteries of 5 PMOs and 50 wells), allocated once as ``compute_day`` does and stored as the
   well days the report reads, in the service's default profile (idp-1.4: 500 full well rows,
   the balances and the allocation of its 30 production PMOs) and in idp-1.0 (eight figures
   per well): reports per second in two processes, and µs per stage in one.
2. Daily production: 50 PMOs x 10 variables at 10 s samples (4.32 M readings a day) written to a
   scratch database, then ``compute_day`` with the hourly rollups for the properties and raw rows
   only for the volume series, against the same computation from raw rows only.

Medians of ``--runs`` runs; the last line is JSON.

    python bench/reports.py [--pmos 50] [--reports 400] [--runs 5] [--skip-production]
                            [--skip-wells]
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

sys.path.insert(0, str(Path(__file__).parent))

from _common import bench_database, console, median, report
from allocation import build_field
from anh_reporter.allocation.balances import balances_from_totals
from anh_reporter.allocation.field_day import allocate_field_day
from anh_reporter.allocation.topology import field_totals
from anh_reporter.config import ReportSettings
from anh_reporter.domain.timeutil import to_us
from anh_reporter.production.daily import compute_day
from anh_reporter.production.figures import DailyFigures
from anh_reporter.production.store import PmoRef, StoredDay
from anh_reporter.production.well_days import day_records
from anh_reporter.reports import rules
from anh_reporter.reports.build import build_report
from anh_reporter.reports.canonical import canonical_bytes
from anh_reporter.reports.model import (
    AllocationInfo,
    FacilityInfo,
    FieldInfo,
    OperatorInfo,
    PmoContext,
    ReportInputs,
    VersionInfo,
    WellDayInfo,
    WellInfo,
)
from anh_reporter.reports.profiles import get_profile
from anh_reporter.reports.signing import load_or_create_key, sign
from anh_reporter.site import Site
from anh_reporter.storage import migrate
from anh_reporter.storage.database import Database
from anh_reporter.storage.site_repo import load_site_into
from anh_reporter.storage.telemetry import TelemetryWriter

DESIGN_TARGET_PER_S = 500.0
DAY = dt.date(2026, 2, 2)
START = dt.datetime(2026, 2, 2, 11, tzinfo=dt.UTC)  # 06:00 America/Bogota
NOW = dt.datetime(2026, 2, 4, tzinfo=dt.UTC)
D = Decimal

# --- Reports ------------------------------------------------------------------------------------


def report_inputs(pmos: int) -> ReportInputs:
    """A field's day as stored: oil, water and gas PMOs in turn, realistic figures."""
    days = []
    for i in range(pmos):
        kind = ("oil", "water", "gas")[i % 3]
        pmo = PmoRef(i + 1, f"PMO-{i:03d}", f"Punto de medición {i}", "coriolis")
        days.append(StoredDay(pmo, pmo_figures(pmo.code, kind, i), NOW))
    return _inputs(days)


def pmo_figures(code: str, kind: str, i: int, volume: Decimal | None = None) -> DailyFigures:
    """Realistic figures of a PMO (``volume``: its reported volume, NSV or gas at base)."""
    oil = kind == "oil"
    if volume is None:
        gsv, nsv = D("8010.77") + i, D("7990.74") + i
    else:
        gsv, nsv = (volume + (volume * D("0.0025")).quantize(D("0.01")) if oil else volume), volume
    return DailyFigures(
        code=code,
        fluid=kind,
        method="totalizer",
        unit="kscf" if kind == "gas" else "bbl",
        level="indicated",
        indicated_volume=D("8225.89") + i,
        meter_factor=D("1.0008"),
        gross_observed_volume=D("8232.47") + i,
        ctl=D("0.97275") if oil else None,
        cpl=D("1.00033") if oil else None,
        ctpl=D("0.97307") if oil else None,
        ccf=D("0.9739") if oil else None,
        gross_standard_volume=gsv,
        bsw_percent=D("0.25") if oil else None,
        net_standard_volume=nsv,
        measured_volume=D("8225.89") + i,
        estimated_volume=D(0),
        estimated_share_pct=0.0,
        completeness_pct=100.0,
        temperature_f=D("134.0"),
        pressure_psig=D("73.5"),
        api_gravity=D("14.8") if oil else None,
        sources={
            "temperature": "telemetry (flow-weighted)",
            "pressure": "telemetry (flow-weighted)",
            "bsw": "telemetry (flow-weighted)" if oil else "none",
            "api_gravity": "telemetry (flow-weighted)" if oil else "none",
        },
        samples_expected=8640,
        samples_received=8631,
        samples_good=8630,
        longest_gap_s=40.0,
        flow_time_coverage_pct=99.97,
        sample_completeness_pct=99.9,
        quality_score=99.8,
        quality_components={
            "score": {
                "coverage_points": 59.98,
                "good_ratio_points": 19.99,
                "gap_points": 19.94,
                "rollover_penalty": 0.0,
                "reset_penalty": 0.0,
            }
        },
        quality_explanation="score 99.8 = 60.0 coverage + 20.0 good + 19.9 gap",
        rollovers=0,
        resets=0,
        events=[],
        issues=[],
        manual_entry_ids=[],
    )


def report_inputs_with_wells(seed: int = 12) -> ReportInputs:
    """bench/allocation.py's 50-PMO, 500-well field, allocated and stored as compute_day does.

    Each production PMO reports the volume the wells are allocated from; the LACT and the flare
    downstream report what their production PMO did (the balances close).
    """
    topology, measured, inputs = build_field(seed)
    field_day = allocate_field_day(topology, measured, inputs)
    upstream = {p.code: p.downstream_of for p in topology.pmos}
    volumes = {p.code: measured[upstream[p.code] or p.code] for p in topology.pmos}
    totals = field_totals(topology, volumes)
    balances = balances_from_totals(totals, target="CAMPO-BENCH")
    hours_source = {w.well: "telemetry" for w in inputs}
    rows, totals_doc, allocation = day_records(
        field_day, totals, balances, list(inputs), hours_source, {}
    )
    days = [
        StoredDay(
            PmoRef(i + 1, p.code, f"Punto de medición {p.code}", "coriolis"),
            pmo_figures(p.code, p.fluid, i, volumes[p.code]),
            NOW,
        )
        for i, p in enumerate(topology.pmos)
    ]
    wells = [
        WellInfo(code=w.code, name=f"Pozo {w.code}", pmo=None, production_method="esp",
                 facility=w.facility, municipality_dane="50568")
        for w in topology.wells
    ]  # fmt: skip
    well_days = [WellDayInfo(code=code, **row) for code, row in rows.items()]
    facilities = [
        FacilityInfo(code=f.code, name=f.code, kind="battery") for f in topology.facilities
    ]
    stored = AllocationInfo(**(allocation | {"totals": totals_doc}))
    context = {p.code: PmoContext(role=str(p.role)) for p in topology.pmos}
    return _inputs(days).model_copy(
        update={"wells": wells, "well_days": well_days, "facilities": facilities,
                "allocation": stored, "context": context}
    )  # fmt: skip


def _inputs(days: list[StoredDay]) -> ReportInputs:
    return ReportInputs(
        operator=OperatorInfo(nit="900123456-7", name="Petrolera Demo Llanos S.A.S."),
        field=FieldInfo(
            code="CAMPO-BENCH",
            name="Campo de referencia",
            contract="LLA-BENCH-2020",
            municipality_dane="50568",
            timezone="America/Bogota",
            start_hour=6,
            report_type="A",
        ),
        contract_day=DAY,
        day_start=START,
        day_end=START + dt.timedelta(days=1),
        pmos=days,
        version=VersionInfo(number=1, generated_at=NOW, generated_by="bench"),
        software_version="bench",
    )


_STATE: dict[str, Any] = {}
STAGES = ("build", "rules", "document", "validate", "canonical", "sign")


def _worker_init(pmos: int, key_dir: str, wells: bool = False, profile: str = "idp-1.0") -> None:
    _STATE["inputs"] = report_inputs_with_wells() if wells else report_inputs(pmos)
    _STATE["profile"] = get_profile(profile)
    _STATE["key"] = load_or_create_key(Path(key_dir))
    _STATE["stage_s"] = [0.0] * len(STAGES)


def one_report() -> int:
    """Build, check, map, validate, canonicalise and sign one report; its size in bytes.

    The seconds spent in each stage are added to ``_STATE["stage_s"]``.
    """
    clock = time.perf_counter
    t0 = clock()
    model = build_report(_STATE["inputs"])
    t1 = clock()
    findings = rules.check(model, now=NOW)
    if rules.errors(findings):
        raise RuntimeError(f"benchmark report has errors: {findings}")
    t2 = clock()
    profile = _STATE["profile"]
    # As the service signs (Profile.render): the lists a profile fuses are rendered to canonical
    # rows and each row checked against its schema here; the rest is validated next.
    document = profile.fused_document(model)
    t3 = clock()
    if document is None or not profile.fused_is_valid(document):
        problems = profile.problems(profile.document(model))[:3]
        raise RuntimeError(f"benchmark report is invalid: {problems}")
    t4 = clock()
    data = canonical_bytes(document, check=False)
    t5 = clock()
    sign(data, _STATE["key"], NOW)
    t6 = clock()
    spent = _STATE["stage_s"]
    for i, (start, end) in enumerate(itertools.pairwise((t0, t1, t2, t3, t4, t5, t6))):
        spent[i] += end - start
    return len(data)


def run_reports(n: int) -> float:
    """Seconds for ``n`` reports in this process (after one warm-up)."""
    one_report()
    _STATE["stage_s"] = [0.0] * len(STAGES)
    start = time.perf_counter()
    for _ in range(n):
        one_report()
    return time.perf_counter() - start


def jsonschema_only(n: int) -> float:
    """Seconds for ``n`` jsonschema validations of the same document (validator built once)."""
    profile = _STATE["profile"]
    document = profile.document(build_report(_STATE["inputs"]))
    assert profile.validator.is_valid(document)
    start = time.perf_counter()
    for _ in range(n):
        profile.validator.is_valid(document)
    return time.perf_counter() - start


def wells_bench(n: int, runs: int, profile: str) -> dict[str, Any]:
    """The 500-well field in ``profile``: µs per stage in one process, reports/s in two."""
    with tempfile.TemporaryDirectory() as keys:
        _worker_init(0, keys, True, profile)
        size = one_report()
        stages = []
        for _ in range(runs):
            run_reports(max(1, n // 4))
            stages.append([s / max(1, n // 4) * 1e6 for s in _STATE["stage_s"]])
        two = []
        init = (0, keys, True, profile)
        with ProcessPoolExecutor(2, initializer=_worker_init, initargs=init) as pool:
            list(pool.map(run_reports, [1, 1]))
            for _ in range(runs):
                start = time.perf_counter()
                list(pool.map(run_reports, [n, n]))
                two.append(2 * n / (time.perf_counter() - start))
    return {
        "bytes": size,
        "stage_us": {name: median([run[i] for run in stages]) for i, name in enumerate(STAGES)},
        "two_processes_per_s": median(two),
    }


def reports_bench(pmos: int, n: int, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as keys:
        _worker_init(pmos, keys)
        size = one_report()
        single, stages = [], []
        for _ in range(runs):
            single.append(n / run_reports(n))
            stages.append([s / n * 1e6 for s in _STATE["stage_s"]])
        schema_n = max(20, n // 10)
        schema = [schema_n / jsonschema_only(schema_n) for _ in range(runs)]
        two = []
        with ProcessPoolExecutor(2, initializer=_worker_init, initargs=(pmos, keys)) as pool:
            list(pool.map(run_reports, [1, 1]))  # start and warm both workers
            for _ in range(runs):
                start = time.perf_counter()
                list(pool.map(run_reports, [n, n]))
                two.append(2 * n / (time.perf_counter() - start))
    return {
        "bytes": size,
        "stage_us": {name: median([run[i] for run in stages]) for i, name in enumerate(STAGES)},
        "one_process_per_s": median(single),
        "two_processes_per_s": median(two),
        "jsonschema_only_per_s": median(schema),
    }


# --- Daily production -----------------------------------------------------------------------------

VARIABLES = (
    ("oil_total", "bbl", (0, 9_999_999.99)),
    ("oil_rate", "bbl/d", (0, 50_000)),
    ("meter_temperature", "degF", (0, 300)),
    ("meter_pressure", "psig", (0, 1500)),
    ("bsw", "%", (0, 100)),
    ("api_gravity", "degAPI", (5, 60)),
    ("separator_temperature", "degF", (0, 300)),
    ("separator_pressure", "psig", (0, 1500)),
    ("separator_level", "%", (0, 100)),
    ("line_pressure", "psig", (0, 1500)),
)


EXTRA: dict[str, dict[str, Any]] = {
    "oil_total": {"rollover": 1e7, "resolution": 0.01},
    "api_gravity": {"basis": "base"},
}


def bench_site(pmos: int) -> Site:
    series = [
        {"variable": v, "unit": u, "range": list(r), "sampling_period_s": 10,
         "commissioned": "2025-01-01", **EXTRA.get(v, {})}
        for v, u, r in VARIABLES
    ]  # fmt: skip
    return Site.model_validate(
        {
            "operator": {"name": "Bench S.A.S.", "nit": "900123456-7"},
            "fields": [
                {
                    "code": "CAMPO-BENCH",
                    "name": "Campo de referencia",
                    "contract": "LLA-BENCH-2020",
                    "municipality_dane": "50568",
                    "pmos": [
                        {
                            "code": f"PMO-{i:03d}",
                            "name": f"PMO {i}",
                            "kind": "oil",
                            "series": series,
                        }
                        for i in range(pmos)
                    ],
                }
            ],
        }
    )


def fill(conn: psycopg.Connection[Any], pmos: int) -> int:
    """One contract day (plus a minute each side) of 10 s samples for every series."""
    load_site_into(conn, bench_site(pmos), changed_by="bench")
    ids = [r[0] for r in conn.execute("SELECT id FROM series ORDER BY id").fetchall()]
    start = to_us(START) - 60_000_000
    times = np.arange(start, start + 86_400_000_000 + 120_000_000, 10_000_000, dtype=np.int64)
    frac = (times - to_us(START)) / 86_400e6
    per_variable = {
        "oil_total": 1_000_000 + 8000 * frac,
        "oil_rate": 8000 + 400 * np.sin(6.28 * frac),
        "meter_temperature": 134 + 4 * np.sin(6.28 * frac),
        "meter_pressure": 85 + 2 * np.cos(6.28 * frac),
        "bsw": 0.35 + 0.05 * frac,
        "api_gravity": 15.2 + 0.1 * frac,
    }
    writer = TelemetryWriter(conn)
    rows = 0
    for i, sid in enumerate(ids):
        variable = VARIABLES[i % len(VARIABLES)][0]
        values = per_variable.get(variable, 50 + 5 * np.sin(3.14 * frac))
        writer.write(
            np.full(times.size, sid, dtype=np.int32),
            times,
            np.asarray(values, dtype=np.float64),
            np.zeros(times.size, dtype=np.uint32),
        )
        rows += times.size
    conn.execute("ANALYZE")
    conn.commit()
    return rows


def production_bench(db: Database, pmos: int, runs: int) -> dict[str, float]:
    name = "anh_bench_production"
    with psycopg.connect(db.with_name("postgres").url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    scratch = db.with_name(name)
    try:
        migrate.upgrade(scratch)
        with scratch.connect() as conn:
            console.print(f"writing {pmos} PMOs x {len(VARIABLES)} variables x 8,640 samples...")
            rows = fill(conn, pmos)
            compute_day(conn, "CAMPO-BENCH", DAY)  # warm the caches
            rollups, raw = [], []
            for _ in range(runs):
                start = time.perf_counter()
                result = compute_day(conn, "CAMPO-BENCH", DAY)
                rollups.append(time.perf_counter() - start)
                start = time.perf_counter()
                compute_day(conn, "CAMPO-BENCH", DAY, use_rollups=False)
                raw.append(time.perf_counter() - start)
            assert len(result.figures) == pmos
            assert all(f.net_standard_volume is not None for f in result.figures)
    finally:
        with psycopg.connect(db.with_name("postgres").url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return {"rows": rows, "rollups_s": median(rollups), "raw_s": median(raw)}


def goal_budget(pmos_only: dict[str, Any], wells: dict[str, Any]) -> dict[str, float]:
    """What the 1,000 reports/s goal leaves a 500-well report, measured in this run.

    Two processes do ``scaling`` times one process's work (the 500-well report's own ratio), so
    one report may take ``scaling`` x 1,000 µs in one process. The signature alone (Ed25519 over
    the whole canonical document, as every signed report since idp-1.0: SHA-512 twice over it,
    and the envelope's SHA-256) takes ``sign_us`` of that; the 50 PMOs without wells take
    ``pmos_unsigned_us`` before signing.
    """
    one_us = sum(wells["stage_us"].values())
    scaling = wells["two_processes_per_s"] * one_us / 1e6
    budget_us = scaling * 1e6 / 1000
    sign_us = wells["stage_us"]["sign"]
    pmos_unsigned_us = sum(us for k, us in pmos_only["stage_us"].items() if k != "sign")
    return {
        "scaling": scaling,
        "budget_us": budget_us,
        "sign_us": sign_us,
        "sign_share": sign_us / budget_us,
        "pmos_unsigned_us": pmos_unsigned_us,
        "pmos_share": pmos_unsigned_us / budget_us,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pmos", type=int, default=50)
    parser.add_argument("--reports", type=int, default=400, help="Reports per run and process")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-production", action="store_true")
    parser.add_argument("--skip-wells", action="store_true", help="No 500-well field")
    args = parser.parse_args()

    r = reports_bench(args.pmos, args.reports, args.runs)
    default = ReportSettings().profile  # the service's
    wells = {} if args.skip_wells else {
        name: wells_bench(args.reports, args.runs, name) for name in (default, "idp-1.0")
    }  # fmt: skip
    p: dict[str, float] | None = None
    if not args.skip_production:
        with bench_database() as db:
            p = production_bench(db, args.pmos, args.runs)

    ratio = r["two_processes_per_s"] / DESIGN_TARGET_PER_S
    rows = [
        ("design target (baseline)", f"{DESIGN_TARGET_PER_S:,.0f} reports/s", "1.00"),
        ("reports, 1 process", f"{r['one_process_per_s']:,.0f} reports/s",
         f"{r['one_process_per_s'] / DESIGN_TARGET_PER_S:.2f}"),
        ("reports, 2 processes (2 cores)", f"{r['two_processes_per_s']:,.0f} reports/s",
         f"{ratio:.2f}"),
        ("jsonschema validation only", f"{r['jsonschema_only_per_s']:,.0f} docs/s",
         f"{r['jsonschema_only_per_s'] / DESIGN_TARGET_PER_S:.2f}"),
    ]  # fmt: skip
    per_report_us = 1e6 / r["one_process_per_s"]
    rows += [
        (f"  1 process: {name}", f"{us:,.0f} µs/report", f"{us / per_report_us:.0%} of a report")
        for name, us in r["stage_us"].items()
    ]
    figures: dict[str, object] = {
        "bench": "reports",
        "pmos": args.pmos,
        "runs": args.runs,
        "report_bytes": r["bytes"],
        "reports_per_s_1_process": round(r["one_process_per_s"]),
        "reports_per_s_2_processes": round(r["two_processes_per_s"]),
        "jsonschema_only_per_s": round(r["jsonschema_only_per_s"]),
        "stage_us": {name: round(us, 1) for name, us in r["stage_us"].items()},
        "baseline_reports_per_s": DESIGN_TARGET_PER_S,
        "ratio": round(ratio, 3),
        "goal_reports_per_s": 1000,
    }
    for name, w in wells.items():
        total_us = sum(w["stage_us"].values())
        rows.append(
            (f"reports, 500 wells allocated, {name}, 2 processes ({w['bytes']:,} bytes)",
             f"{w['two_processes_per_s']:,.0f} reports/s",
             f"{w['two_processes_per_s'] / DESIGN_TARGET_PER_S:.2f}")
        )  # fmt: skip
        rows += [
            (f"  {name}, 1 process: {stage}", f"{us:,.0f} µs/report", f"{us / total_us:.0%}")
            for stage, us in w["stage_us"].items()
        ]
        suffix = "" if name == default else "_" + name.replace("-", "_").replace(".", "_")
        figures |= {
            f"wells_report_bytes{suffix}": w["bytes"],
            f"wells_stage_us{suffix}": {k: round(us, 1) for k, us in w["stage_us"].items()},
            f"reports_per_s_2_processes_500_wells{suffix}": round(w["two_processes_per_s"]),
        }
    if wells:
        figures |= {"wells": 500, "wells_profile": default}
        budget = goal_budget(r, wells[default])
        rows += [
            ("goal 1,000/s on 2 processes: µs a report may take in one process",
             f"{budget['budget_us']:,.0f} µs", f"{budget['scaling']:.2f}× scaling"),
            (f"  {default}: signing the 500-well document alone",
             f"{budget['sign_us']:,.0f} µs", f"{budget['sign_share']:.0%} of it"),
            ("  the 50 PMOs without wells, all but signing",
             f"{budget['pmos_unsigned_us']:,.0f} µs", f"{budget['pmos_share']:.0%} of it"),
        ]  # fmt: skip
        figures |= {"goal_budget": {k: round(v, 3) for k, v in budget.items()}}
    if p is not None:
        rows += [
            ("daily production, raw rows (baseline)", f"{p['raw_s']:.3f} s", "1.00"),
            ("daily production, rollups", f"{p['rollups_s']:.3f} s",
             f"{p['raw_s'] / p['rollups_s']:.2f}"),
        ]  # fmt: skip
        figures |= {
            "production_rows_per_day": p["rows"],
            "production_rollups_s": round(p["rollups_s"], 4),
            "production_raw_s": round(p["raw_s"], 4),
            "production_speedup": round(p["raw_s"] / p["rollups_s"], 3),
            "production_goal_s": 1.0,
        }
    report(
        f"Reports ({args.pmos} PMOs, {r['bytes']:,} bytes) and daily production, "
        f"median of {args.runs} runs",
        ("what", "median", "ratio"),
        rows,
        figures,
    )


if __name__ == "__main__":
    main()
