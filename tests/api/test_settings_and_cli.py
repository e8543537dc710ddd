"""The JWT secret policy and the first admin (no default password)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from anh_reporter.api.accounts import create_admin
from anh_reporter.api.security import jwt_secret
from anh_reporter.config import ApiSettings, Settings
from anh_reporter.errors import AnhError, ConfigError
from anh_reporter.storage.database import Database

from .conftest import World, make_app


def test_production_refuses_a_missing_or_placeholder_secret(tmp_path: Path) -> None:
    prod = Settings(environment="production", database_url="postgresql://x/y", data_dir=tmp_path)
    with pytest.raises(ConfigError, match="must be set"):
        jwt_secret(prod.model_copy(update={"api": ApiSettings()}))
    with pytest.raises(ConfigError, match="placeholder"):
        jwt_secret(prod.model_copy(update={"api": ApiSettings(jwt_secret=SecretStr("changeme"))}))
    good = "k" * 48
    assert (
        jwt_secret(prod.model_copy(update={"api": ApiSettings(jwt_secret=SecretStr(good))})) == good
    )
    assert not (tmp_path / "api_jwt_secret").exists()


def test_development_generates_and_keeps_a_secret(tmp_path: Path) -> None:
    dev = Settings(data_dir=tmp_path / "data")
    first = jwt_secret(dev.model_copy(update={"api": ApiSettings()}))
    assert len(first) >= 32 and jwt_secret(dev.model_copy(update={"api": ApiSettings()})) == first
    assert (tmp_path / "data" / "api_jwt_secret").stat().st_mode & 0o777 == 0o600


async def test_create_admin_prints_a_password_that_logs_in(
    db: Database, world: World, tmp_path: Path
) -> None:
    with pytest.raises(AnhError, match="2 operators"):
        create_admin(db, "boss@own.example")
    with pytest.raises(AnhError, match="no operator"):
        create_admin(db, "boss@own.example", operator_nit="1-1")
    password = create_admin(db, "Boss@Own.Example", operator_nit="900123456-7")
    assert len(password) >= 20
    with pytest.raises(AnhError, match="another operator"):
        create_admin(db, "boss@own.example", operator_nit="800999111-2")
    app = make_app(db, tmp_path)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.post(
            "/api/v1/auth/login", json={"email": "boss@own.example", "password": password}
        )
        assert r.status_code == 200
        me = await client.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}
        )
        assert me.json()["role"] == "admin" and me.json()["field_ids"] == [world.own["field"]]
