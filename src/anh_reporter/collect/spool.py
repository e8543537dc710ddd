"""The store-and-forward spool: batches wait on local disk while the bus is unreachable.

A SQLite file in WAL mode, one row per batch (``seq`` gives the order, across restarts too).
Rows leave only through :meth:`Spool.remove`, which the forwarder calls after the bus has
taken the batch. The spool refuses to grow past its cap (:class:`SpoolFullError`) rather than
drop anything, and raises an alarm (log + ``ingest_spool_alarm`` gauge) when it is filling.

One process owns a spool file at a time (SQLite exclusive locking): the depth counters are
kept in memory, and two writers would also interleave their order.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from anh_reporter.config import Settings
from anh_reporter.domain.batch import Batch
from anh_reporter.errors import AnhError
from anh_reporter.observability import metrics

log = logging.getLogger(__name__)

SPOOL_FILE = "spool.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: order survives restarts
    shard      TEXT    NOT NULL,
    created_us INTEGER NOT NULL,
    readings   INTEGER NOT NULL,
    data       BLOB    NOT NULL                    -- Batch.to_bytes()
)
"""


class SpoolError(AnhError):
    """The spool file cannot be opened or used."""


class SpoolFullError(SpoolError):
    """Appending would pass the spool's size cap: the batch is refused, not dropped."""


@dataclass(frozen=True)
class SpooledBatch:
    """A batch waiting in the spool, with its place in the order."""

    seq: int
    shard: str
    batch: Batch
    created_us: int
    nbytes: int


class Spool:
    """A durable FIFO of batches with a size cap and a fill alarm; thread-safe.

    ``max_bytes`` caps the stored batch bytes (the file itself is a little larger: SQLite
    pages and the WAL). The alarm is on while the fill ratio is at or above ``alarm_ratio``.
    """

    def __init__(self, path: Path, *, max_bytes: int, alarm_ratio: float = 0.8) -> None:
        if max_bytes < 1:
            raise ValueError(f"spool max_bytes is {max_bytes}; it must be positive")
        if not 0 < alarm_ratio <= 1:
            raise ValueError(f"spool alarm_ratio is {alarm_ratio}; it must be in (0, 1]")
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.alarm_ratio = alarm_ratio
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Called from worker threads (asyncio.to_thread); self._lock serialises use.
            self._db = sqlite3.connect(
                self.path, timeout=1.0, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA locking_mode=EXCLUSIVE")
            self._db.execute("PRAGMA journal_mode=WAL")
            # WAL with synchronous=NORMAL survives a process crash but may lose the last
            # commits on power loss; FULL fsyncs the WAL at every commit, so a batch whose
            # append returned is on disk. The cost (one fsync per append) is paid only while
            # the bus is down, and appends are whole batches, not readings.
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(_SCHEMA)
            self._db.execute("BEGIN EXCLUSIVE")  # take the file now: one owner at a time
            self._db.execute("COMMIT")
            row = self._db.execute(
                "SELECT count(*), coalesce(sum(length(data)), 0) FROM spool"
            ).fetchone()
        except sqlite3.Error as exc:
            raise SpoolError(
                f"cannot open the spool {self.path}: {exc} "
                "(is another process using it? each producer needs its own spool file)"
            ) from None
        self._batches, self._bytes = int(row[0]), int(row[1])
        self._alarm = False
        self._update_alarm()

    @classmethod
    def from_settings(cls, settings: Settings, name: str = SPOOL_FILE) -> Spool:
        """The spool ``name`` under ``data_dir/spool`` with the configured cap and alarm."""
        return cls(
            settings.data_dir / "spool" / name,
            max_bytes=settings.ingest.spool_max_bytes,
            alarm_ratio=settings.ingest.spool_alarm_ratio,
        )

    @property
    def depth_batches(self) -> int:
        """Batches waiting."""
        return self._batches

    @property
    def depth_bytes(self) -> int:
        """Batch bytes waiting."""
        return self._bytes

    @property
    def fill_ratio(self) -> float:
        """``depth_bytes / max_bytes``."""
        return self._bytes / self.max_bytes

    @property
    def alarm(self) -> bool:
        """True while the fill ratio is at or above the alarm ratio."""
        return self._alarm

    def append(self, batch: Batch, shard: str) -> int:
        """Store ``batch`` durably and return its sequence number; SpoolFullError past the cap."""
        data = batch.to_bytes()
        with self._lock:
            if self._bytes + len(data) > self.max_bytes:
                raise SpoolFullError(
                    f"the store-and-forward spool {self.path} holds {self._bytes:,} bytes; "
                    f"a batch of {len(data):,} bytes would pass its cap of {self.max_bytes:,} "
                    "bytes (ANH_INGEST__SPOOL_MAX_BYTES): the batch is refused; "
                    "bring the bus back or raise the cap"
                )
            try:
                cursor = self._db.execute(
                    "INSERT INTO spool (shard, created_us, readings, data) VALUES (?, ?, ?, ?)",
                    (shard, time.time_ns() // 1000, len(batch), data),
                )
            except sqlite3.Error as exc:
                raise SpoolError(f"cannot append to the spool {self.path}: {exc}") from None
            self._batches += 1
            self._bytes += len(data)
            self._update_alarm()
            assert cursor.lastrowid is not None  # noqa: S101 - narrows for mypy: set by every INSERT
            return cursor.lastrowid

    def peek(self, limit: int) -> list[SpooledBatch]:
        """The ``limit`` oldest batches, oldest first; they stay in the spool."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, shard, created_us, data FROM spool ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [
            SpooledBatch(seq, shard, Batch.from_bytes(data), created_us, len(data))
            for seq, shard, created_us, data in rows
        ]

    def remove(self, seqs: list[int]) -> None:
        """Delete batches the bus has taken (one transaction); unknown seqs are ignored."""
        if not seqs:
            return
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                sizes: list[int] = []
                for lo in range(0, len(seqs), 500):  # stay below SQLite's parameter limit
                    chunk = seqs[lo : lo + 500]
                    marks = ",".join("?" * len(chunk))
                    sizes += (
                        size
                        for (size,) in self._db.execute(
                            f"DELETE FROM spool WHERE seq IN ({marks}) RETURNING length(data)",  # noqa: S608 - placeholders only; values are bound
                            chunk,
                        )
                    )
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise SpoolError(f"cannot remove from the spool {self.path}: {exc}") from None
            self._batches -= len(sizes)
            self._bytes -= sum(sizes)
            self._update_alarm()

    def close(self) -> None:
        """Close the file (it keeps what is waiting for the next open)."""
        with self._lock:
            self._db.close()

    def _update_alarm(self) -> None:
        ratio = self.fill_ratio
        metrics.spool_depth_batches.set(self._batches)
        metrics.spool_depth_bytes.set(self._bytes)
        alarm = ratio >= self.alarm_ratio
        if alarm and not self._alarm:
            log.warning(
                "store-and-forward spool %s is %.0f%% full (%s of %s bytes, %d batches); "
                "the alarm ratio is %.0f%%: appends are refused at 100%%",
                self.path,
                100 * ratio,
                f"{self._bytes:,}",
                f"{self.max_bytes:,}",
                self._batches,
                100 * self.alarm_ratio,
            )
        elif self._alarm and not alarm:
            log.info("store-and-forward spool %s is back under its alarm ratio", self.path)
        self._alarm = alarm
        metrics.spool_alarm.set(1 if alarm else 0)
