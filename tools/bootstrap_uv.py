"""Fetch the pinned uv binary into ``.tools/``, checked against its SHA-256. Standard library only.

uv installs the project from ``uv.lock``. It is the one thing installed before the lock can be
read, so its version and the hash of each platform's wheel are pinned here: a fresh clone gets
the same uv, byte for byte, whatever the package index serves today. Upgrading uv is an edit of
this file (``UV_VERSION`` and the hashes from https://pypi.org/simple/uv/).

Usage: ``python3 tools/bootstrap_uv.py [DEST_DIR]`` prints the path of the uv executable.
"""

from __future__ import annotations

import hashlib
import io
import platform
import stat
import sys
import urllib.request
import zipfile
from pathlib import Path

UV_VERSION = "0.13.9"
FILES = "https://files.pythonhosted.org/packages"
# (system, machine) -> (wheel path under FILES, sha256 of the wheel)
WHEELS: dict[tuple[str, str], tuple[str, str]] = {
    ("Linux", "x86_64"): (
        "3d/aa/26d64642d808de4a652579ef950d7cd2d37f080a8babf9c67c6b75fc4c3f/"
        "uv-0.13.9-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "d7f459fe4fd247d830351c75686d3996ace3c6f3f728eb0e85a30b7ada0cef19",
    ),
    ("Linux", "aarch64"): (
        "57/15/94b6cd62ac3ff6550288328e8035288875197cbc183f51554b266a69877b/"
        "uv-0.13.9-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64.whl",
        "5435c5ce14a56431208ca0996416d310f1598e8c2c8ba707688985a16bb82dbe",
    ),
    ("Darwin", "x86_64"): (
        "1e/db/08e9ef4879bd667e6d7b4705e594e5bd3e4585f10fc63cb16b9fa2fac63e/"
        "uv-0.13.9-py3-none-macosx_10_12_x86_64.whl",
        "c16ed11e013557536b3e60065f1b912f6407bd6518e041b961e23ef9e6b4fbf5",
    ),
    ("Darwin", "arm64"): (
        "f3/a7/a8d7b074798c7fb3b26b37584b8fe2e29df2ccdc24ce7902caab2a53edbf/"
        "uv-0.13.9-py3-none-macosx_11_0_arm64.whl",
        "66c512266d633bef48384a1f53003f41f2a8e7b36fe6e7fbfd3e0fd52d96fa63",
    ),
}
MACHINE_ALIASES = {"amd64": "x86_64", "arm64": "aarch64"}


def wheel_for(system: str, machine: str) -> tuple[str, str]:
    """The pinned wheel for this platform, or a one-line error naming the platform."""
    machine = machine.lower()
    key = (system, machine)
    if key not in WHEELS and system == "Linux":
        key = (system, MACHINE_ALIASES.get(machine, machine))
    if key not in WHEELS:
        known = ", ".join(f"{s}/{m}" for s, m in WHEELS)
        raise SystemExit(
            f"error: no pinned uv {UV_VERSION} wheel for {system}/{machine} (pinned: {known}); "
            "install uv yourself and run `uv sync --locked --extra dev`"
        )
    return WHEELS[key]


def main(dest: str) -> int:
    """Install uv into ``dest`` unless the pinned version is already there; print its path."""
    target = Path(dest) / f"uv-{UV_VERSION}" / "uv"
    if target.is_file():
        print(target)
        return 0
    path, sha256 = wheel_for(platform.system(), platform.machine())
    url = f"{FILES}/{path}"
    print(f"fetching uv {UV_VERSION} from {url}", file=sys.stderr)
    with urllib.request.urlopen(url, timeout=300) as response:  # noqa: S310 - fixed https URL
        data = response.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise SystemExit(f"error: uv wheel sha256 is {digest}, expected {sha256}; not installed")
    member = f"uv-{UV_VERSION}.data/scripts/uv"
    with zipfile.ZipFile(io.BytesIO(data)) as wheel:
        binary = wheel.read(member)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.write_bytes(binary)
    partial.chmod(partial.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    partial.replace(target)
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ".tools"))
