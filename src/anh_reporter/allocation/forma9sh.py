"""Forma 9SH: the monthly per-well production form, from the (signed) daily per-well figures.

One row per well: days on production, hours on, oil / gas / water of the month and cumulative,
BSW, API gravity, gas-oil ratio, correction factor, status at the month's end, production
method and DANE municipality; then a field total row. The month's volumes are the exact
Decimal sums of the daily volumes, so the form's totals equal the sum of the signed days to
the last 0.01. Monthly ratios are computed from the month's volumes (not averaged day by day);
API gravity is the oil-weighted mean of the days that have one.

:func:`to_csv` and :func:`to_xlsx` return the file's bytes (the caller writes them) with the
Spanish headers of :data:`COLUMNS`; docs/allocation.md maps each header to its field. A caller
holding the official layout passes its own ``headers``.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from anh_reporter.allocation.errors import AllocationError, require_non_negative
from anh_reporter.allocation.findings import Code, Finding, Severity
from anh_reporter.allocation.fluids import HOURS_INCREMENT, VOLUME_INCREMENT
from anh_reporter.allocation.hours_on import WellStatus
from anh_reporter.allocation.ratios import well_ratios
from anh_reporter.domain.mpms import round_half_up

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
    """One well's signed figures for one contract day."""

    well: str
    day: dt.date
    hours_on: Decimal
    oil_bbl: Decimal
    gas_kscf: Decimal
    water_bbl: Decimal
    status: WellStatus
    api_gravity: Decimal | None = None
    theoretical_oil_bbl: Decimal | None = None
    """The day's theoretical oil (test rate × hours / 24), for the correction factor."""
    avm_code: str | None = None
    """The ANH's code of the well the signed day carries (None: the master data's)."""

    def __post_init__(self) -> None:
        where = f"daily figures of well {self.well!r} on {self.day}"
        require_non_negative(f"{where}: hours on", self.hours_on, "h")
        require_non_negative(f"{where}: oil", self.oil_bbl, "bbl")
        require_non_negative(f"{where}: gas", self.gas_kscf, "kscf")
        require_non_negative(f"{where}: water", self.water_bbl, "bbl")


@dataclass(frozen=True)
class Cumulative:
    """A well's cumulative production up to the start of the month."""

    oil_bbl: Decimal = Decimal(0)
    gas_kscf: Decimal = Decimal(0)
    water_bbl: Decimal = Decimal(0)


@dataclass(frozen=True)
class Forma9shRow:
    """One well's line of the form (or the field total line, with ``well`` = ``TOTAL``)."""

    well: str
    name: str
    municipality_dane: str
    production_method: str
    status: str
    days_on: int
    hours_on: Decimal
    oil_bbl: Decimal
    gas_kscf: Decimal
    water_bbl: Decimal
    oil_cumulative_bbl: Decimal
    gas_cumulative_kscf: Decimal
    water_cumulative_bbl: Decimal
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
) -> Forma9sh:
    """Build the month's form from the daily figures of ``wells`` (module docstring).

    A daily figure outside the month, for an unknown well, or twice for one well and day is an
    error. A well with fewer daily figures than the month has days gets a warning (the form
    still adds what there is). A well's AVM code is the one its latest signed day carries
    (:func:`avm_code_of_month`).
    """
    if not 1 <= month <= 12:
        raise AllocationError(f"month {month} is outside [1, 12]")
    first = dt.date(year, month, 1)
    days_in_month = calendar.monthrange(year, month)[1]
    last = dt.date(year, month, days_in_month)
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
                f"daily figures of well {d.well!r} on {d.day} fall outside {year:04d}-{month:02d}"
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
                    f"{year:04d}-{month:02d}: the month adds only those"
                    + (
                        ""
                        if days
                        else f"; its AVM code is its master data's "
                        f"({masters[code].avm_code or code!r}), which no signed day carries"
                    ),
                    code,
                )
            )
        avm, note = avm_code_of_month(masters[code], days, f"{year:04d}-{month:02d}")
        if note is not None:
            findings.append(note)
        rows.append(_row(masters[code], days, opening.get(code, Cumulative()), avm))
    return Forma9sh(field_code, contract, year, month, tuple(rows), _total(rows), tuple(findings))


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


def _hours(values: Sequence[Decimal]) -> Decimal:
    """Hours on added up, at their increment (0.01 h): a day signed as ``24`` (before the report
    gave every figure its increment) or a month of no hours is written ``24.00``, ``0.00``."""
    return round_half_up(_sum(values), HOURS_INCREMENT)


def _volume(values: Sequence[Decimal]) -> Decimal:
    """Volumes added up (each at 0.01, so exact), at 0.01: no volume is ``0.00``."""
    return round_half_up(_sum(values), VOLUME_INCREMENT)


def _row(
    master: WellMaster, days: Sequence[WellDailyFigures], start: Cumulative, avm_code: str
) -> Forma9shRow:
    oil = _volume([d.oil_bbl for d in days])
    gas = _volume([d.gas_kscf for d in days])
    water = _volume([d.water_bbl for d in days])
    ratios = well_ratios(oil, gas, water)
    weighted = [(d.api_gravity, d.oil_bbl) for d in days if d.api_gravity is not None]
    weight = _sum([w for _, w in weighted])
    api = (
        round_half_up(_sum([a * w for a, w in weighted]) / weight, API_INCREMENT)
        if weight > 0
        else None
    )
    theoretical = [d.theoretical_oil_bbl for d in days if d.theoretical_oil_bbl is not None]
    factor = None
    if theoretical and len(theoretical) == len(days) and _sum(theoretical) > 0:
        factor = round_half_up(oil / _sum(theoretical), FACTOR_INCREMENT)
    return Forma9shRow(
        well=master.well,
        name=master.name,
        municipality_dane=master.municipality_dane,
        production_method=master.production_method,
        status=str(days[-1].status) if days else "",
        days_on=sum(1 for d in days if d.hours_on > 0),
        hours_on=_hours([d.hours_on for d in days]),
        oil_bbl=oil,
        gas_kscf=gas,
        water_bbl=water,
        oil_cumulative_bbl=_volume([start.oil_bbl, oil]),
        gas_cumulative_kscf=_volume([start.gas_kscf, gas]),
        water_cumulative_bbl=_volume([start.water_bbl, water]),
        bsw_pct=ratios.bsw_pct,
        api_gravity=api,
        gor_scf_bbl=ratios.gor_scf_bbl,
        correction_factor=factor,
        days_reported=len(days),
        avm_code=avm_code,
    )


def _total(rows: Sequence[Forma9shRow]) -> Forma9shRow:
    oil = _volume([r.oil_bbl for r in rows])
    gas = _volume([r.gas_kscf for r in rows])
    water = _volume([r.water_bbl for r in rows])
    ratios = well_ratios(oil, gas, water)
    return Forma9shRow(
        well="TOTAL",
        name="",
        municipality_dane="",
        production_method="",
        status="",
        days_on=sum(r.days_on for r in rows),
        hours_on=_hours([r.hours_on for r in rows]),
        oil_bbl=oil,
        gas_kscf=gas,
        water_bbl=water,
        oil_cumulative_bbl=_volume([r.oil_cumulative_bbl for r in rows]),
        gas_cumulative_kscf=_volume([r.gas_cumulative_kscf for r in rows]),
        water_cumulative_bbl=_volume([r.water_cumulative_bbl for r in rows]),
        bsw_pct=ratios.bsw_pct,
        api_gravity=None,
        gor_scf_bbl=ratios.gor_scf_bbl,
        correction_factor=None,
        days_reported=sum(r.days_reported for r in rows),
    )


# --- Files -------------------------------------------------------------------------------------

COLUMNS: tuple[tuple[str, str], ...] = (
    ("period", "Mes"),
    ("contract", "Contrato"),
    ("field", "Campo"),
    ("well", "Pozo"),
    ("avm_code", "Código AVM"),
    ("name", "Nombre del pozo"),
    ("municipality_dane", "Municipio (código DANE)"),
    ("production_method", "Método de producción"),
    ("status", "Estado del pozo"),
    ("days_on", "Días de producción"),
    ("hours_on", "Horas de producción"),
    ("oil_bbl", "Petróleo del mes (Bls)"),
    ("gas_kscf", "Gas del mes (KPC)"),
    ("water_bbl", "Agua del mes (Bls)"),
    ("oil_cumulative_bbl", "Petróleo acumulado (Bls)"),
    ("gas_cumulative_kscf", "Gas acumulado (KPC)"),
    ("water_cumulative_bbl", "Agua acumulada (Bls)"),
    ("bsw_pct", "BSW (%)"),
    ("api_gravity", "Gravedad API (°API)"),
    ("gor_scf_bbl", "RGP (PCS/Bl)"),
    ("correction_factor", "Factor de corrección"),
)
"""Column key and Spanish header, in order (docs/allocation.md maps them)."""

STATUS_ES: dict[str, str] = {
    "producing": "Productor",
    "shut_in": "Cerrado",
    "workover": "En reacondicionamiento",
    "suspended": "Suspendido",
    "abandoned": "Abandonado",
    "injecting": "Inyector",
}

METHOD_ES: dict[str, str] = {
    "natural_flow": "Flujo natural",
    "esp": "Bombeo electrosumergible (BES)",
    "rod_pump": "Bombeo mecánico",
    "pcp": "Bombeo por cavidades progresivas (BCP)",
    "gas_lift": "Levantamiento por gas (gas lift)",
    "jet_pump": "Bombeo hidráulico tipo jet",
    "injector": "Inyector",
}

TOTAL_LABEL = "TOTAL CAMPO"


def table(form: Forma9sh) -> list[list[str | int | Decimal | None]]:
    """The form's rows, then the total row, as lists of cell values in :data:`COLUMNS` order."""
    out: list[list[str | int | Decimal | None]] = []
    for row in (*form.rows, form.total):
        is_total = row is form.total
        values: dict[str, str | int | Decimal | None] = {
            "period": form.period,
            "contract": form.contract,
            "field": form.field_code,
            "well": TOTAL_LABEL if is_total else row.well,
            "avm_code": row.avm_code,
            "name": row.name,
            "municipality_dane": row.municipality_dane,
            "production_method": METHOD_ES.get(row.production_method, row.production_method),
            "status": STATUS_ES.get(row.status, row.status),
            "days_on": None if is_total else row.days_on,
            "hours_on": row.hours_on,
            "oil_bbl": row.oil_bbl,
            "gas_kscf": row.gas_kscf,
            "water_bbl": row.water_bbl,
            "oil_cumulative_bbl": row.oil_cumulative_bbl,
            "gas_cumulative_kscf": row.gas_cumulative_kscf,
            "water_cumulative_bbl": row.water_cumulative_bbl,
            "bsw_pct": row.bsw_pct,
            "api_gravity": row.api_gravity,
            "gor_scf_bbl": row.gor_scf_bbl,
            "correction_factor": row.correction_factor,
        }
        out.append([values[key] for key, _ in COLUMNS])
    return out


def _headers(headers: Mapping[str, str] | None) -> list[str]:
    given = dict(headers or {})
    unknown = sorted(set(given) - {key for key, _ in COLUMNS})
    if unknown:
        raise AllocationError(
            f"Forma 9SH headers given for unknown columns {unknown}; columns are "
            f"{[key for key, _ in COLUMNS]}"
        )
    return [given.get(key, header) for key, header in COLUMNS]


def to_csv(form: Forma9sh, *, headers: Mapping[str, str] | None = None) -> bytes:
    """The form as CSV (UTF-8, comma-separated, decimal point, empty cell for no value)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_headers(headers))
    for cells in table(form):
        writer.writerow("" if c is None else str(c) for c in cells)
    return buffer.getvalue().encode("utf-8")


def to_xlsx(form: Forma9sh, *, headers: Mapping[str, str] | None = None) -> bytes:
    """The form as an XLSX workbook (one sheet, numbers as numbers, a bold header and total)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - narrows for mypy: a new workbook has its first sheet
    sheet.title = f"Forma 9SH {form.period}"
    sheet.append(_headers(headers))
    rows = table(form)
    for cells in rows:
        sheet.append(cells)
    bold = Font(bold=True)
    for cell in (*sheet[1], *sheet[len(rows) + 1]):
        cell.font = bold
    for index, (key, _) in enumerate(COLUMNS, start=1):
        fmt = _NUMBER_FORMATS.get(key)
        if fmt is None:
            continue
        for row in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            for cell in row:
                cell.number_format = fmt
    sheet.freeze_panes = "A2"
    # Reproducible files: the document's timestamps are the month's, not the time of writing.
    stamp = dt.datetime(form.year, form.month, 1)  # noqa: DTZ001 - openpyxl stores naive times
    book.properties.created = stamp
    book.properties.modified = stamp
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


_NUMBER_FORMATS: dict[str, str] = {
    "hours_on": "0.00",
    "oil_bbl": "0.00",
    "gas_kscf": "0.00",
    "water_bbl": "0.00",
    "oil_cumulative_bbl": "0.00",
    "gas_cumulative_kscf": "0.00",
    "water_cumulative_bbl": "0.00",
    "bsw_pct": "0.00",
    "api_gravity": "0.0",
    "gor_scf_bbl": "0.0",
    "correction_factor": "0.00000",
}
