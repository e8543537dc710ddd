"""HSTS: the wrapper `serve` puts around the app when TLS is on."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from anh_reporter.api.hsts import Hsts


async def test_hsts_header_is_added_to_every_response() -> None:
    app = FastAPI()

    @app.get("/x")
    async def x() -> dict[str, int]:
        return {"a": 1}

    transport = httpx.ASGITransport(app=Hsts(app, 63_072_000))
    async with httpx.AsyncClient(transport=transport, base_url="https://t") as client:
        for path in ("/x", "/missing"):
            r = await client.get(path)
            assert r.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
