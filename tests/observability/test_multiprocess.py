"""``observability.multiprocess``: the parent's directory and its marking of dead workers.

- ``shared_directory()`` makes a new empty 0700 directory, names it in
  ``PROMETHEUS_MULTIPROC_DIR`` while it lasts, then removes it (with the files written in it)
  and gives the variable back its previous value.
- ``reap()`` removes the live gauge files of a process that exited and of one that is not
  its child (a reused pid), keeps those of its running child and every non-live file (a dead
  worker's counts stay in the total).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from anh_reporter.observability import multiprocess


def test_the_directory_is_private_new_and_removed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(multiprocess.ENV, "/somewhere/else")
    with multiprocess.shared_directory() as path:
        assert os.environ[multiprocess.ENV] == str(path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o700
        assert list(path.iterdir()) == []
        (path / "counter_1.db").write_bytes(b"")
    assert not path.exists()
    assert os.environ[multiprocess.ENV] == "/somewhere/else"
    monkeypatch.delenv(multiprocess.ENV)
    with multiprocess.shared_directory():
        pass
    assert multiprocess.ENV not in os.environ


def test_reap_marks_dead_the_processes_that_are_not_running_children(tmp_path: Path) -> None:
    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    exited.wait()
    running = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    not_a_child = os.getpid()  # runs, but its parent is not this process
    try:
        for pid in (exited.pid, running.pid, not_a_child):
            for name in (
                f"gauge_livesum_{pid}.db",
                f"gauge_livemax_{pid}.db",
                f"counter_{pid}.db",
                f"gauge_max_{pid}.db",
            ):
                (tmp_path / name).write_bytes(b"")
        assert multiprocess.live_pids(tmp_path) == sorted((exited.pid, running.pid, not_a_child))
        assert multiprocess.reap(tmp_path) == sorted((exited.pid, not_a_child))
        assert multiprocess.live_pids(tmp_path) == [running.pid]
        names = {p.name for p in tmp_path.iterdir()}
        for pid in (exited.pid, not_a_child):
            assert {f"counter_{pid}.db", f"gauge_max_{pid}.db"} <= names
            assert not {f"gauge_livesum_{pid}.db", f"gauge_livemax_{pid}.db"} & names
    finally:
        running.communicate(b"")
