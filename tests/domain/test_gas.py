"""Gas volume between base conditions: ideal-gas P/T ratio, optional Zb ratio, worked by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from anh_reporter.domain.mpms import MeasurementError, OutOfRangeError
from anh_reporter.domain.mpms.gas import GasBase, convert_gas_volume

D = Decimal


def test_pressure_base_only() -> None:
    """1,000.000 kscf at 14.73 psia, 60 °F reported at 14.65 psia, 60 °F:
    factor = 14.73 / 14.65 × (519.67 / 519.67) = 1.00546075; V = 1,005.46075 → 1,005.461 kscf."""
    conversion = convert_gas_volume(
        D("1000.000"),
        from_base=GasBase(D("14.73"), D("60")),
        to_base=GasBase(D("14.65"), D("60")),
    )
    assert conversion.volume == D("1005.461")
    assert conversion.factor == pytest.approx(D("1.00546075"), abs=D("1e-8"))
    assert conversion.method == (
        "ideal gas: V × (14.73 / 14.65 psia) × (519.67 / 519.67 °R); "
        "from 14.73 psia, 60 °F to 14.65 psia, 60 °F"
    )


def test_pressure_and_temperature_bases() -> None:
    """2,500 kscf at 14.696 psia, 59 °F to 14.65 psia, 60 °F:
    P ratio 14.696 / 14.65 = 1.00313993; T ratio (60 + 459.67) / (59 + 459.67) = 519.67 / 518.67
    = 1.00192801; factor = 1.00313993 × 1.00192801 = 1.00507399;
    V = 2,500 × 1.00507399 = 2,512.68498 → 2,512.685 kscf."""
    conversion = convert_gas_volume(
        2500,
        from_base=GasBase(D("14.696"), D("59")),
        to_base=GasBase(D("14.65"), D("60")),
    )
    assert conversion.volume == D("2512.685")


def test_compressibility_ratio_when_both_zb_are_given() -> None:
    """As above with Zb 0.9976 at the first base and 0.9977 at the second:
    factor = 1.00507399 × 0.9977 / 0.9976 = 1.00507399 × 1.00010024 = 1.00517474;
    V = 2,500 × 1.00517474 = 2,512.93686 → 2,512.937 kscf."""
    conversion = convert_gas_volume(
        2500,
        from_base=GasBase(D("14.696"), D("59"), D("0.9976")),
        to_base=GasBase(D("14.65"), D("60"), D("0.9977")),
    )
    assert conversion.volume == D("2512.937")
    assert conversion.method.startswith("real gas: V × (14.696 / 14.65 psia)")
    assert "(0.9977 / 0.9976 Zb)" in conversion.method


def test_gas_inputs_are_checked() -> None:
    with pytest.raises(OutOfRangeError, match=r"base pressure 101.325 psia .* \[10, 20\] psia"):
        GasBase(D("101.325"), D("60"))
    with pytest.raises(OutOfRangeError, match=r"base temperature 15 °F"):
        GasBase(D("14.65"), D("15"))
    with pytest.raises(MeasurementError, match="for both bases or for neither"):
        convert_gas_volume(
            1,
            from_base=GasBase(D("14.73"), D("60"), D("0.998")),
            to_base=GasBase(D("14.65"), D("60")),
        )
    with pytest.raises(OutOfRangeError, match="gas volume -1"):
        convert_gas_volume(
            -1, from_base=GasBase(D("14.73"), D("60")), to_base=GasBase(D("14.65"), D("60"))
        )
