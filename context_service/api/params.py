"""Query strings hold only the parameters a route declares, each at most once.

Litestar ignores a query parameter its handler does not declare and, for one given twice, keeps
the last. So ``/v1/context?email=a@x&email=b@y`` answered for ``b@y`` (a proxy or log that read
the first saw another customer), and a misspelt ``audiance=chatbot`` silently returned the full
snapshot instead of the chatbot's masked one. ``strict_query``, a ``before_request`` hook of the
key-protected routes (it runs after the key guard, so only a caller with a key learns about
parameters), answers 400 for both, naming the parameter, as ``POST /v1/context/lookup`` does
for an unknown field. Litestar runs no ``before_request`` hook for an ASGI mount (``/mcp``), so
``strict_asgi_query`` wraps the mounted app in the same check; the OpenAPI router (``/schema``)
takes the hook like the others.

``whole_number`` reads a path parameter that is a number (``POST /v1/review/{item_id}``) as
strictly as msgspec reads a query integer: Python's ``int()`` behind litestar's ``:int``
converter took ``1_0`` for 10 and an Arabic-Indic one (U+0661), `` 1``, ``+1`` or ``01`` for
1, so a path that named no item decided one.

``valid_host``, an app middleware, answers 400 for a ``Host`` header whose port is no port
(``x:abc``, ``x:99999``): litestar cannot build such a request's URL, and a route that reads
it (the widget link, the HubSpot signature check) would fail with a 500. So does one that holds
more than a host and port (``127.0.0.1:8000@evil.example``, whose link would lead to
evil.example while reading as the service's own address).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from litestar import Request
from litestar.constants import RESERVED_KWARGS, SKIP_VALIDATION_NAMES
from litestar.enums import ParamType, ScopeType
from litestar.handlers.base import BaseRouteHandler
from litestar.params import BodyKwarg, DependencyKwarg, ParameterKwarg, PathParameter
from litestar.types import ASGIApp, Receive, Scope, Send

from context_service.api.problems import send_problem
from context_service.errors import ContextServiceError


class InvalidQuery(ContextServiceError):
    """The query string names a parameter the route does not take, or one twice."""

    status_code = 400
    title = "Invalid request"


class InvalidParameter(ContextServiceError):
    """A path parameter is not of the form the route takes."""

    status_code = 400
    title = "Invalid request"


# ASCII digits only (``[0-9]``, not ``\d``, which takes every script's digits), no sign, space
# or underscore, and no leading zero: the form msgspec takes for an integer in a query string.
_WHOLE_NUMBER = re.compile(r"0|[1-9][0-9]*")


def whole_number(text: str, name: str, low: int, high: int) -> int:
    """The path parameter ``name`` (``text``, as routed) as a whole number from ``low`` to
    ``high``; ``InvalidParameter`` (400, worded like litestar's own parameter errors) for
    anything else."""
    if not _whole(text):
        raise _invalid(
            name,
            "expected a whole number in ASCII digits (no sign, space, underscore or leading zero)",
        )
    # More digits than ``high`` (no leading zero) is larger: no need to convert a long string.
    value = int(text) if len(text) <= len(str(high)) else high + 1
    if value < low:
        raise _invalid(name, f"expected a whole number at least {low}")
    if value > high:
        raise _invalid(name, f"expected a whole number at most {high}")
    return value


def _invalid(name: str, message: str) -> InvalidParameter:
    return InvalidParameter(
        f"invalid request: {name} (path): {message}",
        errors=[{"key": name, "source": "path", "message": message}],
    )


def declared_query(handler: BaseRouteHandler, path_params: set[str]) -> frozenset[str]:
    """The query parameter names ``handler`` reads (aliases included)."""
    dependencies = handler.resolve_dependencies()
    names = set()
    for name, field in handler.parsed_fn_signature.parameters.items():
        kwarg = field.kwarg_definition
        if name in RESERVED_KWARGS or name in SKIP_VALIDATION_NAMES:
            continue  # ``request``, ``data``, an ASGI handler's ``scope``, ``receive``, ``send``
        if name in dependencies or name in path_params:
            continue
        if isinstance(kwarg, (BodyKwarg, DependencyKwarg, PathParameter)):
            continue
        if isinstance(kwarg, ParameterKwarg):
            if kwarg.param_type is not ParamType.QUERY:
                continue  # a header or a cookie
            names.add(kwarg.query or name)
        else:
            names.add(name)
    return frozenset(names)


def numeric_query(handler: BaseRouteHandler, declared: frozenset[str]) -> frozenset[str]:
    """Those of the query parameters ``handler`` reads (``declared``: ``declared_query``)
    that it reads as whole numbers (``limit``, ``max_tokens``): msgspec reads ``1e3`` and
    ``300.0`` in a query string as integers, so ``strict_query`` holds them to
    ``whole_number``'s form first."""
    names = set()
    for name, field in handler.parsed_fn_signature.parameters.items():
        kwarg = field.kwarg_definition
        query_name = kwarg.query if isinstance(kwarg, ParameterKwarg) and kwarg.query else name
        if query_name not in declared:
            continue
        types = (
            [t.annotation for t in field.inner_types] if field.is_optional else [field.annotation]
        )
        if int in types:
            names.add(query_name)
    return frozenset(names)


_DECLARED: dict[tuple[BaseRouteHandler, frozenset[str]], tuple[frozenset[str], frozenset[str]]] = {}


async def strict_query(request: Request[Any, Any, Any]) -> None:
    """400 for an undeclared or repeated query parameter (see the module doc)."""
    query = request.query_params
    if not query:
        return
    handler, path_params = request.route_handler, frozenset(request.path_params)
    known = _DECLARED.get((handler, path_params))
    if known is None:  # a handler's signature is fixed: read it once
        declared = declared_query(handler, set(path_params))
        known = _DECLARED[(handler, path_params)] = (declared, numeric_query(handler, declared))
    declared, numeric = known
    unknown = sorted(name for name in query if name not in declared)
    if unknown:
        allowed = ", ".join(sorted(declared)) or "none"
        raise InvalidQuery(
            f"unknown query parameter {_names(unknown)}; this route takes: {allowed}",
            errors=[
                {"key": name[:64], "source": "query", "message": "unknown"} for name in unknown[:10]
            ],
        )
    repeated = sorted(name for name in query if len(query.getall(name)) > 1)
    if repeated:
        raise InvalidQuery(
            f"query parameter {_names(repeated)} given more than once; give each once",
            errors=[
                {"key": name[:64], "source": "query", "message": "repeated"}
                for name in repeated[:10]
            ],
        )
    malformed = sorted(name for name in numeric & set(query) if not _whole(query[name]))
    if malformed:
        raise InvalidQuery(
            f"query parameter {_names(malformed)} is not a whole number in ASCII digits "
            "(no sign, space, underscore, leading zero, exponent or decimal point)",
            errors=[
                {"key": name, "source": "query", "message": "expected a whole number"}
                for name in malformed
            ],
        )


def _whole(text: str) -> bool:
    return _WHOLE_NUMBER.fullmatch(text) is not None


def strict_asgi_query(app: Callable[[Any, Any, Any], Awaitable[None]]) -> ASGIApp:
    """``app`` (mounted by an ASGI route handler; any ASGI callable, Starlette's included)
    behind ``strict_query``.

    The handler's own parameters are ``scope``, ``receive`` and ``send``, so every query
    parameter is unknown: 400 before ``app`` sees the request. The route's guards have run by
    then, as for the hook.
    """

    async def checked(scope: Scope, receive: Receive, send: Send) -> None:
        await strict_query(Request(scope, receive))
        await app(scope, receive, send)

    return checked


# A host name or IPv4 address, or an IPv6 address in brackets, then an optional port: no
# user or password (``127.0.0.1:8000@evil.example`` is evil.example), path, space or percent.
_HOST = re.compile(r"(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]*)?")


@lru_cache(maxsize=256)
def host_is_valid(host: bytes) -> bool:
    """Whether this ``Host`` header is a host and optional port alone, on which litestar can
    build a URL (its port, if any, is one)."""
    text = host.decode("latin-1")
    if not _HOST.fullmatch(text):
        return False
    try:
        urlsplit("//" + text).port  # noqa: B018 (parsing is the check)
    except ValueError:
        return False
    return True


def valid_host(app: ASGIApp) -> ASGIApp:
    """App middleware: 400 for a ``Host`` header litestar cannot read (see the module doc)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        for name, value in scope.get("headers", ()) if scope["type"] == ScopeType.HTTP else ():
            if name == b"host" and not host_is_valid(value):
                detail = "the Host header is not a host with an optional port (1 to 65535)"
                await send_problem(send, 400, "Bad request", detail, scope.get("path", ""))
                return
        await app(scope, receive, send)

    return middleware


def _names(names: list[str]) -> str:
    shown = ", ".join(repr(n[:64]) for n in names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")
