"""``anh-reporter scheduler``: run the scheduled jobs; one instance leads, the others wait."""

from __future__ import annotations

import signal
import threading

from anh_reporter.config import get_settings
from anh_reporter.scheduler import run_scheduler
from anh_reporter.scheduler.jobs import JOBS
from anh_reporter.storage import migrate
from anh_reporter.storage.database import direct_database, open_database
from anh_reporter.terminal import console


def scheduler() -> None:
    """Run the scheduled jobs (daily reports, late data, partitions, anomaly models).

    Several instances may run: one leads (a PostgreSQL advisory lock), the others try the
    lock every 5 s and take over within about 5 s of the leader process's death (about 16 s
    when its host vanishes: the server drops its session after about 11 s of TCP keepalives).
    ``ANH_METRICS__PORT``: serve /metrics (``scheduler_leader`` is 1 in the leader).
    """
    settings = get_settings()
    if settings.metrics.port is not None:
        from prometheus_client import start_http_server

        from anh_reporter.observability.metrics import REGISTRY

        start_http_server(settings.metrics.port, settings.metrics.host, registry=REGISTRY)
    stop = threading.Event()
    # SIGTERM (systemd, docker stop): stop like Ctrl-C, releasing the leader lock at once.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with open_database(settings) as db:
        lock_db = direct_database(settings, db)  # the leader lock holds a session
        migrate.upgrade(lock_db, storage=settings.storage)
        for job in JOBS:
            console.print(f"  {job.id}: {job.description}", highlight=False)
        try:
            run_scheduler(db, settings, stop, lock_db=lock_db)
        except KeyboardInterrupt:
            stop.set()
