"""Well tests measured by a test separator, read from stored telemetry over the test's window.

The user names the well, the window (``start``, ``end``: aware instants, at most 168 h apart)
and, when the well has more than one of a kind, its oil, gas and water rate series. The rates
of the test are each series' time-weighted mean over the window
(:func:`~anh_reporter.allocation.well_tests.separator_test`: trapezoid between good raw
readings, plus the reading before and the one after the window as the hours-on code reads a
day's edges; gaps longer than the series' tolerance left out; a series covering less than
:data:`MIN_COVERAGE_PCT` of the window refused).

**Which series.** The site file has no test-separator object: a series belongs to a PMO or to
a well, and every PMO counts in the field's totals by its role. So a test separator's meters
are declared as series of the well they test: ``oil_rate`` (bbl/d), ``gas_rate`` (kscf/d) and
``water_rate`` (bbl/d) in the well's ``series``. A series named for a test must be such a rate
series of the right fluid and belong to that well; a PMO's series (a LACT, the battery's gas
meter) or another well's is refused. The rates are taken as the series deliver them (the
separator's meters in bbl/d and kscf/d); no shrinkage from separator to stock-tank conditions
is applied.

**The test's date** is the contract day in which the window ends: the day the result exists
(a window ending exactly at a day boundary belongs to the day before). The test is stored
with source ``test_separator``, its window and the series it was read from, through the same
path as a test typed by hand (:func:`~anh_reporter.production.well_entries.store_well_test`):
audit log, stored days from its date on allocated again, signed reports that change flagged
for an amendment.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import psycopg

from anh_reporter.allocation.errors import AllocationError
from anh_reporter.allocation.fluids import Fluid
from anh_reporter.allocation.timeseries import Window
from anh_reporter.allocation.well_tests import (
    MAX_TEST_HOURS,
    SeparatorSeries,
    WellTest,
    separator_test,
)
from anh_reporter.domain.quality import GOOD_STORED_UPPER
from anh_reporter.domain.timeutil import to_us
from anh_reporter.domain.variables import VARIABLES, VariableKind
from anh_reporter.production.config import FieldConfig, load_field
from anh_reporter.production.contract_day import contract_day_of
from anh_reporter.production.inputs import DEFAULT_SETTINGS, ProductionSettings
from anh_reporter.production.well_entries import (
    WellEntryError,
    WellEntryResult,
    aware_time,
    store_well_test,
    well_id_of,
)
from anh_reporter.storage import well_records as records
from anh_reporter.storage.separator_series import (
    OwnedSeries,
    rate_series_of_well,
    series_by_code,
)

Conn = psycopg.Connection[Any]
MIN_COVERAGE_PCT = 95.0
"""A rate series covering less of the test window is refused."""
FLUIDS: tuple[Fluid, ...] = ("oil", "gas", "water")


@dataclass(frozen=True)
class SeparatorEntry:
    """A stored separator test: the entry, the test as computed, each series' coverage."""

    entry: WellEntryResult
    test: WellTest
    series: dict[Fluid, str]
    coverage_pct: dict[Fluid, float]


def _window(start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    start, end = aware_time("start", start), aware_time("end", end)
    if end <= start:
        raise WellEntryError(f"end: {end.isoformat()} must be after start {start.isoformat()}")
    hours = Decimal((end - start).total_seconds()) / 3600
    if hours > MAX_TEST_HOURS:
        raise WellEntryError(
            f"end: the test lasts {hours:.2f} h ({start.isoformat()} to {end.isoformat()}), "
            f"more than {MAX_TEST_HOURS} h"
        )
    return start, end


def _series(
    conn: Conn, config: FieldConfig, well: str, named: dict[Fluid, str | None]
) -> dict[Fluid, OwnedSeries]:
    """The rate series of each fluid: as named (checked), else the well's only one."""
    own = rate_series_of_well(conn, config.id, well)
    codes: dict[Fluid, str] = {}
    for fluid in FLUIDS:
        code = named[fluid]
        if code is None:
            found = own.get(f"{fluid}_rate", [])
            if len(found) != 1:
                what = "no" if not found else f"{len(found)} ({', '.join(found)})"
                raise WellEntryError(
                    f"{fluid}_series: well {well} has {what} {fluid}_rate series; the test "
                    f"separator's {fluid} rate must be a {fluid}_rate series of the well (name "
                    "it when there are several)"
                )
            code = found[0]
        codes[fluid] = code
    rows = series_by_code(conn, config.id, list(codes.values()))
    out: dict[Fluid, OwnedSeries] = {}
    for fluid, code in codes.items():
        row = rows.get(code)
        field = f"{fluid}_series"
        if row is None:
            raise WellEntryError(f"{field}: {code!r} is not a series of field {config.code}")
        variable = VARIABLES.get(row.variable)
        if variable is None or variable.kind is not VariableKind.RATE:
            raise WellEntryError(
                f"{field}: {code!r} is a {row.variable} series, not a rate; expected the "
                f"well's {fluid}_rate series"
            )
        if row.variable != f"{fluid}_rate":
            raise WellEntryError(
                f"{field}: {code!r} is a {row.variable} series; expected the well's "
                f"{fluid}_rate series"
            )
        if row.well != well:
            owner = f"PMO {row.pmo}" if row.pmo is not None else f"well {row.well}"
            raise WellEntryError(
                f"{field}: {code!r} is a series of {owner}, not of well {well}; a test "
                "separator's rates are series of the well under test"
            )
        out[fluid] = row
    return out


def _readings(rows: list[tuple[dt.datetime, float, int]]) -> SeparatorSeries:
    values = np.array([r[1] for r in rows], dtype=np.float64)
    quality = np.array([r[2] for r in rows], dtype=np.int64)
    good = (quality >= 0) & (quality < GOOD_STORED_UPPER) & np.isfinite(values)
    return SeparatorSeries(np.array([to_us(r[0]) for r in rows], dtype=np.int64), values, good)


def add_separator_test(
    conn: Conn,
    *,
    field_code: str,
    well_code: str,
    start: dt.datetime,
    end: dt.datetime,
    tested_by: str,
    entered_by: str,
    oil_series: str | None = None,
    gas_series: str | None = None,
    water_series: str | None = None,
    bsw_pct: Decimal | float | str | None = None,
    accepted: bool = True,
    notes: str = "",
    replaces: int | None = None,
    settings: ProductionSettings = DEFAULT_SETTINGS,
) -> SeparatorEntry:
    """Read the well's test separator series over ``[start, end)``, store the test (module)."""
    config = load_field(conn, field_code)
    well_id_of(conn, config, well_code)
    start, end = _window(start, end)
    if not tested_by.strip():
        raise WellEntryError("tested_by: empty; say who ran the test")
    if not entered_by.strip():
        raise WellEntryError("entered_by: empty; say who enters the test")
    bsw = None
    if bsw_pct is not None:
        try:
            bsw = Decimal(str(bsw_pct))
        except ArithmeticError:
            raise WellEntryError(f"bsw_pct: {bsw_pct!r} is not a number") from None
        if not bsw.is_finite():
            raise WellEntryError(f"bsw_pct: {bsw_pct!r} is not a finite number")
    named: dict[Fluid, str | None] = {"oil": oil_series, "gas": gas_series, "water": water_series}
    series = _series(conn, config, well_code, named)
    raw = records.series_readings(conn, [s.id for s in series.values()], start, end)
    tested_on = contract_day_of(
        end - dt.timedelta(microseconds=1), timezone=config.timezone, start_hour=config.start_hour
    ).day
    readings = {f: _readings(raw.get(s.id, [])) for f, s in series.items()}
    try:
        computed = separator_test(
            well=well_code, tested_on=tested_on, window=Window(to_us(start), to_us(end)),
            oil_bbl_d=readings["oil"], gas_kscf_d=readings["gas"],
            water_bbl_d=readings["water"], tested_by=tested_by,
            gap_tolerance_s={
                f: settings.gap_tolerance_s(s.sampling_period_s) for f, s in series.items()
            },
            min_coverage_pct=MIN_COVERAGE_PCT, bsw_pct=bsw,
            labels={f: f"{f}_series {s.code!r}" for f, s in series.items()},
        )  # fmt: skip
    except AllocationError as exc:
        raise WellEntryError(str(exc)) from None
    test = computed.test
    codes = {f: s.code for f, s in series.items()}
    coverage = {f: round(c, 1) for f, c in computed.coverage_pct.items()}
    separator = {"series": codes, "coverage_pct": coverage}
    values: dict[str, Any] = {
        "duration_h": test.duration_h,
        "oil_bbl_d": test.oil_bbl_d,
        "gas_kscf_d": test.gas_kscf_d,
        "water_bbl_d": test.water_bbl_d,
        "bsw_pct": test.bsw_pct,
    }
    window = {"window_start": start, "window_end": end, "separator": separator}
    entry = store_well_test(
        conn, config, well_code=well_code, tested_on=tested_on,
        values={**values, **window, "source": "test_separator", "accepted": accepted,
                "tested_by": tested_by, "notes": notes},
        audit={**values, "source": "test_separator", **window},
        entered_by=entered_by, replaces=replaces,
    )  # fmt: skip
    return SeparatorEntry(entry, test, codes, computed.coverage_pct)
