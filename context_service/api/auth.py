"""Authentication and scopes: ``Authorization: Bearer <key>`` on everything but ``/health``.

Every protected route declares the one scope it needs where it is defined
(``opt={"scope": CONTEXT_READ}``, see ``context_service.trust.scopes``). The guard
``require_api_key``:

1. finds the key (a bootstrap key from ``CONTEXT_SERVICE_API_KEYS``, compared as SHA-256
   digests with ``hmac.compare_digest``, or a stored scoped key) or answers 401; a request
   with two ``Authorization`` headers is a 400 (``single_authorization``): the first won, while
   a gateway or log that read the last saw another caller;
2. refuses (403) a route that declares no scope: a new route is closed until it says what it
   needs;
3. answers 403 when the key lacks the route's scope, and 429 with ``Retry-After`` when the key
   is over its rate limit;
4. leaves the ``Principal`` in ``request.state.principal`` for the handler.

Open routes (``/health``), vendor webhooks (signed bodies) and ``/widget`` (signed links) are
not behind this guard.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException
from litestar.handlers.base import BaseRouteHandler

from context_service.api.problems import http_error, service_error
from context_service.audience.policy import FieldPolicy, KeyGrant, combine, fingerprint
from context_service.errors import AuthenticationFailed, ContextServiceError
from context_service.trust import AUTHENTICATED, Principal, Trust
from context_service.trust.keys import Bootstrap
from context_service.trust.scopes import route_scope


class Forbidden(ContextServiceError):
    """The key is valid but may not call this route."""

    status_code = 403
    title = "Forbidden"


class TwoKeys(ContextServiceError):
    """The request names more than one key."""

    status_code = 400
    title = "Bad request"


class ApiKeys(Bootstrap):
    """The bootstrap keys (kept for callers that only ask whether a key is one of them)."""

    def accepts(self, presented: str) -> bool:
        """Whether a presented key is one of the configured keys (constant time per key)."""
        return self.match(presented) is not None


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header, if well formed."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def single_authorization(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The ``Authorization`` header of an ASGI scope's raw ``headers`` (latin-1, as litestar
    decodes it), or ``None``; ``TwoKeys`` (400) when the request has more than one."""
    found = [value for name, value in headers if name.lower() == b"authorization"]
    if len(found) > 1:
        raise TwoKeys(
            f"the request has {len(found)} Authorization headers; send one: "
            "'Authorization: Bearer <key>'"
        )
    return found[0].decode("latin-1") if found else None


def authorize(trust: Trust, token: str | None, scope: str | None) -> Principal:
    """The caller allowed ``scope``; raises 401, 403 or 429 otherwise."""
    if token is None:
        raise AuthenticationFailed("missing API key: send 'Authorization: Bearer <key>'")
    principal = trust.keyring.principal(token)
    if principal is None:
        raise AuthenticationFailed(_unknown_key_detail(token), invalid_token=True)
    if scope is None:
        raise Forbidden("this route declares no scope, so no key may call it")
    if scope != AUTHENTICATED and scope not in principal.scopes:
        raise Forbidden(f"this API key lacks the scope '{scope}'", required_scope=scope)
    # A stored key's bucket is its id: a name is reused after a revoke, and one made before
    # names were checked could read ``bootstrap-1``.
    trust.limiter.take(principal.key_id or principal.name, principal.rate_per_minute)
    return principal


def _unknown_key_detail(token: str) -> str:
    """Why no key matched: a key has no space or comma, so one that does is two values (two
    headers joined by a proxy or client: ``Bearer a, Bearer b``)."""
    if "," in token or any(c.isspace() for c in token):
        return (
            "invalid API key: the Authorization header holds more than one value; send one "
            "header with one key: 'Authorization: Bearer <key>'"
        )
    return "invalid or revoked API key"


async def require_api_key(connection: ASGIConnection, handler: BaseRouteHandler) -> None:  # type: ignore[type-arg]
    """Litestar guard: a valid key holding the scope the route declares (see module doc)."""
    trust: Trust = connection.app.state.trust
    token = bearer_token(single_authorization(connection.scope["headers"]))
    scope = route_scope(handler.opt)
    if scope is None and getattr(handler, "http_methods", None) == {"OPTIONS"}:
        scope = AUTHENTICATED  # litestar's own OPTIONS answer: the route's methods, no data
    principal = authorize(trust, token, scope)
    connection.state.principal = principal
    if principal.key_id is not None:  # a named, scoped key: who decided, in identity audits
        connection.state.caller = principal.name


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The principal the guard found for this request."""
    found: Principal = connection.state.principal
    return found


def limited_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The principal with the limits the field-policy file grants its key as well (audiences
    both allow, fields either hides; masked or no contacts hide emails and phones): what an
    admin route must honour, since the operator may limit a key in the file rather than when
    creating it (a bootstrap key too)."""
    principal = principal_of(connection)
    policy: FieldPolicy | None = connection.app.state.get("field_policy")
    if policy is None or not policy.grants:
        return principal
    token = bearer_token(single_authorization(connection.scope["headers"]))
    from_file = policy.grants.get(fingerprint(token)) if token else None
    if from_file is None:
        return principal
    own = KeyGrant(
        audiences=None if principal.audiences is None else list(principal.audiences),
        hide=list(principal.hide),
    )
    grant = combine(from_file, own)
    assert grant is not None
    hide = set(grant.hide)
    if from_file.contact is not None and from_file.contact != "full":
        hide |= {"identity.emails", "identity.phones"}
    audiences = None if grant.audiences is None else tuple(grant.audiences)
    return msgspec.structs.replace(principal, audiences=audiences, hide=tuple(sorted(hide)))


def key_grant(trust: Trust, presented: str) -> KeyGrant | None:
    """A stored key's audience and field limits as a field-policy grant (None: no limits)."""
    found = trust.keyring.peek(presented)
    if found is None or not found.limited():
        return None
    audiences = None if found.audiences is None else list(found.audiences)
    return KeyGrant(audiences=audiences, hide=list(found.hide))


# Routes a caller reaches without an API key: their 405 may say which methods they take.
PUBLIC_PATHS = ("/health", "/widget", "/v1/webhooks/")


def method_not_allowed(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    """A 405 (with ``Allow``) only for a caller with a valid key, except on the public routes:
    litestar routes a request before any guard runs, so without this a wrong method told
    anyone which protected routes exist and what they take. Without a valid key the answer is
    the 401 (or 429) the route's guard would give."""
    path = request.scope.get("path", "")
    if not path.startswith(PUBLIC_PATHS):
        trust: Trust = request.app.state.trust
        try:
            token = bearer_token(single_authorization(request.scope["headers"]))
            authorize(trust, token, AUTHENTICATED)
        except ContextServiceError as refused:
            return service_error(request, refused)
    return http_error(request, exc)
