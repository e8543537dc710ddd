"""A well's virtual meter in the site file: the pump data it needs and what must be there.

The virtual meter (:mod:`anh_reporter.allocation.virtual_meter`, docs/allocation.md) reads the
well's speed series (:data:`LIFT_SPEED_SERIES`) and, for a rod pump or a PCP, the pump geometry
written here; an ESP needs nothing more (optionally its motor power or current series).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LIFT_SPEED_SERIES: dict[str, tuple[str, str]] = {
    "esp": ("pump_speed", "Hz"),
    "rod_pump": ("strokes_per_minute", "spm"),
    "pcp": ("pump_speed", "rpm"),
}
"""The speed series a virtual meter reads per lift method: (variable, unit)."""

ESP_LOAD_SERIES = {"power": "motor_power", "current": "motor_current"}
"""The series an ESP's load correction reads."""


class VirtualMeterConf(BaseModel):
    """What a well's virtual meter needs besides its speed series."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stroke_in: float | None = Field(
        None, gt=0, le=400, description="Rod pump: plunger stroke length, in"
    )
    plunger_diameter_in: float | None = Field(
        None, gt=0, le=8, description="Rod pump: plunger diameter, in"
    )
    displacement_bbl_d_per_rpm: float | None = Field(
        None, gt=0, le=100, description="PCP: rated displacement, bbl/d per rpm"
    )
    esp_correction: Literal["none", "power", "current"] = Field(
        "none", description="ESP: correct the affinity law by the motor power or current"
    )


def virtual_meter_problem(method: str, units: dict[str, str], vm: VirtualMeterConf) -> str | None:
    """Why a well (its method, its series' units by variable) cannot have ``vm``; None: it can."""
    if method not in LIFT_SPEED_SERIES:
        return (
            f"virtual_meter: production_method {method!r} has no pump speed to read; expected "
            f"one of {sorted(LIFT_SPEED_SERIES)}"
        )
    variable, unit = LIFT_SPEED_SERIES[method]
    if units.get(variable) != unit:
        got = f"{variable} in {units[variable]}" if variable in units else "no such series"
        return (
            f"virtual_meter: production_method {method!r} needs a {variable} series in {unit} "
            f"(got {got})"
        )
    need = {
        "rod_pump": ("stroke_in", "plunger_diameter_in"),
        "pcp": ("displacement_bbl_d_per_rpm",),
    }.get(method, ())
    missing = [n for n in need if getattr(vm, n) is None]
    if missing:
        return f"virtual_meter: production_method {method!r} needs {missing}"
    load = ESP_LOAD_SERIES.get(vm.esp_correction)
    if load is not None and method != "esp":
        return (
            f"virtual_meter.esp_correction: {vm.esp_correction!r} applies to ESP wells, not "
            f"{method}"
        )
    if load is not None and load not in units:
        return (
            f"virtual_meter.esp_correction: {vm.esp_correction!r} needs a {load} series (the "
            f"well's series: {sorted(units)})"
        )
    return None
