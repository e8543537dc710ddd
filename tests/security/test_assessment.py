"""The IEC 62443-3-3 assessment: scoring worked by hand, then live settings flipped."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import psycopg
import pytest
from pydantic import SecretStr

from anh_reporter.config import Settings, TlsSettings
from anh_reporter.security.assessment import (
    RULES,
    Check,
    Facts,
    OpcUaEndpoint,
    achieved_level,
    assess,
    markdown,
)
from anh_reporter.security.facts import gather


def _c(level: int, passed: bool) -> Check:
    return Check("x", "FR1", "SR 1.1", level, "t", passed, "", "")


def test_achieved_level_is_the_highest_with_everything_below_passing() -> None:
    assert achieved_level([]) == 4
    assert achieved_level([_c(1, True), _c(2, True), _c(3, False)]) == 2
    assert achieved_level([_c(1, False), _c(2, True)]) == 0
    assert achieved_level([_c(2, False), _c(4, True)]) == 1
    assert achieved_level([_c(1, True), _c(3, True), _c(4, False)]) == 3


# Every fact at its secure value: the assessment must reach SL 4 in every FR.
SECURE = Facts(
    production=True, api_tls=True, jwt_secret_configured=True, jwt_secret_sealed=True,
    kek_configured=True, signing_key_sealed=True, users_by_role={"admin": 1, "engineer": 2},
    mfa_by_role={"admin": 1, "engineer": 2}, audit_chain_ok=True, db_role_separated=True,
    db_role="anh_app", backups_configured=True, alerts_configured=True,
    opcua=(OpcUaEndpoint("plc", "opc.tcp://plc:4840", "SignAndEncrypt", True),),
)  # fmt: skip


def test_secure_facts_reach_sl4_everywhere() -> None:
    a = assess(SECURE, 2)
    assert [f.achieved for f in a.frs] == [4] * 7 and a.meets_target and not a.gaps


@pytest.mark.parametrize(
    ("change", "fr", "achieved", "gap"),
    [
        ({"api_tls": False}, "FR4", 0, "api-tls"),  # SR 4.1, SL 1
        ({"kek_configured": False}, "FR4", 1, "secrets-at-rest"),  # SR 4.1 RE1, SL 2
        ({"mfa_by_role": {"admin": 0, "engineer": 2}}, "FR1", 1, "mfa-admin"),
        ({"mfa_by_role": {"admin": 1, "engineer": 1}}, "FR1", 2, None),  # SL 3: advisory
        ({"db_role_separated": False}, "FR3", 1, "db-roles"),
        ({"backups_configured": False}, "FR7", 0, "backups"),
        ({"api_keys_without_expiry": 3}, "FR1", 1, "api-key-expiry"),
    ],
)
def test_one_failed_check_caps_its_fr(
    change: dict[str, object], fr: str, achieved: int, gap: str | None
) -> None:
    a = assess(dataclasses.replace(SECURE, **change), 2)  # type: ignore[arg-type]
    levels = {f.fr: f.achieved for f in a.frs}
    assert levels[fr] == achieved
    assert all(v == 4 for k, v in levels.items() if k != fr)
    assert [c.id for c in a.gaps] == ([gap] if gap else [])
    assert a.meets_target == (achieved >= 2)


def test_every_rule_names_a_known_fr_and_a_fix_when_it_can_fail() -> None:
    for cid, fr, sr, level, _title, _rule, fix in RULES:
        assert fr in {f"FR{i}" for i in range(1, 8)} and sr.startswith("SR " + fr[2])
        assert 1 <= level <= 4 and (fix or cid in ("audit-events", "audit-access"))
    assert "| FR1 |" in markdown(assess(Facts(), 2))


def test_live_settings_and_database_flip_the_assessment(
    conn: psycopg.Connection[object], tmp_path: Path
) -> None:
    base = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    demo = assess(gather(base, conn), 2)  # type: ignore[arg-type]
    gaps = {c.id for c in demo.gaps}
    assert {"api-tls", "secrets-at-rest", "db-roles", "backups", "production-mode"} <= gaps
    assert not demo.meets_target
    kek = tmp_path / "kek"
    kek.write_text("k" * 40)
    fixed = base.model_copy(
        update={
            "tls": TlsSettings(certfile=tmp_path / "c.pem", keyfile=tmp_path / "k.pem"),
            "secrets": base.secrets.model_copy(update={"kek_file": kek}),
            "api": base.api.model_copy(update={"jwt_secret": SecretStr("x" * 40)}),
            "environment": "production",
            "database_url": "postgresql://x/y",
            "security": base.security.model_copy(update={"backups_configured": True}),
        }
    )
    after = {c.id for c in assess(gather(fixed, conn), 2).gaps}  # type: ignore[arg-type]
    assert {"api-tls", "backups", "production-mode"} & after == set()
    assert "secrets-at-rest" in after  # the JWT secret is set but not sealed
