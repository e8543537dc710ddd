"""Which database a query goes to: the read replica, the direct URL, the pooled flag."""

from __future__ import annotations

import pytest

from anh_reporter.config import Settings
from anh_reporter.errors import StorageError
from anh_reporter.storage.database import Database, direct_database, open_database, read_database

PRIMARY = "postgresql://anh@db1:6432/anh"
REPLICA = "postgresql://anh@db2:5432/anh"
DIRECT = "postgresql://anh@db1:5432/anh"


def test_reads_go_to_the_replica_when_set_and_to_the_primary_otherwise() -> None:
    primary = Database(PRIMARY)
    assert read_database(Settings(), primary) is primary
    replica = read_database(Settings(database_read_url=REPLICA, database_pooled=True), primary)
    assert replica == Database(REPLICA, pooled=True)


def test_pooled_connections_never_prepare_and_the_owner_url_is_direct() -> None:
    settings = Settings(database_url=PRIMARY, database_owner_url=DIRECT, database_pooled=True)
    with open_database(settings) as app, open_database(settings, owner=True) as owner:
        assert (app.pooled, app.prepare_threshold) == (True, None)
        assert (owner.pooled, owner.prepare_threshold) == (False, 5)
    assert app.with_name("other").pooled


def test_the_scheduler_lock_needs_a_direct_url_behind_a_pooler() -> None:
    pooled = Database(PRIMARY, pooled=True)
    with pytest.raises(StorageError, match="ANH_DATABASE_DIRECT_URL is not"):
        direct_database(Settings(database_pooled=True), pooled)
    assert direct_database(Settings(database_direct_url=DIRECT), pooled) == Database(DIRECT)
    plain = Database(DIRECT)
    assert direct_database(Settings(), plain) is plain
