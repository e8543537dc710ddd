"""Pre-submission rules: each finding has a code, a severity and a message naming the figure.

Errors block signing; warnings are shown (and kept with the version); info is informative.
Each rule catches a fault that happens in a real field; checks that the system's own
construction makes true (totals add up, NSV ≤ GSV, no negative volume, wells add up to their
PMO, BSW below 100 %) are invariants in :mod:`~anh_reporter.reports.invariants`: a report that
breaks one is a bug and is stopped, not signed with a finding.

=========  ========  ===========================================================================
code       severity  rule
=========  ========  ===========================================================================
IDP001     error     the contract day is over (its end is not after the time of generation)
IDP003     error     API gravity within the crude-oil range of API MPMS 11.1-2004
IDP006     warning   flow-time coverage of the volume series >= the threshold (default 95 %)
IDP009     error     every PMO has a volume (telemetry or a manual entry)
IDP010     error     oil PMOs have CTL/CPL (temperature and API gravity known)
IDP011     warning   quality score >= the warning level (default 60)
IDP013     warning   pressure missing: CPL taken as 1
IDP014     error     temperature and pressure within the API MPMS 11.1 range
IDP015     info      a figure rests on a manual entry
IDP016     warning   an anomaly of high or critical severity during the day
IDP018     warning   the figures changed after the last signed version (amend the report)
IDP019     warning   day-over-day: the volume differs from the mean of the last signed days by
                     more than the band (default 25 %)
IDP020     error     the volume exceeds what the meter can pass in the day (maximum rate × hours)
IDP021     warning   the meter factor changed by more than the limit (default 0.25 %) at proving
IDP022     warning   proving overdue (older than the PMO's interval) or none on record
IDP023     warning   sales (LACT) BSW above the sales specification (default 0.5 %)
IDP024     warning   a temperature, pressure, API or BSW series covers less of the day than the
                     threshold (default 95 %)
IDP025     warning   a fallback series gave the custody temperature or pressure
IDP026     error     a meter reset not confirmed by a person (confirm it or enter the volume)
IDP027     warning   negative flow rates clipped to zero (an offset or reverse flow); info when
                     only low-flow samples were zeroed
IDP028     error     the estimated share exceeds the limit (default 5 %) without an approval;
                     info once approved
IDP029     error     part of the day has no data and no basis for an estimate (volume missing)
IDP030     warning   water reported at observed temperature (no temperature to correct it with)
IDP031     info      gas converted from the flow computer's base to the reporting base
IDP032     warning   the well allocation failed or left out volume or a well: a producing well
                     without a test (not allocated, carried by the others), volume no well can
                     take, a production PMO without volume (``allocation_error_severity``: error
                     blocks signing; the PMO figures the report is for are right either way)
IDP033     warning   allocation factor (measured / Σ theoretical) outside its band (0.85–1.15)
IDP034     warning   a balance (oil, gas, water) does not close within its tolerance
                     (configurable: ``balance_severity``)
IDP035     warning   the wells' virtual meters (pump speed, calibrated on their tests) add up to
                     more than the band (default ±10 %) off the PMO's measured volume: meter
                     drift, a misrouted well or unreported flow (``virtual_meter_severity``)
=========  ========  ===========================================================================
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from anh_reporter.domain.mpms import PRESSURE_RANGE_PSIG, TEMPERATURE_RANGE_F
from anh_reporter.production.manual import API_RANGE
from anh_reporter.reports.model import IdpReport, PmoReport


class Severity(StrEnum):
    """How much a finding matters: errors block signing."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """One rule's verdict on one figure."""

    code: str
    severity: Severity
    message: str
    target: str = ""
    """The PMO or well code, or empty for the whole report."""

    def as_dict(self) -> dict[str, str]:
        """For storage (``report_versions.findings``) and display."""
        return {
            "code": self.code,
            "severity": str(self.severity),
            "target": self.target,
            "message": self.message,
        }


@dataclass(frozen=True)
class RuleSettings:
    """Thresholds of the rules."""

    completeness_warning_pct: Decimal = Decimal("95")
    """Flow-time coverage below this warns (IDP006)."""
    property_coverage_pct: Decimal = Decimal("95")
    quality_warning: Decimal = Decimal("60")
    api_range: tuple[float, float] = API_RANGE
    estimate_approval_pct: Decimal = Decimal("5")
    """An estimated share above this needs a person's approval (IDP028)."""
    plausibility_band_pct: Decimal = Decimal("25")
    plausibility_min_days: int = 3
    meter_factor_change_pct: Decimal = Decimal("0.25")
    allocation_error_severity: Severity = Severity.WARNING
    """IDP032: an allocation error (an untested producing well, volume left unallocated) warns
    by default; ``error`` blocks signing until it is resolved."""
    balance_severity: Severity = Severity.WARNING
    """IDP034: a balance that does not close warns by default; ``error`` blocks signing."""
    virtual_meter_severity: Severity = Severity.WARNING
    """IDP035: Σ virtual meters off the measured volume warns by default; ``error`` blocks."""


DEFAULT_RULES = RuleSettings()

Rule = Callable[[IdpReport, RuleSettings, dt.datetime], Iterable[Finding]]
E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

_ZERO, _HUNDRED = Decimal(0), Decimal(100)
_T_LOW, _T_HIGH = TEMPERATURE_RANGE_F
_P_LOW, _P_HIGH = PRESSURE_RANGE_PSIG
_T_RANGE = (Decimal(_T_LOW), Decimal(_T_HIGH))
_P_RANGE = (Decimal(_P_LOW - 14.696), Decimal(_P_HIGH))  # gauge pressure down to a vacuum


def reported_volume(p: PmoReport) -> Decimal | None:
    """The volume a PMO reports: NSV (oil), water at 60 °F, gas at the reporting base."""
    if p.kind == "oil":
        return p.oil_net_bbl
    if p.kind == "water":
        return p.water_net_bbl
    return p.gas_kpc


def _day_over(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    if now < r.contract_day.end:
        yield Finding(
            "IDP001",
            E,
            f"contract day {r.contract_day.date} is not over: it ends at "
            f"{r.contract_day.end.isoformat()}, now is {now.astimezone(dt.UTC).isoformat()}",
        )


def _api(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    low, high = s.api_range
    exact_low, exact_high = Decimal(low), Decimal(high)
    for p in r.pmos:
        if p.api_gravity is not None and not exact_low <= p.api_gravity <= exact_high:
            yield Finding(
                "IDP003",
                E,
                f"API gravity {p.api_gravity} °API is outside [{low}, {high}] °API",
                p.code,
            )


def _coverage(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    for p in r.pmos:
        c = p.quality.flow_time_coverage_pct
        if c is None or p.method in ("manual", "tank_gauging"):
            continue
        if c < s.completeness_warning_pct:
            yield Finding(
                "IDP006",
                W,
                f"the volume series covered {c} % of the day (below {s.completeness_warning_pct}"
                f" %; longest gap {p.quality.longest_gap_s} s)",
                p.code,
            )


def _has_volume(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    for p in r.pmos:
        if p.method == "none" or (reported_volume(p) is None and p.gross_observed_volume is None):
            yield Finding(
                "IDP009", E, "no volume for the day (no telemetry, no manual entry)", p.code
            )


def _corrections(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    for p in r.pmos:
        if (
            p.kind == "oil"
            and p.level in (None, "indicated", "gov")
            and p.method != "none"
            and p.ctl is None
        ):
            yield Finding(
                "IDP010",
                E,
                f"no CTL/CPL: temperature {_shown(p.temperature_f, '°F')}, API gravity "
                f"{_shown(p.api_gravity, '°API')} (both are needed; enter the lab value by hand "
                "if the meter has none)",
                p.code,
            )


def _shown(value: Decimal | None, unit: str) -> str:
    return "missing" if value is None else f"{value} {unit}"


def _quality(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    for p in r.pmos:
        score = p.quality.quality_score
        if score is not None and score < s.quality_warning:
            yield Finding(
                "IDP011",
                W,
                f"quality score {score} is below {s.quality_warning}: {p.quality.explanation}",
                p.code,
            )


def _issues(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    codes = {"pressure_missing": ("IDP013", W), "water_not_corrected": ("IDP030", W)}
    for p in r.pmos:
        for issue in p.issues:
            found = codes.get(issue.get("code", ""))
            if found is not None:
                yield Finding(found[0], found[1], issue.get("message", ""), p.code)


def _ranges(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    (t_low, t_high), (p_low, p_high) = _T_RANGE, _P_RANGE
    for p in r.pmos:
        t, pr = p.temperature_f, p.pressure_psig
        if t is not None and not t_low <= t <= t_high:
            yield Finding(
                "IDP014", E, f"temperature {t} °F is outside [{_T_LOW}, {_T_HIGH}] °F", p.code
            )
        if p.kind == "oil" and pr is not None and not p_low <= pr <= p_high:
            yield Finding(
                "IDP014", E, f"pressure {pr} psig is outside [{_P_LOW}, {_P_HIGH}] psig", p.code
            )


def _manual(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    for p in r.pmos:
        if p.manual_entry_ids:
            ids = ", ".join(f"#{i}" for i in p.manual_entry_ids)
            yield Finding("IDP015", INFO, f"uses manual entries {ids}", p.code)


def _anomalies(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    for a in r.anomalies:
        if a.severity.lower() in ("high", "critical"):
            yield Finding("IDP016", W, f"{a.severity} anomaly {a.kind}: {a.message}", a.target)


def _plausibility(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    for p in r.pmos:
        volume = reported_volume(p)
        history = p.context.history if p.context else []
        if volume is None or len(history) < s.plausibility_min_days:
            continue
        mean = sum(history, Decimal(0)) / len(history)
        if mean <= 0:
            continue
        change = (volume - mean) / mean * 100
        if abs(change) > s.plausibility_band_pct:
            yield Finding(
                "IDP019",
                W,
                f"volume {volume} {p.volume_unit} is {change:+.1f} % from the mean of the last "
                f"{len(history)} signed days ({mean:.2f}); band ±{s.plausibility_band_pct} %",
                p.code,
            )


def _ceiling(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    for p in r.pmos:
        limit = p.context.max_daily_volume if p.context else None
        volume = p.indicated_volume if p.indicated_volume is not None else p.gross_observed_volume
        if limit is not None and volume is not None and volume > limit:
            yield Finding(
                "IDP020",
                E,
                f"volume {volume} {p.volume_unit} exceeds what the meter can pass in the day "
                f"({limit} {p.volume_unit}: its maximum rate × the day's hours): a counter jump "
                "or a wrong scale",
                p.code,
            )


def _proving(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    for p in r.pmos:
        if p.context is None or p.method in ("manual", "tank_gauging", "none"):
            continue
        proving, interval = p.context.proving, p.context.proving_interval_days
        if proving is None:
            yield Finding(
                "IDP022", W, "no proving on record for the meter: record it (proving add)", p.code
            )
            continue
        age = (r.contract_day.start - proving.proved_at).total_seconds() / 86_400
        if age > interval:
            yield Finding(
                "IDP022",
                W,
                f"proving overdue: the last ({proving.run_reference}, "
                f"{proving.proved_at:%Y-%m-%d}) is {age:.0f} days old; interval {interval} days",
                p.code,
            )
        previous = proving.previous_factor
        starts_today = r.contract_day.start <= proving.effective_from < r.contract_day.end
        if previous and starts_today:
            change = (proving.meter_factor / previous - 1) * 100
            if abs(change) > s.meter_factor_change_pct:
                yield Finding(
                    "IDP021",
                    W,
                    f"meter factor changed {change:+.4f} % at proving {proving.run_reference} "
                    f"({previous} → {proving.meter_factor}); limit ±{s.meter_factor_change_pct} %",
                    p.code,
                )


def _sales_bsw(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    for p in r.pmos:
        if p.kind != "oil" or p.context is None or p.context.role != "sales":
            continue
        spec = p.context.sales_bsw_spec_pct
        if p.bsw_pct is not None and p.bsw_pct > spec:
            yield Finding(
                "IDP023",
                W,
                f"BSW {p.bsw_pct} % at the sales point is above the sales specification {spec} %",
                p.code,
            )


_PROPERTIES = {
    "oil": ("temperature", "pressure", "api_gravity", "bsw"),
    "water": ("temperature",),
    "gas": (),
}


def _property_coverage(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    for p in r.pmos:
        if p.level not in (None, "indicated", "gov"):
            continue
        for name in _PROPERTIES[p.kind]:
            if p.sources.get(name, "none").startswith("manual"):
                continue
            covered = p.quality.property_coverage_pct.get(name)
            if covered is not None and covered < s.property_coverage_pct:
                yield Finding(
                    "IDP024",
                    W,
                    f"the {name} series covered {covered} % of the day (below "
                    f"{s.property_coverage_pct} %): its average rests on part of the day",
                    p.code,
                )


def _fallbacks(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    for p in r.pmos:
        for name in p.fallbacks:
            yield Finding(
                "IDP025",
                W,
                f"custody {name} from a fallback series: {p.sources.get(name, '')}",
                p.code,
            )


def _resets(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    for p in r.pmos:
        for e in p.events:
            if e.kind == "reset" and e.needs_confirmation:
                yield Finding(
                    "IDP026",
                    E,
                    f"meter reset at {e.after.isoformat()} ({e.before_value:,.2f} → "
                    f"{e.after_value:,.2f}) is not confirmed; {e.volume} {p.volume_unit} lost "
                    "around it was estimated: confirm the reset (production confirm-reset) or "
                    "enter the volume by hand",
                    p.code,
                )


def _clipped(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    for p in r.pmos:
        q = p.quality
        if q.negative_clipped:
            yield Finding(
                "IDP027",
                W,
                f"{q.negative_clipped} negative rate sample(s) taken as 0 (an offset or reverse "
                f"flow at the meter); {q.low_flow_zeroed} below the low-flow cutoff",
                p.code,
            )
        elif q.low_flow_zeroed:
            yield Finding(
                "IDP027",
                INFO,
                f"{q.low_flow_zeroed} rate sample(s) below the low-flow cutoff taken as 0",
                p.code,
            )


def _estimates(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    for p in r.pmos:
        share = p.estimated_share_pct
        if share is None or not p.estimates or p.method in ("manual", "tank_gauging"):
            continue
        methods = ", ".join(sorted({e.method for e in p.estimates}))
        approved = [a for a in p.approvals if a.kind == "estimate_approval"]
        text = f"{p.estimated_volume} {p.volume_unit} ({share} % of the day) estimated ({methods})"
        if share <= s.estimate_approval_pct:
            yield Finding("IDP028", INFO, text, p.code)
        elif approved:
            a = approved[-1]
            yield Finding("IDP028", INFO, f"{text}; approved by {a.decided_by}: {a.reason}", p.code)
        else:
            yield Finding(
                "IDP028",
                E,
                f"{text}: above {s.estimate_approval_pct} %, it needs a person's approval "
                "(production approve-estimate) or a manual volume",
                p.code,
            )


def _missing(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    for p in r.pmos:
        if p.missing_s > 0:
            yield Finding(
                "IDP029",
                E,
                f"{p.missing_s} s of the day have no data and no basis for an estimate: the "
                "volume of those hours is missing; enter it by hand (manual add --from --to)",
                p.code,
            )


def _gas_base(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    for p in r.pmos:
        if p.gas_base is not None and p.gas_base.conversion:
            yield Finding("IDP031", INFO, p.gas_base.conversion, p.code)


def _allocation_findings(r: IdpReport, codes: set[str] | None = None) -> list[dict[str, str]]:
    """The day's allocation findings (those with ``codes``; None: every one)."""
    if r.allocation is None:
        return []
    return [f for f in r.allocation.findings if codes is None or f.get("code") in codes]


def _allocation_errors(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    for f in _allocation_findings(r):
        if f.get("severity") == "error":
            message = f"well allocation: {f['code']}: {f['message']}"
            yield Finding("IDP032", s.allocation_error_severity, message, f.get("target", ""))


def _allocation_factor(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    for f in _allocation_findings(r, {"allocation_factor_out_of_band"}):
        yield Finding("IDP033", W, f["message"], f.get("target", ""))


def _balances(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    for f in _allocation_findings(r, {"balance_not_closed"}):
        yield Finding("IDP034", s.balance_severity, f["message"], f.get("target", ""))


def _virtual_meter(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    for f in _allocation_findings(r, {"virtual_meter_diverges"}):
        yield Finding("IDP035", s.virtual_meter_severity, f["message"], f.get("target", ""))


RULES: tuple[Rule, ...] = (
    _day_over,
    _api,
    _coverage,
    _has_volume,
    _corrections,
    _quality,
    _issues,
    _ranges,
    _manual,
    _anomalies,
    _plausibility,
    _ceiling,
    _proving,
    _sales_bsw,
    _property_coverage,
    _fallbacks,
    _resets,
    _clipped,
    _estimates,
    _missing,
    _gas_base,
    _allocation_errors,
    _allocation_factor,
    _balances,
    _virtual_meter,
)
"""Every rule, in the order findings are listed."""


def check(
    report: IdpReport, *, now: dt.datetime, settings: RuleSettings = DEFAULT_RULES
) -> list[Finding]:
    """Run every rule; errors first, then warnings, then info (stable within a severity)."""
    findings = [f for rule in RULES for f in rule(report, settings, now)]
    order = {E: 0, W: 1, INFO: 2}
    return sorted(findings, key=lambda f: order[f.severity])


def errors(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that block signing."""
    return [f for f in findings if f.severity is Severity.ERROR]


def amendment_pending(target: str) -> Finding:
    """IDP018: the day's figures changed after its last signed version."""
    return Finding(
        "IDP018",
        W,
        "figures changed after the last signed version: run `report amend --reason-code ... "
        "--reason ...`",
        target,
    )
