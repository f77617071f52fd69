"""The hot path of ``GET /v1/context``: the stored snapshot row, without litestar's handler
machinery.

Most context requests name one customer by one identifier and take the default rendering (no
``audience``, ``max_tokens`` or ``summary``; ``format`` json or text), whose answer is the
pre-encoded snapshot row. Litestar's parameter parsing, signature model, dependency injection
and response object cost several times that lookup, so ``StoredContext``, a middleware on that
one route (it runs after routing), answers such a request itself, with the same checks in the
same order as the key guard and the handler:

1. the API key and the route's declared scope, then the rate limit (``auth.authorize``: 401,
   403, 429), exactly as the guard ``require_api_key`` does;
2. the field policy (``FieldPolicy.view(FULL, key)``: 403 for a key limited to other
   audiences, before the lookup, so that the answer says nothing about who exists);
3. the lookup (``identify.find``: 400, 404, 409 with the candidates, 20 at most);
4. the read audit (``Trust.record``), then the row with ``ETag``, ``X-Profile-Id``,
   ``X-Profile-Version`` and ``X-Matched-By`` (``Cache-Control: no-store`` is the app's
   ``http_rules.never_stored``).

Errors are raised, so litestar's exception handlers write the same problem details as on the
full path. Anything else goes down the full path unchanged: another parameter, a repeated or
blank one, a value over its length limit (the full path answers 400), another format, another
method, or a route with any guard besides the key guard. ``tests/api/test_context_fast.py``
compares the two paths' answers.
"""

from __future__ import annotations

import hashlib
from typing import Any, cast
from urllib.parse import parse_qsl

from litestar.types import ASGIApp, HTTPScope, Receive, Scope, Send

from context_service.api.auth import (
    authorize,
    bearer_token,
    require_api_key,
    single_authorization,
)
from context_service.api.identify import Found, Identifiers, find, thresholds_of
from context_service.audience import FieldPolicy
from context_service.audience.policy import FULL
from context_service.store import Store
from context_service.trust import Principal, Read, Trust
from context_service.trust.chatbot import read_mode
from context_service.trust.scopes import route_scope

MAX_PARAM = 320  # email and external_id
MAX_SHORT_PARAM = 64  # phone, profile_id and source
# The parameters the stored row answers, and the longest value the full path accepts for each.
LIMITS: dict[str, int] = {
    "email": MAX_PARAM,
    "phone": MAX_SHORT_PARAM,
    "profile_id": MAX_SHORT_PARAM,
    "source": MAX_SHORT_PARAM,
    "external_id": MAX_PARAM,
    "format": 4,
}
_MAX_REMEMBERED = 4096
_MEDIA = {"json": b"application/json", "text": b"text/plain; charset=utf-8"}


def query_pairs(query: bytes) -> list[tuple[str, str]]:
    """The query string's pairs exactly as litestar reads them (latin-1, ``parse_qsl`` keeping
    blank values), splitting by hand when there is nothing to unquote."""
    text = query.decode("latin-1")
    if "%" in text or "+" in text:
        return parse_qsl(text, keep_blank_values=True, separator="&")
    pairs = []
    for part in text.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((name, value))
    return pairs


def stored_form(query: bytes) -> tuple[dict[str, str], str] | None:
    """The identifiers and format of a request the stored row answers, or ``None``."""
    params: dict[str, str] = {}
    for name, value in query_pairs(query):
        limit = LIMITS.get(name)
        if limit is None or not value or len(value) > limit or name in params:
            return None
        params[name] = value
    fmt = params.pop("format", "json")
    return (params, fmt) if fmt in _MEDIA else None


class _Bound:
    """What the fast path needs from one app, looked up once."""

    def __init__(self, app: Any, handler: Any) -> None:
        state = app.state
        settings = state.settings
        self.app = app
        self.handler = handler
        self.enabled = handler.resolve_guards() == [require_api_key]
        self.scope = route_scope(handler.opt)
        self.trust: Trust = state.trust
        self.policy: FieldPolicy = state.field_policy
        self.store: Store = state.store
        self.region: str = settings.default_region
        self.thresholds = thresholds_of(settings)
        # Principals the field policy lets see the full row. A principal holds its key's own
        # limits and names one key (whose policy-file grant never changes while the app runs),
        # so the answer holds for as long as the keyring hands out an equal principal.
        self.full_allowed: set[Principal] = set()

    def allow_full(self, principal: Principal, token: str | None) -> None:
        """Raise 403 unless this key may see the full snapshot (``FieldPolicy.view``)."""
        if principal in self.full_allowed:
            return
        policy = self.policy
        policy.view(FULL, token if policy.restricts_keys() else None)
        if len(self.full_allowed) >= _MAX_REMEMBERED:
            self.full_allowed.clear()
        self.full_allowed.add(principal)


class StoredContext:
    """Litestar middleware of ``GET /v1/context``: the stored row, fast (see the module doc)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._bound: _Bound | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        bound = self._bind(scope)
        wanted = stored_form(scope["query_string"]) if bound.enabled else None
        if wanted is None or cast("HTTPScope", scope)["method"] != "GET":
            await self.app(scope, receive, send)
            return
        params, fmt = wanted
        trust = bound.trust
        token = bearer_token(single_authorization(scope["headers"]))  # two keys: 400
        principal = authorize(trust, token, bound.scope)
        bound.allow_full(principal, token)  # before the lookup, so 403 says nothing of who exists
        found = find(bound.store, bound.region, Identifiers(**params), bound.thresholds)
        stored = found.stored
        mode = read_mode(principal, None)  # as ``context.respond`` records the stored row
        trust.record(Read(principal.name, stored.profile_id, FULL, True, "context", mode))
        body = stored.json if fmt == "json" else stored.text.encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": _headers(found, fmt, body),
            }
        )
        await send({"type": "http.response.body", "body": body, "more_body": False})

    def _bind(self, scope: Scope) -> _Bound:
        bound = self._bound
        if bound is None or bound.app is not scope["app"]:
            bound = self._bound = _Bound(scope["app"], scope["route_handler"])
        return bound


def entity_tag(profile_id: str, version: int, rendering: str) -> str:
    """The ``ETag`` of an answer: the profile, its snapshot's version and which rendering of
    it the body is (``json`` or ``text`` for the stored forms, a digest of the body for an
    audience's), so that no two representations share a tag (RFC 9110 8.8.1: a strong
    validator changes whenever the representation does)."""
    return f'"{profile_id}.{version}.{rendering}"'


def body_digest(body: bytes) -> str:
    """A short digest of ``body``, the rendering part of an audience answer's ``ETag``."""
    return hashlib.blake2b(body, digest_size=8).hexdigest()


def _headers(found: Found, fmt: str, body: bytes) -> list[tuple[bytes, bytes]]:
    """The headers ``context.render`` and ``context._matched`` set, in litestar's encoding."""
    stored = found.stored
    profile_id = stored.profile_id.encode("latin-1")
    version = str(stored.version).encode("latin-1")
    headers = [
        (b"etag", entity_tag(stored.profile_id, stored.version, fmt).encode("latin-1")),
        (b"x-profile-id", profile_id),
        (b"x-profile-version", version),
        (b"x-matched-by", found.matched_by.encode("latin-1")),
    ]
    if found.probability is not None:
        headers.append((b"x-match-probability", f"{found.probability:.4f}".encode("latin-1")))
    headers += [
        (b"content-type", _MEDIA[fmt]),
        (b"content-length", str(len(body)).encode("latin-1")),
    ]
    return headers
