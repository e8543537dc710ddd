"""The field's oil consumption and losses through ``POST /production/manual-entries``.

The day of tests/production/oil_site.py: produced 1,000.00 bbl, dispatched 980.00 bbl, no
tank; tolerance 5.00 bbl. Consumption 12.50 and losses 6.00 leave 1,000.00 − 998.50 = 1.50 bbl:
the allocation route's oil balance closes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from anh_reporter.api.security import hash_password
from anh_reporter.production.daily import compute_day
from anh_reporter.storage.database import Database

from ..production.helpers import DAY_D, FIELD
from ..production.oil_site import oil_day
from .conftest import PASSWORD, bearer, login, make_app

URL = "/api/v1/production/manual-entries"


@pytest.fixture
async def client(db: Database, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    with db.connect() as conn:
        oil_day(conn)
        compute_day(conn, FIELD, DAY_D)
        operator = conn.execute("SELECT id FROM operators").fetchone()
        assert operator is not None
        for role in ("operator", "viewer"):
            conn.execute(
                "INSERT INTO users (email, password_hash, operator_id, role, all_fields) "
                "VALUES (%s, %s, %s, %s, true)",
                (f"{role}@oil.example", hash_password(PASSWORD), operator[0], role),
            )
        ids = dict(conn.execute("SELECT code, id FROM measurement_points").fetchall())
        ids["field"] = conn.execute("SELECT id FROM fields").fetchone()[0]  # type: ignore[index]
        conn.commit()
    app = make_app(db, tmp_path)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            tokens = {
                role: bearer((await login(c, f"{role}@oil.example"))["access_token"])
                for role in ("operator", "viewer")
            }
            yield c, (ids, tokens)


async def test_field_oil_terms_over_http(client: tuple[httpx.AsyncClient, Any]) -> None:
    c, (ids, auth) = client
    day = DAY_D.isoformat()
    base = {"field_id": ids["field"], "day": day}
    used = {**base, "kind": "oil_consumption", "volume": "12.50", "reason": "heater fuel"}
    r = await c.post(URL, json=used, headers=auth["viewer"])
    assert r.status_code == 403, r.text
    r = await c.post(URL, json=used, headers=auth["operator"])
    assert r.status_code == 201, r.text
    out = r.json()
    assert (out["kind"], out["owner"], out["owner_code"], out["unit"], out["value"]) == (
        "oil_consumption", "field", FIELD, "bbl", 12.5,
    )  # fmt: skip
    lost = {**base, "kind": "oil_losses", "volume": "6.00", "unit": "bbl", "reason": "evaporation"}
    r = await c.post(URL, json=lost, headers=auth["operator"])
    assert r.status_code == 201, r.text

    r = await c.get(
        f"/api/v1/production/fields/{ids['field']}/days/{day}/allocation", headers=auth["viewer"]
    )
    assert r.status_code == 200, r.text
    oil = next(b for b in r.json()["balances"] if b["fluid"] == "oil")
    assert {t["name"]: float(t["volume"]) for t in oil["terms"]} == {
        "dispatched": 980.0, "stock_change": 0.0, "consumption": 12.5, "losses": 6.0,
    }  # fmt: skip
    # 1,000.00 − (980.00 + 0 + 12.50 + 6.00) = 1.50 ≤ 5.00.
    assert (float(oil["residual"]), oil["closes"]) == (1.5, True)

    refused = [
        ({**lost, "volume": "100000.01"}, "oil_losses 100000.01 bbl is outside [0, 100000] bbl"),
        ({**lost, "unit": "m3"}, "unit 'm3' is not accepted; enter the value in 'bbl'"),
        (
            {**lost, "pmo_id": ids["PMO-OIL"]},
            f"entered for field {FIELD} as a whole, not for a PMO or a well (PMO 'PMO-OIL' given)",
        ),
        ({**lost, "level": "nsv"}, "oil_losses has no level and no window"),
        ({"kind": "oil_losses", "day": day, "volume": "1", "reason": "spill"}, "field_id"),
    ]
    for body, message in refused:
        r = await c.post(URL, json=body, headers=auth["operator"])
        assert r.status_code == 422, (body, r.text)
        assert message in r.json()["error"]["message"], (message, r.text)
    r = await c.post(URL, json={**lost, "volume": "-1"}, headers=auth["operator"])
    assert r.status_code == 422 and "volume" in r.text  # the schema's ge=0
    r = await c.post(URL, json={**lost, "field_id": ids["field"] + 100}, headers=auth["operator"])
    assert r.status_code == 404, r.text
    # A volume still needs its PMO (and only it).
    r = await c.post(URL, json={**base, "volume": "1", "reason": "x" * 3}, headers=auth["operator"])
    assert r.status_code == 422 and "pmo_id" in r.json()["error"]["message"]
