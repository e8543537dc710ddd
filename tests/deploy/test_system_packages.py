"""tools/ci_system_packages.sh installs every tool the deployment tests ask for."""

from __future__ import annotations

import re
import subprocess

from .conftest import ROOT

SCRIPT = ROOT / "tools" / "ci_system_packages.sh"


def test_the_script_names_every_tool_the_tests_require() -> None:
    required = {
        (tool, package)
        for path in (ROOT / "tests" / "deploy").glob("test_*.py")
        for tool, package in re.findall(
            r'require_tool\(\s*"([\w-]+)",\s*"([\w-]+)"\s*\)', path.read_text()
        )
    }
    installed = set(re.findall(r"^\s*\[([\w-]+)\]=([\w-]+)$", SCRIPT.read_text(), flags=re.M))
    assert required and required <= installed


def test_the_script_is_valid_bash() -> None:
    result = subprocess.run(
        ["bash", "-n", str(SCRIPT)], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
