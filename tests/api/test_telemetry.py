"""Raw readings, rollups, downsampling and CSV export, checked against hand-built data."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import httpx

from anh_reporter.storage.database import Database

from .conftest import T0, World, bearer, login, make_app

# The seed: one reading every 10 s from T0, value 14000 + 50 sin(i / 50), all Good.


async def test_raw_pages_with_next_start(
    client: httpx.AsyncClient, world: World, tokens: dict[str, str]
) -> None:
    url = f"/api/v1/telemetry/{world.own['series']}/raw"
    params = {"start": T0.isoformat(), "end": T0.replace(hour=1).isoformat(), "limit": 300}
    first = (await client.get(url, params=params, headers=bearer(tokens["viewer"]))).json()
    assert (first["count"], first["truncated"]) == (300, True)
    assert first["time"][0] == "2026-01-05T00:00:00Z" and first["quality"][0] == 0
    assert first["next_start"] == "2026-01-05T00:49:50.000001Z"
    params["start"] = first["next_start"]
    rest = (await client.get(url, params=params, headers=bearer(tokens["viewer"]))).json()
    assert (rest["count"], rest["truncated"], rest["next_start"]) == (60, False, None)


async def test_rollup_from_hourly_and_raw_agree(
    client: httpx.AsyncClient, world: World, tokens: dict[str, str]
) -> None:
    url = f"/api/v1/telemetry/{world.own['series']}/rollup"
    span = {"start": T0.isoformat(), "end": T0.replace(hour=2).isoformat()}
    hourly = (await client.get(url, params={**span, "interval_s": 3600},
                               headers=bearer(tokens["viewer"]))).json()  # fmt: skip
    assert hourly["source"] == "telemetry_hourly"
    assert hourly["count"] == [360, 360] and hourly["good_count"] == [360, 360]
    halves = (await client.get(url, params={**span, "interval_s": 1800},
                               headers=bearer(tokens["viewer"]))).json()  # fmt: skip
    assert halves["source"] == "telemetry" and halves["count"] == [180, 180, 180, 180]
    # The hourly mean is the count-weighted mean of its half hours; min and max carry over.
    for h in range(2):
        mean = (halves["avg"][2 * h] + halves["avg"][2 * h + 1]) / 2
        assert abs(hourly["avg"][h] - mean) < 1e-9
        assert hourly["min"][h] == min(halves["min"][2 * h : 2 * h + 2])
        assert hourly["max"][h] == max(halves["max"][2 * h : 2 * h + 2])
    assert hourly["first"][0] == 14_000.0  # sin(0) = 0


async def test_downsampling_and_bucket_limits(
    client: httpx.AsyncClient, world: World, tokens: dict[str, str]
) -> None:
    base = f"/api/v1/telemetry/{world.own['series']}"
    span = {"start": T0.isoformat(), "end": T0.replace(hour=10).isoformat()}
    r = await client.get(f"{base}/downsampled", params={**span, "points": 20},
                         headers=bearer(tokens["viewer"]))  # fmt: skip
    body = r.json()
    assert body["interval_s"] == 1800 and len(body["bucket"]) == 20
    r = await client.get(f"{base}/downsampled", params={**span, "points": 5},
                         headers=bearer(tokens["viewer"]))  # fmt: skip
    assert r.json()["interval_s"] == 7200 and r.json()["source"] == "telemetry_hourly"
    r = await client.get(f"{base}/rollup", params={**span, "interval_s": 1},
                         headers=bearer(tokens["viewer"]))  # fmt: skip
    assert r.status_code == 422 and "36,000 buckets" in r.json()["error"]["message"]
    r = await client.get(f"{base}/raw", params={"start": span["end"], "end": span["start"]},
                         headers=bearer(tokens["viewer"]))  # fmt: skip
    assert r.status_code == 422 and r.json()["error"]["message"].startswith("end: must be after")


async def test_csv_export(client: httpx.AsyncClient, world: World, tokens: dict[str, str]) -> None:
    r = await client.get(
        "/api/v1/telemetry/export",
        params={
            "series_id": world.own["series"],
            "start": T0.isoformat(),
            "end": T0.replace(minute=1).isoformat(),
        },
        headers=bearer(tokens["viewer"]),
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["time", "series_id", "series_code", "value", "quality"]
    assert rows[1] == [
        "2026-01-05T00:00:00.000000Z",
        str(world.own["series"]),
        "CAMPO-DEMO-LLANOS.PMO-LACT-01.oil_rate",
        "14000",
        "0",
    ]
    assert len(rows) == 1 + 6
    r = await client.get(
        "/api/v1/telemetry/export",
        params={"series_id": [world.own["series"], world.other["series"]],
                "start": T0.isoformat(), "end": T0.replace(minute=1).isoformat()},
        headers=bearer(tokens["viewer"]),
    )  # fmt: skip
    assert r.status_code == 404


async def test_more_concurrent_requests_than_pooled_connections(
    db: Database, world: World, tmp_path: Path
) -> None:
    # Each request holds a pooled connection while its caller is looked up: that lookup must
    # not wait for the same pool (it did once, and 32 clients deadlocked a pool of 10).
    app = make_app(db, tmp_path, pool_size=1)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        token = (await login(client, "viewer@own.example"))["access_token"]
        url = f"/api/v1/telemetry/{world.own['series']}/raw"
        params = {"start": T0.isoformat(), "end": T0.replace(hour=1).isoformat()}
        answers = await asyncio.wait_for(
            asyncio.gather(
                *(client.get(url, params=params, headers=bearer(token)) for _ in range(8))
            ),
            30,
        )
    assert [r.status_code for r in answers] == [200] * 8


async def test_a_series_newer_than_the_cached_catalogue_is_found(
    client: httpx.AsyncClient, db: Database, world: World, tokens: dict[str, str]
) -> None:
    auth = bearer(tokens["viewer"])
    span = {"start": T0.isoformat(), "end": T0.replace(hour=1).isoformat()}
    r = await client.get(f"/api/v1/telemetry/{world.own['series']}/raw", params=span, headers=auth)
    assert r.status_code == 200  # the catalogue is loaded now, for a few seconds
    with db.connect() as conn:
        row = conn.execute(
            "INSERT INTO series (code, field_id, pmo_id, variable, unit, range_lo, range_hi, "
            "sampling_period_s, commissioned_at) SELECT 'NEW.oil_rate', field_id, pmo_id, "
            "'oil_rate', 'bbl/d', 0, 1, 60, now() FROM series WHERE id = %s RETURNING id",
            (world.own["series"],),
        ).fetchone()
        conn.commit()
    assert row is not None
    r = await client.get(f"/api/v1/telemetry/{row[0]}/raw", params=span, headers=auth)
    assert r.status_code == 200 and r.json()["count"] == 0
    theirs = await client.get(
        f"/api/v1/telemetry/{world.other['series']}/raw", params=span, headers=auth
    )
    assert theirs.status_code == 404
