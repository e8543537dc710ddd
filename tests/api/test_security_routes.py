"""Security evidence over HTTP: the report chain's head (auditors, admins)."""

from __future__ import annotations

import httpx
import pytest

from anh_reporter.reports.chain import GENESIS
from anh_reporter.storage.database import Database

from .conftest import bearer


async def test_chain_head_before_anything_is_signed(
    client: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    r = await client.get("/api/v1/security/chain-head", headers=bearer(tokens["auditor"]))
    assert r.status_code == 200, r.text
    assert r.json()["seq"] == 0 and r.json()["chain_hash"] == GENESIS
    refused = await client.get("/api/v1/security/chain-head", headers=bearer(tokens["viewer"]))
    assert refused.status_code == 403


@pytest.mark.usefixtures("reporting_world")
async def test_chain_head_is_the_last_signed_version(
    client: httpx.AsyncClient, db: Database, tokens: dict[str, str]
) -> None:
    with db.connect() as conn:
        row = conn.execute(
            "SELECT chain_seq, chain_hash FROM report_versions WHERE chain_seq IS NOT NULL "
            "ORDER BY chain_seq DESC LIMIT 1"
        ).fetchone()
    assert row is not None
    head = (await client.get("/api/v1/security/chain-head", headers=bearer(tokens["admin"]))).json()
    assert (head["seq"], head["chain_hash"]) == (row[0], row[1])
    assert "field" not in head  # one chain for all operators: the head names no report
