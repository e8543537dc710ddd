"""The web UI's serving module and the built UI it ships.

The serving tests use a directory built here (an index and a hashed asset); the build tests
read what ``web/`` built into the package, so a change to Vite's output that breaks the
Content-Security-Policy (an inline script or style) fails here.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from anh_reporter.api.web import IMMUTABLE, REVALIDATE, WEB_CSP, WEB_DIR, mount_web_ui

INDEX = (
    '<!doctype html><html><head><script type="module" src="/assets/index-abc123.js">'
    '</script></head><body><div id="app"></div></body></html>'
)


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX, encoding="utf-8")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)", encoding="utf-8")
    (tmp_path / "favicon.svg").write_text("<svg/>", encoding="utf-8")
    (tmp_path.parent / "secret.txt").write_text("do not serve", encoding="utf-8")
    app = FastAPI()

    @app.get("/api/v1/ping")
    def ping() -> dict[str, str]:
        return {"pong": "yes"}

    mount_web_ui(app, tmp_path)
    return TestClient(app)


def test_index_is_served_at_root_without_cache_and_with_the_csp(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.text == INDEX
    assert r.headers["cache-control"] == REVALIDATE
    assert r.headers["content-security-policy"] == WEB_CSP


@pytest.mark.parametrize("path", ["/fields/1/signoff/2026-12-05", "/reports/7", "/login"])
def test_history_mode_paths_get_the_index(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200
    assert r.text == INDEX
    assert r.headers["cache-control"] == REVALIDATE


def test_hashed_assets_are_cached_for_a_year(client: TestClient) -> None:
    r = client.get("/assets/index-abc123.js")
    assert r.status_code == 200
    assert r.headers["cache-control"] == IMMUTABLE
    assert "javascript" in r.headers["content-type"]


def test_a_missing_asset_is_a_404_not_the_app(client: TestClient) -> None:
    r = client.get("/assets/index-old999.js")
    assert r.status_code == 404
    assert "<html" not in r.text


def test_api_routes_match_first_and_unknown_api_paths_stay_json_404(client: TestClient) -> None:
    assert client.get("/api/v1/ping").json() == {"pong": "yes"}
    r = client.get("/api/v1/no-such-thing")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    assert client.get("/health/nope").status_code == 404


def test_no_file_outside_the_directory_is_served(client: TestClient) -> None:
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt"):
        r = client.get(path)
        assert "do not serve" not in r.text, path


def test_only_get_and_head(client: TestClient) -> None:
    assert client.head("/").status_code == 200
    assert client.post("/").status_code == 405


def test_an_unbuilt_ui_says_how_to_build_it(tmp_path: Path) -> None:
    app = FastAPI()
    mount_web_ui(app, tmp_path)
    r = TestClient(app).get("/")
    assert r.status_code == 404
    assert "npm run build" in r.text


def test_the_policy_allows_nothing_inline() -> None:
    assert "unsafe-inline" not in WEB_CSP
    assert "unsafe-eval" not in WEB_CSP
    assert "script-src 'self'" in WEB_CSP


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.in_script = False
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {k for k, _ in attrs}
        if "style" in names:
            self.problems.append(f"<{tag} style=...>")
        if any(k.startswith("on") for k in names):
            self.problems.append(f"<{tag}> with an inline event handler")
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script":
            self.in_script = True
            if "src" not in names:
                self.problems.append("inline <script>")
            else:
                self.scripts.append(dict(attrs)["src"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.in_script = False

    def handle_data(self, data: str) -> None:
        if self.in_script and data.strip():
            self.problems.append("script with a body")


def test_the_built_index_complies_with_the_csp() -> None:
    """What Vite wrote into the package: external scripts and styles only."""
    index = WEB_DIR / "index.html"
    assert index.is_file(), "the UI is not built into the package: run `make web`"
    tags = _Tags()
    tags.feed(index.read_text(encoding="utf-8"))
    assert tags.problems == []
    assert tags.scripts and all(re.fullmatch(r"/assets/[\w.-]+\.js", s) for s in tags.scripts)
    for src in tags.scripts:
        assert (WEB_DIR / src.lstrip("/")).is_file(), src
