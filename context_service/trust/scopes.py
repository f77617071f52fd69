"""API-key scopes: what a key may do. Every protected route declares exactly one.

A route declares its scope where it is defined, ``opt={"scope": CONTEXT_READ}``; the guard in
``api/auth.py`` refuses (403) a route that declares none, so a route added without thought is
closed, not open. Scopes do not imply each other: ``admin`` alone cannot read a context.

==================  ==========================================================================
``context:read``    ``GET /v1/context`` and the sidebar widget link (``POST /v1/widget/url``)
``context:lookup``  ``POST /v1/context/lookup`` and the tools (``/v1/tools/*``, ``/mcp``):
                    identifiers travel in a body, never in a URL or an access log
``escalations:write`` ``POST /v1/escalations`` and the ``create_escalation`` tool
``admin``           merge, split, review, keys, erase, export, read audit, sync status, metrics
==================  ==========================================================================
"""

from __future__ import annotations

from typing import Final

CONTEXT_READ: Final = "context:read"
CONTEXT_LOOKUP: Final = "context:lookup"
ESCALATIONS_WRITE: Final = "escalations:write"
ADMIN: Final = "admin"
SCOPES: tuple[str, ...] = (CONTEXT_READ, CONTEXT_LOOKUP, ESCALATIONS_WRITE, ADMIN)
# Declared by routes any valid key may call whatever its scopes (the OpenAPI schema).
AUTHENTICATED: Final = "authenticated"


def route_scope(opt: dict[str, object]) -> str | None:
    """The scope a route handler declares in its ``opt``, or ``None``."""
    scope = opt.get("scope")
    return scope if isinstance(scope, str) else None


def check_scopes(scopes: list[str]) -> list[str]:
    """``scopes`` validated and de-duplicated; raises ``ValueError`` naming an unknown one."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValueError(f"unknown scopes {unknown}; known: {', '.join(SCOPES)}")
    if not scopes:
        raise ValueError(f"give at least one scope of: {', '.join(SCOPES)}")
    return [s for s in SCOPES if s in scopes]
