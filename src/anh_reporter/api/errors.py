"""Every error the API answers is JSON: a stable ``code``, a readable ``message``, details.

``{"error": {"code": "not_found", "message": "field 12 not found", "details": [...]}}``.
Validation errors list one detail per problem with the field's location, so a client (and a
person) can tell which field was wrong, what was given and what was expected.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from anh_reporter.api.responses import JsonResponse
from anh_reporter.errors import StorageError, first_line

log = logging.getLogger(__name__)
_STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    501: "not_implemented",
    503: "unavailable",
}


class ErrorDetail(BaseModel):
    """One problem: where (``field``, e.g. ``body.email``) and what."""

    field: str | None = None
    message: str
    type: str | None = None


class ErrorInfo(BaseModel):
    """The error itself."""

    code: str
    message: str
    details: list[ErrorDetail] = []


class ErrorResponse(BaseModel):
    """The body of every non-2xx answer."""

    error: ErrorInfo


class ApiError(Exception):
    """An error with an HTTP status, a stable code and a message for the client."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: list[ErrorDetail] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details or []
        self.headers = headers


def not_found(what: str, ident: object) -> ApiError:
    """404 for a missing object, and equally for one of another operator (no existence leak)."""
    return ApiError(404, "not_found", f"{what} {ident} not found")


def not_implemented(feature: str, issue: str) -> ApiError:
    """501 for an endpoint whose service has not landed yet."""
    return ApiError(
        501,
        "not_implemented",
        f"{feature} is not available in this build yet (it lands with {issue})",
    )


def error_body(code: str, message: str, details: list[ErrorDetail] | None = None) -> dict[str, Any]:
    """The JSON-ready error body."""
    return {
        "error": {
            "code": code,
            "message": message,
            "details": [d.model_dump() for d in details or []],
        }
    }


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    details: list[ErrorDetail] | None = None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    """A JSON error response."""
    return JsonResponse(error_body(code, message, details), status_code=status, headers=headers)


def field_path(loc: tuple[int | str, ...] | list[int | str]) -> str:
    """``("body", "items", 0, "value")`` as ``body.items[0].value``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def validation_details(errors: list[dict[str, Any]] | Any) -> list[ErrorDetail]:
    """Pydantic/FastAPI validation errors as details naming the field and the value given."""
    out = []
    for err in errors:
        where = field_path(tuple(err.get("loc", ())))
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if "input" in err and err.get("type") != "missing":
            message += f" (got {_short(err['input'])})"
        out.append(ErrorDetail(field=where or None, message=message, type=err.get("type")))
    return out


def install_error_handlers(app: FastAPI) -> None:
    """Make every error, including the framework's own, an :class:`ErrorResponse`."""

    async def api_error(_: Request, exc: Exception) -> JsonResponse:
        assert isinstance(exc, ApiError)  # noqa: S101 - narrows for mypy: registered for this type
        return error_response(
            exc.status, exc.code, exc.message, details=exc.details, headers=exc.headers
        )

    async def http_error(_: Request, exc: Exception) -> JsonResponse:
        assert isinstance(exc, StarletteHTTPException)  # noqa: S101 - narrows for mypy: registered for this type
        code = _STATUS_CODES.get(exc.status_code, f"http_{exc.status_code}")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return error_response(
            exc.status_code, code, message, headers=dict(exc.headers or {}) or None
        )

    async def invalid_request(_: Request, exc: Exception) -> JsonResponse:
        assert isinstance(exc, RequestValidationError)  # noqa: S101 - narrows for mypy: registered for this type
        details = validation_details(exc.errors())
        first = details[0] if details else ErrorDetail(message="invalid request")
        message = f"{first.field}: {first.message}" if first.field else first.message
        if len(details) > 1:
            message += f" (and {len(details) - 1} more problem(s))"
        return error_response(422, "validation_error", message, details=details)

    async def database_down(_: Request, exc: Exception) -> JsonResponse:
        # The driver's text names the host, port, user and database: it goes to the log under
        # an id; the client gets a fixed message and the id.
        error_id = secrets.token_hex(6)
        log.error("database unavailable (error id %s): %s", error_id, first_line(exc))
        return error_response(
            503,
            "database_unavailable",
            f"the database could not answer; retry shortly (error id {error_id})",
            headers={"Retry-After": "5"},
        )

    async def refused_value(_: Request, exc: Exception) -> JsonResponse:
        # Client-side (NUL in a text) or server-side (SQLSTATE class 22) refusal of a value.
        # The database's own text names tables, columns and internals: it goes to the log
        # under an id, the client gets the id.
        error_id = secrets.token_hex(6)
        log.warning("database refused a value (error id %s): %s", error_id, first_line(exc))
        return error_response(
            422,
            "invalid_value",
            "a value in the request cannot be stored or compared (for example a NUL character "
            f"in a text, or a number out of range); error id {error_id}",
        )

    async def unexpected(_: Request, exc: Exception) -> JsonResponse:
        log.exception("unhandled error", exc_info=exc)
        return error_response(500, "internal_error", "an unexpected error occurred; it was logged")

    app.add_exception_handler(psycopg.OperationalError, database_down)
    app.add_exception_handler(psycopg.DataError, refused_value)
    app.add_exception_handler(Exception, unexpected)
    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StorageError, database_down)


# The documented error answers of every route, so clients and schemathesis know their shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": code.replace("_", " ")}
    for status, code in _STATUS_CODES.items()
    if status in (400, 401, 403, 404, 409, 413, 415, 422, 429, 501, 503)
}
