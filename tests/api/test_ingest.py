"""HTTP ingest: JSON, NDJSON and CSV through the pipeline's validation; rejects quarantined."""

from __future__ import annotations

import httpx
import numpy as np

from anh_reporter.bus.memory import MemoryBus
from anh_reporter.storage.database import Database

from .conftest import World, bearer

URL = "/api/v1/ingest/readings"
CODE = "CAMPO-DEMO-LLANOS.PMO-LACT-01.oil_rate"


async def test_json_accepts_good_readings_and_quarantines_the_rest(
    client: httpx.AsyncClient, bus: MemoryBus, db: Database, world: World, tokens: dict[str, str]
) -> None:
    sid = world.own["series"]
    readings = [
        {"series": CODE, "time": "2026-01-06T10:00:00Z", "value": 13_000.5},
        {"series_id": sid, "time_us": 1_767_700_800_000_000, "value": 13_001, "quality": "good"},
        {"series_id": sid, "time": "2026-01-06T10:00:20-05:00", "value": 99_999_999},
        {"series": CODE, "time": "2026-01-06T10:00:30", "value": 1},
        {"series": "NOPE", "time": "2026-01-06T10:00:40Z", "value": 1},
        {"series_id": sid, "time": "2026-01-06T10:00:50Z", "value": None, "quality": 0x80310000},
    ]
    r = await client.post(URL, json={"readings": readings}, headers=bearer(tokens["operator"]))
    assert r.status_code == 202, r.text
    body = r.json()
    assert (body["received"], body["accepted"], body["rejected"]) == (6, 3, 3)
    assert [(x["index"], x["reason"]) for x in body["rejects"]] == [
        (2, "out_of_range"),
        (3, "malformed"),
        (4, "unknown_series"),
    ]
    assert "has no UTC offset" in body["rejects"][1]["message"]
    deliveries = await bus.consume(10, 0.1)
    assert [d.shard for d in deliveries] == ["CAMPO-DEMO-LLANOS"]
    batch = deliveries[0].batch
    assert batch.series_id.tolist() == [sid, sid, sid]
    assert np.isnan(batch.value[2]) and batch.quality[2] == 0x80310000
    with db.connect() as conn:
        reasons = [r[0] for r in conn.execute("SELECT reason FROM quarantine ORDER BY id")]
    assert sorted(reasons) == ["malformed", "out_of_range", "unknown_series"]


async def test_ndjson_and_csv(
    client: httpx.AsyncClient, bus: MemoryBus, world: World, tokens: dict[str, str]
) -> None:
    lines = (
        b'{"series": "' + CODE.encode() + b'", "time": "2026-01-06T11:00:00Z", "value": 1}\n'
        b"not json\n"
    )
    r = await client.post(
        URL,
        content=lines,
        headers={"content-type": "application/x-ndjson", **bearer(tokens["engineer"])},
    )
    assert r.status_code == 202
    assert (r.json()["accepted"], r.json()["rejects"][0]["reason"]) == (1, "malformed")
    text = f"time,series,value\n2026-01-06T12:00:00Z,{CODE},12.5\n2026-01-06T12:00:10Z,{CODE},x\n"
    r = await client.post(
        URL,
        content=text.encode(),
        headers={"content-type": "text/csv", **bearer(tokens["engineer"])},
    )
    assert r.status_code == 202
    assert (r.json()["accepted"], r.json()["rejected"]) == (1, 1)
    r = await client.post(
        URL, content=b"time,nothing\n", headers={"content-type": "text/csv",
                                                  **bearer(tokens["engineer"])}
    )  # fmt: skip
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_csv"
    r = await client.post(
        URL, content=b"x", headers={"content-type": "text/plain", **bearer(tokens["engineer"])}
    )
    assert r.status_code == 415
    assert len(await bus.consume(10, 0.1)) == 2


async def test_bus_full_is_a_503_with_retry_after(
    client: httpx.AsyncClient, bus: MemoryBus, world: World, tokens: dict[str, str]
) -> None:
    bus.max_pending_readings = 1
    await bus.publish(__import__("anh_reporter.domain.batch", fromlist=["Batch"]).Batch.of(
        [1, 1], [1, 2], [1.0, 2.0]), "x")  # fmt: skip
    r = await client.post(
        URL,
        json={"readings": [{"series": CODE, "time": "2026-01-06T10:00:00Z", "value": 1.0}]},
        headers=bearer(tokens["operator"]),
    )
    assert r.status_code == 503 and r.json()["error"]["code"] == "bus_unavailable"
    assert r.headers["retry-after"] == "5"
