"""Security evidence for auditors and admins (``audit.read``): the report chain's head.

``GET /security/chain-head`` gives the newest link of the report hash chain, to be anchored
outside the system (printed, e-mailed, timestamped): the chain is one per database, so only its
sequence number and hash are shown, never which operator's report is at its head.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel

from anh_reporter.api.deps import StateDep, require
from anh_reporter.api.permissions import Permission
from anh_reporter.api.scoping import Principal
from anh_reporter.reports import chain

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
