"""The internal report model: what one daily production report (IDP) says, before any profile.

:class:`ReportInputs` is everything a report is made from (the stored daily figures, the manual
entries, the anomalies, the version being made); :func:`build_report` turns it into an
:class:`IdpReport` (pure: the golden cases run it from ``input.json``). A profile
(:mod:`~anh_reporter.reports.profiles`) then maps the model to the document a receiver wants.

Derived figures, per PMO:

* oil PMO: ``oil_gross_bbl`` = GSV (oil with its sediment and water, at 60 °F), ``oil_net_bbl``
  = NSV, ``water_gross_bbl`` = ``water_net_bbl`` = GSV − NSV (the S&W volume);
* water PMO: ``water_gross_bbl`` = GOV, ``water_net_bbl`` = GSV (= GOV: no correction);
* gas PMO: ``gas_kpc`` = GSV (kscf at base conditions, as the flow computer gives it).

Totals are the sums over PMOs of the figures that are present. Per-well figures are allocated
when every well of a PMO has a well test (manual entries ``well_test_oil``/``water``/``gas``,
the latest on or before the day): each well gets the PMO's volume × its test rate / the sum of
test rates, rounded to 0.01 with the largest-remainder method so the wells add up exactly.
Every number is a :class:`~decimal.Decimal` at its reporting increment (see ``QUANTA``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from anh_reporter.production.store import StoredDay

SCHEMA_VERSION = "1.0"

QUANTA: dict[str, Decimal] = {
    "volume": Decimal("0.01"),
    "factor": Decimal("0.00001"),
    "meter_factor": Decimal("0.0001"),
    "bsw": Decimal("0.01"),
    "api": Decimal("0.1"),
    "temperature": Decimal("0.1"),
    "pressure": Decimal("0.1"),
    "pct": Decimal("0.1"),
    "seconds": Decimal("1"),
    "points": Decimal("0.1"),
    "fraction": Decimal("0.0001"),
}
"""Reporting increment of each kind of figure (values are rounded half up to it)."""


def q(value: Decimal | float | int | None, kind: str) -> Decimal | None:
    """``value`` rounded half up to the increment of ``kind``; ``None`` stays ``None``."""
    if value is None:
        return None
    if type(value) is not Decimal:
        # A float is taken at its shortest decimal form (repr), as API MPMS 12.2 rounding does.
        value = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return value.quantize(QUANTA[kind], ROUND_HALF_UP)


def _q(value: Decimal | float | int, kind: str) -> Decimal:
    out = q(value, kind)
    assert out is not None  # noqa: S101 - narrows for mypy: q() is None only for None
    return out


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- Inputs -----------------------------------------------------------------------------------


class OperatorInfo(_Model):
    """The reporting company."""

    nit: str
    name: str


class FieldInfo(_Model):
    """The field and its contract."""

    code: str
    name: str
    contract: str
    municipality_dane: str
    timezone: str
    start_hour: int
    report_type: Literal["A", "B"]


class WellInfo(_Model):
    """A well, the PMO it produces to, and its latest well tests (rate by kind)."""

    code: str
    name: str
    pmo: str | None
    production_method: str
    tests: dict[str, Decimal] = Field(default_factory=dict)
    test_entry_ids: list[int] = Field(default_factory=list)


class ManualEntryUsed(_Model):
    """A manual entry a figure of the report rests on."""

    id: int
    kind: str
    target: str
    contract_day: dt.date
    value: Decimal
    unit: str
    entered_by: str
    entered_at: dt.datetime
    reason: str


class Anomaly(_Model):
    """An anomaly detected during the contract day (from the analytics tables)."""

    at: dt.datetime
    target: str
    severity: str
    kind: str
    message: str


class VersionInfo(_Model):
    """Which version of the report this is."""

    number: int = Field(ge=1)
    amends_version: int | None = None
    amends_sha256: str | None = None
    reason: str | None = None
    generated_at: dt.datetime
    generated_by: str


class ReportInputs(_Model):
    """Everything a report is built from (loaded from the database, or a golden case)."""

    operator: OperatorInfo
    field: FieldInfo
    contract_day: dt.date
    day_start: dt.datetime
    day_end: dt.datetime
    pmos: list[StoredDay]
    wells: list[WellInfo] = Field(default_factory=list)
    manual_entries: list[ManualEntryUsed] = Field(default_factory=list)
    anomalies: list[Anomaly] = Field(default_factory=list)
    version: VersionInfo
    software_version: str
    completeness_threshold_pct: Decimal = Decimal("95.0")


# --- The report -----------------------------------------------------------------------------
# Slotted dataclasses, built once by build_report and then only read. Not pydantic models: the
# report is computed by typed code from validated inputs, and validating it again cost a third
# of the build (plus garbage-collector work for three objects per model). Not frozen: a frozen
# dataclass's __init__ is 2.5 times slower (one object.__setattr__ call per field).


@dataclass(slots=True)
class ReportHeader:
    """Identity and version of the report."""

    id: str
    type: Literal["A", "B"]
    version: int
    amends_version: int | None
    amends_sha256: str | None
    amendment_reason: str | None
    generated_at: dt.datetime
    generated_by: str


@dataclass(slots=True)
class ContractDayInfo:
    """The contract day the report covers."""

    date: dt.date
    start: dt.datetime
    end: dt.datetime
    timezone: str
    start_hour: int


@dataclass(slots=True)
class ScoreTerms:
    """The terms of a quality score (see production/volumes.py)."""

    coverage_points: Decimal
    good_ratio_points: Decimal
    gap_points: Decimal
    rollover_penalty: Decimal
    reset_penalty: Decimal


@dataclass(slots=True)
class PmoQuality:
    """Data quality of a PMO's volume for the day."""

    samples_expected: int
    samples_received: int
    samples_good: int
    longest_gap_s: int | None
    completeness_pct: Decimal | None
    sample_completeness_pct: Decimal | None
    quality_score: Decimal | None
    score_terms: ScoreTerms | None
    explanation: str | None
    rollovers: int
    resets: int


@dataclass(slots=True)
class PmoReport:
    """One PMO's figures in the report."""

    code: str
    name: str
    kind: Literal["oil", "gas", "water"]
    meter_type: str
    method: str
    oil_gross_bbl: Decimal | None
    oil_net_bbl: Decimal | None
    water_gross_bbl: Decimal | None
    water_net_bbl: Decimal | None
    gas_kpc: Decimal | None
    indicated_volume: Decimal | None
    volume_unit: str
    meter_factor: Decimal | None
    bsw_pct: Decimal | None
    api_gravity: Decimal | None
    ctl: Decimal | None
    cpl: Decimal | None
    ctpl: Decimal | None
    temperature_f: Decimal | None
    pressure_psig: Decimal | None
    sources: dict[str, str]
    quality: PmoQuality
    issues: list[dict[str, str]]
    manual_entry_ids: list[int]


@dataclass(slots=True)
class WellReport:
    """A well's allocated figures."""

    code: str
    name: str
    pmo: str
    production_method: str
    oil_net_bbl: Decimal | None
    water_bbl: Decimal | None
    gas_kpc: Decimal | None
    allocation: str


@dataclass(slots=True)
class Totals:
    """Sums over the PMOs."""

    oil_gross_bbl: Decimal
    oil_net_bbl: Decimal
    water_gross_bbl: Decimal
    water_net_bbl: Decimal
    gas_kpc: Decimal


@dataclass(slots=True)
class QualitySummary:
    """The day's data quality over all PMOs."""

    pmos: int
    pmos_from_telemetry: int
    pmos_manual: list[str]
    samples_expected: int
    samples_received: int
    samples_good: int
    min_completeness_pct: Decimal | None
    mean_quality_score: Decimal | None
    lowest_quality_pmo: str | None
    completeness_threshold_pct: Decimal
    pmos_below_threshold: list[str]


@dataclass(slots=True)
class IdpReport:
    """The internal model of one daily production report."""

    schema_version: str
    report: ReportHeader
    operator: OperatorInfo
    field: FieldInfo
    contract_day: ContractDayInfo
    pmos: list[PmoReport]
    wells: list[WellReport]
    totals: Totals
    data_quality: QualitySummary
    anomalies: list[Anomaly]
    manual_entries: list[ManualEntryUsed]
    software: dict[str, str]


def report_id(field_code: str, day: dt.date) -> str:
    """The report's stable id: ``IDP-<field>-<YYYYMMDD>``."""
    return f"IDP-{field_code}-{day:%Y%m%d}"


def build_report(inputs: ReportInputs) -> IdpReport:
    """The report model of ``inputs`` (pure; see the module docstring for the derivations)."""
    pmos = [_pmo(p) for p in inputs.pmos]
    wells = _allocate(inputs.wells, pmos)
    used_ids = {i for p in inputs.pmos for i in p.figures.manual_entry_ids}
    used_ids |= {i for w in inputs.wells for i in w.test_entry_ids if w.pmo is not None}
    if wells:
        allocated = {w.pmo for w in wells}
        used_ids -= {i for w in inputs.wells if w.pmo not in allocated for i in w.test_entry_ids}
    else:
        used_ids -= {i for w in inputs.wells for i in w.test_entry_ids}
    v = inputs.version
    return IdpReport(
        schema_version=SCHEMA_VERSION,
        report=ReportHeader(
            id=report_id(inputs.field.code, inputs.contract_day),
            type=inputs.field.report_type,
            version=v.number,
            amends_version=v.amends_version,
            amends_sha256=v.amends_sha256,
            amendment_reason=v.reason,
            generated_at=v.generated_at,
            generated_by=v.generated_by,
        ),
        operator=inputs.operator,
        field=inputs.field,
        contract_day=ContractDayInfo(
            date=inputs.contract_day,
            start=inputs.day_start,
            end=inputs.day_end,
            timezone=inputs.field.timezone,
            start_hour=inputs.field.start_hour,
        ),
        pmos=pmos,
        wells=wells,
        totals=_totals(pmos),
        data_quality=_summary(inputs.pmos, pmos, inputs.completeness_threshold_pct),
        anomalies=sorted(inputs.anomalies, key=lambda a: (a.at, a.target, a.kind)),
        manual_entries=sorted(
            (m for m in inputs.manual_entries if m.id in used_ids), key=lambda m: m.id
        ),
        software={"name": "anh-reporter", "version": inputs.software_version},
    )


def _pmo(day: StoredDay) -> PmoReport:
    """A PMO's report figures."""
    p = day.figures
    gov, gsv, nsv = p.gross_observed_volume, p.gross_standard_volume, p.net_standard_volume
    oil_gross = oil_net = water_gross = water_net = gas = None
    if p.fluid == "oil":
        oil_gross, oil_net = q(gsv, "volume"), q(nsv, "volume")
        if gsv is not None and nsv is not None:
            water_gross = water_net = _q(gsv - nsv, "volume")
    elif p.fluid == "water":
        water_gross, water_net = q(gov, "volume"), q(gsv, "volume")
    else:
        gas = q(gsv, "volume")
    terms = p.quality_components.get("score")
    return PmoReport(
        code=day.pmo.code,
        name=day.pmo.name,
        kind=p.fluid,
        meter_type=day.pmo.meter_type,
        method=p.method,
        oil_gross_bbl=oil_gross,
        oil_net_bbl=oil_net,
        water_gross_bbl=water_gross,
        water_net_bbl=water_net,
        gas_kpc=gas,
        indicated_volume=q(p.indicated_volume, "volume"),
        volume_unit=p.unit,
        meter_factor=q(p.meter_factor, "meter_factor"),
        bsw_pct=q(p.bsw_percent, "bsw"),
        api_gravity=q(p.api_gravity, "api"),
        ctl=q(p.ctl, "factor"),
        cpl=q(p.cpl, "factor"),
        ctpl=q(p.ctpl, "factor"),
        temperature_f=q(p.temperature_f, "temperature"),
        pressure_psig=q(p.pressure_psig, "pressure"),
        sources=dict(p.sources),
        quality=PmoQuality(
            samples_expected=p.samples_expected,
            samples_received=p.samples_received,
            samples_good=p.samples_good,
            longest_gap_s=None if p.longest_gap_s is None else int(_q(p.longest_gap_s, "seconds")),
            completeness_pct=q(p.time_completeness_pct, "pct"),
            sample_completeness_pct=q(p.sample_completeness_pct, "pct"),
            quality_score=q(p.quality_score, "points"),
            score_terms=None
            if not isinstance(terms, dict)
            else ScoreTerms(
                coverage_points=_q(terms["coverage_points"], "points"),
                good_ratio_points=_q(terms["good_ratio_points"], "points"),
                gap_points=_q(terms["gap_points"], "points"),
                rollover_penalty=_q(terms["rollover_penalty"], "points"),
                reset_penalty=_q(terms["reset_penalty"], "points"),
            ),
            explanation=p.quality_explanation,
            rollovers=p.rollovers,
            resets=p.resets,
        ),
        issues=[{"code": i.code, "message": i.message} for i in p.issues],
        manual_entry_ids=sorted(p.manual_entry_ids),
    )


def _sum(values: Sequence[Decimal | None]) -> Decimal:
    return _q(sum((v for v in values if v is not None), Decimal(0)), "volume")


def _totals(pmos: Sequence[PmoReport]) -> Totals:
    return Totals(
        oil_gross_bbl=_sum([p.oil_gross_bbl for p in pmos]),
        oil_net_bbl=_sum([p.oil_net_bbl for p in pmos]),
        water_gross_bbl=_sum([p.water_gross_bbl for p in pmos]),
        water_net_bbl=_sum([p.water_net_bbl for p in pmos]),
        gas_kpc=_sum([p.gas_kpc for p in pmos]),
    )


def _summary(
    days: Sequence[StoredDay], pmos: Sequence[PmoReport], threshold: Decimal
) -> QualitySummary:
    telemetry = [p for p in pmos if p.quality.completeness_pct is not None]
    scored = [p for p in pmos if p.quality.quality_score is not None]
    completeness = [p.quality.completeness_pct for p in telemetry]
    lowest = min(scored, key=lambda p: (p.quality.quality_score, p.code), default=None)
    mean = None
    if scored:
        total = sum((p.quality.quality_score or Decimal(0) for p in scored), Decimal(0))
        mean = q(total / len(scored), "points")
    return QualitySummary(
        pmos=len(pmos),
        pmos_from_telemetry=len(telemetry),
        pmos_manual=sorted(p.code for p in pmos if p.method in ("manual", "tank_gauging")),
        samples_expected=sum(d.figures.samples_expected for d in days),
        samples_received=sum(d.figures.samples_received for d in days),
        samples_good=sum(d.figures.samples_good for d in days),
        min_completeness_pct=min((c for c in completeness if c is not None), default=None),
        mean_quality_score=mean,
        lowest_quality_pmo=lowest.code if lowest else None,
        completeness_threshold_pct=_q(threshold, "pct"),
        pmos_below_threshold=sorted(
            p.code
            for p in telemetry
            if p.quality.completeness_pct is not None and p.quality.completeness_pct < threshold
        ),
    )


_TEST_FOR = {"oil": "well_test_oil", "water": "well_test_water", "gas": "well_test_gas"}


def _allocate(wells: Sequence[WellInfo], pmos: Sequence[PmoReport]) -> list[WellReport]:
    """Allocate each PMO's volumes to its wells by well test (largest remainder, 0.01)."""
    by_pmo: dict[str, list[WellInfo]] = {}
    for w in wells:
        if w.pmo is not None:
            by_pmo.setdefault(w.pmo, []).append(w)
    out: list[WellReport] = []
    for pmo in pmos:
        group = sorted(by_pmo.get(pmo.code, []), key=lambda w: w.code)
        if not group:
            continue
        parts: dict[str, dict[str, Decimal | None]] = {w.code: {} for w in group}
        complete = True
        for figure, volume, test in _volumes_to_allocate(pmo):
            rates = [w.tests.get(test) for w in group]
            if volume is None:
                continue
            if any(r is None for r in rates) or sum(r for r in rates if r) <= 0:
                complete = False
                break
            shares = largest_remainder(volume, [r for r in rates if r is not None])
            for w, share in zip(group, shares, strict=True):
                parts[w.code][figure] = share
        if not complete:
            continue
        for w in group:
            got = parts[w.code]
            out.append(
                WellReport(
                    code=w.code,
                    name=w.name,
                    pmo=pmo.code,
                    production_method=w.production_method,
                    oil_net_bbl=got.get("oil"),
                    water_bbl=got.get("water"),
                    gas_kpc=got.get("gas"),
                    allocation="well test",
                )
            )
    return out


def _volumes_to_allocate(pmo: PmoReport) -> list[tuple[str, Decimal | None, str]]:
    if pmo.kind == "oil":
        return [
            ("oil", pmo.oil_net_bbl, _TEST_FOR["oil"]),
            ("water", pmo.water_net_bbl, _TEST_FOR["water"]),
        ]
    if pmo.kind == "water":
        return [("water", pmo.water_net_bbl, _TEST_FOR["water"])]
    return [("gas", pmo.gas_kpc, _TEST_FOR["gas"])]


def largest_remainder(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split ``total`` (0.01 steps) in proportion to ``weights`` so the parts add up exactly.

    Each part is first rounded down to 0.01; the cents left over go one each to the parts with
    the largest remainders (ties to the earlier part).
    """
    unit = QUANTA["volume"]
    whole = sum(weights, Decimal(0))
    exact = [total * w / whole for w in weights]
    floors = [e.quantize(unit, rounding=ROUND_FLOOR) for e in exact]
    left = int(((total - sum(floors, Decimal(0))) / unit).to_integral_value())
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += unit
    return floors
