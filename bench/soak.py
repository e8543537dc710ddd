"""National-scale soak: simulated edge collectors -> Redis Streams -> two workers -> PostgreSQL.

Registers ``--wells`` x ``--vars`` series (default 10,000 x 20) in a scratch database through
the site loader, starts two real ``anh-reporter worker`` processes and ``--collectors`` edge
collector processes that publish, every second, one reading per series stamped with that second
(the source timestamp), in batches of ``--batch`` readings, one stream per field: 200,000
readings/s offered by default, for ``--minutes``. At ``--kill-at`` of the run one worker is
killed with SIGKILL; at ``--restart-at`` a new one is started. Then the offer stops, the workers
drain the backlog and the stored rows are counted.

Measured:

- achieved rate: rows inserted into ``telemetry`` per second (PostgreSQL's own counters, sampled
  every 2 s) over the phase after a 20 s warm-up; its ratio to the offered rate and to the COPY
  ceiling of the same machine, measured in the same run (``copy_ceiling.py``: ``psql \\copy``
  and the project's binary COPY of 1,000,000 rows, median of 3);
- end-to-end latency per reading: from its source timestamp to the moment its committed batch
  is announced on the bus's live channel (the worker announces after the commit and the ack),
  seen by a probe process subscribed to every field: P50 and P99;
- Redis memory (peak and at the end), the backlog (offered - committed) and its growth per
  second, stream length and pending entries at the end;
- lost = offered - rows stored once the backlog drained ("unknown" when the drain timed out, with
  what was not written yet), duplicates: prevented by the primary key (series_id, time); the
  redeliveries the workers skipped with ON CONFLICT DO NOTHING are reported from their exit lines;
- CPU of each kind of process (collectors, workers, the probe, Redis, the PostgreSQL backends of
  the scratch database, the rest of the machine).

If the achieved rate is under 0.9 of the offer, or the backlog passes ``--max-backlog-mb`` of
Redis memory, a second phase offers ``--hold-ratio`` of the achieved rate for the rest of the run
(to show the rate the machine holds with a flat backlog).

    python bench/soak.py [--rate 200000] [--minutes 10] [--wells 10000] [--vars 20]
                         [--collectors 4] [--kill-at 0.4] [--restart-at 0.5]

PostgreSQL: ANH_BENCH_DATABASE_URL, else ANH_DATABASE_URL (a scratch database ``anh_bench_soak``
is created and dropped). Redis: ANH_BENCH_REDIS_URL, else redis://127.0.0.1:6379/9 (keys under
a prefix of their own, deleted afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import multiprocessing as mp
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import psycopg
import redis

sys.path.insert(0, str(Path(__file__).parent))

import copy_ceiling
from _common import bench_database, console, median, report
from anh_reporter.bus.base import BusUnavailable
from anh_reporter.bus.redis_streams import RedisStreamsBus
from anh_reporter.domain.batch import Batch
from anh_reporter.domain.variables import VARIABLES
from anh_reporter.site import FieldSite, Operator, Series, Site, Well
from anh_reporter.storage import migrate
from anh_reporter.storage.database import Database
from anh_reporter.storage.series_repo import list_series
from anh_reporter.storage.site_repo import load_site_into

SCRATCH = "anh_bench_soak"
WELLS_PER_FIELD = 1_000
REGISTER_PROCESSES = 4
WARMUP_S = 20.0
SAMPLE_S = 2.0
MAX_LATENCY_MS = 3_600_000
COMMITTED_SQL = (
    "SELECT coalesce(sum(s.n_tup_ins), 0) FROM pg_inherits i "
    "JOIN pg_stat_user_tables s ON s.relid = i.inhrelid "
    "WHERE i.inhparent = 'telemetry'::regclass"
)
EXIT_LINE = re.compile(r"worker (\S+): ([\d,]+) written, ([\d,]+) duplicates")


# -- the scratch database -------------------------------------------------------------------


def national_site(wells: int, variables: int, fields: range | None = None) -> Site:
    """``wells`` wells of ``variables`` 1 Hz series each, 1,000 wells per field (or ``fields``)."""
    names = [v for v in VARIABLES if v != "api_gravity"]  # api_gravity needs a basis
    if variables > len(names):
        raise SystemExit(f"--vars {variables} exceeds the {len(names)} canonical variables")
    series = tuple(
        Series(
            variable=name,
            unit=VARIABLES[name].units[0],
            range=(0.0, 1000.0),
            sampling_period_s=1.0,
            commissioned=dt.date(2024, 1, 1),
        )
        for name in names[:variables]
    )
    site_fields = []
    for f in fields if fields is not None else range(-(-wells // WELLS_PER_FIELD)):
        count = min(WELLS_PER_FIELD, wells - f * WELLS_PER_FIELD)
        site_fields.append(
            FieldSite(
                code=f"SOAK-F{f:02d}",
                name=f"Soak field {f}",
                contract="SOAK",
                municipality_dane="50568",
                wells=tuple(
                    Well(code=f"W{f:02d}-{w:04d}", name=f"Well {f}-{w}", series=series)
                    for w in range(count)
                ),
            )
        )
    return Site(operator=Operator(name="Soak", nit="900123456-7"), fields=tuple(site_fields))


def register(url: str, wells: int, variables: int, field_index: int) -> None:
    """Load one field of the national site through the site loader (in a pool process)."""
    with psycopg.connect(url) as conn:
        site = national_site(wells, variables, range(field_index, field_index + 1))
        load_site_into(conn, site, changed_by="bench")


def prepare(admin: Database, wells: int, variables: int) -> tuple[Database, dict[str, Any]]:
    """The migrated scratch database with the series registered; series ids per field.

    The first field is loaded alone (it creates the operator), the others by a few processes
    at once (the site loader upserts a field's series in bulk; 200,000 series still take a
    minute or more in one process).
    """
    with psycopg.connect(admin.url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {SCRATCH} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {SCRATCH}")
    db = admin.with_name(SCRATCH)
    migrate.upgrade(db)
    fields = -(-wells // WELLS_PER_FIELD)
    register(db.url, wells, variables, 0)
    with mp.get_context("spawn").Pool(REGISTER_PROCESSES) as pool:
        pool.starmap(register, [(db.url, wells, variables, f) for f in range(1, fields)])
    with db.connect() as conn:
        rows = list_series(conn)
    by_field: dict[str, list[int]] = {}
    for r in rows:
        by_field.setdefault(r.field_code, []).append(r.id)
    return db, {k: np.array(v, dtype=np.int32) for k, v in by_field.items()}


def drop(admin: Database) -> None:
    with psycopg.connect(admin.url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {SCRATCH} WITH (FORCE)")


def copy_baseline(db: Database, rows: int, runs: int) -> tuple[float, float]:
    """``copy_ceiling.py`` on the scratch database: (psql \\copy, binary COPY) rows/s."""
    data = copy_ceiling.make_rows(rows)
    copy_ceiling.create_tables(db, data[1])
    psql_s, writer_s = [], []
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "rows.csv"
        copy_ceiling.write_csv(csv, data[0], data[1], data[2])
        for _ in range(runs):
            copy_ceiling.truncate(db, copy_ceiling.TABLES[0])
            psql_s.append(copy_ceiling.run_psql(db, csv))
            copy_ceiling.truncate(db, copy_ceiling.TABLES[1])
            writer_s.append(copy_ceiling.run_writer(db, data))
    with db.connect() as conn:
        for table in copy_ceiling.TABLES:
            conn.execute(f"DROP TABLE {table}")
        conn.commit()
    return rows / median(psql_s), rows / median(writer_s)


# -- edge collectors (processes) ------------------------------------------------------------


def collector(
    index: int,
    chunks: list[tuple[str, np.ndarray]],
    share: float,
    rate: Any,
    start_at: Any,
    ready: Any,
    stop: Any,
    offered: Any,
    url: str,
    prefix: str,
    out: Any,
) -> None:
    """Each second, publish ``share`` of the offered rate: its series, stamped that second."""
    asyncio.run(
        _collect(index, chunks, share, rate, start_at, ready, stop, offered, url, prefix, out)
    )


async def _collect(
    index: int,
    chunks: list[tuple[str, np.ndarray]],
    share: float,
    rate: Any,
    start_at: Any,
    ready: Any,
    stop: Any,
    offered: Any,
    url: str,
    prefix: str,
    out: Any,
) -> None:
    bus = RedisStreamsBus(url, prefix=prefix)
    rng = np.random.default_rng(index)
    with ready.get_lock():
        ready.value += 1
    while start_at.value == 0 and not stop.is_set():  # noqa: ASYNC110 - a value set by another process
        await asyncio.sleep(0.05)  # the clock starts once every collector is up
    start = start_at.value
    published = retries = late = 0
    second = 0
    while not stop.is_set():
        due = start + second
        delay = due - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.5:
            late += 1  # this collector could not keep its pace
        if stop.is_set():
            break
        want = round(rate.value * share)
        stamp = int(due) * 1_000_000
        first = (second * 7) % len(chunks)  # under a reduced rate, every series takes turns
        sent = 0
        for k in range(len(chunks)):
            if sent >= want:
                break
            shard, sids = chunks[(first + k) % len(chunks)]
            sids = sids[: want - sent]
            n = len(sids)
            batch = Batch(
                sids,
                np.full(n, stamp, dtype=np.int64),
                np.round(rng.uniform(0.0, 1000.0, n), 3),
                np.zeros(n, dtype=np.uint32),
                f"soak-{index}",
            )
            while True:
                try:
                    await bus.publish(batch, shard)
                    break
                except BusUnavailable:
                    retries += 1
                    await asyncio.sleep(0.05)
            sent += n
        with offered.get_lock():
            offered.value += sent
        published += sent
        second += 1
    await bus.close()
    out.put({"index": index, "published": published, "retries": retries, "late": late})


def split_chunks(
    by_field: dict[str, np.ndarray], collectors: int, batch: int
) -> list[list[tuple[str, np.ndarray]]]:
    """Each collector's batches: consecutive series of one field, at most ``batch`` per batch."""
    flat = [(f, s) for f, sids in sorted(by_field.items()) for s in sids.tolist()]
    parts = np.array_split(np.arange(len(flat)), collectors)
    result = []
    for part in parts:
        chunks: list[tuple[str, np.ndarray]] = []
        lo = 0
        idx = part.tolist()
        while lo < len(idx):
            shard = flat[idx[lo]][0]
            hi = lo
            while hi < len(idx) and hi - lo < batch and flat[idx[hi]][0] == shard:
                hi += 1
            sids = np.array([flat[i][1] for i in idx[lo:hi]], dtype=np.int32)
            chunks.append((shard, sids))
            lo = hi
        result.append(chunks)
    return result


# -- the latency probe (a process) ----------------------------------------------------------


def probe(url: str, prefix: str, phase2_at: Any, stop: Any, out: Any) -> None:
    """Histogram (1 ms bins) of source timestamp -> announced-after-commit, per phase."""
    client = redis.Redis.from_url(url)
    sub = client.pubsub(ignore_subscribe_messages=True)
    sub.psubscribe(f"{prefix}:live:*")
    hist = [np.zeros(MAX_LATENCY_MS + 1, dtype=np.int64) for _ in range(2)]
    seen = disconnects = 0
    while not stop.is_set():
        try:
            message = sub.get_message(timeout=0.5)
        except redis.ConnectionError:  # fell behind its output buffer limit: resubscribe
            disconnects += 1
            time.sleep(0.1)
            continue
        if message is None or message.get("type") != "pmessage":
            continue
        now = time.time()
        batch = Batch.from_bytes(message["data"])
        ms = np.clip(((now - batch.time_us / 1e6) * 1000).astype(np.int64), 0, MAX_LATENCY_MS)
        second = batch.time_us >= int(phase2_at.value * 1e6)
        for p, mask in ((0, ~second), (1, second)):
            if mask.any():
                hist[p] += np.bincount(ms[mask], minlength=MAX_LATENCY_MS + 1)
        seen += len(batch)
    sub.close()
    client.close()
    sparse = [(h.nonzero()[0], h[h.nonzero()[0]]) for h in hist]
    out.put({"probe_seen": seen, "disconnects": disconnects, "hist": sparse})


def percentile(hist_sparse: tuple[np.ndarray, np.ndarray], q: float) -> float | None:
    bins, counts = hist_sparse
    if not len(counts):
        return None
    cum = np.cumsum(counts)
    return float(bins[np.searchsorted(cum, q / 100 * cum[-1])])


# -- workers --------------------------------------------------------------------------------


def worker_command() -> list[str]:
    """The real command: the installed ``anh-reporter`` script next to this interpreter."""
    script = Path(sys.executable).parent / "anh-reporter"
    if script.exists():
        return [str(script)]
    found = shutil.which("anh-reporter")
    return [found] if found else [sys.executable, "-m", "anh_reporter"]


def start_worker(
    db: Database, url: str, prefix: str, name: str, log: Path
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ANH_DATABASE_URL": db.url,
        "ANH_REDIS_URL": url,
        "ANH_REDIS_PREFIX": prefix,
    }
    with log.open("wb") as f:
        return subprocess.Popen(
            [*worker_command(), "worker", "--consumer", name], env=env, stdout=f, stderr=f
        )


# -- sampling -------------------------------------------------------------------------------


@dataclass
class CpuBook:
    """Cumulative CPU seconds per kind of process, pids coming and going."""

    first: dict[int, float] = field(default_factory=dict)
    last: dict[int, float] = field(default_factory=dict)
    kind: dict[int, str] = field(default_factory=dict)

    def see(self, pid: int, kind: str) -> None:
        try:
            t = psutil.Process(pid).cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return
        total = t.user + t.system
        self.first.setdefault(pid, total)
        self.last[pid] = total
        self.kind[pid] = kind

    def totals(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for pid, kind in self.kind.items():
            out[kind] = out.get(kind, 0.0) + self.last[pid] - self.first[pid]
        return out


@dataclass
class Sample:
    t: float
    offered: int
    committed: int
    redis_mb: float
    stream_len: int
    pending: int
    cpu: dict[str, float]
    machine_busy_s: float


class Sampler:
    def __init__(self, db: Database, url: str, prefix: str, shards: list[str]) -> None:
        self.conn = db.connect(autocommit=True)
        self.redis = redis.Redis.from_url(url)
        self.keys = [f"{prefix}:ingest:{s}" for s in shards]
        self.cpu = CpuBook()
        self.base = int(self._committed())
        self.redis_pid = int(self.redis.info("server")["process_id"])
        self.samples: list[Sample] = []
        self.pids: dict[int, str] = {}
        cpu = psutil.cpu_times()
        self._machine0 = cpu.user + cpu.system + cpu.nice + cpu.irq + cpu.softirq

    def _committed(self) -> int:
        row = self.conn.execute(COMMITTED_SQL).fetchone()
        return int(row[0]) if row else 0

    def take(self, offered: int) -> Sample:
        committed = self._committed() - self.base
        used = int(self.redis.info("memory")["used_memory"])
        length = pending = 0
        for key in self.keys:
            if self.redis.exists(key):
                length += int(self.redis.xlen(key))
                with contextlib.suppress(redis.ResponseError):  # no group yet
                    pending += int(self.redis.xpending(key, "writers")["pending"])
        backends = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
        for (pid,) in backends:
            self.cpu.see(pid, "postgres backends")
        for pid, kind in self.pids.items():
            self.cpu.see(pid, kind)
        self.cpu.see(self.redis_pid, "redis-server")
        cpu = psutil.cpu_times()
        busy = cpu.user + cpu.system + cpu.nice + cpu.irq + cpu.softirq - self._machine0
        s = Sample(
            time.time(), offered, committed, used / 1e6, length, pending, self.cpu.totals(), busy
        )
        self.samples.append(s)
        return s

    def close(self) -> None:
        self.conn.close()
        self.redis.close()


@dataclass
class Phase:
    name: str
    rate: float
    start: float
    end: float = 0.0


def phase_figures(samples: list[Sample], phase: Phase) -> dict[str, Any]:
    """Achieved rate and backlog growth after the warm-up, CPU % per kind, over ``phase``."""
    window = [s for s in samples if phase.start + WARMUP_S <= s.t <= phase.end]
    if len(window) < 3:
        window = [s for s in samples if phase.start <= s.t <= phase.end]
    if len(window) < 2:
        return {}
    t = np.array([s.t for s in window])
    committed = np.array([s.committed for s in window], dtype=float)
    backlog = np.array([s.offered - s.committed for s in window], dtype=float)
    span = t[-1] - t[0]
    a, b = window[0], window[-1]
    cpu = {k: 100 * (b.cpu.get(k, 0.0) - a.cpu.get(k, 0.0)) / span for k in b.cpu}
    ours = sum(cpu.values())
    machine = 100 * (b.machine_busy_s - a.machine_busy_s) / span
    cpu["rest of the machine"] = max(machine - ours, 0.0)
    return {
        "seconds": round(span),
        "offered_per_s": round((b.offered - a.offered) / span),
        "achieved_per_s": round((committed[-1] - committed[0]) / span),
        "backlog_growth_per_s": round(float(np.polyfit(t - t[0], backlog, 1)[0])),
        "cpu_pct": {k: round(v) for k, v in cpu.items()},
        "machine_cpu_pct": round(machine),
    }


# -- the run --------------------------------------------------------------------------------


def run(args: argparse.Namespace, admin: Database, url: str, tmp: Path) -> dict[str, Any]:
    started = time.perf_counter()
    console.print(f"registering {args.wells:,} wells x {args.vars} series ...")
    db, by_field = prepare(admin, args.wells, args.vars)
    series = sum(len(v) for v in by_field.values())
    register_s = time.perf_counter() - started
    console.print(f"  {series:,} series in {register_s:.0f} s; COPY ceiling ...")
    psql_rate, copy_rate = copy_baseline(db, args.baseline_rows, args.baseline_runs)
    console.print(f"  psql \\copy {psql_rate:,.0f} rows/s, binary COPY {copy_rate:,.0f} rows/s")

    prefix = f"anhsoak-{uuid.uuid4().hex[:10]}"
    ctx = mp.get_context("spawn")
    rate = ctx.Value("d", float(args.rate))
    offered = ctx.Value("q", 0)
    phase2_at = ctx.Value("d", 1e12)  # epoch s of the second phase: not yet
    stop_offer, stop_probe = ctx.Event(), ctx.Event()
    results: Any = ctx.Queue()
    workers: dict[str, subprocess.Popen[bytes]] = {}
    procs: list[Any] = []
    sampler: Sampler | None = None
    try:
        for name in ("soak-w1", "soak-w2"):
            workers[name] = start_worker(db, url, prefix, name, tmp / f"{name}.log")
        probe_proc = ctx.Process(
            target=probe, args=(url, prefix, phase2_at, stop_probe, results), daemon=True
        )
        probe_proc.start()
        chunks = split_chunks(by_field, args.collectors, args.batch)
        clock = ctx.Value("d", 0.0)
        ready = ctx.Value("i", 0)
        for i, mine in enumerate(chunks):
            share = sum(len(s) for _, s in mine) / series
            p = ctx.Process(
                target=collector,
                args=(
                    i,
                    mine,
                    share,
                    rate,
                    clock,
                    ready,
                    stop_offer,
                    offered,
                    url,
                    prefix,
                    results,
                ),
                daemon=True,
            )
            p.start()
            procs.append(p)
        while ready.value < len(procs):
            time.sleep(0.1)
        start_at = float(int(time.time()) + 2)
        clock.value = start_at
        sampler = Sampler(db, url, prefix, sorted(by_field))
        sampler.pids = {p.pid: "collectors" for p in procs}
        sampler.pids[probe_proc.pid] = "latency probe"
        for w in workers.values():
            sampler.pids[w.pid] = "workers"
        duration = args.minutes * 60
        end_at = start_at + duration
        phases = [Phase("offered", args.rate, start_at)]
        events: list[str] = []
        kill_at = start_at + args.kill_at * duration
        restart_at = start_at + args.restart_at * duration
        killed = restarted = False
        next_print = 0.0
        while time.time() < end_at:
            time.sleep(SAMPLE_S)
            s = sampler.take(offered.value)
            now = s.t
            if not killed and now >= kill_at:
                workers["soak-w1"].send_signal(signal.SIGKILL)
                workers["soak-w1"].wait()
                events.append(f"SIGKILL soak-w1 at {now - start_at:.0f} s")
                killed = True
            if killed and not restarted and now >= restart_at:
                workers["soak-w3"] = start_worker(db, url, prefix, "soak-w3", tmp / "soak-w3.log")
                sampler.pids[workers["soak-w3"].pid] = "workers"
                events.append(f"started soak-w3 at {now - start_at:.0f} s")
                restarted = True
            if len(phases) == 1 and now - start_at >= 2 * WARMUP_S + 10 and end_at - now > 60:
                fig = phase_figures(sampler.samples, Phase("", 0, start_at, now))
                behind = fig and fig["achieved_per_s"] < 0.9 * args.rate
                if (behind and now - start_at >= args.saturation_s) or (
                    s.redis_mb > args.max_backlog_mb
                ):
                    held = float(args.hold_ratio * fig["achieved_per_s"])
                    phases[0].end = now
                    rate.value = held
                    phase2_at.value = float(int(now) + 1)
                    phases.append(Phase("held", held, float(int(now) + 1)))
                    events.append(
                        f"offer cut to {held:,.0f}/s at {now - start_at:.0f} s "
                        f"(achieved {fig['achieved_per_s']:,}/s, Redis {s.redis_mb:,.0f} MB)"
                    )
            if now >= next_print:
                console.print(
                    f"  t={now - start_at:5.0f} s offered {s.offered:>12,} committed "
                    f"{s.committed:>12,} backlog {s.offered - s.committed:>11,} "
                    f"Redis {s.redis_mb:7,.0f} MB",
                    highlight=False,
                )
                next_print = now + 30
        phases[-1].end = time.time()
        stop_offer.set()
        collected = [results.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(timeout=10)
        total_offered = int(offered.value)
        console.print(f"offer stopped: {total_offered:,} readings; draining ...")
        drain_start = time.time()
        while time.time() - drain_start < args.drain_timeout_s:
            s = sampler.take(total_offered)
            if s.stream_len == 0 and s.pending == 0 and s.committed >= total_offered:
                break
            time.sleep(SAMPLE_S)
        drained_s = time.time() - drain_start
        end_sample = sampler.samples[-1]
        stop_probe.set()
        probe_out = results.get(timeout=120)
        probe_proc.join(timeout=10)
        exits = {}
        for name, w in workers.items():
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
                try:
                    w.wait(timeout=args.drain_timeout_s)
                except subprocess.TimeoutExpired:  # stuck in a flush: the figures still count
                    w.kill()
                    w.wait()
            text = (tmp / f"{name}.log").read_text(errors="replace")
            m = EXIT_LINE.search(text)
            exits[name] = (
                {"written": int(m[2].replace(",", "")), "skipped": int(m[3].replace(",", ""))}
                if m
                else {"killed": name == "soak-w1", "tail": text.strip().splitlines()[-3:]}
            )
        with db.connect() as conn:
            stored = int(conn.execute("SELECT count(*) FROM telemetry").fetchone()[0])  # type: ignore[index]
            quarantined = int(conn.execute("SELECT count(*) FROM quarantine").fetchone()[0])  # type: ignore[index]
    finally:
        stop_offer.set()
        stop_probe.set()
        for w in workers.values():
            if w.poll() is None:
                w.kill()
                w.wait()
        for p in procs:
            if p.is_alive():
                p.kill()
        if sampler is not None:
            keys = list(sampler.redis.scan_iter(f"{prefix}:*"))
            if keys:
                sampler.redis.delete(*keys)
            sampler.close()
        drop(admin)
    return {
        "series": series,
        "register_s": register_s,
        "psql_rate": psql_rate,
        "copy_rate": copy_rate,
        "phases": phases,
        "phase_figures": [phase_figures(sampler.samples, p) for p in phases],
        "events": events,
        "collectors": collected,
        "offered": total_offered,
        "stored": stored,
        "quarantined": quarantined,
        "drained_s": drained_s,
        "end": end_sample,
        "redis_peak_mb": max(s.redis_mb for s in sampler.samples),
        "probe": probe_out,
        "exits": exits,
    }


def summarize(args: argparse.Namespace, r: dict[str, Any]) -> None:
    rows: list[tuple[str, str, str]] = [
        ("series registered", f"{r['series']:,}", f"in {r['register_s']:.0f} s"),
        ("psql \\copy (baseline)", f"{r['psql_rate']:,.0f} rows/s", "1.00"),
        ("binary COPY (the writer's)", f"{r['copy_rate']:,.0f} rows/s",
         f"{r['copy_rate'] / r['psql_rate']:.2f}"),
    ]  # fmt: skip
    figures: dict[str, Any] = {
        "bench": "soak",
        "minutes": args.minutes,
        "offered_rate": args.rate,
        "wells": args.wells,
        "vars": args.vars,
        "collectors": args.collectors,
        "psql_copy_rows_per_s": round(r["psql_rate"]),
        "binary_copy_rows_per_s": round(r["copy_rate"]),
    }
    for phase, fig, hist in zip(r["phases"], r["phase_figures"], r["probe"]["hist"], strict=False):
        if not fig:
            continue
        p50, p99 = percentile(hist, 50), percentile(hist, 99)
        achieved = fig["achieved_per_s"]
        tag = f"{phase.name} {phase.rate:,.0f}/s, {fig['seconds']} s"
        rows += [
            (f"[{tag}] achieved", f"{achieved:,} rows/s",
             f"{achieved / max(fig['offered_per_s'], 1):.2f} of offered, "
             f"{achieved / r['psql_rate']:.2f} of psql \\copy"),
            (f"[{tag}] backlog growth", f"{fig['backlog_growth_per_s']:,} readings/s", ""),
            (f"[{tag}] latency P50 / P99",
             f"{p50 / 1000 if p50 is not None else float('nan'):.2f} s / "
             f"{p99 / 1000 if p99 is not None else float('nan'):.2f} s",
             "source timestamp -> announced after commit"),
            (f"[{tag}] CPU % (200 = both cores)",
             ", ".join(f"{k} {v}" for k, v in fig["cpu_pct"].items()),
             f"machine {fig['machine_cpu_pct']}"),
        ]  # fmt: skip
        key = phase.name
        figures[f"{key}_rate"] = round(phase.rate)
        figures[f"{key}_achieved_per_s"] = achieved
        figures[f"{key}_ratio_offered"] = round(achieved / max(fig["offered_per_s"], 1), 3)
        figures[f"{key}_ratio_psql_copy"] = round(achieved / r["psql_rate"], 3)
        figures[f"{key}_backlog_growth_per_s"] = fig["backlog_growth_per_s"]
        figures[f"{key}_latency_p50_ms"] = p50
        figures[f"{key}_latency_p99_ms"] = p99
        figures[f"{key}_cpu_pct"] = fig["cpu_pct"]
        figures[f"{key}_machine_cpu_pct"] = fig["machine_cpu_pct"]
    end = r["end"]
    missing = r["offered"] - r["stored"]
    # Readings still in the stream when the drain timed out are not lost: they are not written yet.
    drained = end.stream_len == 0 and end.pending == 0
    lost: int | None = missing if drained else None
    skipped = sum(e.get("skipped", 0) for e in r["exits"].values())
    late = sum(c["late"] for c in r["collectors"])
    rows += [
        ("Redis memory peak / end", f"{r['redis_peak_mb']:,.0f} MB / {end.redis_mb:,.0f} MB", ""),
        ("stream entries / pending at end", f"{end.stream_len:,} / {end.pending:,}",
         f"drained in {r['drained_s']:.0f} s after the offer stopped"),
        ("offered / stored", f"{r['offered']:,} / {r['stored']:,}",
         f"{r['quarantined']:,} quarantined"),
        ("lost", f"{lost:,}", "goal 0") if lost is not None else
        ("lost", "unknown", f"the drain timed out: {missing:,} readings not written yet, "
                            f"{end.stream_len:,} stream entries left"),
        ("duplicated", "0 (primary key)",
         f"{skipped:,} redelivered readings skipped by ON CONFLICT (survivors' exit lines)"),
        ("collector seconds published late", f"{late:,}", "> 0.5 s behind schedule"),
        ("events", "; ".join(r["events"]) or "-", ""),
    ]  # fmt: skip
    figures.update(
        redis_peak_mb=round(r["redis_peak_mb"]),
        redis_end_mb=round(end.redis_mb),
        stream_len_end=end.stream_len,
        pending_end=end.pending,
        drained_s=round(r["drained_s"]),
        offered=r["offered"],
        stored=r["stored"],
        lost=lost,
        not_drained=0 if drained else missing,
        duplicated=0,
        redelivered_skipped=skipped,
        quarantined=r["quarantined"],
        late_seconds=late,
        probe_seen=r["probe"]["probe_seen"],
        probe_disconnects=r["probe"]["disconnects"],
        events=r["events"],
        worker_exits=r["exits"],
    )
    report(
        f"Soak: {args.wells:,} wells x {args.vars} vars at {args.rate:,}/s offered, "
        f"{args.minutes:g} min, shared 2-core machine",
        ("measure", "value", "ratio / note"),
        rows,
        figures,
    )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> None:
    """Parse the arguments and run the soak."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rate", type=int, default=200_000, help="readings/s offered")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--wells", type=int, default=10_000)
    parser.add_argument("--vars", type=int, default=20)
    parser.add_argument("--collectors", type=int, default=4)
    parser.add_argument("--batch", type=int, default=2_000, help="readings per published batch")
    parser.add_argument("--kill-at", type=float, default=0.4, help="fraction of the run")
    parser.add_argument("--restart-at", type=float, default=0.5, help="fraction of the run")
    parser.add_argument(
        "--saturation-s",
        type=float,
        default=120.0,
        help="after this long below 0.9 of the offer, cut to --hold-ratio",
    )
    parser.add_argument(
        "--hold-ratio",
        type=float,
        default=0.8,
        help="second phase offers this fraction of the achieved rate",
    )
    parser.add_argument(
        "--max-backlog-mb",
        type=float,
        default=1_000.0,
        help="cut the offer when Redis uses more than this",
    )
    parser.add_argument("--drain-timeout-s", type=float, default=900.0)
    parser.add_argument("--baseline-rows", type=int, default=1_000_000)
    parser.add_argument("--baseline-runs", type=int, default=3)
    args = parser.parse_args()  # fmt: skip
    if args.rate > args.wells * args.vars:
        parser.error(f"--rate {args.rate:,} exceeds --wells x --vars = "
                     f"{args.wells * args.vars:,} series at 1 Hz")  # fmt: skip
    url = os.environ.get("ANH_BENCH_REDIS_URL") or "redis://127.0.0.1:6379/9"
    signal.signal(signal.SIGTERM, _interrupt)  # like Ctrl-C: stop the processes, drop the data
    with bench_database() as admin, tempfile.TemporaryDirectory() as tmp:
        result = run(args, admin, url, Path(tmp))
    summarize(args, result)


if __name__ == "__main__":
    main()
