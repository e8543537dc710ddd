"""The signal generator is deterministic and physically consistent."""

from __future__ import annotations

import numpy as np

from anh_reporter.simulator.signals import SignalSpec, generate, normal_noise, pump_on, sample_times

DAY_US = 86_400_000_000
COMMISSIONED = 1_700_000_000_000_000
T = sample_times(1_764_000_000_000_000, 1_764_000_000_000_000 + DAY_US, 10)


def test_same_seed_same_values_in_any_order() -> None:
    spec = SignalSpec(3, "oil_rate", 0, 20_000, COMMISSIONED, params={"qi": 12_000})
    full = generate(spec, T, seed=42)
    shuffled = np.random.default_rng(1).permutation(len(T))
    np.testing.assert_array_equal(generate(spec, T[shuffled], seed=42), full[shuffled])
    assert not np.array_equal(generate(spec, T, seed=43), full)


def test_totalizer_is_the_integral_of_the_noise_free_rate() -> None:
    params = {"qi": 12_000.0, "di": 0.3, "b": 0.5, "noise": 0.0}
    rate = generate(SignalSpec(1, "oil_rate", 0, 20_000, COMMISSIONED, params=params), T, 1)
    total = generate(SignalSpec(2, "oil_total", 0, 1e12, COMMISSIONED, params=params), T, 1)
    trapezoid = float(np.sum((rate[1:] + rate[:-1]) / 2 * np.diff(T) / DAY_US))
    assert abs((total[-1] - total[0]) - trapezoid) / trapezoid < 1e-8


def test_totalizer_rolls_over() -> None:
    spec = SignalSpec(
        2,
        "oil_total",
        0,
        1e6,
        COMMISSIONED,
        rollover=1e6,
        params={"qi": 10_000.0, "offset": 999_000.0},
    )
    values = generate(spec, np.array([COMMISSIONED, COMMISSIONED + DAY_US // 2]), 1)
    assert values[0] == 999_000.0
    assert values[1] < 5_000  # 999,000 + ~5,000 bbl wrapped past 1,000,000


def test_properties_stay_in_range_and_pumps_cycle() -> None:
    spec = SignalSpec(
        5,
        "motor_current",
        0,
        60,
        COMMISSIONED,
        params={"base": 58, "noise": 5, "on_h": 20, "off_h": 4},
    )
    values = generate(spec, T, 9)
    assert values.min() >= 0 and values.max() <= 60
    on = pump_on(spec, T)
    assert 0.80 < on.mean() < 0.87  # 20 h of 24
    assert np.all(values[~on] == 0)


def test_noise_is_standard_normal() -> None:
    z = normal_noise(1, 2, np.arange(200_000, dtype=np.int64) * 10_000_000)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
