"""One ``/metrics`` for the N processes of ``serve --workers N`` (prometheus-client's
multiprocess mode).

uvicorn's workers share one listening socket, so a scrape reaches whichever worker accepts it.
Each worker keeps its metric values in memory-mapped files of a directory they share
(``PROMETHEUS_MULTIPROC_DIR``, read by prometheus-client when it is first imported: the parent
sets it before the workers start), and the worker that answers a scrape reads every process's
files: counters, histograms and summaries summed, each gauge by its ``multiprocess_mode``
(chosen per gauge in ``metrics.py``). The files of a worker that exited stay (its counts are
not lost); a watcher in the parent removes its ``live*`` gauges (``mark_process_dead``).

Left out by that mode, and handled here: a value computed when scraped (``memory_usage_bytes
{service="api"}`` is the resident memory of every live worker, read from ``/proc`` by the one
that answers), and the ``# HELP``/``# TYPE`` lines of a labelled metric no process has used
yet (one process shows them; kept). Summaries have no quantiles in prometheus-client anyway;
the ``*_created`` samples of one process do not exist across processes.

Without ``serve --workers N`` > 1 nothing here runs: ``/metrics`` is the process's registry.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import values
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector, CollectorRegistry

from anh_reporter.observability.metrics import REGISTRY

ENV = "PROMETHEUS_MULTIPROC_DIR"
MEMORY = "memory_usage_bytes"
REAP_EVERY_S = 1.0
"""How often the parent looks for workers that exited (their live gauges go at once after)."""

# prometheus-client names a process's files <type>_<mode>_<pid>.db; live gauges' mode is live*.
_LIVE_FILE = re.compile(r"^gauge_live[a-z]+_(\d+)\.db$")

_aggregate: CollectorRegistry | None = None


@contextlib.contextmanager
def shared_directory() -> Iterator[Path]:
    """In the parent of the workers, around their life: a new private (0700) empty directory
    named by ``PROMETHEUS_MULTIPROC_DIR`` for the processes started inside, a watcher marking
    dead the workers that exit; afterwards the directory is removed and the variable restored.
    """
    previous = os.environ.get(ENV)
    path = Path(tempfile.mkdtemp(prefix="anh-metrics-"))  # created 0700 and empty, for us only
    os.environ[ENV] = str(path)
    stop = threading.Event()
    watcher = threading.Thread(
        target=_watch, args=(path, stop), name="anh-metrics-reaper", daemon=True
    )
    watcher.start()
    try:
        yield path
    finally:
        stop.set()
        watcher.join()
        if previous is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = previous
        shutil.rmtree(path, ignore_errors=True)


def _watch(path: Path, stop: threading.Event) -> None:
    while not stop.wait(REAP_EVERY_S):
        reap(path)


def reap(path: Path, parent: int | None = None) -> list[int]:
    """Mark dead (``mark_process_dead``) every process with live gauges in ``path`` that is
    no longer a running child of ``parent`` (default: this process); returns their pids."""
    parent = os.getpid() if parent is None else parent
    dead = [pid for pid in live_pids(path) if not _running_child(pid, parent)]
    for pid in dead:
        mark_process_dead(pid, str(path))  # type: ignore[no-untyped-call]  # unannotated
    return dead


def live_pids(path: Path) -> list[int]:
    """The processes that have live gauges in ``path`` (every worker: it creates its unlabelled
    live gauges on import) and have not been marked dead, in order."""
    try:
        names = os.listdir(path)
    except FileNotFoundError:
        return []
    return sorted({int(m.group(1)) for n in names if (m := _LIVE_FILE.match(n))})


def _running_child(pid: int, parent: int) -> bool:
    """``pid`` runs (not a zombie) and its parent is ``parent`` (a reused pid is not ours)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return False
    except OSError:  # no /proc here: whether the pid exists at all
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    state, ppid = stat.rsplit(")", 1)[1].split()[:2]  # after "pid (command name)"
    return state not in ("Z", "X") and int(ppid) == parent


def enable_in_worker() -> bool:
    """In a worker of ``serve --workers N``: make ``/metrics`` the aggregate of all workers.
    False (nothing changed) when this process's metrics are not in a shared directory."""
    global _aggregate
    path = os.environ.get(ENV)
    if not path or not os.path.isdir(path) or not values.ValueClass._multiprocess:
        return False
    registry = CollectorRegistry()
    registry.register(_Aggregate(Path(path)))
    _aggregate = registry
    return True


def aggregate_registry() -> CollectorRegistry | None:
    """The registry ``/metrics`` serves in a worker of several, or None (one process)."""
    return _aggregate


class _Aggregate(Collector):
    """Every process's files, in the order and with the families of ``REGISTRY``."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._files = MultiProcessCollector(None, str(path))  # type: ignore[no-untyped-call]

    def collect(self) -> Iterator[Metric]:
        merged = {m.name: m for m in self._files.collect()}  # type: ignore[no-untyped-call]
        for family in REGISTRY.collect():  # this process's: names, help texts and types
            if family.name == MEMORY:
                merged.pop(family.name, None)  # none: no worker sets it in this mode
                yield self._memory(family)
            else:
                yield merged.pop(family.name, None) or Metric(
                    family.name, family.documentation, family.type
                )
        yield from merged.values()  # none expected: every metric is defined in metrics.py

    def _memory(self, family: Metric) -> Metric:
        out = Metric(family.name, family.documentation, family.type)
        total = sum(rss_bytes(pid) for pid in live_pids(self._path))
        out.add_sample(family.name, {"service": "api"}, float(total))
        return out


def rss_bytes(pid: int | None = None) -> int:
    """Resident memory of ``pid`` (default this process) from ``/proc``; 0 for a process that
    is gone. This process without ``/proc``: its peak resident size."""
    me = pid is None or pid == os.getpid()
    try:
        with open(f"/proc/{'self' if me else pid}/statm", encoding="ascii") as f:
            pages = int(f.read().split()[1])
        return pages * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        # ru_maxrss is the peak resident size in KiB on Linux
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 if me else 0
