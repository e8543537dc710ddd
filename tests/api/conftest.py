"""Fixtures for the API tests: two operators on a real database, users of every role, an app.

Operator A is the example site; operator B is a copy with other codes, names and NIT. Tests
act as A's users and must never see anything of B. Requests go through httpx's ASGI transport
(no network); the WebSocket tests start uvicorn on a free port.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import yaml
from fastapi import FastAPI

from anh_reporter.api.app import create_app
from anh_reporter.api.security import hash_password
from anh_reporter.bus.memory import MemoryBus
from anh_reporter.config import ApiSettings, Settings
from anh_reporter.domain.timeutil import to_us
from anh_reporter.site import Site
from anh_reporter.storage.database import Database
from anh_reporter.storage.site_repo import load_site_into
from anh_reporter.storage.telemetry import TelemetryWriter

from ..conftest import EXAMPLE_SITE

ROLES = ("admin", "engineer", "operator", "viewer", "auditor")
PASSWORD = "correct horse battery staple"
SECRET = "test-secret-" + "x" * 40
T0 = dt.datetime(2026, 1, 5, 0, 0, tzinfo=dt.UTC)  # a Monday
HOURS = 30
OTHER_NIT = "800999111-2"
OTHER_NAME = "Operadora Ajena Putumayo S.A."


def other_site() -> Site:
    """The example site under another operator, every code and name changed."""
    raw = yaml.safe_load(EXAMPLE_SITE.read_text(encoding="utf-8"))
    raw["operator"] = {"name": OTHER_NAME, "nit": OTHER_NIT}
    for f in raw["fields"]:
        f["code"] = "AJENO-" + f["code"]
        f["name"] = "Ajeno " + f["name"]
        for pmo in f.get("pmos", []):
            pmo["name"] = "Ajeno " + pmo["name"]
    return Site.model_validate(raw)


@dataclass
class World:
    """Ids of both operators' objects, and markers that must never leak to A's users."""

    own: dict[str, Any] = field(default_factory=dict)
    other: dict[str, Any] = field(default_factory=dict)
    markers: list[str] = field(default_factory=list)
    users: dict[str, int] = field(default_factory=dict)


def _first(conn: Any, sql: str, params: tuple[Any, ...]) -> int:
    row = conn.execute(sql, params).fetchone()
    assert row is not None, sql
    return int(row[0])


def _objects(conn: Any, nit: str) -> dict[str, int]:
    op = _first(conn, "SELECT id FROM operators WHERE nit = %s", (nit,))
    fid = _first(conn, "SELECT id FROM fields WHERE operator_id = %s ORDER BY id", (op,))
    return {
        "operator": op,
        "field": fid,
        "pmo": _first(
            conn, "SELECT id FROM measurement_points WHERE field_id = %s ORDER BY id", (fid,)
        ),
        "well": _first(conn, "SELECT id FROM wells WHERE field_id = %s", (fid,)),
        "series": _first(
            conn,
            "SELECT s.id FROM series s JOIN measurement_points p ON p.id = s.pmo_id "
            "WHERE s.field_id = %s AND s.variable = 'oil_rate'",
            (fid,),
        ),
    }


def seed(db: Database) -> World:
    """Both sites, a day and a bit of oil rate readings for each, users of every role."""
    from anh_reporter.site import load_site

    world = World()
    with db.connect() as conn:
        load_site_into(conn, load_site(EXAMPLE_SITE), changed_by="test")
        load_site_into(conn, other_site(), changed_by="test")
        world.own = _objects(conn, "900123456-7")
        world.other = _objects(conn, OTHER_NIT)
        t = to_us(T0) + np.arange(HOURS * 360, dtype=np.int64) * 10_000_000
        writer = TelemetryWriter(conn)
        for key, base in (("own", 14_000.0), ("other", 9_000.0)):
            sid = (world.own if key == "own" else world.other)["series"]
            values = base + 50 * np.sin(np.arange(len(t)) / 50.0)
            writer.write(
                np.full(len(t), sid, dtype=np.int32),
                t,
                values,
                np.zeros(len(t), dtype=np.uint32),
            )
        pw = hash_password(PASSWORD)
        for op_key, ids in (("own", world.own), ("other", world.other)):
            for role in (*ROLES, "victim"):
                email = f"{role}@{op_key}.example"
                row = conn.execute(
                    "INSERT INTO users (email, password_hash, operator_id, role, all_fields) "
                    "VALUES (%s, %s, %s, %s, true) RETURNING id",
                    (email, pw, ids["operator"], "viewer" if role == "victim" else role),
                ).fetchone()
                assert row is not None
                world.users[f"{op_key}:{role}"] = int(row[0])
        world.own["user"] = world.users["own:victim"]
        world.other["user"] = world.users["other:victim"]
        for ids, key in ((world.own, "own"), (world.other, "other")):
            row = conn.execute(
                "INSERT INTO api_keys (operator_id, name, prefix, key_hash, scopes) "
                "VALUES (%s, 'victim', %s, '\\x00', '{telemetry.read}') RETURNING id",
                (ids["operator"], f"{key:0<12}"),
            ).fetchone()
            assert row is not None
            ids["api_key"] = int(row[0])
        codes = conn.execute(
            "SELECT f.code, f.name FROM fields f WHERE f.operator_id = %s",
            (world.other["operator"],),
        ).fetchall()
        conn.commit()
    world.markers = [OTHER_NIT, OTHER_NAME, "AJENO-", "Ajeno ", "@other.example"]
    world.markers += [c for row in codes for c in row]
    return world


REPORT_DAY = T0.date()  # contract day 2026-01-05: 11:00 UTC to 11:00 UTC the next day
HISTORY_DAYS = 12


def seed_reporting(db: Database, world: World, data_dir: Path) -> None:
    """On top of :func:`seed`: a whole contract day of every series, a signed report and an
    open anomaly per operator, and oil rates for the days before (to forecast from)."""
    from anh_reporter.analytics.records import Anomaly, Severity
    from anh_reporter.analytics.store import save_anomalies
    from anh_reporter.reports import service
    from anh_reporter.reports.errors import ReportBlocked
    from anh_reporter.simulator.backfill import backfill
    from anh_reporter.site import load_site

    context = service.Context.from_settings(Settings(data_dir=data_dir, redis_url=None))
    with db.connect() as conn:
        writer = TelemetryWriter(conn)
        t = to_us(T0) - np.arange(HISTORY_DAYS * 24 * 60, 0, -1, dtype=np.int64) * 60_000_000
        for ids in (world.own, world.other):
            writer.write(
                np.full(len(t), ids["series"], dtype=np.int32),
                t,
                14_000.0 - np.arange(len(t)) * 0.05,
                np.zeros(len(t), dtype=np.uint32),
            )
        conn.commit()
        backfill(conn, load_site(EXAMPLE_SITE), end=T0 + dt.timedelta(hours=36), days=1.5, seed=3)
        conn.commit()
        for ids in (world.own, world.other):
            code = conn.execute("SELECT code FROM fields WHERE id = %s", (ids["field"],)).fetchone()
            assert code is not None
            # A blocked draft would do for the other operator too: nobody of A may reach it.
            with contextlib.suppress(ReportBlocked):
                service.generate(
                    conn, field_code=code[0], day=REPORT_DAY, context=context, created_by="seed"
                )
            row = conn.execute(
                "SELECT id FROM reports WHERE field_id = %s", (ids["field"],)
            ).fetchone()
            assert row is not None
            ids["report"] = int(row[0])
            anomaly = Anomaly(
                field_id=ids["field"],
                series_id=ids["series"],
                pmo_id=None,
                window_start_us=to_us(T0),
                window_end_us=to_us(T0) + 60_000_000,
                score=5.0,
                severity=Severity.WARNING,
                detector="SPIKE",
                explanation={"why": "a spike"},
            )
            ids["anomaly"] = save_anomalies(conn, anomalies=[anomaly])[0].id
        conn.commit()


def api_settings(**overrides: Any) -> ApiSettings:
    """Test settings: a fixed secret, limits high enough not to interfere."""
    values: dict[str, Any] = {
        "jwt_secret": SECRET,
        "auth_rate_per_minute": 100_000,
        "rate_per_minute": 100_000,
        "principal_cache_s": 0.0,
        "ws_frame_ms": 20,
        "ws_auth_timeout_s": 1.0,
        "auth_account_rate_per_minute": 100_000,
        "login_lockout_after": 100,
    }
    values.update(overrides)
    return ApiSettings(**values)


def make_app(
    db: Database, tmp_path: Path, bus: MemoryBus | None = None, **overrides: Any
) -> FastAPI:
    """An app on the test database with an in-process bus."""
    settings = Settings(data_dir=tmp_path, redis_url=None)
    return create_app(settings, db, bus or MemoryBus(), api=api_settings(**overrides))


@pytest.fixture
def world(db: Database) -> World:
    """The seeded database."""
    return seed(db)


@pytest.fixture
def reporting_world(db: Database, world: World, tmp_path: Path) -> World:
    """The seeded database with a signed report, an anomaly and forecastable history."""
    seed_reporting(db, world, tmp_path)
    return world


@pytest.fixture
def bus() -> MemoryBus:
    """The in-process bus the app publishes to and subscribes on."""
    return MemoryBus()


@pytest.fixture
async def app(db: Database, world: World, tmp_path: Path, bus: MemoryBus) -> AsyncIterator[FastAPI]:
    """The app, with its lifespan running."""
    application = make_app(db, tmp_path, bus)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in process."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def login(client: httpx.AsyncClient, email: str, **extra: Any) -> dict[str, Any]:
    """Log in and return the token answer (asserting success)."""
    r = await client.post(
        "/api/v1/auth/login", json={"email": email, "password": PASSWORD, **extra}
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def tokens(client: httpx.AsyncClient) -> dict[str, str]:
    """An access token for each of operator A's roles."""
    out = {}
    for role in ROLES:
        out[role] = (await login(client, f"{role}@own.example"))["access_token"]
    return out


def free_port() -> int:
    """A free TCP port on localhost."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
