"""A JSON response rendered by orjson (numpy arrays, decimals, and NaN as null included)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from starlette.responses import Response

JSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z


def _default(value: Any) -> Any:
    # A Decimal figure is a JSON number, as the response schemas declare it.
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(content: Any) -> bytes:
    """The bytes :class:`JsonResponse` sends (also what the response cache keeps)."""
    return orjson.dumps(content, default=_default, option=JSON_OPTIONS)


class JsonResponse(Response):
    """``application/json`` through orjson: fast, and numpy columns need no conversion."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Serialise ``content``; bytes pass through untouched (cached bodies)."""
        if isinstance(content, bytes):
            return content
        return dumps(content)
