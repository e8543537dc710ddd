"""The internal report model: what one daily production report (IDP) says, before any profile.

:class:`ReportInputs` is everything a report is made from (the stored daily figures, the manual
entries, the anomalies, the version being made); :func:`build_report` turns it into an
:class:`IdpReport` (pure: the golden cases run it from ``input.json``). A profile
(:mod:`~anh_reporter.reports.profiles`) then maps the model to the document a receiver wants.

The model is built by :mod:`~anh_reporter.reports.build`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from anh_reporter.production.store import StoredDay

SCHEMA_VERSION = "1.1"

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
    "ccf": Decimal("0.0001"),
    "hours": Decimal("0.01"),
    "gor": Decimal("0.1"),
    "wor": Decimal("0.001"),
}
"""Reporting increment of each kind of figure (values are rounded half up to it).

Every figure of the model is a Decimal at its kind's increment whatever its source (telemetry,
a value typed by hand, a zero default): ``24`` hours typed at the CLI are ``24.00`` h, a zero
balance term ``0.00`` bbl. Hours on and down are to 0.01 h, GOR to 0.1 scf/bbl and WOR to
0.001 (``allocation/ratios.py``), allocation factors to 0.00001, balance and allocation volumes
(and a balance's tolerance) to 0.01."""


ENTRY_QUANTA: dict[str, str] = {
    "well_hours_on": "hours",
    "oil_consumption": "volume",
    "oil_losses": "volume",
}
"""The manual entry kinds a report shows as typed, by kind of figure: their value is refused
with more decimals than the increment (``production.manual.REPORTED_INCREMENT``), so the
report lists it at the increment (``24`` h typed is ``24.00``) without rounding. Other kinds
(lab values, test rates, volumes at a level) are listed as typed: the report's figures made
from them carry the increment."""


def q(value: Decimal | float | int | None, kind: str) -> Decimal | None:
    """``value`` rounded half up to the increment of ``kind``; ``None`` stays ``None``."""
    if value is None:
        return None
    return _q(value, kind)


_FLOATS: dict[tuple[float, str], Decimal] = {}
"""Floats already rounded, by (value, kind): quality figures repeat (100.0, 20.0, 0.0...)."""
_FLOATS_MAX = 8192


def _q(value: Decimal | float | int, kind: str) -> Decimal:
    if type(value) is Decimal:
        return value.quantize(QUANTA[kind], ROUND_HALF_UP)
    if isinstance(value, float):
        key = (value + 0.0, kind)  # -0.0 is reported as 0
        out = _FLOATS.get(key)
        if out is None:
            # A float is taken at its shortest decimal form (repr), as API MPMS 12.2 rounding
            # does.
            out = Decimal(repr(key[0])).quantize(QUANTA[kind], ROUND_HALF_UP)
            if len(_FLOATS) < _FLOATS_MAX:
                _FLOATS[key] = out
        return out
    return Decimal(value).quantize(QUANTA[kind], ROUND_HALF_UP)


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
    """A well: its PMO (legacy link), facility, municipality and method.

    ``tests`` and ``test_entry_ids`` are the legacy manual well-test entries (rate by kind) the
    well's allocation may rest on; the allocation itself is the well's :class:`WellDayInfo`.
    """

    code: str
    name: str
    pmo: str | None
    production_method: str
    tests: dict[str, Decimal] = Field(default_factory=dict)
    test_entry_ids: list[int] = Field(default_factory=list)
    facility: str | None = None
    municipality_dane: str | None = None
    avm_code: str | None = None
    """The ANH's code of the well when it differs from ``code`` (None: ``code``)."""


class WellDayInfo(_Model):
    """A well's stored allocated day (``well_days``, computed with the field's figures)."""

    code: str
    status: str
    hours_on: Decimal | None = None
    hours_source: str = "none"
    hours_entry_id: int | None = None
    """The ``well_hours_on`` manual entry the hours on were taken from (source ``manual``):
    not stored with the well day, found when the report's inputs are loaded."""
    test_id: int | None = None
    test_date: dt.date | None = None
    test_age_days: int | None = None
    test_state: str = "none"
    oil_bbl: Decimal | None = None
    gas_kscf: Decimal | None = None
    water_bbl: Decimal | None = None
    theoretical_oil_bbl: Decimal | None = None
    factors: dict[str, Decimal | None] = Field(default_factory=dict)
    pmos: dict[str, str] = Field(default_factory=dict)
    """The production PMO of each fluid the well is allocated at."""
    bsw_pct: Decimal | None = None
    gor_scf_bbl: Decimal | None = None
    wor: Decimal | None = None
    hours_down: Decimal = Decimal(0)
    deferred_oil_bbl: Decimal | None = None
    deferred_gas_kscf: Decimal | None = None
    deferred_water_bbl: Decimal | None = None
    deferred_causes: list[dict[str, Any]] = Field(default_factory=list)
    findings: list[dict[str, str]] = Field(default_factory=list)


class FacilityInfo(_Model):
    """A battery or station of the field."""

    code: str
    name: str
    kind: str


class AllocationInfo(_Model):
    """The field-day's allocation: per production PMO and fluid, totals by role, balances."""

    pmos: list[dict[str, Any]] = Field(default_factory=list)
    totals: dict[str, Any] = Field(default_factory=dict)
    findings: list[dict[str, str]] = Field(default_factory=list)


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
    level: str | None = None
    """For a volume: indicated, gov, gsv, nsv or tank."""
    window_start: dt.datetime | None = None
    window_end: dt.datetime | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    """A tank gauging's gauges and every 12.1.1 step."""


class ProvingInfo(_Model):
    """The proving whose meter factor the day uses."""

    proved_at: dt.datetime
    effective_from: dt.datetime
    meter_factor: Decimal
    previous_factor: Decimal | None = None
    run_reference: str
    proved_by: str


class ApprovalInfo(_Model):
    """A person's confirmation of a reset or approval of an estimate for a PMO's day."""

    pmo: str
    kind: Literal["reset_confirmation", "estimate_approval"]
    subject: dict[str, Any] = Field(default_factory=dict)
    reason: str
    decided_by: str
    decided_at: dt.datetime


class PmoContext(_Model):
    """What the rules need to know about a PMO beyond its figures."""

    role: str = "production"
    max_daily_volume: Decimal | None = None
    """The most the meter can pass in the contract day (its maximum rate × hours)."""
    sales_bsw_spec_pct: Decimal = Decimal("0.5")
    proving_interval_days: int = 31
    proving: ProvingInfo | None = None
    history: list[Decimal] = Field(default_factory=list)
    """The reported volume (NSV, or gas at base) of the last signed days, newest first."""


class FigureChange(_Model):
    """One reported figure an amendment changes."""

    target: str
    figure: str
    old: Any = None
    new: Any = None


class Anomaly(_Model):
    """An anomaly detected during the contract day (from the analytics tables)."""

    at: dt.datetime
    target: str
    severity: str
    kind: str
    message: str


class VersionInfo(_Model):
    """Which version of the report this is (and, for an amendment, why and who approved it)."""

    number: int = Field(ge=1)
    amends_version: int | None = None
    amends_sha256: str | None = None
    reason: str | None = None
    reason_code: str | None = None
    changes: list[FigureChange] = Field(default_factory=list)
    requested_by: str | None = None
    approved_by: str | None = None
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
    well_days: list[WellDayInfo] = Field(default_factory=list)
    facilities: list[FacilityInfo] = Field(default_factory=list)
    allocation: AllocationInfo | None = None
    manual_entries: list[ManualEntryUsed] = Field(default_factory=list)
    anomalies: list[Anomaly] = Field(default_factory=list)
    context: dict[str, PmoContext] = Field(default_factory=dict)
    """Per PMO code: role, meter limits, proving, last signed volumes (for the rules)."""
    approvals: list[ApprovalInfo] = Field(default_factory=list)
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
    amendment_reason_code: str | None = None
    amendment_changes: list[dict[str, Any]] = field(default_factory=list)
    requested_by: str | None = None
    approved_by: str | None = None


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
    """The share of the day's volume that was measured (the rest was estimated)."""
    sample_completeness_pct: Decimal | None
    quality_score: Decimal | None
    score_terms: ScoreTerms | None
    explanation: str | None
    rollovers: int
    resets: int
    flow_time_coverage_pct: Decimal | None = None
    unconfirmed_resets: int = 0
    backsteps: int = 0
    negative_clipped: int = 0
    low_flow_zeroed: int = 0
    property_coverage_pct: dict[str, Decimal] = field(default_factory=dict)


@dataclass(slots=True)
class EstimateReport:
    """An estimated part of a PMO's volume: window, method, volume, and how."""

    method: str
    start: dt.datetime
    end: dt.datetime
    volume: Decimal
    detail: str


@dataclass(slots=True)
class ReplacedReport:
    """A person's volume for a window and the telemetry figure it replaced (kept visible)."""

    start: dt.datetime
    end: dt.datetime
    manual_volume: Decimal
    telemetry_volume: Decimal | None
    reference: str


@dataclass(slots=True)
class EventReport:
    """A totalizer rollover or reset, and whether a person confirmed it."""

    kind: str
    before: dt.datetime
    after: dt.datetime
    before_value: float
    after_value: float
    volume: Decimal
    basis: str
    confirmed: bool
    replaced: bool
    needs_confirmation: bool


@dataclass(slots=True)
class UncertaintyReport:
    """The NSV's expanded uncertainty (k = 2) and its budget."""

    expanded: Decimal
    expanded_pct: Decimal
    coverage_factor: Decimal
    method: str
    budget: list[dict[str, Any]]


@dataclass(slots=True)
class GasBaseReport:
    """Base conditions of a gas figure, and how it was brought to them."""

    pressure_psia: Decimal
    temperature_f: Decimal
    conversion: str | None


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
    level: str | None = None
    ccf: Decimal | None = None
    csw: Decimal | None = None
    gross_observed_volume: Decimal | None = None
    gross_standard_volume: Decimal | None = None
    net_standard_volume: Decimal | None = None
    measured_volume: Decimal | None = None
    estimated_volume: Decimal | None = None
    estimated_share_pct: Decimal | None = None
    estimates: list[EstimateReport] = field(default_factory=list)
    replaced: list[ReplacedReport] = field(default_factory=list)
    missing_s: int = 0
    api_observed: Decimal | None = None
    fallbacks: list[str] = field(default_factory=list)
    water_correction: str | None = None
    gas_base: GasBaseReport | None = None
    events: list[EventReport] = field(default_factory=list)
    uncertainty: UncertaintyReport | None = None
    proving: ProvingInfo | None = None
    approvals: list[ApprovalInfo] = field(default_factory=list)
    context: PmoContext | None = None
    """Not reported: what the rules compare the figures with."""


@dataclass(slots=True)
class WellReport:
    """A well's allocated figures (the first eight are all profiles before idp-1.2 show)."""

    code: str
    name: str
    pmo: str
    """The well's oil PMO (else gas, else water): the one PMO profiles before 1.2 name."""
    production_method: str
    oil_net_bbl: Decimal | None
    water_bbl: Decimal | None
    gas_kpc: Decimal | None
    allocation: str
    pmos: dict[str, str] = field(default_factory=dict)
    facility: str | None = None
    municipality_dane: str | None = None
    status: str | None = None
    hours_on: Decimal | None = None
    hours_source: str | None = None
    test_date: dt.date | None = None
    test_age_days: int | None = None
    test_state: str | None = None
    bsw_pct: Decimal | None = None
    gor_scf_bbl: Decimal | None = None
    wor: Decimal | None = None
    factor_oil: Decimal | None = None
    factor_gas: Decimal | None = None
    factor_water: Decimal | None = None
    theoretical_oil_bbl: Decimal | None = None
    hours_down: Decimal | None = None
    deferred_oil_bbl: Decimal | None = None
    deferred_gas_kpc: Decimal | None = None
    deferred_water_bbl: Decimal | None = None
    deferred_causes: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, str]] = field(default_factory=list)
    avm_code: str = ""
    """The ANH's code of the well: the site file's ``avm_code``, else ``code`` (idp-1.3)."""


@dataclass(slots=True)
class BalanceReport:
    """One fluid's balance: produced against its dispositions."""

    fluid: str
    produced: Decimal
    terms: list[dict[str, Any]]
    residual: Decimal
    tolerance: Decimal
    closes: bool
    incomplete_terms: list[str] = field(default_factory=list, metadata={"since": "idp-1.4"})
    """Terms whose volume counts only part of what they stand for (a tank's stock unknown, an
    injection meter's day incomplete). Named by ``idp-1.4`` on; earlier profiles, which pass the
    balance on whole, leave it out (their documents keep their shape)."""


@dataclass(slots=True)
class AllocationReport:
    """The day's allocation: each production PMO and fluid, totals by role, findings."""

    pmos: list[dict[str, Any]]
    totals_by_role: list[dict[str, Any]]
    findings: list[dict[str, str]]


@dataclass(slots=True)
class Totals:
    """Sums over the PMOs."""

    oil_gross_bbl: Decimal
    oil_net_bbl: Decimal
    water_gross_bbl: Decimal
    water_net_bbl: Decimal
    gas_kpc: Decimal
    oil_gross_known_bbl: Decimal | None = field(default=None, metadata={"since": "idp-1.4"})
    """The gross oil when every production PMO gives it; None when one gives a net volume
    without its gross (a volume typed at NSV). ``idp-1.4`` on report it as ``oil_gross_bbl``;
    earlier profiles keep ``oil_gross_bbl`` (the known gross added up, 0.00 for none)."""
    water_gross_known_bbl: Decimal | None = field(default=None, metadata={"since": "idp-1.4"})
    """The same for the gross water (unknown too when an oil PMO's gross is: its S&W water is
    part of it)."""


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
    # dataclasses.field: IdpReport has a field named ``field``.
    facilities: list[FacilityInfo] = dataclasses.field(default_factory=list)
    balances: list[BalanceReport] = dataclasses.field(default_factory=list)
    allocation: AllocationReport | None = None


def report_id(field_code: str, day: dt.date) -> str:
    """The report's stable id: ``IDP-<field>-<YYYYMMDD>``."""
    return f"IDP-{field_code}-{day:%Y%m%d}"
