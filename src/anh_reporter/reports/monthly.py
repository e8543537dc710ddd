"""Forma 9SH of a field's month, from its signed daily reports.

For each contract day of the month the latest signed version of the day's report is read (its
canonical bytes, as signed), and each well row gives the day's oil, gas and water (and, in
idp-1.2 documents, hours on and status; the API gravity is that of the well's oil PMO that
day). :func:`~anh_reporter.allocation.forma9sh.monthly_form` adds them up exactly: the form's
totals are the sums of the signed daily figures to the last 0.01. The cumulative volumes start
from the sum of every signed day before the month.

A day signed in a profile before idp-1.2 has no per-well hours or status: its volumes count,
its hours count as 0 and its status as producing. A day signed in a profile with other key
names (``anh-es-1.0``) is read through its profile's names, so a field may change profile
within a month.

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
    """Each well row of each signed document as the form's daily figures."""
    out: list[WellDailyFigures] = []
    for doc in documents:
        day = dt.date.fromisoformat(doc["contract_day"]["date"])
        api = {p["code"]: p.get("api_gravity") for p in doc.get("pmos", [])}
        for w in doc.get("wells", []):
            oil_pmo = (w.get("pmos") or {}).get("oil", w.get("pmo"))
            status = w.get("status") or "producing"
            out.append(
                WellDailyFigures(
                    well=w["code"],
                    day=day,
                    hours_on=_dec(w.get("hours_on")),
                    oil_bbl=_dec(w.get("oil_net_bbl")),
                    gas_kscf=_dec(w.get("gas_kpc")),
                    water_bbl=_dec(w.get("water_bbl")),
                    status=WellStatus(status),
                    api_gravity=_opt(api.get(oil_pmo)) if w.get("oil_net_bbl") else None,
                    theoretical_oil_bbl=_opt(w.get("theoretical_oil_bbl")),
                    avm_code=w.get("avm_code"),
                )
            )
    return out


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


def _dec(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(value)


def _opt(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def opening_cumulative(figures: Sequence[WellDailyFigures]) -> dict[str, Cumulative]:
    """Per well, the sum of every signed day before the month."""
    out: dict[str, Cumulative] = {}
    for f in figures:
        c = out.get(f.well, Cumulative())
        out[f.well] = Cumulative(
            c.oil_bbl + f.oil_bbl, c.gas_kscf + f.gas_kscf, c.water_bbl + f.water_bbl
        )
    return out


def field_month(
    conn: Conn, field_code: str, month: str, *, now: dt.datetime | None = None
) -> Forma9sh:
    """The Forma 9SH of ``field_code`` for ``month`` (``YYYY-MM``) from its signed dailies.

    A month that starts after the field's contract day at ``now`` (default: the clock) has not
    started: it is refused rather than written as a form of zeros.
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
    )
