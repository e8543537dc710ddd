"""The site file's tanks: strapping table, shell, floating roof and level telemetry.

A tank is gauged by hand (API MPMS 12.1.1, ``manual tank`` / ``manual stock``) or, when it names
a level series (``level_telemetry``), its stock at the contract-day boundaries comes from that
series through the same strapping table and corrections (docs/allocation.md, "Balances").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class SiteModel(BaseModel):
    """The base of every site-file model: unknown keys are refused, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class TankShellConf(SiteModel):
    """A tank's shell for its temperature correction (API MPMS 12.1.1 CTSh)."""

    insulated: bool = False
    expansion_per_f: float | None = Field(
        None, gt=0, lt=1e-4, description="Linear expansion of the shell steel, per °F"
    )
    reference_temperature_f: float = Field(60.0, description="Shell temperature of the table")


class FloatingRoofConf(SiteModel):
    """A floating roof: corrected by gravity (the table deducts it) or by its weight."""

    kind: Literal["gravity", "weight"]
    landed_level: float = Field(description="At or below this level the roof rests on its legs")
    floating_level: float = Field(description="At or above this level the roof floats")
    reference_api: float | None = None
    bbl_per_api: float | None = None
    weight_lb: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _complete(self) -> FloatingRoofConf:
        need = ("reference_api", "bbl_per_api") if self.kind == "gravity" else ("weight_lb",)
        missing = [n for n in need if getattr(self, n) is None]
        if missing:
            raise ValueError(f"a floating roof corrected by {self.kind} needs {missing}")
        if not self.landed_level < self.floating_level:
            raise ValueError(
                f"landed_level {self.landed_level} must be below floating_level "
                f"{self.floating_level}"
            )
        return self


class TankLevelTelemetry(SiteModel):
    """A storage tank's stock from its level transmitter (docs/allocation.md, "Balances").

    At each contract-day boundary the level series gives the level (interpolated between the
    good readings around it, else the last good reading within ``max_age_s``), which goes
    through the strapping table and API MPMS 12.1.1 as a hand gauge would.
    """

    level_series: str = Field(
        min_length=1, description="Code of the field's tank_level series of this tank"
    )
    temperature_series: str | None = Field(
        None, min_length=1, description="Code of its tank_temperature series (liquid, degF)"
    )
    temperature_f: float | None = Field(
        None, ge=-40, le=400, description="Liquid temperature, degF, when there is no series"
    )
    ambient_f: float | None = Field(
        None, ge=-40, le=150, description="Ambient temperature, degF (uninsulated shell)"
    )
    oil_from: str = Field(
        min_length=1,
        description="Oil PMO whose day's API gravity at 60 degF and S&W the stock is corrected "
        "with (the oil the tank holds)",
    )
    max_age_s: float = Field(
        1800, gt=0, le=86_400, description="Oldest good reading taken as the boundary's level"
    )
    stuck_after_s: float | None = Field(
        21_600,
        gt=0,
        le=604_800,
        description="A level reading the very same value this long before a boundary is "
        "flagged as stuck (null: never)",
    )

    @model_validator(mode="after")
    def _temperature(self) -> TankLevelTelemetry:
        if self.temperature_series is None and self.temperature_f is None:
            raise ValueError(
                "give the liquid temperature as temperature_series (a tank_temperature series) "
                "or temperature_f (a fixed value in degF): 12.1.1 corrects the stock to 60 degF"
            )
        return self


class Tank(SiteModel):
    """A tank gauged by hand (API MPMS 12.1.1), with its strapping (capacity) table."""

    code: str = Field(min_length=1, max_length=60)
    name: str = Field(min_length=1, max_length=200)
    pmo: str | None = Field(None, description="The PMO whose volume this tank's gauging gives")
    level_unit: Literal["ft", "in", "m", "cm"] = "ft"
    strapping: tuple[tuple[float, float], ...] = Field(
        min_length=2, description="Rows of [level, volume in bbl], levels increasing"
    )
    shell: TankShellConf = Field(default_factory=TankShellConf)
    roof: FloatingRoofConf | None = None
    level_telemetry: TankLevelTelemetry | None = Field(
        None, description="Stock from a level transmitter when the tank is not gauged by hand"
    )

    @model_validator(mode="after")
    def _ambient(self) -> Tank:
        telemetry = self.level_telemetry
        if telemetry is not None and not self.shell.insulated and telemetry.ambient_f is None:
            raise ValueError(
                f"tank {self.code!r}: level_telemetry.ambient_f is required for an uninsulated "
                "shell (its 12.1.1 shell correction weighs the ambient temperature 1/8)"
            )
        if telemetry is not None and self.pmo is not None:
            raise ValueError(
                f"tank {self.code!r} gives PMO {self.pmo!r}'s volume: level telemetry is for "
                "storage tanks (no pmo)"
            )
        return self

    @field_validator("strapping")
    @classmethod
    def _increasing(cls, rows: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
        for i in range(1, len(rows)):
            if rows[i][0] <= rows[i - 1][0]:
                raise ValueError(f"row {i + 1}: level {rows[i][0]} is not above {rows[i - 1][0]}")
            if rows[i][1] < rows[i - 1][1]:
                raise ValueError(f"row {i + 1}: volume {rows[i][1]} is below {rows[i - 1][1]}")
        return rows


def check_level_telemetry(
    index: int,
    tank: Tank,
    field_code: str,
    series: Mapping[str, Any],
    oil_pmos: Sequence[str],
) -> None:
    """The series and the PMO a tank's level telemetry names exist and fit (units included).

    ``series`` are the field's series by code (each with ``variable`` and ``unit``).
    """
    conf = tank.level_telemetry
    if conf is None:
        return
    where = f"tanks[{index}].level_telemetry"
    named: list[tuple[str, str, str, str]] = [
        ("level_series", conf.level_series, "tank_level", tank.level_unit)
    ]
    if conf.temperature_series is not None:
        named.append(("temperature_series", conf.temperature_series, "tank_temperature", "degF"))
    for key, code, variable, unit in named:
        found = series.get(code)
        if found is None:
            known = sorted(c for c, s in series.items() if s.variable == variable)
            raise ValueError(
                f"{where}.{key}: {code!r} is not a series of field {field_code!r} (its "
                f"{variable} series: {known})"
            )
        if found.variable != variable:
            raise ValueError(
                f"{where}.{key}: series {code!r} is a {found.variable!r} series, expected "
                f"{variable!r}"
            )
        if found.unit != unit:
            raise ValueError(
                f"{where}.{key}: series {code!r} is in {found.unit!r}, tank {tank.code!r} "
                f"needs {unit!r} (its level_unit, the strapping table's)"
            )
    if conf.oil_from not in oil_pmos:
        raise ValueError(
            f"{where}.oil_from: {conf.oil_from!r} is not an oil PMO of field {field_code!r} "
            f"(its oil PMOs: {list(oil_pmos)})"
        )
