"""A manual volume says its level; no factor is applied twice (API MPMS 12.2, worked by hand).

Oil PMO, meter factor 1.0020, BSW 0.35 % (CSW = 1 - 0.0035 = 0.9965), at 60 °F and 0 psig
(CTL = CPL = 1, so CCF = MF): what each level gives for 1,000 bbl typed in.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from anh_reporter.production.corrections import correct
from anh_reporter.production.custody import Properties, Property
from anh_reporter.production.inputs import Issue, PmoInputs, ProductionSettings

D = Decimal


def _props(bsw: str | None) -> Properties:
    return Properties(
        temperature_f=Property(D("60.0"), "manual #1"),
        pressure_psig=Property(D("0"), "manual #2"),
        bsw_percent=Property(None if bsw is None else D(bsw), "manual #3"),
        api60=Property(D("30.0"), "manual #4"),
        api_observed=None,
    )


PMO = PmoInputs(
    code="PMO-LACT", fluid="oil", has_totalizer=True, meter_factor=1.0020,
    day_start_us=0, day_end_us=86_400_000_000,
)  # fmt: skip


@pytest.mark.parametrize(
    ("level", "gov", "gsv", "nsv"),
    [
        # IV 1,000 x MF 1.0020 = GOV 1,002.00; x CTL 1 x CPL 1 = GSV 1,002.00; x 0.9965 = 998.49
        ("indicated", "1002.00", "1002.00", "998.49"),
        # GOV typed in: no meter factor again.
        ("gov", "1000.00", "1000.00", "996.50"),
        # GSV typed in: only CSW.
        ("gsv", None, "1000.00", "996.50"),
        # NSV typed in: nothing applied; GSV = 1,000 / 0.9965 = 1,003.5123... -> 1,003.51.
        ("nsv", None, "1003.51", "1000.00"),
    ],
)
def test_each_level_applies_only_the_factors_after_it(
    level: str, gov: str | None, gsv: str, nsv: str
) -> None:
    issues: list[Issue] = []
    c = correct(PMO, D("1000"), level, _props("0.35"), ProductionSettings(), issues)  # type: ignore[arg-type]
    assert issues == []
    assert (c.gross_observed_volume, c.gross_standard_volume, c.net_standard_volume) == (
        None if gov is None else D(gov),
        D(gsv),
        D(nsv),
    )
    assert c.meter_factor == (D("1.0020") if level == "indicated" else None)


def test_a_net_volume_without_bsw_stays_as_entered_and_says_so() -> None:
    issues: list[Issue] = []
    c = correct(PMO, D("1000"), "nsv", _props(None), ProductionSettings(), issues)
    assert (c.gross_standard_volume, c.net_standard_volume) == (None, D("1000.00"))
    assert [i.code for i in issues] == ["bsw_missing"]
