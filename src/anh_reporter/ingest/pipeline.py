"""The ingest writer loop: bus -> validate -> COPY (+ rollups) and quarantine -> ack -> announce.

Batches are taken from the bus and flushed together when they reach ``flush_rows`` readings or
when the oldest waiting batch is ``flush_deadline_ms`` old, so latency stays low under light
traffic and transactions stay large (>= 10k rows) under load. While one flush is written (in a
worker thread, on its own connection) the loop keeps taking batches, but never holds more than
:attr:`IngestPipeline.max_rows_held` readings taken and not yet acknowledged: by default what
it commits at the rate of its last flush in ``HOLD_BUDGET_S`` (20 s; on Redis at most two
thirds of the claim time), and at least 2 × ``flush_rows``. Under a backlog flushes grow to
about half of that (a flush that holds several readings per series merges fewer rollup rows per
reading), and the rest stays in the bus for the other workers instead of waiting here. On a bus
whose deliveries can be claimed by other consumers (Redis), the loop keeps what it holds from
looking idle (``keep_alive``) while it works on it. Deliveries are acknowledged only after the
commit; when the database is unreachable the flush is retried with backoff (writes are
idempotent, so a retry after an ambiguous commit is harmless) and the bus backlog grows until
producers spool. A batch the database refuses for a non-transient reason is quarantined whole,
with the database's message: nothing is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
import psycopg

from anh_reporter.bus.base import Bus, BusUnavailable, Delivery
from anh_reporter.config import IngestSettings
from anh_reporter.domain.batch import Batch
from anh_reporter.domain.timeutil import US_PER_SECOND
from anh_reporter.errors import StorageError, first_line
from anh_reporter.ingest.quarantine import QuarantineRow, rows_from_rejects, write_quarantine
from anh_reporter.ingest.validate import Reason, SeriesCatalog, validate
from anh_reporter.observability import logs, metrics, tracing
from anh_reporter.storage.database import Database
from anh_reporter.storage.telemetry import TelemetryWriter

log = logging.getLogger(__name__)
CommitHook = Callable[[list[Delivery], Batch, float], Awaitable[None] | None]
"""Called after each commit with the deliveries, the written rows and the commit time."""

_TRANSIENT = (psycopg.OperationalError, psycopg.InterfaceError, StorageError)
_CATALOG_RELOAD_S = 5.0
HOLD_BUDGET_S = 20.0  # hold what the writer commits in this long (a bus may ask for less)


@runtime_checkable
class KeepsAlive(Protocol):
    """A bus whose unacknowledged deliveries others take over unless their holder says it lives."""

    @property
    def keep_alive_every_s(self) -> float:
        """How often to call :meth:`keep_alive` while holding deliveries."""
        ...

    async def keep_alive(self, deliveries: list[Delivery]) -> int:
        """Keep these held deliveries from being claimed by other consumers."""
        ...


@dataclass
class IngestStats:
    """Running totals, for the CLI's live line and for tests."""

    batches: int = 0
    offered: int = 0
    written: int = 0
    duplicates: int = 0
    rejected: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    flushes: int = 0
    retries: int = 0
    last_commit: float | None = None

    @property
    def quarantined(self) -> int:
        """Readings sent to quarantine."""
        return sum(self.rejected.values())


class IngestPipeline:
    """Consumes a bus and writes what it carries; one instance per writer process."""

    def __init__(
        self,
        db: Database,
        bus: Bus,
        settings: IngestSettings,
        *,
        catalog: SeriesCatalog | None = None,
        on_commit: list[CommitHook] | None = None,
        clock: Callable[[], float] = time.time,
        max_batches_per_take: int = 256,
        max_rows_held: int | None = None,
        drain_on_stop: bool = True,
    ) -> None:
        self.db = db
        self.bus = bus
        self.settings = settings
        self.catalog = catalog
        self.on_commit = list(on_commit or [])
        self.clock = clock
        self.max_batches_per_take = max_batches_per_take
        if max_rows_held is not None and max_rows_held < 1:
            raise ValueError(f"max_rows_held is {max_rows_held}; it must be at least 1")
        self._fixed_rows_held = max_rows_held
        self._hold_s = HOLD_BUDGET_S
        if isinstance(bus, KeepsAlive):  # 2/3 of the claim time: keep_alive_every_s x 4
            self._hold_s = min(HOLD_BUDGET_S, 4 * bus.keep_alive_every_s)
        self._write_rate = 0.0  # readings/s of the last flush
        self._rows_per_batch = 0  # the largest batch of the last take: sizes the next take
        self._pending: list[Delivery] = []  # taken, waiting for a flush
        self._writing: list[Delivery] = []  # being written
        # True: on stop, write everything the bus still holds (in-process bus: it would be lost).
        # False: write only what was taken (Redis: the rest stays in the stream for the others).
        self.drain_on_stop = drain_on_stop
        self.stats = IngestStats()
        self._stopping = asyncio.Event()
        self._conn: psycopg.Connection[Any] | None = None
        self._writer: TelemetryWriter | None = None
        self._catalog_loaded_at = 0.0
        self._extra_quarantine: list[QuarantineRow] = []

    def add_quarantine(self, rows: list[QuarantineRow]) -> None:
        """Quarantine records that never became readings (e.g. malformed file lines).

        They are written with the next flush.
        """
        self._extra_quarantine.extend(rows)

    async def run(self) -> None:
        """Consume, flush and write until :meth:`stop`; then flush what is left."""
        if self.catalog is None:
            await self._reload_catalog()
        rows = writing_rows = 0
        first_at = 0.0
        inflight: asyncio.Task[None] | None = None
        deadline = self.settings.flush_deadline_ms / 1000.0
        bus_delay = 0.1
        keeper = (
            asyncio.create_task(self._keep_alive(self.bus))
            if isinstance(self.bus, KeepsAlive)
            else None
        )
        try:
            while True:
                stopping = self._stopping.is_set()
                if inflight is not None and inflight.done():
                    inflight.result()
                    inflight, self._writing, writing_rows = None, [], 0
                age = time.monotonic() - first_at if self._pending else 0.0
                due = bool(self._pending) and (
                    rows >= self.settings.flush_rows or age >= deadline or stopping
                )
                if due and inflight is None:
                    self._writing, self._pending = self._pending, []
                    writing_rows, rows = rows, 0
                    inflight = asyncio.create_task(self._flush(self._writing))
                    continue
                if stopping and not self._pending:
                    if not self.drain_on_stop:
                        break
                    drained = await self.bus.consume(self._take(writing_rows), 0.001)
                    if not drained:
                        break
                    self._pending, rows = drained, self._took(drained)
                    first_at = time.monotonic()
                    continue
                if (rows + writing_rows >= self.max_rows_held or due) and inflight is not None:
                    await asyncio.wait({inflight})
                    continue
                timeout = max(deadline - age, 0.001) if self._pending else 0.25
                try:
                    got = await self.bus.consume(self._take(rows + writing_rows), timeout)
                except BusUnavailable as exc:
                    log.warning("bus unavailable (%s); retrying in %.1f s", exc, bus_delay)
                    await asyncio.sleep(bus_delay)
                    bus_delay = min(bus_delay * 2, 5.0)
                    continue
                bus_delay = 0.1
                if got and not self._pending:
                    first_at = time.monotonic()
                self._pending.extend(got)
                rows += self._took(got)
        finally:
            if inflight is not None:
                await asyncio.wait({inflight})
            if keeper is not None:
                keeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keeper
            await asyncio.to_thread(self._close)

    @property
    def max_rows_held(self) -> int:
        """Readings taken and not yet acknowledged (waiting + being written), at most."""
        if self._fixed_rows_held is not None:
            return self._fixed_rows_held
        return max(2 * self.settings.flush_rows, int(self._write_rate * self._hold_s))

    def _take(self, held: int) -> int:
        """How many batches to ask for when ``held`` readings are held already."""
        if self._rows_per_batch <= 0:
            return 1  # sizes unknown yet: one batch tells
        room = (self.max_rows_held - held) // self._rows_per_batch
        return max(1, min(self.max_batches_per_take, room))

    def _took(self, got: list[Delivery]) -> int:
        """Readings in ``got``; remembers the largest batch to size the next take."""
        if got:
            self._rows_per_batch = max(len(d.batch) for d in got)
        return sum(len(d.batch) for d in got)

    async def _keep_alive(self, bus: KeepsAlive) -> None:
        """While running, keep what is held (waiting or being written) claimed by this consumer."""
        while True:
            await asyncio.sleep(bus.keep_alive_every_s)
            try:
                await bus.keep_alive([*self._writing, *self._pending])
            except BusUnavailable as exc:  # retried next period; at worst another writes them
                log.warning("could not keep held batches from the other consumers: %s", exc)

    def stop(self) -> None:
        """Ask :meth:`run` to flush what it holds and return."""
        self._stopping.set()

    async def _flush(self, deliveries: list[Delivery]) -> None:
        """Write, acknowledge and announce ``deliveries``; its lines carry their batch ids."""
        with logs.batch_scope(d.batch_id for d in deliveries), _flush_span(deliveries):
            await self._write_deliveries(deliveries)

    async def _write_deliveries(self, deliveries: list[Delivery]) -> None:
        batch = Batch.concat([d.batch for d in deliveries])
        assert self.catalog is not None  # noqa: S101 - narrows for mypy: loaded in run() first
        if not self.catalog.known_mask(batch.series_id).all():
            await self._reload_catalog()
        now_us = int(self.clock() * US_PER_SECOND)
        tolerance_us = int(self.settings.future_tolerance_s * US_PER_SECOND)
        checked = validate(batch, self.catalog, now_us=now_us, future_tolerance_us=tolerance_us)
        qrows = rows_from_rejects(
            checked.rejects, self.catalog, now_us=now_us, future_tolerance_us=tolerance_us
        )
        qrows, self._extra_quarantine = qrows + self._extra_quarantine, []
        late = None
        if any(d.redelivered for d in deliveries):
            sizes = [len(d.batch) for d in deliveries]
            late = np.repeat([d.redelivered for d in deliveries], sizes)[checked.accepted]
        started = time.perf_counter()
        with tracing.span("ingest.commit", attributes={"anh.readings": len(checked.good)}):
            inserted, refused = await self._write_with_retry(checked.good, qrows, late)
        committed = self.clock()
        elapsed = time.perf_counter() - started
        metrics.batch_write_seconds.observe(elapsed)
        self._write_rate = len(batch) / max(elapsed, 1e-3)
        try:
            await self.bus.ack(deliveries)
        except BusUnavailable as exc:
            # Harmless: the bus redelivers them and the writer is idempotent.
            log.warning("could not acknowledge %d batch(es): %s", len(deliveries), exc)
        rejected = {r.value: n for r, n in checked.rejects.counts().items()}
        for row in qrows[len(checked.rejects) :] + refused:
            rejected[row.reason] = rejected.get(row.reason, 0) + 1
        self._count(deliveries, batch, checked.good, inserted, rejected, committed, len(refused))
        await self._announce(deliveries, checked.good, checked.accepted)
        for hook in self.on_commit:
            result = hook(deliveries, checked.good, committed)
            if result is not None:
                await result

    async def _write_with_retry(
        self, good: Batch, qrows: list[QuarantineRow], late: npt.NDArray[np.bool_] | None = None
    ) -> tuple[int, list[QuarantineRow]]:
        """Write ``good`` and quarantine ``qrows`` in one transaction: the readings stored, and
        the ones of ``good`` the database did not take (quarantined with them, with a reason).
        ``late``: which readings of ``good`` were redelivered (see :meth:`_write_sync`)."""
        delay = 0.1
        refused: list[QuarantineRow] = []
        while True:
            try:
                inserted, archived = await asyncio.to_thread(self._write_sync, good, qrows, late)
                return inserted, refused + archived
            except _TRANSIENT as exc:
                self.stats.retries += 1
                log.warning("database unavailable (%s); retrying in %.1f s", first_line(exc), delay)
                await asyncio.to_thread(self._close)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            except psycopg.Error as exc:
                log.error("database refused a batch of %d readings: %s", len(good), exc)
                await asyncio.to_thread(self._close)
                failed = _refused(good, exc)
                refused += failed
                qrows = qrows + failed
                good, late = Batch.empty(good.source), None

    def _write_sync(
        self, good: Batch, qrows: list[QuarantineRow], late: npt.NDArray[np.bool_] | None = None
    ) -> tuple[int, list[QuarantineRow]]:
        """One transaction. Redelivered readings (``late``) are written, and merged into the
        rollups, before the others: a dead worker's batches are older than what was written
        since, and apart they fill a gap the rollups merge exactly; together with newer ones
        they would straddle stored readings and make the hour be recomputed from raw rows."""
        if self._writer is None:
            self._conn = self.db.connect()
            self._writer = TelemetryWriter(self._conn)
        assert self._conn is not None  # noqa: S101 - narrows for mypy: connected just above
        parts = [good]
        if late is not None and late.any() and not late.all():
            parts = [good.take(late), good.take(~late)]
        inserted, archived = 0, []
        with self._conn.transaction():
            for part in parts:
                result = self._writer.write(part.series_id, part.time_us, part.value, part.quality)
                inserted += result.inserted
                archived += [
                    row
                    for why, rows in result.archived.items()
                    for row in _quarantine_rows(part, rows, Reason.ARCHIVED_WEEK, why)
                ]
            write_quarantine(self._conn, qrows + archived)
        return inserted, archived

    def _close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
        self._conn, self._writer = None, None

    async def _reload_catalog(self) -> None:
        now = time.monotonic()
        if self.catalog is not None and now - self._catalog_loaded_at < _CATALOG_RELOAD_S:
            return

        def load() -> SeriesCatalog:
            with self.db.connect() as conn:
                return SeriesCatalog.load(conn)

        self.catalog = await asyncio.to_thread(load)
        self._catalog_loaded_at = now

    def _count(
        self,
        deliveries: list[Delivery],
        offered: Batch,
        good: Batch,
        inserted: int,
        rejected: dict[str, int],
        committed: float,
        refused: int,
    ) -> None:
        s = self.stats
        s.batches += len(deliveries)
        s.offered += len(offered)
        s.written += inserted
        duplicates = len(good) - refused - inserted
        s.duplicates += duplicates
        s.flushes += 1
        s.last_commit = committed
        for reason, n in rejected.items():
            s.rejected[reason] += n
            metrics.telemetry_rejected.labels(reason=reason).inc(n)
        if duplicates > 0:
            metrics.telemetry_duplicates.inc(duplicates)
        for d in deliveries:
            if d.published_at:
                metrics.reading_latency_seconds.observe(max(committed - d.published_at, 0.0))
        assert self.catalog is not None  # noqa: S101 - narrows for mypy: loaded in run() first
        ids, where, counts = np.unique(good.series_id, return_inverse=True, return_counts=True)
        newest = np.full(len(ids), np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(newest, where, good.time_us)
        newest_s: dict[str, float] = {}  # per field: source time of its newest reading
        for sid, n, t_us in zip(ids.tolist(), counts.tolist(), newest.tolist(), strict=True):
            row = self.catalog.rows.get(sid)
            if row is not None:
                field_id = str(row.field_id)
                metrics.telemetry_processed.labels(field_id=field_id, variable=row.variable).inc(n)
                newest_s[field_id] = max(newest_s.get(field_id, 0.0), t_us / US_PER_SECOND)
        if refused < len(good):  # else the database refused the whole flush (quarantined)
            for field_id, t in newest_s.items():
                metrics.raise_to(metrics.ingest_newest_reading_timestamp, t, field_id)

    async def _announce(
        self, deliveries: list[Delivery], good: Batch, accepted: npt.NDArray[np.bool_]
    ) -> None:
        if not len(good):
            return
        shards = [d.shard for d in deliveries]
        if len(set(shards)) == 1:
            await self.bus.announce(good, shards[0])
            return
        # Several shards in one flush: each shard's subscribers get their own readings.
        owner = np.repeat(np.arange(len(deliveries)), [len(d.batch) for d in deliveries])[accepted]
        for shard in sorted(set(shards)):
            mine = np.isin(owner, [i for i, s in enumerate(shards) if s == shard])
            if mine.any():
                await self.bus.announce(good.take(mine), shard)


def _flush_span(deliveries: list[Delivery]) -> contextlib.AbstractContextManager[object]:
    """``ingest.flush``: in the first traced batch's trace, linked to the others' publishes."""
    if not tracing.enabled():
        return contextlib.nullcontext()
    parents = [d.trace_parent for d in deliveries if d.trace_parent]
    return tracing.span(
        "ingest.flush",
        parent=parents[0] if parents else None,
        links=parents[1:],
        kind="consumer",
        attributes={
            "anh.batch_ids": [d.batch_id for d in deliveries if d.batch_id],
            "anh.batches": len(deliveries),
            "anh.readings": sum(len(d.batch) for d in deliveries),
        },
    )


def _refused(good: Batch, exc: psycopg.Error) -> list[QuarantineRow]:
    message = f"database refused the batch: {first_line(exc)}"
    return _quarantine_rows(good, range(len(good)), Reason.WRITE_FAILED, message)


def _quarantine_rows(
    good: Batch, rows: Iterable[int], reason: Reason, message: str
) -> list[QuarantineRow]:
    """Quarantine records of these rows of ``good``, as received."""
    return [
        QuarantineRow(
            source=good.source,
            reason=reason.value,
            message=message,
            series_id=int(good.series_id[i]),
            time_us=int(good.time_us[i]),
            value=float(good.value[i]),
            quality=int(good.quality[i].view(np.int32)),
        )
        for i in rows
    ]
