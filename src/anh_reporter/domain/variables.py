"""Canonical variable names for series, with their kind and accepted units.

A series is one variable of one measurement point (PMO) or well. Names are fixed so that
production, analytics and reports can find "the oil flow rate of PMO X" without guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class VariableKind(StrEnum):
    """What a variable measures, which decides how a day of it is summarised."""

    RATE = "rate"  # flow rate: integrated over time
    TOTALIZER = "totalizer"  # cumulative counter: differenced over the day
    PROPERTY = "property"  # pressure, temperature, BSW...: flow- or time-weighted average
    STATE = "state"  # pump status, choke position: reported as is


@dataclass(frozen=True)
class Variable:
    """A canonical variable: its name, kind, accepted units and the fluid it belongs to."""

    name: str
    kind: VariableKind
    units: tuple[str, ...]
    fluid: str | None = None


_R, _T, _P, _S = (
    VariableKind.RATE,
    VariableKind.TOTALIZER,
    VariableKind.PROPERTY,
    VariableKind.STATE,
)

VARIABLES: dict[str, Variable] = {
    v.name: v
    for v in (
        Variable("oil_rate", _R, ("bbl/d",), "oil"),
        Variable("water_rate", _R, ("bbl/d",), "water"),
        Variable("gas_rate", _R, ("kscf/d",), "gas"),
        Variable("liquid_rate", _R, ("bbl/d",), None),
        Variable("oil_total", _T, ("bbl",), "oil"),
        Variable("water_total", _T, ("bbl",), "water"),
        Variable("gas_total", _T, ("kscf",), "gas"),
        Variable("line_pressure", _P, ("psig", "psia")),
        Variable("tubing_pressure", _P, ("psig",)),
        Variable("casing_pressure", _P, ("psig",)),
        Variable("separator_pressure", _P, ("psig",)),
        Variable("meter_pressure", _P, ("psig", "psia")),
        Variable("wellhead_temperature", _P, ("degF",)),
        Variable("flowline_temperature", _P, ("degF",)),
        Variable("separator_temperature", _P, ("degF",)),
        Variable("meter_temperature", _P, ("degF",)),
        Variable("bsw", _P, ("%",)),
        Variable("api_gravity", _P, ("degAPI",)),
        Variable("separator_level", _P, ("%", "in")),
        Variable("tank_level", _P, ("ft", "in", "m", "cm")),
        Variable("tank_temperature", _P, ("degF",)),
        Variable("choke", _S, ("64th", "%")),
        Variable("pump_status", _S, ("bool",)),
        Variable("pump_speed", _P, ("Hz", "rpm")),
        Variable("strokes_per_minute", _P, ("spm",)),
        Variable("motor_current", _P, ("A",)),
        Variable("motor_voltage", _P, ("V",)),
        Variable("motor_power", _P, ("kW",)),
    )
}

PUMP_DRIVEN: frozenset[str] = frozenset(
    {"pump_speed", "strokes_per_minute", "motor_current", "motor_power"}
)
"""Variables that follow the pump: zero while it is stopped, so not judged as a process value."""
