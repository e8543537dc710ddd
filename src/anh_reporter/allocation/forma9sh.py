"""Forma 9SH: the monthly per-well production form, from the (signed) daily per-well figures.

One row per well: days on production, hours on, oil / gas / water of the month and cumulative,
BSW, API gravity, gas-oil ratio, correction factor, status at the month's end, production
method and DANE municipality; then a field total row. The month's volumes are the exact
Decimal sums of the daily volumes, so the form's totals equal the sum of the signed days to
the last 0.01. Monthly ratios are computed from the month's volumes (not averaged day by day);
API gravity is the oil-weighted mean of the days that have one.

What a signed day does not say is not written as 0: a well-day without hours on (a day signed
in a profile before idp-1.2) leaves the well's hours and days on production empty, a fluid no
signed day of the month gives leaves its cells empty (a month with some days known adds those,
warned), each with a warning naming the days. Production a signed day left unallocated (no well
could take it) is its own row, ``SIN ASIGNAR`` (:data:`UNALLOCATED_LABEL`), before the total, so
the field total is the signed days' production.

The files (CSV, XLSX) are written by ``forma9sh_files``.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from anh_reporter.allocation.errors import AllocationError, require_non_negative
from anh_reporter.allocation.findings import Code, Finding, Severity
from anh_reporter.allocation.fluids import HOURS_INCREMENT, VOLUME_INCREMENT
from anh_reporter.allocation.hours_on import WellStatus
from anh_reporter.allocation.ratios import well_ratios
from anh_reporter.domain.mpms import round_half_up
from anh_reporter.site_avm import UNALLOCATED_LABEL

UNALLOCATED_NAME = "Producción sin asignar a pozos"
API_INCREMENT = Decimal("0.1")
FACTOR_INCREMENT = Decimal("0.00001")


@dataclass(frozen=True)
class WellMaster:
    """A well's master data as the form shows it."""

    well: str
    name: str
    municipality_dane: str
    production_method: str
    """``site.Well.production_method``: natural_flow, esp, rod_pump, pcp, gas_lift..."""
    avm_code: str | None = None
    """The ANH's code of the well when it differs from ``well`` (None: ``well``)."""


@dataclass(frozen=True)
class WellDailyFigures:
    """One well's signed figures for one contract day (None: the signed day does not say)."""

    well: str
    day: dt.date
    hours_on: Decimal | None
    oil_bbl: Decimal | None
    gas_kscf: Decimal | None
    water_bbl: Decimal | None
    status: WellStatus | None
    api_gravity: Decimal | None = None
    theoretical_oil_bbl: Decimal | None = None
    """The day's theoretical oil (test rate × hours / 24), for the correction factor."""
    avm_code: str | None = None
    """The ANH's code of the well the signed day carries (None: the master data's)."""
    production_method: str | None = None
    """The well's production method the signed day carries (None: the master data's)."""

    def __post_init__(self) -> None:
        where = f"daily figures of well {self.well!r} on {self.day}"
        for name, value, unit in (
            ("hours on", self.hours_on, "h"),
            ("oil", self.oil_bbl, "bbl"),
            ("gas", self.gas_kscf, "kscf"),
            ("water", self.water_bbl, "bbl"),
        ):
            if value is not None:
                require_non_negative(f"{where}: {name}", value, unit)


@dataclass(frozen=True)
class UnallocatedDay:
    """What a signed day's production left unallocated (no well could take it), per fluid
    (None: the day does not measure that fluid)."""

    day: dt.date
    oil_bbl: Decimal | None
    gas_kscf: Decimal | None
    water_bbl: Decimal | None

    def __post_init__(self) -> None:
        where = f"unallocated production on {self.day}"
        for name, value in (
            ("oil", self.oil_bbl),
            ("gas", self.gas_kscf),
            ("water", self.water_bbl),
        ):
            if value is not None:
                require_non_negative(f"{where}: {name}", value, "bbl" if name != "gas" else "kscf")


@dataclass(frozen=True)
class Cumulative:
    """A well's cumulative production up to the start of the month (None: no signed day
    before the month gives that fluid)."""

    oil_bbl: Decimal | None = None
    gas_kscf: Decimal | None = None
    water_bbl: Decimal | None = None


@dataclass(frozen=True)
class Forma9shRow:
    """One well's line of the form (or the field total line, with ``well`` = ``TOTAL``, or the
    unallocated production's, with ``well`` = :data:`UNALLOCATED_LABEL`). None: not known from
    the signed days (an empty cell)."""

    well: str
    name: str
    municipality_dane: str
    production_method: str
    status: str
    days_on: int | None
    hours_on: Decimal | None
    oil_bbl: Decimal | None
    gas_kscf: Decimal | None
    water_bbl: Decimal | None
    oil_cumulative_bbl: Decimal | None
    gas_cumulative_kscf: Decimal | None
    water_cumulative_bbl: Decimal | None
    bsw_pct: Decimal | None
    api_gravity: Decimal | None
    gor_scf_bbl: Decimal | None
    correction_factor: Decimal | None
    days_reported: int
    avm_code: str = ""
    """The ANH's code of the well (its ``well`` code unless the site file gives another)."""


@dataclass(frozen=True)
class Forma9sh:
    """The form of one field and month."""

    field_code: str
    contract: str
    year: int
    month: int
    rows: tuple[Forma9shRow, ...]
    total: Forma9shRow
    findings: tuple[Finding, ...] = field(default=())
    unallocated: Forma9shRow | None = None
    """The production no well was allocated (``SIN ASIGNAR``), when the month or the days
    before it have some; the total counts it."""

    @property
    def period(self) -> str:
        """``YYYY-MM``."""
        return f"{self.year:04d}-{self.month:02d}"

    def cumulative(self) -> dict[str, Cumulative]:
        """Each well's cumulative at the month's end: the next month's opening."""
        return {
            r.well: Cumulative(r.oil_cumulative_bbl, r.gas_cumulative_kscf, r.water_cumulative_bbl)
            for r in self.rows
        }


def monthly_form(
    *,
    field_code: str,
    contract: str,
    year: int,
    month: int,
    wells: Sequence[WellMaster],
    dailies: Sequence[WellDailyFigures],
    opening: Mapping[str, Cumulative] | None = None,
    unallocated: Sequence[UnallocatedDay] = (),
    unallocated_opening: Cumulative | None = None,
) -> Forma9sh:
    """Build the month's form from the daily figures of ``wells`` (module docstring).

    A daily figure outside the month, for an unknown well, or twice for one well and day is an
    error. A well with fewer daily figures than the month has days gets a warning (the form
    still adds what there is). A well's AVM code is the one its latest signed day carries
    (:func:`avm_code_of_month`). ``unallocated`` is each signed day's production that no well
    took (``unallocated_opening``: the days before the month's): listed as its own row, with
    a warning naming each fluid's volume and days, when the month or the days before have any.
    """
    if not 1 <= month <= 12:
        raise AllocationError(f"month {month} is outside [1, 12]")
    first = dt.date(year, month, 1)
    days_in_month = calendar.monthrange(year, month)[1]
    last = dt.date(year, month, days_in_month)
    period = f"{year:04d}-{month:02d}"
    masters = {w.well: w for w in wells}
    if len(masters) != len(wells):
        raise AllocationError(f"a well is listed twice in the Forma 9SH of {field_code!r}")
    by_well: dict[str, dict[dt.date, WellDailyFigures]] = {w: {} for w in masters}
    for d in dailies:
        if d.well not in masters:
            raise AllocationError(
                f"daily figures of well {d.well!r} on {d.day}, which is not among the field's "
                f"wells {sorted(masters)}"
            )
        if not first <= d.day <= last:
            raise AllocationError(
                f"daily figures of well {d.well!r} on {d.day} fall outside {period}"
            )
        if d.day in by_well[d.well]:
            raise AllocationError(f"daily figures of well {d.well!r} on {d.day} are given twice")
        by_well[d.well][d.day] = d
    opening = opening or {}
    rows: list[Forma9shRow] = []
    findings: list[Finding] = []
    for code in sorted(masters):
        days = [by_well[code][day] for day in sorted(by_well[code])]
        if len(days) < days_in_month:
            findings.append(
                Finding(
                    Code.MONTH_DAYS_MISSING,
                    Severity.WARNING,
                    f"{len(days)} of {days_in_month} days have signed figures in "
                    f"{period}: the month adds only those"
                    + (
                        ""
                        if days
                        else f"; its AVM code is its master data's "
                        f"({masters[code].avm_code or code!r}), which no signed day carries"
                    ),
                    code,
                )
            )
        avm, note = avm_code_of_month(masters[code], days, period)
        if note is not None:
            findings.append(note)
        findings.extend(unknown_findings(code, days, period))
        rows.append(_row(masters[code], days, opening.get(code, Cumulative()), avm))
    extra = _unallocated_row(field_code, period, unallocated, unallocated_opening, first, last)
    if extra is not None:
        findings.append(extra[1])
    lines = [*rows, extra[0]] if extra is not None else rows
    return Forma9sh(
        field_code, contract, year, month, tuple(rows), _total(lines), tuple(findings),
        None if extra is None else extra[0],
    )  # fmt: skip


FLUID_NAMES: tuple[tuple[str, str, str], ...] = (
    ("oil", "oil_bbl", "bbl"),
    ("gas", "gas_kscf", "kscf"),
    ("water", "water_bbl", "bbl"),
)
"""Each fluid's name, its attribute in the daily figures and rows, and its unit."""


def unknown_findings(well: str, days: Sequence[WellDailyFigures], period: str) -> list[Finding]:
    """Warnings for a well's signed days that do not give its hours on or a fluid's volume.

    Hours on: the well's hours and days on production are left empty (they cannot be known);
    a fluid: the month adds the days that give it (every day without: left empty).
    """
    out: list[Finding] = []
    no_hours = [d.day for d in days if d.hours_on is None]
    if no_hours:
        out.append(
            Finding(
                Code.MONTH_HOURS_UNKNOWN,
                Severity.WARNING,
                f"{_day_list(no_hours)} signed without the well's hours on (a profile before "
                f"idp-1.2, or hours not known): its hours and days on production in {period} are "
                "left empty, not counted as 0",
                well,
            )
        )
    for fluid, attr, _ in FLUID_NAMES:
        missing = [d.day for d in days if getattr(d, attr) is None]
        if not missing:
            continue
        known = len(days) - len(missing)
        what = (
            f"its {fluid} of the month is the sum of the other {known} signed day(s)"
            if known
            else f"its {fluid} of {period} is left empty, not 0"
        )
        out.append(
            Finding(
                Code.MONTH_VOLUME_UNKNOWN,
                Severity.WARNING,
                f"{_day_list(missing)} signed without the well's {fluid} (no meter of that fluid "
                f"for it, or no volume measured): {what}",
                well,
            )
        )
    return out


def _unallocated_row(
    field_code: str,
    period: str,
    days: Sequence[UnallocatedDay],
    opening: Cumulative | None,
    first: dt.date,
    last: dt.date,
) -> tuple[Forma9shRow, Finding] | None:
    """The ``SIN ASIGNAR`` row and its warning, or None when nothing was ever left unallocated."""
    for d in days:
        if not first <= d.day <= last:
            raise AllocationError(f"unallocated production on {d.day} falls outside {period}")
    if len({d.day for d in days}) != len(days):
        raise AllocationError(f"unallocated production of a day of {period} is given twice")
    opening = opening or Cumulative()
    month = {attr: _known_sum([getattr(d, attr) for d in days]) for _, attr, _ in FLUID_NAMES}
    before = {attr: getattr(opening, attr) for _, attr, _ in FLUID_NAMES}
    if not any(month.values()) and not any(before.values()):
        return None
    listed = []
    for fluid, attr, unit in FLUID_NAMES:
        volume = month[attr]
        if volume:
            on = _day_list(sorted(d.day for d in days if getattr(d, attr)))
            listed.append(f"{fluid} {volume} {unit} ({on})")
    said = "; ".join(listed) if listed else f"none in {period}, but some before it"
    finding = Finding(
        Code.MONTH_VOLUME_UNALLOCATED,
        Severity.WARNING,
        f"production the signed days left to no well: {said}: listed as {UNALLOCATED_LABEL!r}, "
        "counted in the field total",
        field_code,
    )
    cumulative = {attr: _volume(_plus(before[attr], month[attr])) for _, attr, _ in FLUID_NAMES}
    oil, gas, water = (_volume(month[a]) for a in ("oil_bbl", "gas_kscf", "water_bbl"))
    row = Forma9shRow(
        well=UNALLOCATED_LABEL,
        name=UNALLOCATED_NAME,
        municipality_dane="",
        production_method="",
        status="",
        days_on=None,
        hours_on=None,
        oil_bbl=oil,
        gas_kscf=gas,
        water_bbl=water,
        oil_cumulative_bbl=cumulative["oil_bbl"],
        gas_cumulative_kscf=cumulative["gas_kscf"],
        water_cumulative_bbl=cumulative["water_bbl"],
        bsw_pct=None,  # no well's ratios: volumes no well took
        api_gravity=None,
        gor_scf_bbl=None,
        correction_factor=None,
        days_reported=len(days),
    )
    return row, finding


def avm_code_of_month(
    master: WellMaster, days: Sequence[WellDailyFigures], period: str
) -> tuple[str, Finding | None]:
    """The well's AVM code on the form: the one its latest signed day carries (a day that
    carries none: the master data's code, else the well's own code).

    A code that changed within the month is said (a note naming each code and its days). A
    well without a signed day in the month is listed with its master data's code (its
    ``month_days_missing`` warning says so).
    """
    fallback = master.avm_code or master.well
    if not days:
        return fallback, None
    spans: dict[str, list[dt.date]] = {}
    for d in days:  # in day order: the dict keeps each code's first appearance
        spans.setdefault(d.avm_code or fallback, []).append(d.day)
    latest = days[-1].avm_code or fallback
    if len(spans) == 1:
        return latest, None
    listed = "; ".join(f"{c!r} on {_day_list(ds)}" for c, ds in spans.items())
    return latest, Finding(
        Code.MONTH_AVM_CODE_CHANGED,
        Severity.INFO,
        f"the well's AVM code changed within {period} ({listed}): the form lists {latest!r}, "
        "the code of its latest signed day",
        master.well,
    )


def _day_list(days: Sequence[dt.date]) -> str:
    """``2026-02-02..2026-02-03, 2026-02-05``: runs of consecutive days."""
    runs: list[list[dt.date]] = []
    for day in days:
        if runs and day - runs[-1][-1] == dt.timedelta(days=1):
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}..{r[-1]}" for r in runs)


def _sum(values: Sequence[Decimal]) -> Decimal:
    return sum(values, Decimal(0))


def _known_sum(values: Sequence[Decimal | None]) -> Decimal | None:
    """The sum of the known values; None when none is known (0 for no value at all)."""
    known = [v for v in values if v is not None]
    if values and not known:
        return None
    return _sum(known)


def _plus(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    """a + b, an unknown one left out; None when both are unknown."""
    if a is None and b is None:
        return None
    return (a or Decimal(0)) + (b or Decimal(0))


def _hours(values: Sequence[Decimal]) -> Decimal:
    """Hours on added up, at their increment (0.01 h): a day signed as ``24`` (before the report
    gave every figure its increment) or a month of no hours is written ``24.00``, ``0.00``."""
    return round_half_up(_sum(values), HOURS_INCREMENT)


def _volume(value: Decimal | None) -> Decimal | None:
    """A volume added up (each at 0.01, so exact), at 0.01: no volume is ``0.00``; unknown stays
    unknown."""
    return None if value is None else round_half_up(value, VOLUME_INCREMENT)


def _row(
    master: WellMaster, days: Sequence[WellDailyFigures], start: Cumulative, avm_code: str
) -> Forma9shRow:
    oil = _volume(_known_sum([d.oil_bbl for d in days]))
    gas = _volume(_known_sum([d.gas_kscf for d in days]))
    water = _volume(_known_sum([d.water_bbl for d in days]))
    ratios = well_ratios(oil, gas, water)
    weighted = [(d.api_gravity, d.oil_bbl) for d in days if d.api_gravity is not None and d.oil_bbl]
    weight = _sum([w for _, w in weighted if w is not None])
    api = (
        round_half_up(_sum([a * w for a, w in weighted if w is not None]) / weight, API_INCREMENT)
        if weight > 0
        else None
    )
    theoretical = [d.theoretical_oil_bbl for d in days if d.theoretical_oil_bbl is not None]
    factor = None
    if oil is not None and theoretical and len(theoretical) == len(days) and _sum(theoretical) > 0:
        factor = round_half_up(oil / _sum(theoretical), FACTOR_INCREMENT)
    hours_known = all(d.hours_on is not None for d in days)
    last_status = days[-1].status if days else None
    return Forma9shRow(
        well=master.well,
        name=master.name,
        municipality_dane=master.municipality_dane,
        # As the latest signed day of the month says (a producer made an injector later is
        # still shown as it produced); the master data's only when no day carries it.
        production_method=next(
            (d.production_method for d in reversed(days) if d.production_method),
            master.production_method,
        ),
        status="" if last_status is None else str(last_status),
        days_on=sum(1 for d in days if d.hours_on) if hours_known else None,
        hours_on=_hours([d.hours_on for d in days if d.hours_on is not None])
        if hours_known
        else None,
        oil_bbl=oil,
        gas_kscf=gas,
        water_bbl=water,
        oil_cumulative_bbl=_volume(_plus(start.oil_bbl, oil)),
        gas_cumulative_kscf=_volume(_plus(start.gas_kscf, gas)),
        water_cumulative_bbl=_volume(_plus(start.water_bbl, water)),
        bsw_pct=ratios.bsw_pct,
        api_gravity=api,
        gor_scf_bbl=ratios.gor_scf_bbl,
        correction_factor=factor,
        days_reported=len(days),
        avm_code=avm_code,
    )


def _column(rows: Sequence[Forma9shRow], attr: str) -> Decimal | None:
    """A column's total: the known cells' sum; None (empty) when every cell is empty."""
    values = [getattr(r, attr) for r in rows]
    known = [v for v in values if v is not None]
    return _sum(known) if known or not values else None


def _total(rows: Sequence[Forma9shRow]) -> Forma9shRow:
    oil = _volume(_column(rows, "oil_bbl"))
    gas = _volume(_column(rows, "gas_kscf"))
    water = _volume(_column(rows, "water_bbl"))
    ratios = well_ratios(oil, gas, water)
    wells = [r for r in rows if r.well != UNALLOCATED_LABEL]
    hours = [r.hours_on for r in wells]
    return Forma9shRow(
        well="TOTAL",
        name="",
        municipality_dane="",
        production_method="",
        status="",
        days_on=None,
        hours_on=None if None in hours else _hours([h for h in hours if h is not None]),
        oil_bbl=oil,
        gas_kscf=gas,
        water_bbl=water,
        oil_cumulative_bbl=_volume(_column(rows, "oil_cumulative_bbl")),
        gas_cumulative_kscf=_volume(_column(rows, "gas_cumulative_kscf")),
        water_cumulative_bbl=_volume(_column(rows, "water_cumulative_bbl")),
        bsw_pct=ratios.bsw_pct,
        api_gravity=None,
        gor_scf_bbl=ratios.gor_scf_bbl,
        correction_factor=None,
        days_reported=sum(r.days_reported for r in wells),
    )
