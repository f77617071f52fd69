"""Map errors to RFC 9457 problem-details responses; handlers just raise.

Nothing here reads ``request.url``: litestar builds it by decoding the raw query string as
UTF-8, so for a query holding other bytes the error handler itself would fail. ``instance`` is
the request's path (already decoded by the server), never its query, so a value the caller
sent (a ``user_token``, an email) is not echoed back in the problem; it is the path the client
asked for, percent-encoded, even under a mounted app (``/mcp``) whose path litestar rewrites.

A ``detail`` (and each message of ``errors``) can quote what the caller sent: every control,
bidirectional or zero-width character in it is escaped visibly (``\\x11``, ``\\u202e``) and it
is cut short, so a value can neither forge a log line nor reverse the text around it in a UI.
"""

from __future__ import annotations

import json
import logging
import math
import re
import types
from http import HTTPStatus
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from urllib.parse import quote, quote_from_bytes

import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    ClientException,
    HTTPException,
    SerializationException,
    ValidationException,
)
from litestar.types import ASGIApp, Receive, Scope, Send

from context_service.errors import (
    CANDIDATES_SHOWN,
    AmbiguousIdentifier,
    ContextServiceError,
    visible,
)
from context_service.mcp_server.json_keys import repeated_key

log = logging.getLogger("context_service.api")
PROBLEM_JSON = "application/problem+json"
_MAX_MESSAGE = 200  # longest validation message kept: messages can quote what was sent
_MAX_ERRORS = 10
_MAX_DETAIL = 1000  # longest detail sent: a detail can quote what was sent
# What a path keeps as it is in ``instance``: its separators and what RFC 3986 allows in a
# segment; anything else (a control character, a space, a byte above ASCII) is %-encoded.
_PATH_SAFE = "/:@!$&'()*+,;=~"


def problem_body(status: int, title: str, detail: str, **extra: Any) -> bytes:
    """A problem-details document, encoded; ``detail`` is made readable (``readable``)."""
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": readable(detail),
        **extra,
    }
    return msgspec.json.encode(body)


def readable(detail: str, limit: int = _MAX_DETAIL) -> str:
    """``detail`` with its hidden characters escaped (``errors.visible``), cut to ``limit``."""
    text = visible(detail)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def problem(status: int, title: str, detail: str, **extra: Any) -> Response[bytes]:
    """A problem-details response."""
    body = problem_body(status, title, detail, **extra)
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON)


def _instance(request: Request[Any, Any, Any]) -> str:
    return request_path(request.scope)


def request_path(scope: Scope) -> str:
    """The path the client asked for, percent-encoded and without its query.

    ``raw_path`` is what was received (a server behind a proxy puts its ``root_path`` in
    front); litestar rewrites ``path`` for a mounted app (``/mcp`` reads ``/``) but never
    ``raw_path``. Without one, ``root_path`` and ``path``."""
    raw = scope.get("raw_path")
    if isinstance(raw, bytes) and raw:
        return quote_from_bytes(raw.partition(b"?")[0], safe=_PATH_SAFE + "%")
    root, path = str(scope.get("root_path", "")), str(scope.get("path", ""))
    full = path if path.startswith(root) else root + path
    return quote(full, safe=_PATH_SAFE, errors="backslashreplace")


def service_error(request: Request[Any, Any, Any], exc: ContextServiceError) -> Response[bytes]:
    """Our own errors carry their status, title, extra fields and headers (``Retry-After``).
    A 409 names ``CANDIDATES_SHOWN`` candidates at most, on every route (a switchboard 500
    customers share must not make a 56 KB answer)."""
    if isinstance(exc, AmbiguousIdentifier):
        exc = exc.capped(CANDIDATES_SHOWN)
    extra = exc.extra
    if isinstance(extra.get("errors"), list):  # ``params.strict_query`` names what was sent
        errors = [_shown_error(e) if isinstance(e, dict) else e for e in extra["errors"]]
        extra = {**extra, "errors": errors}
    response = problem(exc.status_code, exc.title, exc.detail, instance=_instance(request), **extra)
    response.headers.update(getattr(exc, "headers", None) or {})
    return response


def _short(value: Any) -> str:
    return readable(str(value), _MAX_MESSAGE)


def _shown_error(error: dict[str, Any]) -> dict[str, Any]:
    """A validation error as sent back: its message readable and short, its key readable."""
    shown = {**error, "message": _short(error["message"])} if "message" in error else error
    key = shown.get("key")
    return {**shown, "key": visible(key)} if isinstance(key, str) else shown


def _source(source: Any) -> str:
    """``query``, ``body``, ``path``...: litestar names the source with an enum."""
    return str(getattr(source, "value", source) or "request")


def validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[bytes]:
    """Bad parameters or body: 400 naming each offending field and what is wrong with it.

    Litestar's own detail repeats the whole request URL (query values included); the detail
    here says what to fix instead, and each message is cut short.
    """
    raw = exc.extra if isinstance(exc.extra, list) else []
    errors = [
        _shown_error(_explained(request, e)) for e in raw[:_MAX_ERRORS] if isinstance(e, dict)
    ]
    parts = [
        f"{e['key']} ({_source(e.get('source'))}): {e.get('message', 'invalid')}"
        if e.get("key")
        else str(e.get("message", "invalid"))
        for e in errors
    ]
    detail = "invalid request: " + "; ".join(parts) if parts else "invalid request"
    return problem(400, "Invalid request", detail, instance=_instance(request), errors=errors)


_ENUM_MESSAGE = "Invalid enum value"
_NO_BODY = "missing: this route takes a JSON object as its body"
# What msgspec says of a query, path or header value that is no number: every such value is
# text, so "got `str`" is no help. The plain words instead.
_NOT_A_NUMBER = re.compile(r"Expected `(int|float)( \| null)?`, got `str`")
_NUMBER_WORDS = {"int": "expected a whole number", "float": "expected a number"}
# A number out of its range, in msgspec's notation (``Expected `int` >= 60``).
_OUT_OF_RANGE = re.compile(r"Expected `(int|float)( \| null)?` (>=|<=|>|<) (-?[\d.]+)")
_BOUND_WORDS = {">=": "at least", "<=": "at most", ">": "more than", "<": "less than"}
_BLANK_PATTERN = "Expected `str` matching regex '\\\\S'"  # msgspec's words for a blank text
_EMPTY = "Expected `str` of length >= 1"  # msgspec's words for an empty text


def _explained(request: Request[Any, Any, Any], error: dict[str, Any]) -> dict[str, Any]:
    """A validation error in words a caller can act on: a choice with its choices, a number
    in a query string that is none said plainly, a number out of range with its bound, a body
    that was not sent (litestar's words are ``'data'``, a ``KeyError``'s)."""
    message = error.get("message")
    in_body = _source(error.get("source")) == "body"
    if in_body and error.get("key") == "data" and message == "'data'":
        return {**error, "message": _NO_BODY}
    found = _NOT_A_NUMBER.fullmatch(message) if isinstance(message, str) else None
    if found and not in_body:
        return {**error, "message": _NUMBER_WORDS[found[1]]}
    if message in (_BLANK_PATTERN, _EMPTY):
        return {**error, "message": "must hold more than spaces"}
    bound = _OUT_OF_RANGE.fullmatch(message) if isinstance(message, str) else None
    if bound:
        kind = "a whole number" if bound[1] == "int" else "a number"
        return {**error, "message": f"expected {kind} {_BOUND_WORDS[bound[3]]} {bound[4]}"}
    return _with_choices(request, error)


_KEY_PART = re.compile(r"[^.\[\]]+")


def _with_choices(request: Request[Any, Any, Any], error: dict[str, Any]) -> dict[str, Any]:
    """A validation error of a choice (``Invalid enum value 'TEXT'``) with the choices added,
    looked up in the route handler's signature: the parameter named by the error's key, or
    the field of the JSON body at that path (``transcript[0].role``)."""
    message, key = error.get("message"), error.get("key")
    if not (isinstance(message, str) and message.startswith(_ENUM_MESSAGE) and key):
        return error
    choices = _choices_of(request, str(key), _source(error.get("source")))
    if not choices:
        return error
    return {**error, "message": f"{message}; expected one of: {', '.join(map(repr, choices))}"}


def _choices_of(request: Request[Any, Any, Any], key: str, source: str) -> tuple[Any, ...]:
    signature = getattr(request.scope.get("route_handler"), "parsed_fn_signature", None)
    if signature is None:  # no handler (an error before routing): no choices to name
        return ()
    parameters = signature.parameters
    names = _KEY_PART.findall(key)
    if source == "body" and "data" in parameters:
        return _literal_at(parameters["data"].annotation, [n for n in names if not n.isdigit()])
    field = parameters.get(key)
    return _literal_at(field.annotation, []) if field is not None else ()


def _literal_at(annotation: Any, path: list[str]) -> tuple[Any, ...]:
    """The values of the ``Literal`` at ``path`` (field names; list items are stepped into)
    inside ``annotation``; empty when there is none."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _literal_at(annotation.__origin__, path)
    if origin is Literal:
        return get_args(annotation) if not path else ()
    if origin in (Union, types.UnionType, list, tuple, set, frozenset):
        for arg in get_args(annotation):
            if found := _literal_at(arg, path):
                return found
        return ()
    if path and isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        for field in msgspec.structs.fields(annotation):
            if field.encode_name == path[0]:
                return _literal_at(field.type, path[1:])
    return ()


def _framework_detail(request: Request[Any, Any, Any], exc: HTTPException) -> str:
    """Litestar's bare ``Not Found`` and ``Method Not Allowed`` (a route or method that does
    not exist) said what, not where to look; any other detail is kept."""
    detail = str(exc.detail)
    if detail != HTTPStatus(exc.status_code).phrase:
        return detail
    path = _instance(request)
    if exc.status_code == 404:
        return f"no route {path}; the routes are listed in /schema/openapi.json"
    if exc.status_code == 413:
        return _too_large(request)
    allowed = (exc.headers or {}).get("allow")
    if exc.status_code == 405 and allowed:
        method = request.scope.get("method", "this method")
        return f"{method} is not allowed on {path}; it takes {allowed}"
    return detail


def _too_large(request: Request[Any, Any, Any]) -> str:
    """413 with the limit the body went over (``CONTEXT_SERVICE_MAX_BODY_BYTES``, or a
    route's own, such as the webhooks' 1 MiB)."""
    resolve = getattr(request.scope.get("route_handler"), "resolve_request_max_body_size", None)
    try:
        limit = resolve() if callable(resolve) else None
    except Exception:  # no limit that can be named: say what happened
        limit = None
    if not isinstance(limit, int):
        return "the request body is too large"
    return f"the request body is larger than {limit:,} bytes, the most {_instance(request)} takes"


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    """Framework errors (404 route, 405 method...) as problem details."""
    response = problem(
        exc.status_code,
        _title(exc.status_code),
        _framework_detail(request, exc),
        instance=_instance(request),
    )
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """Anything else: log it, answer 500 without leaking internals."""
    log.exception("unhandled error on %s", _instance(request), exc_info=exc)
    return problem(
        500,
        "Internal error",
        "the server failed to answer; the error is logged",
        instance=_instance(request),
    )


def _title(status: int) -> str:
    titles = {
        400: "Bad request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not found",
        405: "Method not allowed",
        413: "Payload too large",
        415: "Unsupported media type",
        429: "Too many requests",
    }
    return titles.get(status, "Error")


class ApiRequest(Request[Any, Any, Any]):
    """The app's request class: a JSON body that cannot be decoded is the caller's error.

    Litestar turns malformed JSON into a 400 but lets two failures of its decoder through as
    500s: a body nested deeper than the decoder's recursion limit (``[[[[...``, a few KiB) and
    invalid UTF-8 inside a string. Both are 400 here.

    An object that names a key twice is a 400 too: the decoder keeps the last value, so
    ``{"email": a, "email": b}`` was answered for ``b`` while a proxy or log that read the
    first saw ``a`` (what ``params.strict_query`` refuses in a query string).

    Any other body the decoder refuses is a 400 saying what is wrong (``undecodable_detail``).
    """

    async def json(self) -> Any:
        """The decoded JSON body; 400 when it is nested too deeply, is not UTF-8, repeats a
        key in an object or is no JSON."""
        try:
            value = await super().json()
            if isinstance(value, dict | list):
                refuse_repeated_keys(await self.body())
        except SerializationException as exc:
            detail = undecodable_detail(await self.body(), str(exc.detail))
            raise ClientException(detail) from None
        except RecursionError:
            raise ClientException("the JSON body is nested too deeply") from None
        except UnicodeDecodeError:
            raise ClientException("the JSON body is not valid UTF-8") from None
        return value


_TRUNCATED = "Input data was truncated"  # msgspec's words, for a lone surrogate escape too


def undecodable_detail(body: bytes, message: str) -> str:
    """What is wrong with a JSON body the fast decoder refused (``message``, its words).

    Its words mislead for three bodies the standard library's parser reads: a lone UTF-16
    surrogate escape (``"\\ud800"``) is ``Input data was truncated`` although the body is whole,
    a number out of range (``1e400``) is ``Number out of range - at `$[...]``` naming no field,
    and ``NaN`` or ``Infinity`` is an ``invalid character``. Each is named here instead.
    """
    problems: list[str] = []
    try:
        value = json.loads(
            body,
            parse_constant=lambda name: problems.append(_not_a_number(name)),
            parse_float=lambda text: _checked_float(text, problems),
            parse_int=lambda text: _checked_int(text, problems),
        )
    except (ValueError, RecursionError):  # no JSON for this parser either
        if message == _TRUNCATED:
            return "the JSON body is malformed: it ends before its last value does (truncated)"
        return message
    if problems:
        return problems[0]
    surrogate = _lone_surrogate(value)
    if surrogate is not None:
        return (
            f"the JSON body holds the escape {surrogate}: half of a UTF-16 surrogate pair, which "
            "is no character; send the character itself (as UTF-8) or its complete pair"
        )
    return message


def _not_a_number(name: str) -> str:
    return f"{name} is not a JSON number; send a number, or null for none"


def _checked_float(text: str, problems: list[str]) -> float:
    number = float(text)
    if math.isinf(number):
        problems.append(f"the number {text[:40]} in the JSON body is out of range")
    return number


def _checked_int(text: str, problems: list[str]) -> int:
    try:
        return int(text)
    except ValueError:  # more digits than Python (and the fast decoder) reads
        problems.append(f"the number {text[:20]}... ({len(text)} digits) is out of range")
        return 0


def _lone_surrogate(value: Any) -> str | None:
    """The first lone surrogate in a decoded JSON value (its keys included), escaped."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            found = _SURROGATE.search(item)
            if found:
                return f"\\u{ord(found.group()):04x}"
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")


def refuse_repeated_keys(body: bytes) -> None:
    """Raise a 400 naming a key that an object of this (valid) JSON body repeats
    (``mcp_server.json_keys``, which the MCP envelope checks with too). Only a body with an
    object in it is parsed a second time."""
    if b"{" not in body:
        return
    found = repeated_key(body)
    if found is not None:
        raise ClientException(
            f"the JSON body gives the field {found.key[:64]!r} more than once; give each once"
        )


async def send_problem(
    send: Send,
    status: int,
    title: str,
    detail: str,
    instance: str,
    headers: dict[str, str] | None = None,
) -> None:
    """Send a problem-details response straight to the ASGI server, for code that answers
    before litestar's request handling (and its exception handlers) can."""
    body = problem_body(status, title, detail, instance=instance)
    raw = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def utf8_query(app: ASGIApp) -> ASGIApp:
    """App middleware for raw bytes a client should have percent-encoded in the query string:
    UTF-8 ones are percent-encoded here (litestar reads a raw query as latin-1, so a raw
    ``müller`` was looked up as ``mÃ¼ller``); anything else is a 400, answered here because
    litestar cannot even build the request's URL for it."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        query: bytes = scope.get("query_string", b"")
        if not query.isascii():
            try:
                query.decode("utf-8")
            except UnicodeDecodeError:
                detail = "the query string is not valid UTF-8; percent-encode it"
                await send_problem(send, 400, "Bad request", detail, request_path(scope))
                return
            scope = {**scope, "query_string": percent_encoded(query)}  # type: ignore[assignment]
        await app(scope, receive, send)

    return middleware


def percent_encoded(query: bytes) -> bytes:
    """``query`` with every byte outside ASCII percent-encoded (what the client should have
    sent); ASCII, percent-encodings included, is left as it is."""
    return b"".join(b"%%%02X" % byte if byte >= 0x80 else bytes((byte,)) for byte in query)


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    ContextServiceError: service_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    Exception: unexpected_error,
}
