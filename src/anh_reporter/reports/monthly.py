"""Forma 9SH of a field's month, from its signed daily reports.

For each contract day of the month the latest signed version of the day's report is read (its
canonical bytes, as signed), and each well row gives the day's oil, gas and water (and, in
idp-1.2 documents, hours on and status; the API gravity is that of the well's oil PMO that
day). :func:`~anh_reporter.allocation.forma9sh.monthly_form` adds them up exactly: the form's
totals are the sums of the signed daily figures to the last 0.01. The cumulative volumes start
from the sum of every signed day before the month.

A day signed in a profile before idp-1.2 has no per-well hours or status: its volumes count,
its hours and status are unknown (the well's hours and days on production are left empty, and
its status too when that day is the month's last; warned). A well row's fluid that is null is
unknown when the row names no production PMO of that fluid (no meter: a field without a gas
meter) or that PMO has no figure; it is 0 when the PMO has a figure and the well was allocated
none of it (a well without a test or hours on: others, or ``SIN ASIGNAR``, carry it) or the
well injected. Rows of a profile without the PMO of each fluid (before idp-1.2) are judged by
the PMOs of that fluid the day shows. A day signed in a profile with other key names
(``anh-es-1.0``) is read through its profile's names, so a field may change profile within a
month.

What a signed day left unallocated is read from its allocation (``allocation.pmos[].unallocated``
per fluid, idp-1.2 on); a day without that section (an older profile) gives its field figure
less its wells' (oil: the totals' NSV; gas: the totals' kscf; water: the totals' less the S&W of
the wells' oil PMOs), never below 0. A
month with no signed day at all is refused (:class:`NoSignedReport`), not written as zeros.

Each well's AVM code is the one its signed rows carry (``avm_code``, from idp-1.3 and
anh-es-1.1); a day signed in a profile without it counts with the well's code in force when that
day started (its ``avm_code`` in the configuration log, else its own code). A code that changed
within the month is listed as of the latest signed day, with a note
(:func:`~anh_reporter.allocation.forma9sh.avm_code_of_month`).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import psycopg

from anh_reporter.allocation.forma9sh import (
    Cumulative,
    Forma9sh,
    UnallocatedDay,
    WellDailyFigures,
    WellMaster,
    monthly_form,
)
from anh_reporter.allocation.hours_on import WellStatus
from anh_reporter.production.contract_day import contract_day_of
from anh_reporter.reports.canonical import parse
from anh_reporter.reports.errors import ReportError
from anh_reporter.reports.profiles import ProfileError, internal_document
from anh_reporter.storage import well_records
from anh_reporter.storage.config_history import avm_codes_in_force

Conn = psycopg.Connection[Any]
ZERO = Decimal(0)
FIRST_YEAR, LAST_YEAR = 1970, 2199
_MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)
FLUIDS = ("oil", "gas", "water")
WELL_KEY = {"oil": "oil_net_bbl", "gas": "gas_kpc", "water": "water_bbl"}
"""A well row's figure of each fluid."""
PMO_KEY = {"oil": "oil_net_bbl", "gas": "gas_kpc", "water": "water_net_bbl"}
"""A PMO's figure of each fluid (a production PMO of that fluid)."""


class NoSignedReport(ReportError):
    """The month has no signed daily report: there is nothing to write a form from."""


def parse_month(text: str) -> tuple[int, int]:
    """Exactly ``YYYY-MM`` → (year, month); anything else is an error naming the value."""
    found = _MONTH.fullmatch(text)
    try:
        if found is None:
            raise ValueError(text)
        year, month = int(found[1]), int(found[2])
        dt.date(year, month, 1)
    except ValueError:
        raise ReportError(f"month {text!r} is not YYYY-MM (e.g. 2026-11)") from None
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ReportError(f"month {text!r}: year {year} is outside [{FIRST_YEAR}, {LAST_YEAR}]")
    return year, month


def signed_documents(
    conn: Conn, field_id: int, first: dt.date | None, last: dt.date
) -> list[dict[str, Any]]:
    """The latest signed version of each day's report in ``[first, last]`` (documents, with the
    model's key names whatever profile each day was signed in)."""
    rows = conn.execute(
        "SELECT DISTINCT ON (r.contract_day) v.canonical FROM reports r "
        "JOIN report_versions v ON v.report_id = r.id "
        "WHERE r.field_id = %s AND (%s::date IS NULL OR r.contract_day >= %s) "
        "AND r.contract_day <= %s AND v.chain_seq IS NOT NULL "
        "ORDER BY r.contract_day, v.version DESC",
        (field_id, first, first, last),
    ).fetchall()
    out = []
    for row in rows:
        document = parse(bytes(row[0]))
        try:
            out.append(internal_document(document))
        except ProfileError as exc:
            raise ReportError(f"a signed report cannot be read for the Forma 9SH: {exc}") from None
    return out


def daily_figures(documents: Iterable[dict[str, Any]]) -> list[WellDailyFigures]:
    """Each well row of each signed document as the form's daily figures (None: the row does
    not give it; a null volume is 0 or unknown as the module docstring says)."""
    out: list[WellDailyFigures] = []
    for doc in documents:
        day = dt.date.fromisoformat(doc["contract_day"]["date"])
        pmos = {p["code"]: p for p in doc.get("pmos", [])}
        measured = {f: _measured_by_kind(doc, f) for f in FLUIDS}
        for w in doc.get("wells", []):
            oil_pmo = (w.get("pmos") or {}).get("oil", w.get("pmo"))
            status = w.get("status")
            volumes = {f: _well_volume(w, f, pmos, measured[f]) for f in FLUIDS}
            out.append(
                WellDailyFigures(
                    well=w["code"],
                    day=day,
                    hours_on=_opt(w.get("hours_on")),
                    oil_bbl=volumes["oil"],
                    gas_kscf=volumes["gas"],
                    water_bbl=volumes["water"],
                    status=None if status is None else WellStatus(status),
                    api_gravity=_opt((pmos.get(oil_pmo) or {}).get("api_gravity"))
                    if w.get("oil_net_bbl")
                    else None,
                    theoretical_oil_bbl=_opt(w.get("theoretical_oil_bbl")),
                    avm_code=w.get("avm_code"),
                    production_method=w.get("production_method"),
                )
            )
    return out


def _measured_by_kind(doc: dict[str, Any], fluid: str) -> bool:
    """The day shows a PMO of ``fluid`` with a figure of it."""
    return any(
        p.get("kind") == fluid and p.get(PMO_KEY[fluid]) is not None for p in doc.get("pmos", [])
    )


def _well_volume(
    w: dict[str, Any], fluid: str, pmos: dict[str, dict[str, Any]], by_kind: bool
) -> Decimal | None:
    """A well row's figure of ``fluid``: its value; for null, 0 or None (unknown)."""
    value = w.get(WELL_KEY[fluid])
    if value is not None:
        return Decimal(value)
    if w.get("status") == "injecting":
        # An injecting well produces nothing: 0 of a fluid the day measures, unknown otherwise
        # (a field without a gas meter writes no gas, not 0).
        return ZERO if by_kind else None
    if "pmos" in w:  # idp-1.2 on: the production PMO of each fluid the well flows to
        code = w["pmos"].get(fluid)
        measured = code is not None and (pmos.get(code) or {}).get(PMO_KEY[fluid]) is not None
        return ZERO if measured else None
    return ZERO if by_kind else None


def unallocated_days(documents: Iterable[dict[str, Any]]) -> list[UnallocatedDay]:
    """Each signed day's production that no well took, per fluid (module docstring); a day
    that left nothing unallocated is left out."""
    out: list[UnallocatedDay] = []
    for doc in documents:
        day = dt.date.fromisoformat(doc["contract_day"]["date"])
        allocation = doc.get("allocation")
        if allocation is not None:
            left: dict[str, Decimal | None] = dict.fromkeys(FLUIDS)
            for row in allocation.get("pmos", []):
                fluid = row["fluid"]
                left[fluid] = (left[fluid] or ZERO) + Decimal(row["unallocated"])
        else:
            left = _left_by_difference(doc)
        if any(left.values()):
            out.append(UnallocatedDay(day, left["oil"], left["gas"], left["water"]))
    return out


def _left_by_difference(doc: dict[str, Any]) -> dict[str, Decimal | None]:
    """A day signed without its allocation: the field figure less its wells', per fluid."""
    totals = doc.get("totals") or {}
    field = {
        "oil": _opt(totals.get("oil_net_bbl")),
        "gas": _opt(totals.get("gas_kpc")),
        "water": _opt(totals.get("water_net_bbl")),
    }
    # The totals' water counts the S&W of the production oil PMOs, which no well takes: the
    # wells' oil PMOs' is left out (its water PMOs' remains).
    named = {w.get("pmo") for w in doc.get("wells", [])}
    in_oil = _sum_opt(
        p.get("water_net_bbl") for p in doc.get("pmos", [])
        if p.get("kind") == "oil" and p["code"] in named
    )  # fmt: skip
    if field["water"] is not None and in_oil is not None:
        field["water"] -= in_oil
    out: dict[str, Decimal | None] = {}
    for fluid in FLUIDS:
        wells = sum((Decimal(w[WELL_KEY[fluid]]) for w in doc.get("wells", [])
                     if w.get(WELL_KEY[fluid]) is not None), ZERO)  # fmt: skip
        figure = field[fluid]
        out[fluid] = None if figure is None else max(figure - wells, ZERO)
    return out


def _sum_opt(values: Iterable[Any]) -> Decimal | None:
    known = [Decimal(v) for v in values if v is not None]
    return sum(known, ZERO) if known else None


def _fill_avm_codes(
    conn: Conn, field_code: str, doc: dict[str, Any], wells: Sequence[tuple[str, str | None]]
) -> None:
    """Give each well row of a day signed without AVM codes (a profile before idp-1.3) the
    well's code in force when the day started, as its report would have carried it."""
    rows = [w for w in doc.get("wells", []) if not w.get("avm_code")]
    if not rows:
        return
    start = dt.datetime.fromisoformat(doc["contract_day"]["start"])
    codes = avm_codes_in_force(conn, field_code, wells, start)
    for w in rows:
        w["avm_code"] = codes.get(w["code"], w["code"])


def _opt(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def opening_cumulative(figures: Sequence[WellDailyFigures]) -> dict[str, Cumulative]:
    """Per well, the sum of every signed day before the month (a fluid no day gives: None)."""
    out: dict[str, Cumulative] = {}
    for f in figures:
        c = out.get(f.well, Cumulative())
        out[f.well] = Cumulative(
            _add(c.oil_bbl, f.oil_bbl), _add(c.gas_kscf, f.gas_kscf),
            _add(c.water_bbl, f.water_bbl),
        )  # fmt: skip
    return out


def unallocated_opening(days: Sequence[UnallocatedDay]) -> Cumulative:
    """What the signed days before the month left unallocated, per fluid."""
    c = Cumulative()
    for d in days:
        c = Cumulative(
            _add(c.oil_bbl, d.oil_bbl), _add(c.gas_kscf, d.gas_kscf),
            _add(c.water_bbl, d.water_bbl),
        )  # fmt: skip
    return c


def _add(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    if a is None and b is None:
        return None
    return (a or ZERO) + (b or ZERO)


def field_month(
    conn: Conn, field_code: str, month: str, *, now: dt.datetime | None = None
) -> Forma9sh:
    """The Forma 9SH of ``field_code`` for ``month`` (``YYYY-MM``) from its signed dailies.

    A month that starts after the field's contract day at ``now`` (default: the clock) has not
    started: it is refused rather than written as a form of zeros; so is a month without a
    signed daily report (:class:`NoSignedReport`).
    """
    year, number = parse_month(month)
    row = conn.execute(
        "SELECT id, contract, municipality_dane, timezone, contract_day_start_hour FROM fields "
        "WHERE code = %s",
        (field_code,),
    ).fetchone()
    if row is None:
        raise ReportError(f"field {field_code!r} does not exist")
    field_id, contract, dane = int(row[0]), str(row[1]), str(row[2])
    first = dt.date(year, number, 1)
    today = contract_day_of(
        dt.datetime.now(dt.UTC) if now is None else now, timezone=row[3], start_hour=row[4]
    ).day
    if first > today:
        raise ReportError(f"month {month} has not started (the field's contract day is {today})")
    last = dt.date(year, number, calendar.monthrange(year, number)[1])
    month_docs = signed_documents(conn, field_id, first, last)
    if not month_docs:
        raise NoSignedReport(f"no signed daily report for {field_code} in {month}")
    before = signed_documents(conn, field_id, None, first - dt.timedelta(days=1))
    stored = well_records.load_topology_rows(conn, field_id).wells
    masters = [
        WellMaster(w.code, w.name, w.municipality_dane or dane, w.production_method, w.avm_code)
        for w in stored
    ]
    for doc in month_docs:
        _fill_avm_codes(conn, field_code, doc, [(w.code, w.avm_code) for w in stored])
    return monthly_form(
        field_code=field_code,
        contract=contract,
        year=year,
        month=number,
        wells=masters,
        dailies=daily_figures(month_docs),
        opening=opening_cumulative(daily_figures(before)),
        unallocated=unallocated_days(month_docs),
        unallocated_opening=unallocated_opening(unallocated_days(before)),
    )
