"""Write the API's OpenAPI document (what ``/api/openapi.json`` serves) as stable JSON.

The web UI's typed client is generated from this file (``npm run gen:api`` in ``web/``).
``--check`` compares the committed file with what the app serves today and fails on a
difference, so the UI and the API cannot drift apart. No server, database or network is
needed: the app is built but never started.

    python tools/export_openapi.py            # writes web/openapi.json
    python tools/export_openapi.py --check    # exit 1 when web/openapi.json is stale
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "web" / "openapi.json"
# A fixed key: only the document is wanted, no token is ever issued with it.
_SECRET = "openapi-export-" + "x" * 40


def openapi_document() -> dict[str, Any]:
    """The app's OpenAPI document, built without a database connection."""
    from anh_reporter.api.app import create_app
    from anh_reporter.bus.memory import MemoryBus
    from anh_reporter.config import ApiSettings, Settings
    from anh_reporter.storage.database import Database

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), redis_url=None)
        app = create_app(
            settings,
            Database("postgresql://unused@127.0.0.1:1/unused"),
            MemoryBus(),
            api=ApiSettings(jwt_secret=_SECRET),
        )
        return app.openapi()


def render(document: dict[str, Any]) -> str:
    """Stable text: sorted keys, two-space indent, a final newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the document, or with ``--check`` report whether the committed one is current."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write")
    parser.add_argument("--check", action="store_true", help="fail if --out is not current")
    args = parser.parse_args(argv)
    text = render(openapi_document())
    if args.check:
        try:
            committed = args.out.read_text(encoding="utf-8")
        except FileNotFoundError:
            print(f"{args.out}: missing; run `python tools/export_openapi.py`", file=sys.stderr)
            return 1
        if committed == text:
            return 0
        diff = difflib.unified_diff(
            committed.splitlines(), text.splitlines(), "committed", "served", lineterm="", n=1
        )
        print("\n".join(list(diff)[:80]), file=sys.stderr)
        print(
            f"{args.out} differs from the API's document: run `make web-api` (regenerates "
            "web/openapi.json and web/src/api/schema.d.ts) and commit both",
            file=sys.stderr,
        )
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
