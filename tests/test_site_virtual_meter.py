"""A well's ``virtual_meter`` block in the site file: what it needs, refused with one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from anh_reporter.site import SiteFileError, load_site

from .test_site import MINIMAL, write

SPEED = {
    "Hz": "{variable: pump_speed, unit: Hz, range: [0, 70], sampling_period_s: 60, "
    "commissioned: 2024-01-01}",
    "rpm": "{variable: pump_speed, unit: rpm, range: [0, 500], sampling_period_s: 60, "
    "commissioned: 2024-01-01}",
    "spm": "{variable: strokes_per_minute, unit: spm, range: [0, 15], sampling_period_s: 60, "
    "commissioned: 2024-01-01}",
}


def site_with_well(tmp_path: Path, method: str, series: str, meter: str) -> Path:
    well = (
        "    wells:\n"
        f"      - {{code: W1, name: Pozo 1, production_method: {method}, pmo: P1,\n"
        f"         series: [{series}], virtual_meter: {meter}}}\n"
    )
    return write(tmp_path, MINIMAL.replace("RANGE", "[0, 100]") + well)


def test_each_lift_method_with_what_it_needs_loads(tmp_path: Path) -> None:
    esp = load_site(site_with_well(tmp_path, "esp", SPEED["Hz"], "{}"))
    assert esp.fields[0].wells[0].virtual_meter is not None
    rod = site_with_well(
        tmp_path, "rod_pump", SPEED["spm"], "{stroke_in: 144, plunger_diameter_in: 2.25}"
    )
    assert load_site(rod).fields[0].wells[0].virtual_meter.stroke_in == 144  # type: ignore[union-attr]
    pcp = site_with_well(tmp_path, "pcp", SPEED["rpm"], "{displacement_bbl_d_per_rpm: 2.5}")
    assert load_site(pcp).fields[0].wells[0].virtual_meter is not None


@pytest.mark.parametrize(
    ("method", "series", "meter", "message"),
    [
        ("natural_flow", SPEED["Hz"], "{}",
         "fields[0].wells[0]: virtual_meter: production_method 'natural_flow' has no pump speed"),
        ("esp", SPEED["rpm"], "{}",
         "production_method 'esp' needs a pump_speed series in Hz (got pump_speed in rpm)"),
        ("rod_pump", SPEED["spm"], "{stroke_in: 144}",
         "production_method 'rod_pump' needs ['plunger_diameter_in']"),
        ("rod_pump", SPEED["spm"], "{stroke_in: 144, plunger_diameter_in: 12}",
         "fields[0].wells[0].virtual_meter.plunger_diameter_in: Input should be less than or "
         "equal to 8 (got 12)"),
        ("pcp", SPEED["rpm"], "{displacement_bbl_d_per_rpm: 0}",
         "displacement_bbl_d_per_rpm: Input should be greater than 0 (got 0)"),
        ("esp", SPEED["Hz"], "{esp_correction: current}",
         "'current' needs a motor_current series (the well's series: ['pump_speed'])"),
    ],
)  # fmt: skip
def test_a_virtual_meter_without_its_inputs_is_refused(
    tmp_path: Path, method: str, series: str, meter: str, message: str
) -> None:
    with pytest.raises(SiteFileError) as exc:
        load_site(site_with_well(tmp_path, method, series, meter))
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)
