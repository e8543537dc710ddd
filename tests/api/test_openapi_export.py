"""The UI's typed client is generated from ``web/openapi.json``: it must be what the app serves.

When this fails, the API changed: run ``make web-api`` (rewrites ``web/openapi.json`` and
regenerates ``web/src/api/schema.d.ts``), rebuild the UI if its code needs to follow, commit.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _exporter() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "export_openapi", ROOT / "tools" / "export_openapi.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_openapi_document_is_what_the_app_serves() -> None:
    exporter = _exporter()
    committed = (ROOT / "web" / "openapi.json").read_text(encoding="utf-8")
    served = exporter.render(exporter.openapi_document())
    assert json.loads(committed) == json.loads(served), (
        "web/openapi.json is stale: run `make web-api` and commit web/openapi.json and "
        "web/src/api/schema.d.ts"
    )
    assert committed == served, "web/openapi.json is not in the exporter's stable format"


def test_the_export_needs_no_database_and_is_stable() -> None:
    exporter = _exporter()
    first = exporter.render(exporter.openapi_document())
    second = exporter.render(exporter.openapi_document())
    assert first == second
    assert '"operationId": "reports-generate_report"' in first
