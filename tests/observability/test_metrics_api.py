"""API metrics, read back from the API's own ``/metrics`` after real requests.

``api_requests_total{endpoint, method, status_class}`` is labelled with the route template
(``/api/v1/production/fields/{field_id}/daily``), never the raw path, so the number of series stays
bounded; ``db_query_duration_seconds{query_type}`` times the queries the requests ran.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from anh_reporter.storage.database import Database

from ..api.conftest import World, bearer, login, make_app, seed

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
DAILY = "/api/v1/production/fields/{field_id}/daily"


@pytest.fixture
async def client(db: Database, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, World]]:
    world = seed(db)
    app = make_app(db, tmp_path)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c, world


async def _scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def _requests(samples: Samples, endpoint: str, method: str, status_class: str) -> float:
    key = (("endpoint", endpoint), ("method", method), ("status_class", status_class))
    return samples.get(("api_requests_total", key), 0.0)


async def test_requests_are_counted_by_route_template_and_status_class(
    client: tuple[httpx.AsyncClient, World],
) -> None:
    http, world = client
    token = (await login(http, "viewer@own.example"))["access_token"]
    before = await _scrape(http)

    own = await http.get(
        f"/api/v1/production/fields/{world.own['field']}/daily",
        params={"day": "2026-01-05"},
        headers=bearer(token),
    )
    foreign = await http.get(
        f"/api/v1/production/fields/{world.other['field']}/daily",
        params={"day": "2026-01-05"},
        headers=bearer(token),
    )
    anonymous = await http.get(f"/api/v1/production/fields/{world.own['field']}/daily")
    missing = await http.get("/api/v1/no-such-route/42")
    assert own.status_code == 200, own.text
    assert foreign.status_code // 100 == 4 and anonymous.status_code // 100 == 4
    assert missing.status_code == 404
    after = await _scrape(http)

    # One 2xx and two 4xx on the template; the unknown path under "unmatched".
    assert _requests(after, DAILY, "GET", "2xx") - _requests(before, DAILY, "GET", "2xx") == 1
    assert _requests(after, DAILY, "GET", "4xx") - _requests(before, DAILY, "GET", "4xx") == 2
    assert (
        _requests(after, "unmatched", "GET", "4xx") - _requests(before, "unmatched", "GET", "4xx")
        == 1
    )
    # The scrape before counts itself too: /metrics is a route like the others.
    assert _requests(after, "/metrics", "GET", "2xx") >= 1
    # No series carries a raw path (an id where the template has {field_id}).
    endpoints = {dict(labels)["endpoint"] for name, labels in after if name == "api_requests_total"}
    assert not any(str(world.own["field"]) in e.split("/") for e in endpoints), endpoints

    # The requests ran queries (the principal, the field's figures): timed as "select".
    count = ("db_query_duration_seconds_count", (("query_type", "select"),))
    assert after[count] > before.get(count, 0.0)
