"""Security evidence: the report chain's head and the IEC 62443-3-3 self-assessment for
auditors and admins (``audit.read``); the public signing keys for any reader of reports.

``GET /security/chain-head`` gives the newest link of the report hash chain, to be anchored
outside the system (printed, e-mailed, timestamped): the chain is one per database, so only its
sequence number and hash are shown, never which operator's report is at its head.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel

from anh_reporter.api.deps import StateDep, require
from anh_reporter.api.permissions import Permission
from anh_reporter.api.scoping import Principal
from anh_reporter.reports import chain
from anh_reporter.security.assessment import assess
from anh_reporter.security.facts import gather

router = APIRouter(prefix="/security", tags=["security"])
Auditor = Annotated[Principal, require(Permission.AUDIT_READ)]


class ChainHeadOut(BaseModel):
    """The newest link of the report hash chain (sequence 0: nothing signed yet)."""

    seq: int
    chain_hash: str
    signed_at: dt.datetime | None
    exported_at: dt.datetime


@router.get("/chain-head")
async def get_chain_head(state: StateDep, me: Auditor) -> ChainHeadOut:
    """The report hash chain's head, to anchor outside the system."""
    head = await state.sync.run(chain.head)
    return ChainHeadOut(
        seq=head.seq,
        chain_hash=head.chain_hash,
        signed_at=head.signed_at,
        exported_at=head.exported_at,
    )


class SigningKeyOut(BaseModel):
    """A public key that signed reports (Ed25519, raw, base64); its id is its SHA-256."""

    key_id: str
    algorithm: str
    public_key: str
    created_at: dt.datetime


@router.get("/signing-keys")
async def list_signing_keys(
    state: StateDep, me: Annotated[Principal, require(Permission.REPORTS_READ)]
) -> list[SigningKeyOut]:
    """Every key that ever signed a report, newest first: old reports verify with these."""

    def run(conn: Any) -> list[SigningKeyOut]:
        rows = conn.execute(
            "SELECT key_id, algorithm, public_key, created_at FROM signing_keys "
            "ORDER BY created_at DESC"
        ).fetchall()
        return [SigningKeyOut(key_id=r[0], algorithm=r[1], public_key=r[2], created_at=r[3])
                for r in rows]  # fmt: skip

    return await state.sync.run(run)


class FrOut(BaseModel):
    """A foundational requirement: the level achieved against the target."""

    fr: str
    name: str
    achieved: int
    target: int
    meets: bool


class CheckOut(BaseModel):
    """One check, the system requirement it evidences and the level that needs it."""

    id: str
    fr: str
    sr: str
    level: int
    title: str
    passed: bool
    detail: str
    fix: str


class AssessmentOut(BaseModel):
    """The IEC 62443-3-3 self-assessment of the live configuration and database."""

    standard: str
    target_sl: int
    meets_target: bool
    frs: list[FrOut]
    checks: list[CheckOut]
    gaps: list[str]
    advisory: list[str]


@router.get("/assessment")
async def get_assessment(state: StateDep, me: Auditor) -> AssessmentOut:
    """What ``anh-reporter security assess`` says, for the settings this API runs with."""
    settings = state.settings
    facts = await state.sync.run(lambda conn: gather(settings, conn))
    return AssessmentOut.model_validate(assess(facts, settings.security.target_sl).as_dict())
