"""Helpers for the deployment tests: the repository's deploy/ folder and its system tools.

The tools (promtool, amtool, nginx, pgbouncer, systemd-analyze) come from Debian packages that
``tools/ci_system_packages.sh`` installs. A test that needs a missing tool fails in CI and is
skipped on a developer's bare machine, saying which package to install.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .clusters import Clusters

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def require_tool(tool: str, package: str) -> str:
    """The tool's path; otherwise fail in CI, skip elsewhere, naming the Debian package."""
    path = shutil.which(tool) or next(
        (str(p) for d in ("/usr/sbin", "/usr/bin") if (p := Path(d) / tool).exists()), None
    )
    if path is not None:
        return path
    message = (
        f"{tool} is not installed (Debian package {package}; "
        "`tools/ci_system_packages.sh` installs it)"
    )
    if IN_CI:
        pytest.fail(message + " (CI=true: the deployment checks must run)")
    pytest.skip(message)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def clusters() -> Iterator[Clusters]:
    """PostgreSQL clusters of the test's own; stopped and removed afterwards, even on failure."""
    from .clusters import Clusters

    with Clusters() as made:
        yield made
