"""Create the project's virtual environment with pip, on machines where ``venv`` lacks pip.

Debian and Ubuntu ship ``python3`` without ``ensurepip`` unless ``python3-venv`` is installed.
Then this creates the environment without pip and installs pip from its wheel on the package
index (a wheel is a zip that Python can run directly). Standard library only.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import urllib.request
import venv
from pathlib import Path

INDEX = "https://pypi.org/pypi/pip/json"


def main(target: str) -> int:
    """Create ``target`` as a virtual environment that has pip."""
    path = Path(target)
    python = path / "bin" / "python"
    try:
        venv.EnvBuilder(with_pip=True, clear=False).create(path)
        return 0
    except (subprocess.CalledProcessError, OSError) as exc:
        print(f"venv with pip failed ({exc}); installing pip from its wheel", file=sys.stderr)
    venv.EnvBuilder(with_pip=False, clear=True).create(path)
    with urllib.request.urlopen(INDEX, timeout=60) as response:
        release = json.load(response)
    wheel = next(u for u in release["urls"] if u["filename"].endswith("-py3-none-any.whl"))
    with tempfile.TemporaryDirectory() as tmp:
        wheel_path = Path(tmp) / wheel["filename"]
        with urllib.request.urlopen(wheel["url"], timeout=120) as response:
            wheel_path.write_bytes(response.read())
        subprocess.run(
            [str(python), f"{wheel_path}/pip", "install", "--quiet", str(wheel_path)], check=True
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ".venv"))
