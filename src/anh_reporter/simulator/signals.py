"""Deterministic, plausible field signals: a pure function of (seed, series, time).

Every value depends only on the seed, the series key and the timestamp, so the demo's
backfilled history and the live simulator agree on any instant, in any order, vectorised.

Models by variable kind (parameters from the series' ``simulation`` mapping, defaults from its
engineering range):

* rate: Arps hyperbolic decline ``q(t) = qi / (1 + b·Di·t)^(1/b)`` (t in years since
  commissioning, ``Di`` per year; ``b = 0`` is exponential) plus a diurnal swing
  ``a·qi·sin(2π·day_fraction)`` and Gaussian noise of ``noise·q``.
* totalizer: the exact integral of the noise-free rate since commissioning, modulo ``rollover``
  (so the daily totalizer difference equals the rate's integral).
* property: ``base`` + slow drift (``drift`` amplitude over ``drift_days``) + diurnal swing
  (``diurnal`` amplitude, peaking mid-afternoon local time) + noise; clipped to the range.
* pump status: on/off cycles (``on_h`` hours on, ``off_h`` off), and pump-driven properties
  (speed, current, power, strokes) drop to zero while the pump is off.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from anh_reporter.domain.variables import PUMP_DRIVEN, VARIABLES, VariableKind

US_PER_DAY = 86_400_000_000
DAYS_PER_YEAR = 365.25
LOCAL_OFFSET_H = -5.0  # America/Bogota has no DST

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SignalSpec:
    """What the generator needs to know about one series."""

    key: int  # stable per series (e.g. its database id)
    variable: str
    range_lo: float
    range_hi: float
    commissioned_us: int
    rollover: float | None = None
    params: dict[str, float] = field(default_factory=dict)
    group: int = 0  # shared by the series of one PMO or well (pump cycles); 0: use the key

    def param(self, name: str, default: float) -> float:
        """A simulation parameter, or its default."""
        return float(self.params.get(name, default))


def generate(spec: SignalSpec, times_us: npt.NDArray[np.int64], seed: int) -> FloatArray:
    """Values of one series at the given instants (µs since the Unix epoch, UTC)."""
    kind = VARIABLES[spec.variable].kind
    if kind is VariableKind.RATE:
        return _rate(spec, times_us, seed)
    if kind is VariableKind.TOTALIZER:
        return _totalizer(spec, times_us)
    if spec.variable == "pump_status":
        return pump_on(spec, times_us).astype(np.float64)
    if kind is VariableKind.STATE:
        span = spec.range_hi - spec.range_lo
        return np.full(len(times_us), spec.param("base", spec.range_lo + 0.4 * span))
    values = _property(spec, times_us, seed)
    if spec.variable in PUMP_DRIVEN:
        values = np.where(pump_on(spec, times_us), values, 0.0)
    return values


def _years_since_commissioning(spec: SignalSpec, times_us: npt.NDArray[np.int64]) -> FloatArray:
    days = (times_us - spec.commissioned_us).astype(np.float64) / US_PER_DAY
    return np.maximum(days, 0.0) / DAYS_PER_YEAR


def _decline_params(spec: SignalSpec) -> tuple[float, float, float, float]:
    span = spec.range_hi - spec.range_lo
    qi = spec.param("qi", spec.range_lo + 0.6 * span)
    di = spec.param("di", 0.25)
    b = spec.param("b", 0.5)
    diurnal = spec.param("diurnal", 0.02)
    return qi, di, b, diurnal


def _rate_deterministic(spec: SignalSpec, times_us: npt.NDArray[np.int64]) -> FloatArray:
    qi, di, b, diurnal = _decline_params(spec)
    t = _years_since_commissioning(spec, times_us)
    decline = qi * np.exp(-di * t) if b == 0 else qi / np.power(1.0 + b * di * t, 1.0 / b)
    day_fraction = _day_fraction(times_us)
    return decline + diurnal * qi * np.sin(2 * np.pi * day_fraction)


def _rate(spec: SignalSpec, times_us: npt.NDArray[np.int64], seed: int) -> FloatArray:
    q = _rate_deterministic(spec, times_us)
    noise = spec.param("noise", 0.01)
    values = q * (1.0 + noise * normal_noise(seed, spec.key, times_us))
    return np.clip(values, max(spec.range_lo, 0.0), spec.range_hi)


def _totalizer(spec: SignalSpec, times_us: npt.NDArray[np.int64]) -> FloatArray:
    """Closed-form integral of the noise-free rate (volume per day) since commissioning."""
    qi, di, b, diurnal = _decline_params(spec)
    t = _years_since_commissioning(spec, times_us)
    if b == 0:
        years_volume = qi / di * (1.0 - np.exp(-di * t))
    elif b == 1:
        years_volume = qi / di * np.log1p(di * t)
    else:
        years_volume = qi / ((1.0 - b) * di) * (1.0 - np.power(1.0 + b * di * t, 1.0 - 1.0 / b))
    volume = years_volume * DAYS_PER_YEAR  # q is per day, t in years
    # ∫ a·qi·sin(2π·d) dd over days d = a·qi·(cos(2π·d0) − cos(2π·d))/(2π)
    start_fraction = _day_fraction(np.array([spec.commissioned_us], dtype=np.int64))[0]
    frac = np.where(times_us > spec.commissioned_us, _day_fraction(times_us), start_fraction)
    volume += (
        diurnal * qi * (np.cos(2 * np.pi * start_fraction) - np.cos(2 * np.pi * frac)) / (2 * np.pi)
    )
    volume += spec.param("offset", 0.0)
    if spec.rollover:
        volume = np.mod(volume, spec.rollover)
    return volume


def _property(spec: SignalSpec, times_us: npt.NDArray[np.int64], seed: int) -> FloatArray:
    span = spec.range_hi - spec.range_lo
    base = spec.param("base", spec.range_lo + 0.5 * span)
    drift = spec.param("drift", 0.02 * span)
    drift_days = spec.param("drift_days", 30.0)
    diurnal = spec.param("diurnal", 0.01 * span)
    noise = spec.param("noise", 0.005 * span)
    days = (times_us - spec.commissioned_us).astype(np.float64) / US_PER_DAY
    phase = (spec.key % 97) / 97.0 * 2 * np.pi
    local_hours = _day_fraction(times_us) * 24.0
    values = (
        base
        + drift * np.sin(2 * np.pi * days / drift_days + phase)
        + diurnal * np.sin(2 * np.pi * (local_hours - 9.0) / 24.0)
        + noise * normal_noise(seed, spec.key, times_us)
    )
    return np.clip(values, spec.range_lo, spec.range_hi)


def pump_on(spec: SignalSpec, times_us: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Whether the well's pump runs: ``on_h`` hours on, then ``off_h`` hours off."""
    on_us = int(spec.param("on_h", 22.0) * 3_600_000_000)
    off_us = int(spec.param("off_h", 2.0) * 3_600_000_000)
    period = on_us + off_us
    offset = ((spec.group or spec.key) * 7_919 * 60_000_000) % period
    return np.asarray(((times_us + offset) % period) < on_us)


def _day_fraction(times_us: npt.NDArray[np.int64]) -> FloatArray:
    local = times_us + int(LOCAL_OFFSET_H * 3_600_000_000)
    return np.asarray((local % US_PER_DAY).astype(np.float64) / US_PER_DAY)


def _splitmix64(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def uniform_noise(
    seed: int, key: int, times_us: npt.NDArray[np.int64], stream: int = 0
) -> FloatArray:
    """Uniform (0, 1) numbers that depend only on (seed, key, time, stream)."""
    with np.errstate(over="ignore"):
        mixed = np.uint64((seed * 0x100000001B3 + key * 0x9E37 + stream) & 0xFFFFFFFFFFFFFFFF)
        h = _splitmix64(times_us.astype(np.uint64) ^ _splitmix64(np.array([mixed]))[0])
    return ((h >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)


def normal_noise(seed: int, key: int, times_us: npt.NDArray[np.int64]) -> FloatArray:
    """Standard normal numbers (Box–Muller) that depend only on (seed, key, time)."""
    u1 = uniform_noise(seed, key, times_us, 1)
    u2 = uniform_noise(seed, key, times_us, 2)
    return np.asarray(np.sqrt(-2.0 * np.log(u1)) * np.cos(2 * np.pi * u2))


def sample_times(start_us: int, end_us: int, period_s: float) -> npt.NDArray[np.int64]:
    """Instants on the period grid (aligned to the Unix epoch) within [start_us, end_us)."""
    step = round(period_s * 1_000_000)
    first = -(-start_us // step) * step
    return np.arange(first, end_us, step, dtype=np.int64)
