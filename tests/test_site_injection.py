"""An injector's ``injection_meter`` in the site file: which series, refused with one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from anh_reporter.site import SiteFileError, load_site

from .test_site import MINIMAL, write

RATE = (
    "{variable: water_rate, unit: bbl/d, range: [0, 20000], sampling_period_s: 60, "
    "commissioned: 2024-01-01}"
)
TOTAL = (
    "{variable: water_total, unit: bbl, range: [0, 9999999], sampling_period_s: 60, "
    "commissioned: 2024-01-01, rollover: 10000000}"
)
PRESSURE = (
    "{variable: tubing_pressure, unit: psig, range: [0, 3000], sampling_period_s: 60, "
    "commissioned: 2024-01-01}"
)


def site_with_injector(tmp_path: Path, method: str, series: str, meter: str) -> Path:
    well = (
        "    wells:\n"
        f"      - {{code: INJ-1, name: Inyector 1, production_method: {method}, pmo: P1,\n"
        f"         series: [{series}], injection_meter: {meter}}}\n"
    )
    return write(tmp_path, MINIMAL.replace("RANGE", "[0, 100]") + well)


def test_an_injector_names_its_rate_or_totalizer(tmp_path: Path) -> None:
    rate = load_site(site_with_injector(tmp_path, "injector", RATE, "F1.INJ-1.water_rate"))
    assert rate.fields[0].wells[0].injection_meter == "F1.INJ-1.water_rate"
    both = f"{RATE}, {TOTAL}"
    total = load_site(site_with_injector(tmp_path, "injector", both, "F1.INJ-1.water_total"))
    assert total.fields[0].wells[0].injection_meter == "F1.INJ-1.water_total"


@pytest.mark.parametrize(
    ("method", "series", "meter", "message"),
    [
        ("esp", RATE, "F1.INJ-1.water_rate",
         "fields[0]: well 'INJ-1' of field 'F1': injection_meter 'F1.INJ-1.water_rate': only an "
         "injector's water is metered into the balance; this well's production_method is 'esp'"),
        ("injector", RATE, "F1.INJ-1.water_totl",
         "well 'INJ-1' of field 'F1': injection_meter 'F1.INJ-1.water_totl' is not a series of "
         "the well (its water_rate / water_total series: ['F1.INJ-1.water_rate'])"),
        ("injector", RATE, "F1.P1.oil_rate",
         "injection_meter 'F1.P1.oil_rate' is not a series of the well"),
        ("injector", f"{RATE}, {PRESSURE}", "F1.INJ-1.tubing_pressure",
         "injection_meter 'F1.INJ-1.tubing_pressure' is a 'tubing_pressure' series; expected one "
         "of ['water_rate', 'water_total']"),
        ("injector", RATE, "''",
         "fields[0].wells[0].injection_meter: String should have at least 1 character"),
    ],
)  # fmt: skip
def test_a_wrong_injection_meter_is_refused(
    tmp_path: Path, method: str, series: str, meter: str, message: str
) -> None:
    with pytest.raises(SiteFileError) as exc:
        load_site(site_with_injector(tmp_path, method, series, meter))
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)


def test_a_water_series_in_another_unit_is_refused_by_its_variable(tmp_path: Path) -> None:
    """water_rate only comes in bbl/d: a series in another unit never reaches the meter check."""
    wrong = RATE.replace("bbl/d", "m3/d")
    with pytest.raises(SiteFileError, match=r"unit 'm3/d' does not fit variable 'water_rate'"):
        load_site(site_with_injector(tmp_path, "injector", wrong, "F1.INJ-1.water_rate"))
