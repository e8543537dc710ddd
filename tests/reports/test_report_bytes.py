"""The signed bytes of a report do not change when the report code is made faster.

Each golden case, and a 500-well field made here from a fixed seed (rows as the stored well days
hold them: figures at several scales, values that round half up, ``-0``, missing figures, wells
without master data, deferred volumes with causes, findings), is built, mapped by every
built-in profile, validated and canonicalised; the SHA-256 of the canonical bytes (what the
Ed25519 signature covers) was recorded at commit 55a8b46, before any optimisation. A mismatch
means the content of signed reports changed: that is a format change, not a speed-up.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from anh_reporter.reports.build import build_report
from anh_reporter.reports.canonical import canonical_bytes
from anh_reporter.reports.model import (
    AllocationInfo,
    FacilityInfo,
    ReportInputs,
    WellDayInfo,
    WellInfo,
)
from anh_reporter.reports.profiles import get_profile

CASES = Path(__file__).parent / "cases"
PROFILES = (
    "idp-1.0", "idp-1.1", "idp-1.2", "idp-1.3", "idp-1.4", "anh-es-1.0", "anh-es-1.1", "anh-es-1.2",
)  # fmt: skip
TYPED_ALLOCATION = frozenset({"idp-1.4", "anh-es-1.2"})
"""The profiles whose schema types the allocation's rows: their 500-well field stores it whole."""
D = Decimal


def _figure(rng: random.Random, scale: int = 3, top: int = 99_999) -> Decimal | None:
    """A stored figure: missing, zero, minus zero, or up to ``top`` with 0 to ``scale`` decimals."""
    pick = rng.random()
    if pick < 0.1:
        return None
    if pick < 0.13:
        return D("-0.000") if pick < 0.115 else D(0)
    places = rng.randint(0, scale)
    value = D(rng.randint(0, (top - 1) * 10**places)).scaleb(-places)
    return value + D("0.005") if pick > 0.95 else value  # a half to round up


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _well_day(rng: random.Random, code: str, pmos: dict[str, str]) -> WellDayInfo:
    down = rng.random() < 0.2
    tested = rng.random() < 0.9
    causes = [
        {"cause": rng.choice(["power_failure", "workover", "1.5"]), "hours_down": "6.5",
         "oil": _text(_figure(rng)), "gas": "12.345", "water": None}
        for _ in range(rng.randint(1, 2) if down else 0)
    ]  # fmt: skip
    findings = [
        {"code": "well_test_expired", "severity": "warning", "target": code,
         "message": f"the test of {code} is old — ñandú"}
    ] if rng.random() < 0.3 else []  # fmt: skip
    return WellDayInfo(
        code=code,
        status=rng.choice(["producing", "producing", "shut_in", "workover"]),
        hours_on=_figure(rng, 2, 24),
        hours_source=rng.choice(["telemetry", "manual", "none"]),
        test_id=rng.randint(1, 9000) if tested else None,
        test_date=dt.date(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 60)) if tested else None,
        test_age_days=rng.randint(0, 150) if tested else None,
        test_state=rng.choice(["valid", "expired"]) if tested else "none",
        oil_bbl=_figure(rng),
        gas_kscf=_figure(rng),
        water_bbl=_figure(rng),
        theoretical_oil_bbl=_figure(rng, 4),
        factors={
            f: _figure(rng, 7, 2) for f in rng.sample(["oil", "gas", "water"], rng.randint(0, 3))
        },
        pmos=dict(rng.sample(sorted(pmos.items()), rng.randint(1, 3))),
        bsw_pct=_figure(rng, 3, 100),
        gor_scf_bbl=_figure(rng, 1),
        wor=_figure(rng, 3),
        hours_down=D("6.5") * len(causes),
        deferred_oil_bbl=_figure(rng) if down else None,
        deferred_gas_kscf=_figure(rng) if down else None,
        deferred_water_bbl=_figure(rng) if down else None,
        deferred_causes=causes,
        findings=findings,
    )


STORED_ALLOCATION: dict[str, Any] = {
    "pmos": [
        {"pmo": "PMO-OIL-1", "fluid": "oil", "measured": "980.78", "theoretical_total": "980.00",
         "factor": "1.00080", "allocated_total": "980.78", "unallocated": "0.00"},
        {"pmo": "1001", "fluid": "gas", "measured": "1200.00", "theoretical_total": "0.00",
         "factor": None, "allocated_total": "0.00", "unallocated": "1200.00"},
    ],
    "by_role": [
        {"fluid": "gas", "role": "production", "total": "1200.00", "pmos": ["1001"]},
        {"fluid": "oil", "role": "production", "total": "980.78", "pmos": ["PMO-OIL-1"]},
        {"fluid": "oil", "role": "sales", "total": "980.70", "pmos": ["PMO-LACT-1"]},
    ],
}  # fmt: skip
"""An allocation with every key the stored rows hold (production/well_days.py): what the
profiles that type the allocation (idp-1.4 on) need; a PMO coded ``1001`` stays text, a PMO
with no theoretical volume has no factor and leaves its volume unallocated."""


def field_with_wells(
    base: ReportInputs, wells: int = 500, seed: int = 12, *, stored_allocation: bool = False
) -> ReportInputs:
    """``base`` with ``wells`` stored well days (in random order), their master data, the
    facilities and a stored allocation (``stored_allocation``: :data:`STORED_ALLOCATION`'s rows;
    else the rows the bytes of the profiles before idp-1.4 were recorded with, which lack keys
    the stored rows hold)."""
    rng = random.Random(seed)
    pmos = {"oil": "PMO-OIL-1", "gas": "PMO-GAS-1", "water": "PMO-WATER-1"}
    codes = [f"W-{i:03d}" for i in range(wells)]
    rng.shuffle(codes)
    days = [_well_day(rng, code, pmos) for code in codes]
    info = [
        WellInfo(code=c, name=f"Pozo {c}", pmo=None, production_method=rng.choice(["esp", "pcp"]),
                 facility=rng.choice([None, "BAT-1"]),
                 municipality_dane=rng.choice([None, "50001", "50568"]))
        for c in codes if rng.random() < 0.95
    ]  # fmt: skip
    balance = {"fluid": "oil", "produced": "980.78", "residual": "0.004", "tolerance": "4.9039",
               "closes": True, "terms": [{"name": "dispatched", "volume": "980.775"}]}  # fmt: skip
    allocation: dict[str, Any] = {
        "pmos": [{"pmo": "PMO-OIL-1", "fluid": "oil", "measured": "980.78", "factor": "1.00080"}],
        "totals": {"balances": [balance], "by_role": [{"fluid": "oil", "role": "production",
                                                       "volume": "980.78"}]},
        "findings": [{"code": "factor_out_of_band", "severity": "warning", "target": "PMO-OIL-1",
                      "message": "factor 1.2 outside 0.85–1.15"}],
    }  # fmt: skip
    if stored_allocation:
        allocation["pmos"] = STORED_ALLOCATION["pmos"]
        allocation["totals"]["by_role"] = STORED_ALLOCATION["by_role"]
    return base.model_copy(
        update={"wells": info, "well_days": days, "allocation": AllocationInfo(**allocation),
                "facilities": [FacilityInfo(code="BAT-1", name="Batería 1", kind="battery")]}
    )  # fmt: skip


def _inputs(case: str) -> ReportInputs:
    return ReportInputs.model_validate_json((CASES / case / "input.json").read_bytes())


def _sha256(inputs: ReportInputs, profile_name: str) -> str:
    profile = get_profile(profile_name)
    document = profile.document(build_report(inputs))
    assert profile.is_valid(document), profile.problems(document)[:3]
    return hashlib.sha256(canonical_bytes(document)).hexdigest()


# Re-pinned when every figure came to carry its reporting increment (reports/model.py QUANTA),
# for the profiles that show the figures concerned (idp-1.2 and later, anh-es-1.0 and later;
# idp-1.0 and idp-1.1 are unchanged):
# * tipo-b-manual-allocated: only its three wells' ``hours_on`` (stored ``24``, now ``24.00``)
#   and ``deferred.hours_down`` (the zero default ``0``, now ``0.00``);
# * 500-wells: its figures are drawn at several scales on purpose, so exactly the fields that
#   lacked their increment moved: ``hours_on`` and ``deferred.hours_down`` (0.01 h), the deferred
#   causes' ``hours_down`` (0.01 h) and volumes (0.01), ``gor_scf_bbl`` (0.1), ``wor`` (0.001),
#   and the oil balance's term, residual and tolerance (0.01).
RECORDED: dict[tuple[str, str], str] = {
    ("500-wells", "idp-1.0"): "9bf9fcb223f2c79efe76352d45df5e98c1b8526d8df2d3c8c34586160d24ff1c",
    ("500-wells", "idp-1.1"): "95e32de3b29db905244ca4786e62aa15f629dafdbfff6dbffd0c58adb459038f",
    ("500-wells", "idp-1.2"): "ca85222094b10bf52ea31436a10f45936ce12d06589bb5831dd6844a1527bf1e",
    ("500-wells", "anh-es-1.0"): "13753e059f8ceac19bbf21936c8f6139c6f8adc6cc8510e62b592da1c0863034",
    (
        "amendment-v2-with-anomalies",
        "idp-1.0",
    ): "b927817caf9699a344e64376faf636d16f3ad7558a0f6bed5f63f31a4986f96d",
    (
        "amendment-v2-with-anomalies",
        "idp-1.1",
    ): "eb475bee81284906429fc0664d3ef6a2da9ef683de19354c010c528a46963b02",
    (
        "amendment-v2-with-anomalies",
        "idp-1.2",
    ): "3d41fd9eb3fddd2685b1d5df31e92da6142e49c1a086c73dc3bd385993dbf865",
    (
        "amendment-v2-with-anomalies",
        "anh-es-1.0",
    ): "f79828213166aae4c6e248a32bc6ff32d82fe1fb42bed25903d6997c16deb13e",
    (
        "tipo-a-three-pmos",
        "idp-1.0",
    ): "1c380d737bd0a18b13af2f96c64db6dc77de2e81c366d85e01fe560f664d31fb",
    (
        "tipo-a-three-pmos",
        "idp-1.1",
    ): "a3cd5efbb32fb4bd2dbaa6f7718ed5139a0071d724437dd4d3a5202ef8c0681e",
    (
        "tipo-a-three-pmos",
        "idp-1.2",
    ): "b1026fc85d8e4cecc3d613112700045a56643f5cae7658002f7ab5ad97db060f",
    (
        "tipo-a-three-pmos",
        "anh-es-1.0",
    ): "19afd43092547b8669fd7b332f1716dc70e936017df3d13558e0bc052b66ea74",
    (
        "tipo-b-manual-allocated",
        "idp-1.0",
    ): "5b66a788f8cac3751a8af7cda44d0d1e7c26acb197d6357e8c89feed83486a90",
    (
        "tipo-b-manual-allocated",
        "idp-1.1",
    ): "5d77c7960588b534ff075b388e73b533e3c133d81236fd4c4d9e1bd728563a6c",
    (
        "tipo-b-manual-allocated",
        "idp-1.2",
    ): "34a9d09f02c9efd7ad81afe13cbb77971e1ddc87ff4ff88b6c944d8c5f7561be",
    (
        "tipo-b-manual-allocated",
        "anh-es-1.0",
    ): "7b9907f5339f76dcf1e727fd44a5e65b50fe4db94f7f31ef07c8f982832076ea",
    ("500-wells", "idp-1.3"): "9fed91feada15ee4dca87deed0789f5cdd192044183e702695dc934efc7ec352",
    ("500-wells", "anh-es-1.1"): "4335ad0e4bc2aa6667a750542d081cfb3af2c9ac5925c7858f57fb90fb9709bf",
    (
        "amendment-v2-with-anomalies",
        "idp-1.3",
    ): "2c7becafc69b39b0c9d0a8ea295dd183145212b5464aeda981aca39802dab578",
    (
        "amendment-v2-with-anomalies",
        "anh-es-1.1",
    ): "122b6f52b9bddef451add0f90648727c2c6ad042006d0c991f9a60620427aeac",
    (
        "tipo-a-three-pmos",
        "idp-1.3",
    ): "39693f76b750dc97759aeb26067ee24a1174be243da309584eeb19b667c48f70",
    (
        "tipo-a-three-pmos",
        "anh-es-1.1",
    ): "0e1c12789baac5fc2caa73d84e8350ed1ceb1b5864e4d8f6287d58485a406bfa",
    (
        "tipo-b-manual-allocated",
        "idp-1.3",
    ): "6e776d051396426ca478119a2abf5a4371e7bd3d802a68f2889cd7bc3f661124",
    (
        "tipo-b-manual-allocated",
        "anh-es-1.1",
    ): "9b0ea6d5fb6939044877db7a06ead79a5e3f7900936c82a29f2986c3b7f72f99",
    # idp-1.4 and anh-es-1.2 (the 500-well field with its allocation stored whole), recorded
    # with every figure at its increment and its balances naming their incomplete terms.
    ("500-wells", "idp-1.4"): "97b06fa9503ddb0e4e75d878402507440d64e682567e111ffb1cd8af594bbf3d",
    ("500-wells", "anh-es-1.2"): "a209e84f8f28c9ed7e3fbfd1471644321ee0f398d97bfc3a4d53742fd7edb8be",
    (
        "amendment-v2-with-anomalies",
        "idp-1.4",
    ): "0d5b343cc2b6cbc2109413b10dab4c56d5406aabd6f3e7e823e395f265eb71f9",
    (
        "amendment-v2-with-anomalies",
        "anh-es-1.2",
    ): "43a51c41ae9fa5f8d7f29faaa8beb7ca36a4c4412a471f0374995f7b4b4bd109",
    (
        "tipo-a-three-pmos",
        "idp-1.4",
    ): "4e0c620ece2cd4540e23c1937a8be496813063724f257fb3260ca840826db30e",
    (
        "tipo-a-three-pmos",
        "anh-es-1.2",
    ): "2573e35aa9cedf615f173315600902a3f85033b7a7479fb6f03ae1ca491d46a1",
    (
        "tipo-b-manual-allocated",
        "idp-1.4",
    ): "5482b1cf24c5f06e37204cf3f8eaaff58dd03c0e0de03418cfbffd8881dd3241",
    (
        "tipo-b-manual-allocated",
        "anh-es-1.2",
    ): "2011d445cbe1cff935c10ee5648c9674a5d450b8328d5af5a8c010d5c1f7b3bb",
}


def _case_inputs(case: str, profile: str) -> ReportInputs:
    if case != "500-wells":
        return _inputs(case)
    stored = profile in TYPED_ALLOCATION
    return field_with_wells(_inputs("tipo-a-three-pmos"), stored_allocation=stored)


@pytest.mark.parametrize("key", sorted(RECORDED), ids=lambda k: "-".join(k))
def test_report_bytes_are_unchanged(key: tuple[str, str]) -> None:
    case, profile = key
    inputs = _case_inputs(case, profile)
    assert _sha256(inputs, profile) == RECORDED[key]


def test_every_case_and_profile_is_recorded() -> None:
    cases = ["500-wells", *sorted(p.name for p in CASES.iterdir() if p.is_dir())]
    assert sorted(RECORDED) == sorted((c, p) for c in cases for p in PROFILES)


@pytest.mark.parametrize("key", sorted(RECORDED), ids=lambda k: "-".join(k))
def test_the_bytes_signed_are_the_recorded_ones(key: tuple[str, str]) -> None:
    """What the service signs (``Profile.render``: well rows rendered and checked one by one,
    where the profile allows it) is the same document, byte for byte."""
    case, name = key
    inputs = _case_inputs(case, name)
    data = get_profile(name).render(build_report(inputs))
    assert data is not None
    assert hashlib.sha256(data).hexdigest() == RECORDED[key]
