"""Map errors to RFC 9457 problem-details responses; handlers just raise."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from context_service.errors import ContextServiceError

log = logging.getLogger("context_service.api")
PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> Response[bytes]:
    """A problem-details response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return Response(content=msgspec.json.encode(body), status_code=status, media_type=PROBLEM_JSON)


def service_error(request: Request[Any, Any, Any], exc: ContextServiceError) -> Response[bytes]:
    """Our own errors carry their status, title, extra fields and headers (``Retry-After``)."""
    response = problem(
        exc.status_code, exc.title, exc.detail, instance=request.url.path, **exc.extra
    )
    response.headers.update(getattr(exc, "headers", None) or {})
    return response


def validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[bytes]:
    """Bad parameters or body: 400 with the offending fields listed."""
    errors = exc.extra if isinstance(exc.extra, list) else []
    return problem(
        400, "Invalid request", str(exc.detail), instance=request.url.path, errors=errors
    )


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    """Framework errors (404 route, 405 method...) as problem details."""
    return problem(
        exc.status_code, _title(exc.status_code), str(exc.detail), instance=request.url.path
    )


def unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """Anything else: log it, answer 500 without leaking internals."""
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    return problem(
        500,
        "Internal error",
        "the server failed to answer; the error is logged",
        instance=request.url.path,
    )


def _title(status: int) -> str:
    titles = {
        400: "Bad request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not found",
        405: "Method not allowed",
        413: "Payload too large",
        429: "Too many requests",
    }
    return titles.get(status, "Error")


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    ContextServiceError: service_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    Exception: unexpected_error,
}
