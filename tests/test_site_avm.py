"""Site file: a well's AVM code is one of a kind in its field, compared without case."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from anh_reporter.site import FieldSite
from anh_reporter.site_avm import duplicate_avm_code_problem

from .production.helpers import site_dict

ROOT = Path(__file__).resolve().parents[1]


def test_codes_that_differ_only_in_case_are_one_code() -> None:
    """``AVM-0001`` and ``avm-0001`` are the same code to the ANH: refused, both spellings and
    both wells named. A well without ``avm_code`` is known by its own code, which counts."""
    assert duplicate_avm_code_problem([("W-1", "AVM-0001"), ("W-2", "AVM-0002")]) is None
    assert duplicate_avm_code_problem([("W-1", "AVM-0001"), ("W-2", "avm-0001")]) == (
        "duplicate well AVM code 'avm-0001': wells 'W-1' ('AVM-0001') and 'W-2' ('avm-0001') "
        "have the same one (AVM codes are compared without case)"
    )
    assert "wells 'W-1' ('w-2') and 'W-2' ('W-2')" in str(
        duplicate_avm_code_problem([("W-1", "w-2"), ("W-2", None)])
    )


def test_a_swap_within_the_file_is_valid() -> None:
    """Each well's code differs from the others' in the file: W-1 CDL-002, W-2 CDL-001."""
    assert duplicate_avm_code_problem([("W-1", "CDL-002"), ("W-2", "CDL-001")]) is None


def _wells(*avm: str | None) -> dict[str, Any]:
    raw = site_dict()
    raw["fields"][0]["wells"] = [
        {"code": f"W-{i}", "name": f"Pozo {i}", "production_method": "pcp"}
        | ({"avm_code": code} if code else {})
        for i, code in enumerate(avm, start=1)
    ]
    return raw


def test_the_field_refuses_it() -> None:
    with pytest.raises(ValueError, match="duplicate well AVM code 'avm-0001'"):
        FieldSite.model_validate(_wells("AVM-0001", "avm-0001")["fields"][0])


def test_site_check_refuses_it_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(_wells("AVM-0001", "avm-0001")), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "anh_reporter", "site", "check", str(path)],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "duplicate well AVM code 'avm-0001'" in lines[0]
