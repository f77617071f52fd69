"""API-key authentication: ``Authorization: Bearer <key>`` on everything but ``/health``.

Keys are compared as SHA-256 digests with ``hmac.compare_digest`` against every configured key,
so timing reveals neither which key nor how much of it matched.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from context_service.errors import AuthenticationFailed

OPEN_PATHS = frozenset({"/health"})


class ApiKeys:
    """The set of accepted keys, held only as digests."""

    def __init__(self, keys: Iterable[str]) -> None:
        self._digests = [hashlib.sha256(k.encode()).digest() for k in keys if k]

    def accepts(self, presented: str) -> bool:
        """Whether a presented key is one of the configured keys (constant time per key)."""
        digest = hashlib.sha256(presented.encode()).digest()
        matched = False
        for known in self._digests:
            matched |= hmac.compare_digest(digest, known)
        return matched


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header, if well formed."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def require_api_key(connection: ASGIConnection, _: BaseRouteHandler) -> None:  # type: ignore[type-arg]
    """Litestar guard: reject the request with 401 unless it carries a valid key."""
    keys: ApiKeys = connection.app.state.api_keys
    token = bearer_token(connection.headers.get("authorization"))
    if token is None:
        raise AuthenticationFailed("missing API key: send 'Authorization: Bearer <key>'")
    if not keys.accepts(token):
        raise AuthenticationFailed("invalid API key")
