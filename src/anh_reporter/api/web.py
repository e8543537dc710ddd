"""The web UI: the built Vue app in ``anh_reporter/web/``, served at ``/`` next to the API.

History-mode routing: any GET outside the API's own prefixes that names no file gets
``index.html``, and the app's router shows the view. Hashed assets (``/assets/*``) are cached
for a year (``immutable``); ``index.html`` is ``no-cache`` so a new release is picked up on the
next load. Every response carries the UI's Content-Security-Policy: scripts, styles and
connections from this origin only, no ``'unsafe-inline'``, no ``'unsafe-eval'``.

Wire it last in ``create_app`` (after every router), so API routes match first::

    from anh_reporter.api.web import mount_web_ui
    mount_web_ui(app)
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
"""Where the build (``npm run build`` in ``web/``) puts the UI inside the package."""

WEB_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
    "connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
"""The UI's policy. ``connect-src 'self'`` also covers ``ws(s)://`` to the same host."""

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
SHORT = "public, max-age=3600"

# Paths that belong to the API process, never to the UI: an unknown one is a JSON 404.
RESERVED_PREFIXES = ("/api/", "/ws/", "/health", "/metrics")


class WebUI:
    """ASGI app serving the built UI from ``directory`` with SPA fallback to ``index.html``."""

    def __init__(
        self, directory: Path = WEB_DIR, api_routes: list[BaseRoute] | None = None
    ) -> None:
        self.directory = directory.resolve()
        self.api_routes = api_routes or []
        """The app's routes: a path one of them has, asked with another method, is a 405."""

    def _file(self, path: str) -> Path | None:
        """The file a URL path names inside the directory, or None (never outside it)."""
        relative = path.lstrip("/")
        if not relative or "\x00" in relative:
            return None
        candidate = (self.directory / relative).resolve()
        if not candidate.is_relative_to(self.directory) or not candidate.is_file():
            return None
        return candidate

    def _api_methods(self, scope: Scope) -> list[str]:
        """The methods API routes accept on this path when the request's is not one of them."""
        return sorted(
            method
            for route in self.api_routes
            if getattr(route, "app", None) is not self and route.matches(scope)[0] == Match.PARTIAL
            for method in getattr(route, "methods", None) or ()
        )

    def response(self, method: str, path: str, *, api_methods: list[str] | None = None) -> Response:
        """The answer to ``method`` on ``path`` (``api_methods``: what the API accepts there)."""
        if api_methods or method not in ("GET", "HEAD"):
            allowed = ", ".join(api_methods or ["GET", "HEAD"])
            return JSONResponse(
                {
                    "error": {
                        "code": "method_not_allowed",
                        "message": f"{method} {path}: method not allowed ({allowed})",
                    }
                },
                status_code=405,
                headers={"Allow": allowed},
            )
        if path.startswith(RESERVED_PREFIXES) or path in ("/api", "/ws"):
            return JSONResponse(
                {"error": {"code": "not_found", "message": f"{path}: no such endpoint"}},
                status_code=404,
            )
        found = self._file(path)
        if found is not None and found.name != "index.html":
            cache = IMMUTABLE if path.startswith("/assets/") else SHORT
            return FileResponse(found, headers=_headers(cache))
        if path.startswith("/assets/"):
            # A stale page asking for an asset of an older release: a plain 404, not the app.
            return PlainTextResponse("not found", status_code=404, headers=_headers(REVALIDATE))
        index = self.directory / "index.html"
        if not index.is_file():
            return PlainTextResponse(
                "The web UI is not built: run `npm ci && npm run build` in web/ "
                "(the API is at /api/v1, its OpenAPI document at /api/openapi.json).",
                status_code=404,
            )
        return FileResponse(index, media_type="text/html", headers=_headers(REVALIDATE))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve HTTP; refuse a WebSocket that matched no API route."""
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4404, "reason": "no such endpoint"})
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :] or "/"
        response = self.response(scope["method"], path, api_methods=self._api_methods(scope))
        await response(scope, receive, send)


def _headers(cache: str) -> dict[str, str]:
    return {"Cache-Control": cache, "Content-Security-Policy": WEB_CSP}


def mount_web_ui(app: FastAPI, directory: Path = WEB_DIR) -> None:
    """Serve the UI at ``/``; call after every router so the API's routes match first."""
    app.mount("/", WebUI(directory, app.router.routes), name="web")
