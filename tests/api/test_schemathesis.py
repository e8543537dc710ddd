"""Property-based run of the app's own OpenAPI document: no 5xx, answers match the schema.

Needs schemathesis (dev extra ``schemathesis>=4.32,<5``); skipped with that reason without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip(
    "schemathesis", reason="schemathesis is not installed (dev extra schemathesis>=4.32,<5)"
)

import uuid  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402

from anh_reporter.api.security import AccessTokens  # noqa: E402
from anh_reporter.storage.database import Database  # noqa: E402

from .conftest import SECRET, make_app, seed, seed_reporting  # noqa: E402


def _token(db: Database) -> str:
    """An admin's access token with a live session, made without running the app."""
    family = uuid.uuid4()
    with db.connect() as conn:
        row = conn.execute(
            "SELECT id, operator_id FROM users WHERE email = 'admin@own.example'"
        ).fetchone()
        assert row is not None
        conn.execute(
            "INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, expires_at) "
            "VALUES (%s, %s, %s, %s, now() + interval '1 hour')",
            (uuid.uuid4(), family, row[0], uuid.uuid4().bytes),
        )
        conn.commit()
    return AccessTokens(SECRET, 3600).issue(
        user_id=row[0], operator_id=row[1], role="admin", family_id=family
    )


def _config() -> Any:
    """Schemathesis' defaults, except that a schema-valid request may get a 422.

    A 422 answers what OpenAPI cannot state about one parameter alone: an end before its
    start, a range over its limit, too little data for a forecast or SPC baseline. The
    answer's shape is still checked against the documented error schema.
    """
    from schemathesis.config import SchemathesisConfig

    return SchemathesisConfig.from_dict(
        {
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": ["2XX", "3XX", "401", "403", "404", "409", "422", "429"]
                }
            }
        }
    )


def test_api_conforms_to_its_schema(db: Database, tmp_path: Path) -> None:
    """Every operation, with generated inputs: no 5xx, and every answer matches the schema.

    The lazy pytest integration of schemathesis 4 (``from_fixture``) does not work with
    pytest 9, so the operations' Hypothesis strategies are driven directly.
    """
    # With reports, anomalies and history: ids 1 and 2 exist (own and other operator's).
    seed_reporting(db, seed(db), tmp_path)
    app = make_app(db, tmp_path)
    headers = {"Authorization": f"Bearer {_token(db)}"}
    api_schema = schemathesis.openapi.from_asgi("/api/openapi.json", app, config=_config())
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 20
    calls = 0

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            nonlocal calls
            case.call_and_validate(headers=headers)
            calls += 1

        check()
    assert calls >= 2 * len(operations)  # every operation really ran with several inputs
