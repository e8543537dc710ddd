"""Issue 13, error bodies: when the database cannot be reached, the 503 names no host, port,
role or database and carries no driver text; the detail is logged under the error id the body
gives."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from anh_reporter.api.app import create_app
from anh_reporter.bus.memory import MemoryBus
from anh_reporter.config import Settings
from anh_reporter.storage.database import Database

from .conftest import PASSWORD, api_settings, bearer

ROLE = "anh_no_such_role_7f3a"


def _unreachable() -> list[tuple[str, tuple[str, ...]]]:
    """A URL the app cannot use, and words of it (and of the driver) that must not leak."""
    real = urlsplit(os.environ.get("ANH_TEST_DATABASE_URL", "postgresql://127.0.0.1:5432/test"))
    # The real server refuses a role it does not know ("FATAL: role ... does not exist").
    refused = urlunsplit(real._replace(netloc=f"{ROLE}@{real.hostname}:{real.port or 5432}"))
    return [
        ("postgresql://nobody@127.0.0.1:1/none", ("127.0.0.1", "nobody", "none", ":1")),
        (refused, (ROLE, str(real.hostname), real.path.lstrip("/") + '"', "FATAL")),
    ]


@pytest.mark.parametrize(("url", "secrets"), _unreachable(), ids=["closed-port", "unknown-role"])
async def test_database_unavailable_body_is_fixed_and_the_detail_is_logged(
    url: str, secrets: tuple[str, ...], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="anh_reporter.api")
    app = create_app(Settings(data_dir=tmp_path), Database(url), MemoryBus(), api=api_settings())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        answers = [
            await client.get("/api/v1/fields", headers=bearer("x.y.z")),
            await client.post(
                "/api/v1/auth/login", json={"email": "a@own.example", "password": PASSWORD}
            ),
        ]
    for r in answers:
        assert r.status_code == 503, r.text
        assert r.headers["retry-after"] == "5"
        error = r.json()["error"]
        assert error["code"] == "database_unavailable"
        leaked = [
            w
            for w in (*secrets, "PostgreSQL", "postgresql://", "connect", "psycopg")
            if w in r.text
        ]
        assert not leaked, r.text
        found = re.fullmatch(
            r"the database could not answer; retry shortly \(error id ([0-9a-f]{12})\)",
            error["message"],
        )
        assert found is not None, error["message"]
        logged = [rec.getMessage() for rec in caplog.records if found.group(1) in rec.getMessage()]
        assert logged and "cannot connect to PostgreSQL" in logged[0], logged
