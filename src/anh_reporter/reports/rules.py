"""Pre-submission rules: each finding has a code, a severity and a message naming the figure.

Errors block signing; warnings are shown (and kept with the version); info is informative.

=========  ========  ===========================================================================
code       severity  rule
=========  ========  ===========================================================================
IDP001     error     the contract day is over (its end is not after the time of generation)
IDP002     error     BSW in [0, 100) %
IDP003     error     API gravity within the crude-oil range of API MPMS 11.1-2004
IDP004     error     NSV <= GSV (net oil <= gross oil)
IDP005     error     no negative volume
IDP006     warning   time completeness >= the threshold (default 95 %)
IDP007     error     time completeness >= the hard floor (default 50 %): below it, do not sign
IDP008     error     totals equal the sum of the PMOs (to 0.01)
IDP009     error     every PMO has a volume (telemetry or a manual entry)
IDP010     error     oil PMOs have CTL/CPL (temperature and API gravity known)
IDP011     warning   quality score >= the warning level (default 60)
IDP012     warning   meter reset during the day
IDP013     warning   pressure missing: CPL taken as 1
IDP014     error     temperature and pressure within the API MPMS 11.1 range
IDP015     info      a figure rests on a manual entry
IDP016     warning   an anomaly of high or critical severity during the day
IDP017     error     per-well allocation adds up to the PMO's volume
IDP018     warning   the figures changed after the last signed version (amend the report)
=========  ========  ===========================================================================
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from operator import attrgetter

from anh_reporter.domain.mpms import PRESSURE_RANGE_PSIG, TEMPERATURE_RANGE_F
from anh_reporter.production.manual import API_RANGE
from anh_reporter.reports.model import IdpReport


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
    completeness_floor_pct: Decimal = Decimal("50")
    quality_warning: Decimal = Decimal("60")
    api_range: tuple[float, float] = API_RANGE


DEFAULT_RULES = RuleSettings()

Rule = Callable[[IdpReport, RuleSettings, dt.datetime], Iterable[Finding]]
E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


def _day_over(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    if now < r.contract_day.end:
        yield Finding(
            "IDP001",
            E,
            f"contract day {r.contract_day.date} is not over: it ends at "
            f"{r.contract_day.end.isoformat()}, now is {now.astimezone(dt.UTC).isoformat()}",
        )


# Each rule walks the PMOs itself: one generator per rule, not one per rule and PMO.
# Limits given as floats are compared as their exact Decimal value (Decimal(float) is exact, so
# every answer is the same), which is ten times faster than comparing a Decimal with a float.

_ZERO, _HUNDRED = Decimal(0), Decimal(100)
_T_LOW, _T_HIGH = TEMPERATURE_RANGE_F
_P_LOW, _P_HIGH = PRESSURE_RANGE_PSIG
_T_RANGE = (Decimal(_T_LOW), Decimal(_T_HIGH))
_P_RANGE = (Decimal(_P_LOW - 14.696), Decimal(_P_HIGH))  # gauge pressure down to a vacuum


def _bsw(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    for p in r.pmos:
        if p.bsw_pct is not None and not _ZERO <= p.bsw_pct < _HUNDRED:
            yield Finding("IDP002", E, f"BSW {p.bsw_pct} % is outside [0, 100) %", p.code)


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


def _nsv_gsv(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    for p in r.pmos:
        net, gross = p.oil_net_bbl, p.oil_gross_bbl
        if net is not None and gross is not None and net > gross:
            yield Finding(
                "IDP004", E, f"net oil {net} bbl is greater than gross oil {gross} bbl", p.code
            )


_VOLUMES = ("oil_gross_bbl", "oil_net_bbl", "water_gross_bbl", "water_net_bbl", "gas_kpc")
_volumes = attrgetter(*_VOLUMES)
_NO_VOLUME = (None,) * len(_VOLUMES)
_NOT_NEGATIVE = (*_VOLUMES, "indicated_volume")


def _negative(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    for p in r.pmos:
        for name in _NOT_NEGATIVE:
            value = getattr(p, name)
            if value is not None and value < 0:
                yield Finding("IDP005", E, f"{name} {value} is negative (limit: >= 0)", p.code)


def _completeness(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    for p in r.pmos:
        c = p.quality.completeness_pct
        if c is None or p.method in ("manual", "tank_gauging"):
            continue
        if c < s.completeness_floor_pct:
            yield Finding(
                "IDP007",
                E,
                f"completeness {c} % is below the floor of {s.completeness_floor_pct} %: "
                "enter the volume by hand (manual add) or fix the data",
                p.code,
            )
        elif c < s.completeness_warning_pct:
            yield Finding(
                "IDP006",
                W,
                f"completeness {c} % is below {s.completeness_warning_pct} % "
                f"(longest gap {p.quality.longest_gap_s} s)",
                p.code,
            )


def _has_volume(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    for p in r.pmos:
        if p.method == "none" or _volumes(p) == _NO_VOLUME:
            yield Finding(
                "IDP009", E, "no volume for the day (no telemetry, no manual entry)", p.code
            )


def _corrections(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    for p in r.pmos:
        if p.kind == "oil" and p.method != "none" and p.ctpl is None:
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
    for p in r.pmos:
        for issue in p.issues:
            if issue.get("code") == "meter_reset":
                yield Finding("IDP012", W, issue.get("message", "meter reset"), p.code)
            elif issue.get("code") == "pressure_missing":
                yield Finding("IDP013", W, issue.get("message", "no pressure"), p.code)


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


def _totals(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    for name in _VOLUMES:
        total = sum((getattr(p, name) or Decimal(0) for p in r.pmos), Decimal(0))
        reported = getattr(r.totals, name)
        if total != reported:
            yield Finding(
                "IDP008", E, f"total {name} {reported} differs from the sum of PMOs {total}"
            )


def _anomalies(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    for a in r.anomalies:
        if a.severity.lower() in ("high", "critical"):
            yield Finding("IDP016", W, f"{a.severity} anomaly {a.kind}: {a.message}", a.target)


def _allocation(r: IdpReport, s: RuleSettings, now: dt.datetime) -> Iterable[Finding]:
    pmos = {p.code: p for p in r.pmos}
    pairs = (("oil_net_bbl", "oil_net_bbl"), ("water_bbl", "water_net_bbl"), ("gas_kpc", "gas_kpc"))
    for code in sorted({w.pmo for w in r.wells}):
        wells = [w for w in r.wells if w.pmo == code]
        for well_name, pmo_name in pairs:
            values = [getattr(w, well_name) for w in wells]
            if all(v is None for v in values):
                continue
            total = sum((v or Decimal(0) for v in values), Decimal(0))
            expected = getattr(pmos[code], pmo_name) if code in pmos else None
            if expected is None or total != expected:
                yield Finding(
                    "IDP017",
                    E,
                    f"wells' {well_name} add up to {total}, the PMO has {expected}",
                    code,
                )


RULES: tuple[Rule, ...] = (
    _day_over,
    _bsw,
    _api,
    _nsv_gsv,
    _negative,
    _completeness,
    _has_volume,
    _corrections,
    _quality,
    _issues,
    _ranges,
    _manual,
    _totals,
    _anomalies,
    _allocation,
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
        "figures changed after the last signed version: run `report amend --reason ...`",
        target,
    )
