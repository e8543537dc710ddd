"""Building the report model from its inputs (pure: the golden cases run it from ``input.json``).

Derived figures, per PMO:

* oil PMO: ``oil_gross_bbl`` = GSV (oil with its sediment and water, at 60 °F), ``oil_net_bbl``
  = NSV, ``water_gross_bbl`` = ``water_net_bbl`` = GSV − NSV (the S&W volume);
* water PMO: ``water_gross_bbl`` = GOV (observed), ``water_net_bbl`` = GSV (at 60 °F, or the
  GOV with a warning when the day had no temperature to correct it with);
* gas PMO: ``gas_kpc`` = GSV (kscf at the field's reporting base conditions).

Each PMO also carries its measured and estimated parts (the estimates with their methods and
windows), the manual figures that replaced telemetry and the telemetry they replaced, the
totalizer events, the custody series used, the gas base conditions, the uncertainty budget, the
proving in force and the approvals given. Totals are the field's production: the sums over
the production PMOs (role ``production``, the default) of the figures that are present; a sales,
fuel, flare or disposal PMO downstream measures the same fluid again and is not added.
Per-well figures are the stored well days (allocated by well test × hours on when the day was
computed, :mod:`~anh_reporter.reports.wells`), with the day's balances and the
allocation of each production PMO. Every number is a :class:`~decimal.Decimal` at its
reporting increment (see ``QUANTA``).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from anh_reporter.domain.timeutil import from_us
from anh_reporter.production.oil_terms import stored_entry_ids
from anh_reporter.production.store import StoredDay
from anh_reporter.reports.model import (
    ENTRY_QUANTA,
    SCHEMA_VERSION,
    ApprovalInfo,
    ContractDayInfo,
    EstimateReport,
    EventReport,
    GasBaseReport,
    IdpReport,
    ManualEntryUsed,
    PmoContext,
    PmoQuality,
    PmoReport,
    ProvingInfo,
    QualitySummary,
    ReplacedReport,
    ReportHeader,
    ReportInputs,
    ScoreTerms,
    Totals,
    UncertaintyReport,
    _q,
    q,
    report_id,
)
from anh_reporter.reports.wells import allocation_report, balance_reports, well_reports


def build_report(inputs: ReportInputs) -> IdpReport:
    """The report model of ``inputs`` (pure; see the module docstring for the derivations)."""
    pmos = [
        _pmo(
            p, inputs.context.get(p.pmo.code), [a for a in inputs.approvals if a.pmo == p.pmo.code]
        )
        for p in inputs.pmos
    ]
    wells = well_reports(inputs)
    used_ids = {i for p in inputs.pmos for i in p.figures.manual_entry_ids}
    # The legacy manual well tests the allocated wells rest on.
    allocated = {w.code for w in wells if w.oil_net_bbl is not None or w.gas_kpc is not None}
    used_ids |= {i for w in inputs.wells if w.code in allocated for i in w.test_entry_ids}
    # The field's oil consumption and losses the oil balance counts.
    used_ids |= set(stored_entry_ids(inputs.allocation.totals if inputs.allocation else {}))
    # The hours on typed by hand each well's row reports (and its allocation rests on).
    used_ids |= {
        d.hours_entry_id
        for d in inputs.well_days
        if d.hours_source == "manual" and d.hours_entry_id is not None
    }
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
            amendment_reason_code=v.reason_code,
            amendment_changes=[c.model_dump() for c in v.changes],
            requested_by=v.requested_by,
            approved_by=v.approved_by,
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
            (_entry(m) for m in inputs.manual_entries if m.id in used_ids), key=lambda m: m.id
        ),
        software={"name": "anh-reporter", "version": inputs.software_version},
        facilities=list(inputs.facilities),
        balances=balance_reports(inputs.allocation),
        allocation=allocation_report(inputs.allocation),
    )


def _entry(m: ManualEntryUsed) -> ManualEntryUsed:
    """A manual entry as listed: a kind reported as typed at its increment (``ENTRY_QUANTA``)."""
    kind = ENTRY_QUANTA.get(m.kind)
    if kind is None:
        return m
    return m.model_copy(update={"value": _q(m.value, kind)})


def _pmo(day: StoredDay, context: PmoContext | None, approvals: list[ApprovalInfo]) -> PmoReport:
    """A PMO's report figures."""
    p = day.figures
    gov, gsv, nsv = p.gross_observed_volume, p.gross_standard_volume, p.net_standard_volume
    gov_q, gsv_q, nsv_q = q(gov, "volume"), q(gsv, "volume"), q(nsv, "volume")
    oil_gross = oil_net = water_gross = water_net = gas = None
    if p.fluid == "oil":
        oil_gross, oil_net = gsv_q, nsv_q
        if gsv is not None and nsv is not None:
            water_gross = water_net = _q(gsv - nsv, "volume")
    elif p.fluid == "water":
        water_gross = gov_q
        water_net = gsv_q if gsv is not None else gov_q
    else:
        gas = gsv_q
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
            completeness_pct=q(p.completeness_pct, "pct"),
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
            flow_time_coverage_pct=q(p.flow_time_coverage_pct, "pct"),
            unconfirmed_resets=p.unconfirmed_resets,
            backsteps=p.backsteps,
            negative_clipped=p.negative_clipped,
            low_flow_zeroed=p.low_flow_zeroed,
            property_coverage_pct={
                k: _q(v, "pct") for k, v in sorted(p.property_coverage_pct.items())
            },
        ),
        issues=[{"code": i.code, "message": i.message} for i in p.issues],
        manual_entry_ids=sorted(p.manual_entry_ids),
        level=p.level,
        ccf=q(p.ccf, "ccf"),
        csw=q(p.csw, "ccf"),
        gross_observed_volume=gov_q,
        gross_standard_volume=gsv_q,
        net_standard_volume=nsv_q,
        measured_volume=q(p.measured_volume, "volume"),
        estimated_volume=q(p.estimated_volume, "volume"),
        estimated_share_pct=q(p.estimated_share_pct, "pct"),
        estimates=[
            EstimateReport(
                e.method, from_us(e.start_us), from_us(e.end_us), _q(e.volume, "volume"), e.detail
            )
            for e in p.estimates
        ],
        replaced=[
            ReplacedReport(
                from_us(r.start_us),
                from_us(r.end_us),
                _q(r.manual_volume, "volume"),
                q(r.telemetry_volume, "volume"),
                r.reference,
            )
            for r in p.replaced
        ],
        missing_s=int(_q(p.missing_s, "seconds")),
        api_observed=q(p.api_observed, "api"),
        fallbacks=list(p.fallbacks),
        water_correction=p.water_method,
        gas_base=None
        if p.gas_base_pressure_psia is None or p.gas_base_temperature_f is None
        else GasBaseReport(p.gas_base_pressure_psia, p.gas_base_temperature_f, p.gas_conversion),
        events=[_event(e) for e in p.events],
        uncertainty=None
        if p.uncertainty is None
        else UncertaintyReport(
            expanded=_q(p.uncertainty.expanded, "volume"),
            expanded_pct=_q(p.uncertainty.expanded_pct, "fraction"),
            coverage_factor=_q(p.uncertainty.coverage_factor, "pct"),
            method=p.uncertainty.method,
            budget=[
                {
                    "quantity": line.quantity,
                    "value": None if line.value is None else _q(line.value, "fraction"),
                    "unit": line.unit,
                    "standard_uncertainty": _q(line.standard_uncertainty, "fraction"),
                    "contribution": _q(line.contribution, "volume"),
                    "share_pct": _q(line.share_pct, "pct"),
                }
                for line in p.uncertainty.lines
            ],
        ),
        proving=_proving(context.proving) if context else None,
        approvals=approvals,
        context=context,
    )


def _proving(proving: ProvingInfo | None) -> ProvingInfo | None:
    """The proving in force with its factors at the meter factor's increment (as typed, a
    ``1.0`` would be signed next to the PMO's ``1.0000``)."""
    if proving is None:
        return None
    return proving.model_copy(
        update={
            "meter_factor": _q(proving.meter_factor, "meter_factor"),
            "previous_factor": q(proving.previous_factor, "meter_factor"),
        }
    )


def _event(e: dict[str, Any]) -> EventReport:
    return EventReport(
        kind=str(e["kind"]),
        before=from_us(int(e["before_us"])),
        after=from_us(int(e["after_us"])),
        before_value=float(e["before_value"]),
        after_value=float(e["after_value"]),
        volume=_q(Decimal(str(e.get("volume", "0"))), "volume"),
        basis=str(e.get("basis", "")),
        confirmed=bool(e.get("confirmed", False)),
        replaced=bool(e.get("replaced", False)),
        needs_confirmation=bool(e.get("needs_confirmation", False)),
    )


def _sum(values: Sequence[Decimal | None]) -> Decimal:
    return _q(sum((v for v in values if v is not None), Decimal(0)), "volume")


def is_production(p: PmoReport) -> bool:
    """Whether a PMO's figures count in the field's totals (role ``production``)."""
    return p.context is None or p.context.role == "production"


def _totals(every: Sequence[PmoReport]) -> Totals:
    pmos = [p for p in every if is_production(p)]
    oil_gross = _sum([p.oil_gross_bbl for p in pmos])
    water_gross = _sum([p.water_gross_bbl for p in pmos])
    # A PMO with a net volume and no gross (typed at NSV) leaves the gross totals unknown: an
    # oil PMO's, the water too (its S&W water is part of the gross water).
    oil_unknown = any(p.oil_net_bbl is not None and p.oil_gross_bbl is None for p in pmos)
    water_unknown = oil_unknown or any(
        p.water_net_bbl is not None and p.water_gross_bbl is None for p in pmos
    )
    return Totals(
        oil_gross_bbl=oil_gross,
        oil_net_bbl=_sum([p.oil_net_bbl for p in pmos]),
        water_gross_bbl=water_gross,
        water_net_bbl=_sum([p.water_net_bbl for p in pmos]),
        gas_kpc=_sum([p.gas_kpc for p in pmos]),
        oil_gross_known_bbl=None if oil_unknown else oil_gross,
        water_gross_known_bbl=None if water_unknown else water_gross,
    )


def _summary(
    days: Sequence[StoredDay], pmos: Sequence[PmoReport], threshold: Decimal
) -> QualitySummary:
    manual = [p for p in pmos if p.method in ("manual", "tank_gauging")]
    telemetry = [p for p in pmos if p.quality.completeness_pct is not None and p not in manual]
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
        pmos_manual=sorted(p.code for p in manual),
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
