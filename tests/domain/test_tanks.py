"""Tank gauging by API MPMS 12.1.1: strapping table, CTSh, floating roof, opening/closing NSV.

Expected values are worked by hand below or are published worked examples of 12.1.1 practice:
[HB] an inspector's training handbook's CTSh example (liquid 135 °F, ambient 88 °F, uninsulated:
     TSh 129 °F, CTSh 1.00086) and floating-roof adjustment example (table deducts the roof at
     35.0 °API, 24.59 bbl per °API; crude of 40.3 °API at 60 °F is 42.4 °API at 84 °F:
     difference 7.4 °API, 181.97 bbl to subtract);
[SF] a tank-accounting vendor's floating-roof examples (roof 1,215,000 lb; crude 40.0 °API at
     84 °F: VCF 0.9879, 42.1 °API at tank temperature; density 288.907 lb/bbl at 60 °F;
     roof displacement 4,257.02 bbl).
CTL of 40.0 °API crude at 84.0 °F is 0.98790523 (worked by hand in tests/domain/test_ticket.py)
→ 0.98791 at 12.1.1's five decimals.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from anh_reporter.domain.mpms import MeasurementError, OutOfRangeError
from anh_reporter.domain.mpms.tanks import (
    RoofByGravity,
    RoofByWeight,
    StrappingTable,
    TankShell,
    gauge_tank,
    roof_displacement,
    shell_correction,
    tank_transfer,
)

D = Decimal

TABLE = StrappingTable.from_rows(
    "TK-101",
    [
        (D("0"), D("0.00")),
        (D("1"), D("420.50")),
        (D("10"), D("4436.90")),
        (D("20"), D("8899.10")),
        (D("30"), D("13361.30")),
        (D("40"), D("17823.50")),
    ],
)


def test_strapping_table_interpolates_linearly_between_rows() -> None:
    """12.375 ft: 4,436.90 + (8,899.10 − 4,436.90) × 2.375/10 = 4,436.90 + 1,059.7725
    = 5,496.6725 bbl; 0.25 ft: 420.50 × 0.25 = 105.125 bbl; a row's level gives its volume."""
    assert TABLE.volume_at(D("12.375")) == D("5496.6725")
    assert TABLE.volume_at(D("0.25")) == D("105.125")
    assert TABLE.volume_at(D("20")) == D("8899.10")


def test_strapping_table_errors_name_the_level_and_the_table() -> None:
    with pytest.raises(OutOfRangeError, match=r"level 40.5 ft is outside the strapping table"):
        TABLE.volume_at(D("40.5"))
    with pytest.raises(MeasurementError, match=r"level 1 ft \(row 3\) is not above 2"):
        StrappingTable.from_rows("TK-9", [(0, 0), (2, 10), (1, 20)])
    with pytest.raises(MeasurementError, match=r"volume 5 bbl \(row 2\) is below 10"):
        StrappingTable.from_rows("TK-9", [(0, 10), (1, 5)])
    with pytest.raises(MeasurementError, match="two or more rows"):
        StrappingTable.from_rows("TK-9", [(0, 0)])


def test_shell_correction_published_example() -> None:
    """[HB]: TSh = (7 × 135 + 88)/8 = 1,033/8 = 129.125 → 129 °F; ΔT = 69 °F;
    CTSh = 1 + 2 × 0.0000062 × 69 + (0.0000062 × 69)² = 1 + 0.0008556 + 0.000000183
    = 1.000855783 → 1.00086."""
    assert shell_correction(135, 88, TankShell()) == (D("129"), D("1.00086"))


def test_shell_correction_insulated_tank_uses_the_liquid_temperature() -> None:
    """Insulated: TSh = TL = 84.0 → 84 °F; ΔT = 24; CTSh = 1 + 0.0002976 + 0.0000000221
    = 1.0002976 → 1.00030. An uninsulated tank without an ambient reading is refused."""
    assert shell_correction(D("84.0"), None, TankShell(insulated=True)) == (D("84"), D("1.00030"))
    with pytest.raises(MeasurementError, match="needs the ambient temperature"):
        shell_correction(D("84.0"), None, TankShell())


def test_opening_and_closing_gauges_worked_by_hand() -> None:
    """Tank TK-101, crude 40.0 °API, liquid 84.0 °F, uninsulated mild steel, table at 60 °F.

    Opening: level 12.375 ft, water cut 0.250 ft, ambient 70.0 °F, S&W 0.200 %
        TOV = 5,496.6725 → 5,496.67; FW = 105.125 → 105.13
        TSh = (7 × 84.0 + 70.0)/8 = 658/8 = 82.25 → 82 °F; ΔT = 22
        CTSh = 1 + 2 × 0.0000062 × 22 + (0.0001364)² = 1 + 0.0002728 + 0.0000000186 → 1.00027
        GOV = (5,496.67 − 105.13) × 1.00027 = 5,391.54 + 1.4557158 = 5,392.9957 → 5,393.00
        GSV = 5,393.00 × 0.98791 = 5,393.00 − 65.20137 = 5,327.79863 → 5,327.80
        CSW = 1 − 0.200/100 = 0.99800; NSV = 5,327.80 − 10.6556 = 5,317.1444 → 5,317.14
    Closing: level 31.500 ft, water cut 0.300 ft, ambient 86.0 °F, S&W 0.150 %
        TOV = 13,361.30 + 1.5 × 446.22 = 14,030.63; FW = 0.3 × 420.50 = 126.15
        TSh = (588.0 + 86.0)/8 = 84.25 → 84 °F; ΔT = 24; CTSh → 1.00030
        GOV = (14,030.63 − 126.15) × 1.00030 = 13,904.48 + 4.171344 = 13,908.651 → 13,908.65
        GSV = 13,908.65 − 13,908.65 × 0.01209 = 13,908.65 − 168.15558 = 13,740.494 → 13,740.49
        CSW = 0.99850; NSV = 13,740.49 − 20.610735 = 13,719.879 → 13,719.88
    Received between the gauges: NSV 13,719.88 − 5,317.14 = 8,402.74 bbl;
        GSV 13,740.49 − 5,327.80 = 8,412.69 bbl; free water 126.15 − 105.13 = 21.02 bbl.
    """
    common = {"table": TABLE, "liquid_temperature_f": D("84.0"), "api60": D("40.0")}
    opening = gauge_tank(
        level=D("12.375"),
        free_water_level=D("0.250"),
        ambient_temperature_f=D("70.0"),
        bsw_percent=D("0.200"),
        **common,
    )
    assert opening.total_observed_volume == D("5496.67")
    assert opening.free_water_volume == D("105.13")
    assert (opening.shell_temperature_f, opening.ctsh) == (D("82"), D("1.00027"))
    assert opening.roof_adjustment == 0
    assert opening.gross_observed_volume == D("5393.00")
    assert opening.ctl == D("0.98791")
    assert opening.gross_standard_volume == D("5327.80")
    assert opening.csw == D("0.99800")
    assert opening.net_standard_volume == D("5317.14")
    assert opening.sediment_and_water_volume == D("10.66")
    closing = gauge_tank(
        level=D("31.500"),
        free_water_level=D("0.300"),
        ambient_temperature_f=D("86.0"),
        bsw_percent=D("0.150"),
        **common,
    )
    assert closing.total_observed_volume == D("14030.63")
    assert closing.free_water_volume == D("126.15")
    assert closing.ctsh == D("1.00030")
    assert closing.gross_observed_volume == D("13908.65")
    assert closing.gross_standard_volume == D("13740.49")
    assert closing.net_standard_volume == D("13719.88")
    moved = tank_transfer(opening, closing)
    assert moved.net_standard_volume == D("8402.74")
    assert moved.gross_standard_volume == D("8412.69")
    assert moved.free_water_volume == D("21.02")


def test_roof_by_gravity_published_example() -> None:
    """[HB]: 40.3 °API at 60 °F is 42.4 °API at 84.0 °F; the table deducts the roof at 35.0 °API;
    FRA = (35.0 − 42.4) × 24.59 = −181.966 → −181.97 bbl.
    Level 20 ft (8,899.10 bbl), no water, insulated, so CTSh = 1.00030 (ΔT = 24):
    GOV = 8,899.10 × 1.00030 − 181.97 = 8,901.7697 → 8,901.77 − 181.97 = 8,719.80."""
    roof = RoofByGravity(
        landed_level=D("4"), floating_level=D("5"), reference_api=D("35.0"), bbl_per_api=D("24.59")
    )
    gauged = gauge_tank(
        table=TABLE,
        level=D("20"),
        liquid_temperature_f=D("84.0"),
        api60=D("40.3"),
        shell=TankShell(insulated=True),
        roof=roof,
    )
    assert gauged.observed_api == D("42.4")
    assert gauged.roof_adjustment == D("-181.97")
    assert gauged.gross_observed_volume == D("8719.80")


def test_roof_by_weight_published_and_hand_examples() -> None:
    """[SF]: 1,215,000 lb / (288.907 lb/bbl × 0.9879) = 1,215,000 / 285.41123 = 4,257.02 bbl.

    Through a gauging (40.0 °API, 84.0 °F, CTL 0.98791; [SF] gives 42.1 °API at 84 °F):
        ρ60 = 141.5 × 999.016 / 171.5 = 824.26101 kg/m³; ρ(84 °F) = 824.26101 × 0.98791
        = 814.29570 kg/m³ = 814.29570 / 999.016 × 350.162 = 285.41626 lb/bbl
        displacement = 1,215,000 / 285.41626 = 4,256.94 bbl → FRA = −4,256.94 bbl
    """
    assert round(roof_displacement(1215000, D("288.907") * D("0.9879")), 2) == D("4257.02")
    roof = RoofByWeight(landed_level=D("4"), floating_level=D("5"), weight_lb=D("1215000"))
    common = {
        "table": TABLE,
        "liquid_temperature_f": D("84.0"),
        "api60": D("40.0"),
        "shell": TankShell(insulated=True),
        "roof": roof,
    }
    gauged = gauge_tank(level=D("20"), **common)
    assert gauged.observed_api == D("42.1")
    assert gauged.roof_adjustment == D("-4256.94")
    landed = gauge_tank(level=D("3.5"), **common)
    assert landed.roof_adjustment == 0
    with pytest.raises(MeasurementError, match=r"level 4.5 ft is in the floating roof's critical"):
        gauge_tank(level=D("4.5"), **common)


def test_gauging_inputs_are_checked() -> None:
    common = {
        "table": TABLE,
        "level": D("10"),
        "liquid_temperature_f": D("84.0"),
        "api60": D("40.0"),
        "ambient_temperature_f": D("80.0"),
    }
    with pytest.raises(OutOfRangeError, match=r"free water volume 5000.00 bbl .* \[0, 4436.90\]"):
        gauge_tank(free_water_volume=D("5000"), **common)
    with pytest.raises(MeasurementError, match="as a level or as a volume, not both"):
        gauge_tank(free_water_volume=1, free_water_level=D("0.1"), **common)
    other = gauge_tank(
        table=StrappingTable.from_rows("TK-102", [(0, 0), (10, 4000)]),
        level=D("5"),
        liquid_temperature_f=D("84.0"),
        api60=D("40.0"),
        ambient_temperature_f=D("80.0"),
    )
    with pytest.raises(MeasurementError, match="tank TK-101, closing gauge of tank TK-102"):
        tank_transfer(gauge_tank(**common), other)
