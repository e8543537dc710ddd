"""The site file (YAML): operator, fields, wells, measurement points (PMOs) and series.

``load_site(path)`` returns a validated :class:`Site` or raises :class:`SiteFileError` whose
message names the file, the path inside it (``fields[0].pmos[2].series[1].range``), the value
and what was expected.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from anh_reporter.domain.variables import VARIABLES, VariableKind
from anh_reporter.errors import AnhError, ConfigError
from anh_reporter.site_allocation import AllocationConf
from anh_reporter.site_avm import duplicate_avm_code_problem, reserved_well_code_problem
from anh_reporter.site_injection import injection_meter_problem
from anh_reporter.site_tanks import SiteModel as _Model
from anh_reporter.site_tanks import Tank, check_level_telemetry
from anh_reporter.site_virtual_meter import VirtualMeterConf, virtual_meter_problem

M = TypeVar("M", bound=BaseModel)


class SiteFileError(ConfigError):
    """A site file that cannot be read or does not describe a valid site."""


class Series(_Model):
    """One variable of one PMO or well, as the SCADA delivers it."""

    variable: str
    unit: str
    range: tuple[float, float] = Field(description="Engineering range [lo, hi]")
    sampling_period_s: float = Field(gt=0, le=86_400)
    commissioned: dt.date
    code: str | None = Field(None, min_length=1, max_length=120)
    rollover: float | None = Field(
        None,
        gt=0,
        description="Totalizer modulus: the counter wraps from just below this value to 0 "
        "(e.g. 10000000 or 4294967296 for a 32-bit register), not its last value",
    )
    resolution: float | None = Field(
        None, gt=0, description="Totalizer resolution (its smallest step), in the series' unit"
    )
    backstep_tolerance: float | None = Field(
        None,
        ge=0,
        description="Largest backward step of a totalizer taken as noise (a stale re-read); "
        "default from the resolution and the meter's rate",
    )
    low_flow_cutoff: float | None = Field(
        None, ge=0, description="Flow rates below this are taken as 0 (and counted)"
    )
    basis: Literal["observed", "base"] | None = Field(
        None,
        description="API gravity: observed at line temperature and pressure, or already at "
        "base (60 °F); required for api_gravity series",
    )
    simulation: dict[str, float] = Field(default_factory=dict)

    @field_validator("variable")
    @classmethod
    def _known_variable(cls, value: str) -> str:
        if value not in VARIABLES:
            raise ValueError(f"unknown variable {value!r}; expected one of {sorted(VARIABLES)}")
        return value

    @field_validator("range")
    @classmethod
    def _ordered_range(cls, value: tuple[float, float]) -> tuple[float, float]:
        lo, hi = value
        if not lo < hi:
            raise ValueError(f"range lo must be below hi, got [{lo}, {hi}]")
        return value

    @model_validator(mode="after")
    def _unit_fits_variable(self) -> Series:
        units = VARIABLES[self.variable].units
        if self.unit not in units:
            raise ValueError(
                f"unit {self.unit!r} does not fit variable {self.variable!r}; expected one of "
                f"{list(units)}"
            )
        kind = VARIABLES[self.variable].kind
        if self.variable == "api_gravity" and self.basis is None:
            raise ValueError(
                "basis: say whether this api_gravity series is observed (at line temperature "
                "and pressure, e.g. a densitometer) or already at base (60 °F, e.g. a lab "
                "value): basis: observed | base"
            )
        if self.basis is not None and self.variable != "api_gravity":
            raise ValueError(f"basis applies to api_gravity series, not {self.variable!r}")
        totalizer_only = ("rollover", "resolution", "backstep_tolerance")
        for name in totalizer_only:
            if getattr(self, name) is not None and kind is not VariableKind.TOTALIZER:
                raise ValueError(f"{name} applies to totalizer series, not {self.variable!r}")
        if self.low_flow_cutoff is not None and kind is not VariableKind.RATE:
            raise ValueError(f"low_flow_cutoff applies to rate series, not {self.variable!r}")
        if self.rollover is not None and self.rollover <= self.range[1]:
            raise ValueError(
                f"rollover {self.rollover:.15g} is the counter's modulus (it wraps from just "
                f"below it to 0) and must be above the top of the range {self.range[1]:.15g}; "
                f"for a counter whose last value is {self.range[1]:.15g}, write rollover: "
                f"{self.range[1] + (self.resolution or 1):.15g}"
            )
        return self


class BaseConditions(_Model):
    """Reference conditions of a volume (API MPMS: 60 °F; gas base pressure is configurable)."""

    temperature_f: float = Field(60.0, ge=-40, le=200)
    pressure_psia: float = Field(14.696, gt=0, le=20)


class Meter(_Model):
    """The meter of a PMO."""

    type: str = Field("turbine", min_length=1, max_length=40)
    has_totalizer: bool = True
    meter_factor: float = Field(1.0, gt=0.8, lt=1.2)
    max_rate: float | None = Field(
        None,
        gt=0,
        description="Largest flow the meter can pass, per day, in the PMO's volume unit "
        "(default: the top of its rate series' range)",
    )
    uncertainty_pct: float | None = Field(
        None, gt=0, le=20, description="The meter's expanded (k = 2) uncertainty, % of volume"
    )
    proving_interval_days: int = Field(
        31, ge=1, le=3660, description="A proving older than this is overdue"
    )


class Custody(_Model):
    """Which series give a PMO's custody temperature and pressure (variables of the PMO)."""

    temperature: str = "meter_temperature"
    pressure: str = "meter_pressure"
    fallback_temperature: str | None = Field(
        None, description="Used only when the custody series has no data (with a warning)"
    )
    fallback_pressure: str | None = None


PmoRole = Literal[
    "production",
    "transfer",
    "sales",
    "fuel",
    "flare",
    "vent",
    "reinjection",
    "gas_lift",
    "water_disposal",
    "water_injection",
]


class Pmo(_Model):
    """An official measurement point (Punto de Medición Oficial)."""

    code: str = Field(min_length=1, max_length=60)
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["oil", "gas", "water"]
    role: PmoRole = "production"
    meter: Meter = Field(default_factory=Meter)
    base_conditions: BaseConditions = Field(default_factory=BaseConditions)
    custody: Custody = Field(default_factory=Custody)
    sales_bsw_spec_pct: float = Field(
        0.5, ge=0, le=100, description="Sales specification of BSW (role: sales, LACT), %"
    )
    facility: str | None = Field(
        None,
        description="The facility (battery, station) the PMO sits at; default: the "
        "field's only facility",
    )
    downstream_of: str | tuple[str, ...] | None = Field(
        None,
        description="The PMO the same fluid passed through just before this one, or a list of "
        "them where several flows converge (e.g. two batteries' transfer meters feeding a "
        "station)",
    )
    series: tuple[Series, ...] = ()

    @field_validator("downstream_of")
    @classmethod
    def _upstream_codes(cls, value: str | tuple[str, ...] | None) -> str | tuple[str, ...] | None:
        if value is None or isinstance(value, str):
            return value
        if not value:
            raise ValueError("an empty list names no PMO: name at least one, or leave it out")
        if any(not c.strip() for c in value) or len(set(value)) < len(value):
            raise ValueError("name each upstream PMO once, by a code that is not blank")
        return value[0] if len(value) == 1 else value

    @model_validator(mode="after")
    def _custody_series_exist(self) -> Pmo:
        variables = {s.variable for s in self.series}
        for name in ("fallback_temperature", "fallback_pressure"):
            variable = getattr(self.custody, name)
            if variable is not None and variable not in variables:
                raise ValueError(
                    f"custody.{name}: {variable!r} is not a series of PMO {self.code!r} "
                    f"(its series: {sorted(variables)})"
                )
        return self


FluidName = Literal["oil", "gas", "water"]


class Facility(_Model):
    """A battery or a station of a field: wells flow to it, PMOs sit at it."""

    code: str = Field(min_length=1, max_length=60)
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["battery", "station"] = "battery"


class Well(_Model):
    """A producing or injecting well."""

    code: str = Field(min_length=1, max_length=60)
    name: str = Field(min_length=1, max_length=200)
    production_method: Literal[
        "natural_flow", "esp", "rod_pump", "pcp", "gas_lift", "jet_pump", "injector"
    ] = "natural_flow"
    pmo: str | None = Field(
        None,
        description="Legacy: code of the PMO this well's production goes to (fields "
        "without facilities)",
    )
    facility: str | None = Field(
        None, description="The facility the well flows to; default: the field's only facility"
    )
    entries: tuple[str, ...] = Field(
        (),
        description="The PMOs the well's fluids enter, when not all of its facility's entry "
        "PMOs (parallel trains)",
    )
    fluids: tuple[FluidName, ...] | None = Field(
        None,
        description="Fluids the well produces (default: every fluid the field has a "
        "production PMO of)",
    )
    municipality_dane: str | None = Field(
        None,
        pattern=r"^\d{5}$",
        description="DANE code of the well's municipality (default: the field's)",
    )
    avm_code: str | None = Field(
        None,
        min_length=1,
        max_length=60,
        pattern=r"^\S(.*\S)?$",
        description="The ANH's code of the well (its AVM master data), when the operator's "
        "`code` differs; default: `code`. One of a kind in the field, compared without case. "
        "Date-effective like the topology: reported in each well row (from profiles idp-1.3 "
        "and anh-es-1.1) as in force when the day started, and in the Forma 9SH as signed",
    )
    series: tuple[Series, ...] = ()
    virtual_meter: VirtualMeterConf | None = Field(
        None,
        description="Estimate the well's daily liquid from its pump speed (ESP, rod pump, PCP), "
        "calibrated on its last valid test",
    )
    injection_meter: str | None = Field(
        None,
        min_length=1,
        description="An injector's water_rate (bbl/d) or water_total (bbl) series, by code: its "
        "day's injection counts in the water balance",
    )

    @model_validator(mode="after")
    def _injector_produces_nothing(self) -> Well:
        if self.production_method == "injector":
            named = [
                f"{k}: {list(v)}"
                for k, v in (("fluids", self.fluids), ("entries", self.entries))
                if v
            ]
            if named:
                raise ValueError(
                    f"an injector produces no fluid and takes no part in the production "
                    f"allocation: remove {' and '.join(named)}"
                )
        return self

    @model_validator(mode="after")
    def _virtual_meter_inputs(self) -> Well:
        if self.virtual_meter is not None:
            units = {s.variable: s.unit for s in self.series}
            problem = virtual_meter_problem(self.production_method, units, self.virtual_meter)
            if problem:
                raise ValueError(problem)
        return self


class FieldSite(_Model):
    """An oil or gas field (campo) under a contract."""

    code: str = Field(min_length=1, max_length=60, description="ANH / AVM field code")
    name: str = Field(min_length=1, max_length=200)
    contract: str = Field(min_length=1, max_length=100)
    municipality_dane: str = Field(pattern=r"^\d{5}$", description="DANE municipality code")
    timezone: str = "America/Bogota"
    contract_day_start_hour: int = Field(6, ge=0, le=23)
    report_type: Literal["A", "B"] = "A"
    report_profile: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9.-]{0,59}$",
        description="Profile of the field's daily reports (e.g. anh-es-1.0, the ANH's Spanish "
        "field names); default: the configured one (ANH_REPORTS__PROFILE)",
    )
    gas_reporting_base: BaseConditions | None = Field(
        None,
        description="Base conditions of every gas figure in the report; a flow computer on "
        "another base is converted (default: report each at its flow computer's base)",
    )
    facilities: tuple[Facility, ...] = ()
    allocation: AllocationConf = Field(default_factory=AllocationConf)
    wells: tuple[Well, ...] = ()
    pmos: tuple[Pmo, ...] = ()
    tanks: tuple[Tank, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA timezone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> FieldSite:
        pmo_codes = [p.code for p in self.pmos]
        _no_duplicates(pmo_codes, "PMO code")
        _no_duplicates([w.code for w in self.wells], "well code")
        if problem := duplicate_avm_code_problem([(w.code, w.avm_code) for w in self.wells]):
            raise ValueError(problem)
        if problem := reserved_well_code_problem([w.code for w in self.wells]):
            raise ValueError(problem)
        for well in self.wells:
            if well.pmo is not None and well.pmo not in pmo_codes:
                raise ValueError(
                    f"well {well.code!r} names PMO {well.pmo!r}, which is not among {pmo_codes}"
                )
        _no_duplicates([f.code for f in self.facilities], "facility code")
        facility_codes = [f.code for f in self.facilities]
        owners = [("PMO", p.code, p.facility) for p in self.pmos]
        owners += [("well", w.code, w.facility) for w in self.wells]
        for what, code, facility in owners:
            if facility is not None and facility not in facility_codes:
                raise ValueError(
                    f"{what} {code!r} names facility {facility!r}, which is not among "
                    f"{facility_codes}"
                )
        _no_duplicates([t.code for t in self.tanks], "tank code")
        for tank in self.tanks:
            if tank.pmo is not None and tank.pmo not in pmo_codes:
                raise ValueError(
                    f"tank {tank.code!r} names PMO {tank.pmo!r}, which is not among {pmo_codes}"
                )
        for well in self.wells:
            if well.injection_meter is not None:
                own = {series_code(self.code, well.code, s): s for s in well.series}
                problem = injection_meter_problem(
                    self.code, well.code, well.production_method, well.injection_meter, own
                )
                if problem:
                    raise ValueError(problem)
        oil_pmos = [p.code for p in self.pmos if p.kind == "oil"]
        for i, tank in enumerate(self.tanks):
            if tank.level_telemetry is not None:
                check_level_telemetry(i, tank, self.code, field_series(self), oil_pmos)
        return self

    def facility_of(self, named: str | None) -> str | None:
        """The facility a PMO or well names, else the field's only facility (None: unknown)."""
        if named is not None:
            return named
        return self.facilities[0].code if len(self.facilities) == 1 else None

    def well_fluids(self, well: Well) -> tuple[FluidName, ...]:
        """The fluids ``well`` produces: none for an injector, its own list, else every fluid
        with a production PMO."""
        if well.production_method == "injector":
            return ()
        if well.fluids is not None:
            return well.fluids
        kinds = {p.kind for p in self.pmos if p.role == "production"}
        order: tuple[FluidName, ...] = ("oil", "gas", "water")
        return tuple(k for k in order if k in kinds)


class Operator(_Model):
    """The company that reports."""

    name: str = Field(min_length=1, max_length=200)
    nit: str = Field(pattern=r"^\d{6,10}-\d$", description="NIT with check digit, e.g. 900123456-7")


class Site(_Model):
    """A whole site file."""

    operator: Operator
    fields: tuple[FieldSite, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_codes(self) -> Site:
        _no_duplicates([f.code for f in self.fields], "field code")
        _no_duplicates([code for code, _ in self.series_codes()], "series code")
        return self

    def series_codes(self) -> list[tuple[str, Series]]:
        """Every series with its code (given, or ``FIELD.OWNER.variable``)."""
        out: list[tuple[str, Series]] = []
        for field in self.fields:
            owners = [(p.code, p.series) for p in field.pmos]
            owners += [(w.code, w.series) for w in field.wells]
            for owner, series in owners:
                out.extend((series_code(field.code, owner, s), s) for s in series)
        return out


def field_series(field: FieldSite) -> dict[str, Series]:
    """Every series of ``field`` (its PMOs' and wells') by code."""
    owners = [(p.code, p.series) for p in field.pmos] + [(w.code, w.series) for w in field.wells]
    return {series_code(field.code, o, s): s for o, series in owners for s in series}


def series_code(field_code: str, owner_code: str, series: Series) -> str:
    """The code a series is known by: its own, or ``FIELD.OWNER.variable``."""
    return series.code or f"{field_code}.{owner_code}.{series.variable}"


def _no_duplicates(codes: list[str], what: str) -> None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise ValueError(f"duplicate {what} {code!r}")
        seen.add(code)


def load_site(path: Path) -> Site:
    """Read and validate a site file; raise :class:`SiteFileError` with one readable line."""
    return load_yaml_model(
        path, Site, what="site file", top="'operator' and 'fields'", error=SiteFileError
    )


def load_yaml_model(
    path: Path, model: type[M], *, what: str, top: str, error: type[AnhError] = ConfigError
) -> M:
    """Read a YAML file into a Pydantic model; every problem is one line naming the file.

    ``what`` names the file in messages ("site file", "Modbus tag map"), ``top`` what its top
    level must hold; ``error`` is the exception raised.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"{path}: cannot read the {what} ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise error(f"{path}: the {what} is not UTF-8 text (byte {exc.start})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(f"{path}: not valid YAML{where}: {problem}") from None
    if not isinstance(raw, dict):
        raise error(f"{path}: expected a mapping with {top} at the top")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise error(describe_validation_error(path, exc)) from None


def describe_validation_error(path: Path, exc: ValidationError) -> str:
    """One line per problem: ``file: loc: message (got value)`` (no value for a section's own
    check); the first problem leads."""
    errors = exc.errors()
    # A list whose items failed also fails its length check ("at least 1 item after validation,
    # not 0"): that one only repeats its items' own problems, so it is left out.
    inner = {e["loc"][:n] for e in errors for n in range(len(e["loc"]))}
    errors = [e for e in errors if not (e["type"] == "too_short" and e["loc"] in inner)]
    lines = []
    for err in errors:
        loc = _format_loc(err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        value = err.get("input")
        # A whole section's check (a field's, a PMO's) names its values in its message: the
        # section itself, cut at 80 characters, would only add noise.
        whole = isinstance(value, dict) and err["type"] == "value_error"
        got = "" if whole else f" (got {_short(value)})"
        lines.append(f"{path}: {loc or '(top)'}: {msg}{got}")
    first = lines[0]
    more = len(lines) - 1
    return first if more == 0 else first + f"; and {more} more problem(s): " + " | ".join(lines[1:])


def _format_loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith(("function-", "tagged-union")):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
