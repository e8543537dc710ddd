"""``anh-reporter worker``: the centre's ingest writer as a process of its own, N replicas.

Each worker is one consumer of the Redis Streams consumer group (``writers``) and runs the same
writer loop as the embedded mode (:class:`~anh_reporter.ingest.pipeline.IngestPipeline`):
validate, COPY into PostgreSQL, acknowledge after the commit. Several workers share the
shards: each serves its own share of them (``ANH_WORKER__SHARD_AFFINITY``, see
:mod:`anh_reporter.bus.redis_members`), so two do not contend for one field's rollup rows. A
worker takes no more ahead of its writes than it commits in two thirds of
the claim time, and keeps what it holds from looking idle while it writes it, so a slow worker
is not doubled by the others. Entries a dead worker held unacknowledged are
claimed (XAUTOCLAIM) by the others once idle ``ANH_WORKER__CLAIM_IDLE_MS``; names of
consumers that hold nothing and have been idle ``ANH_WORKER__FORGET_IDLE_MS`` are removed from
the group (a killed worker's name), and a worker stopped by SIGTERM or SIGINT writes what it
took, hands over anything still pending under its name and deletes its own name (XGROUP
DELCONSUMER) before it exits. The same periodic task samples the group's pending and not yet
delivered entries of every shard into ``bus_pending_entries`` and ``bus_stream_lag_entries``
(``/metrics`` on ``ANH_METRICS__PORT``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Annotated

import typer

from anh_reporter.bus.redis_streams import RedisStreamsBus, default_consumer_name
from anh_reporter.config import Settings, get_settings
from anh_reporter.errors import AnhError, first_line
from anh_reporter.ingest.changes import ChangeNotifier
from anh_reporter.ingest.pipeline import IngestPipeline, IngestStats
from anh_reporter.observability import metrics
from anh_reporter.observability.metrics import REGISTRY
from anh_reporter.storage.database import Database, open_database
from anh_reporter.terminal import console

log = logging.getLogger(__name__)


def worker(
    consumer: Annotated[
        str | None,
        typer.Option(help="Consumer name in the group; unique per replica (default: host-pid)"),
    ] = None,
    shard: Annotated[
        list[str] | None,
        typer.Option(help="Serve only this shard (repeatable; default: every shard)"),
    ] = None,
    seconds: Annotated[
        float, typer.Option(min=0, help="Stop after this long (0: until SIGTERM)")
    ] = 0,
) -> None:
    """The ingest worker: Redis Streams consumer group -> PostgreSQL; run one per replica.

    Needs ``ANH_REDIS_URL`` and ``ANH_DATABASE_URL``. The schema must be migrated already
    (``anh-reporter db migrate``). SIGTERM: write what was taken, leave the group, exit.
    """
    settings = get_settings()
    if not settings.redis_url:
        raise AnhError("the worker consumes the Redis bus: set ANH_REDIS_URL")
    if settings.database_url is None:
        raise AnhError("the worker writes to a shared PostgreSQL: set ANH_DATABASE_URL")
    if settings.metrics.port is not None:
        from prometheus_client import start_http_server

        start_http_server(settings.metrics.port, settings.metrics.host, registry=REGISTRY)
    name = consumer or settings.worker.consumer or default_consumer_name()
    with open_database(settings) as db:
        stats = asyncio.run(_main(db, settings, name, shard or None, seconds))
    console.print(
        f"worker {name}: {stats.written:,} written, {stats.duplicates:,} duplicates, "
        f"{stats.quarantined:,} quarantined in {stats.flushes:,} flushes",
        highlight=False,
    )


async def _main(
    db: Database, settings: Settings, name: str, shards: list[str] | None, seconds: float
) -> IngestStats:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if seconds:
        loop.call_later(seconds, stop.set)
    console.print(f"worker {name}: consuming the Redis bus into the database", highlight=False)
    return await run_worker(db, settings, stop, consumer=name, shards=shards)


async def run_worker(
    db: Database,
    settings: Settings,
    stop: asyncio.Event,
    *,
    consumer: str,
    shards: list[str] | None = None,
) -> IngestStats:
    """Consume and write until ``stop`` is set; then leave the group cleanly. Its totals."""
    assert settings.redis_url is not None  # noqa: S101 - checked by the caller
    options = settings.worker
    bus = RedisStreamsBus(
        settings.redis_url,
        shards=shards,
        consumer=consumer,
        claim_idle_ms=options.claim_idle_ms,
        prefix=settings.redis_prefix,
        affinity=options.shard_affinity,
    )
    notifier = ChangeNotifier(db, redis_url=settings.redis_url)
    pipeline = IngestPipeline(db, bus, settings.ingest, on_commit=[notifier], drain_on_stop=False)
    writer = asyncio.create_task(pipeline.run())
    janitor = asyncio.create_task(_janitor(bus, options.forget_idle_ms, options.claim_idle_ms))
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({writer, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        pipeline.stop()
        stopping.cancel()
        janitor.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await janitor
        try:
            await writer  # writes and acknowledges what it took; raises what made it fail
        finally:
            try:
                await bus.retire()
            except Exception as exc:  # Redis gone: the others claim and forget it
                log.warning("could not leave the consumer group cleanly: %s", first_line(exc))
            await notifier.close()
            await bus.close()
    return pipeline.stats


async def _janitor(bus: RedisStreamsBus, forget_idle_ms: int, claim_idle_ms: int) -> None:
    """Every so often: sample the group's backlog (:func:`sample_backlog`), and remove the
    names of consumers that hold nothing and stopped reading."""
    period = max(min(forget_idle_ms, claim_idle_ms) / 2000, 0.5)
    while True:
        await sample_backlog(bus)
        await asyncio.sleep(period)
        try:
            await bus.forget_idle_consumers(forget_idle_ms)
        except Exception as exc:  # Redis down: retried next period
            log.warning("could not clean up idle consumers: %s", first_line(exc))


_sampled: set[str] = set()  # the shards the gauges below have a series for


async def sample_backlog(bus: RedisStreamsBus) -> None:
    """Set ``bus_pending_entries`` and ``bus_stream_lag_entries`` of every shard of the group.

    Every worker samples every shard, not only its own share: a dead worker's pile shows
    while nobody has claimed it (the alert rules take the max over the workers).
    """
    try:
        backlog = await bus.group_backlog()
    except Exception as exc:  # Redis down: the gauges keep their last values; retried
        log.warning("could not sample the bus backlog: %s", first_line(exc))
        return
    for shard in _sampled - backlog.keys():  # gone (Redis emptied): no stale series
        metrics.bus_pending_entries.remove(shard)
        metrics.bus_stream_lag_entries.remove(shard)
    for shard, (pending, lag) in backlog.items():
        metrics.bus_pending_entries.labels(shard).set(pending)
        metrics.bus_stream_lag_entries.labels(shard).set(lag)
    _sampled.clear()
    _sampled.update(backlog)
