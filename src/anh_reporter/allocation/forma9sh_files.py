"""The Forma 9SH's files: :func:`to_csv` and :func:`to_xlsx` return the form's bytes (the caller
writes them) with the Spanish headers of :data:`COLUMNS` (docs/allocation.md maps each header to
its field); a caller holding the official layout passes its own ``headers``. An empty cell is a
value not known from the signed days.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping
from decimal import Decimal

from anh_reporter.allocation.errors import AllocationError
from anh_reporter.allocation.forma9sh import Forma9sh
from anh_reporter.site_avm import TOTAL_LABEL

# --- Columns -------------------------------------------------------------------------------------

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


def table(form: Forma9sh) -> list[list[str | int | Decimal | None]]:
    """The form's rows, the unallocated row if any, then the total row, as lists of cell values
    in :data:`COLUMNS` order."""
    out: list[list[str | int | Decimal | None]] = []
    extra = () if form.unallocated is None else (form.unallocated,)
    for row in (*form.rows, *extra, form.total):
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
