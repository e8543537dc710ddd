"""Golden cases: ``cases/<name>/input.json`` (a report's inputs) → ``expected.json``.

``expected.json`` holds the exact canonical bytes of the idp-1.0 document. Each case's
``notes.md`` works out every derived figure by hand (totals, water from GSV − NSV, well
allocation, quality summary). One test runs every case folder. To re-create the expected files
after an intended format change, run with ``ANH_UPDATE_GOLDEN=1`` and check the diff by hand.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from anh_reporter.reports.build import build_report
from anh_reporter.reports.canonical import canonical_bytes, is_canonical
from anh_reporter.reports.model import ReportInputs
from anh_reporter.reports.profiles import get_profile

CASES = sorted(p for p in (Path(__file__).parent / "cases").iterdir() if p.is_dir())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_case(case: Path) -> None:
    inputs = ReportInputs.model_validate_json((case / "input.json").read_bytes())
    profile = get_profile("idp-1.0")

    document = profile.document(build_report(inputs))
    produced = canonical_bytes(document)

    assert profile.problems(document) == []
    assert profile.is_valid(document)
    expected_path = case / "expected.json"
    if os.environ.get("ANH_UPDATE_GOLDEN") == "1":
        expected_path.write_bytes(produced)
    expected = expected_path.read_bytes()
    assert is_canonical(expected), f"{expected_path} is not canonical JSON"
    assert produced == expected


def test_there_are_cases() -> None:
    assert len(CASES) >= 3
