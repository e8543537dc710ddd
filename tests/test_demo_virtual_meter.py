"""The demo field's virtual meters: every well has one, and Σ virtual agrees with each PMO.

Each demo well's test shares yesterday's measured volumes (× 24 / 22 h on, a few % off by
design) and notes its pump's nominal speed (56 Hz, 8.5 spm, 260 rpm); the simulated pumps ran
22 h at that speed yesterday. So each well's virtual oil is its test oil × 22 / 24 = its share
× its bias × the measured oil, and Σ virtual oil = measured × Σ shareᵢ × biasᵢ =
0.33 × 1.04 + 0.31 × 0.97 + 0.015 × 1.06 + 0.012 × 0.95 + 0.318 × 1.02 + 0.015 × 1.08 = 1.0118
(+1.2 %); water: Σ shareᵢ × biasᵢ = 0.9936 (−0.6 %), both within the ±10 % band, up to the
simulated noise and the cycle's phase.
"""

from __future__ import annotations

from decimal import Decimal

from anh_reporter.production.config import load_field
from anh_reporter.site import load_site
from anh_reporter.storage import well_records
from anh_reporter.storage.database import Database

from .conftest import EXAMPLE_SITE
from .test_demo_balances import DAY, demo_day


def test_the_demo_wells_virtual_meters_agree_with_their_pmos(db: Database) -> None:
    site = load_site(EXAMPLE_SITE)
    stored = demo_day(db, site)
    with db.connect() as conn:
        config = load_field(conn, site.fields[0].code)
        virtual = well_records.load_virtual_days(conn, config.id, DAY)
        checks = well_records.load_virtual_checks(conn, config.id, DAY)
    assert sorted(virtual) == [f"CDL-00{i}" for i in range(1, 7)]
    for code, v in virtual.items():
        meter = v["virtual_meter"]
        assert v["virtual_liquid_bbl"] is not None and v["virtual_liquid_bbl"] > 0, (code, meter)
        assert float(meter["coverage_pct"]) > 99, (code, meter)
        # The telemetry does not reach back to the tests (2 to 97 days old): the typed speed.
        assert meter["test_speed_source"] == "manual", (code, meter)
    efficiency = {c: float(v["virtual_meter"]["efficiency"] or 0) for c, v in virtual.items()}
    assert all(0.6 < efficiency[c] < 0.9 for c in ("CDL-003", "CDL-004", "CDL-006")), efficiency
    by_pmo = {c["pmo"]: c for c in checks}
    assert sorted(by_pmo) == ["PMO-AGUA-01", "PMO-CRUDO-01"]
    oil, water = by_pmo["PMO-CRUDO-01"], by_pmo["PMO-AGUA-01"]
    assert Decimal("-1") < Decimal(oil["deviation_pct"]) - Decimal("1.18") < Decimal("1"), oil
    assert Decimal("-1") < Decimal(water["deviation_pct"]) + Decimal("0.64") < Decimal("1"), water
    assert not oil["diverges"] and not water["diverges"]
    assert not [f for f in stored["findings"] if f["code"].startswith("virtual_meter")]
