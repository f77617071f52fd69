"""``/v1/keys``: list, create and revoke scoped API keys over HTTP (``admin``).

The CLI (``context-service keys``) does the same; a created key is in the answer once and is
never readable again.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter

from context_service.api.auth import limited_principal
from context_service.audience.policy import AUDIENCES, FIELDS, FULL
from context_service.errors import ContextServiceError
from context_service.store import Store
from context_service.sync import utc_now
from context_service.trust import (
    ADMIN,
    KeySpec,
    Known,
    Trust,
    create_key,
    list_keys,
    revoke_key,
)
from context_service.trust.keys import InvalidKey, KeyInfo, NewKey

KNOWN = Known(audiences=frozenset({*AUDIENCES, FULL}), fields=FIELDS)
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]  # trust.keys checks the rest


class KeyBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A key to create: its name, scopes and optional limits."""

    name: Name
    scopes: Annotated[list[Annotated[str, msgspec.Meta(max_length=32)]], msgspec.Meta(max_length=8)]
    audiences: Annotated[list[str], msgspec.Meta(max_length=8)] | None = None
    hide: Annotated[list[str], msgspec.Meta(max_length=64)] = []
    trusted_backend: bool = False
    rate_per_minute: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] | None = None


class KeyNotFound(ContextServiceError):
    """No live key has this name."""

    status_code = 404
    title = "Key not found"


class KeyList(msgspec.Struct):
    """Every key (never the keys themselves)."""

    keys: list[KeyInfo]


@get("/v1/keys", sync_to_thread=False, summary="List API keys", opt={"scope": ADMIN})
def get_keys(store: NamedDependency[Store]) -> KeyList:
    """Name, scopes, limits, created, last used and revoked of every stored key."""
    return KeyList(list_keys(store.conn))


@post(
    "/v1/keys",
    sync_to_thread=True,
    status_code=201,
    summary="Create an API key",
    opt={"scope": ADMIN},
)
def post_key(
    request: Request[Any, Any, Any], store: NamedDependency[Store], data: JSONBody[KeyBody]
) -> NewKey:
    """Create a key; the answer holds it once (only its hash is stored). 400 for an unknown
    scope, audience or field, a name in use, or a name other than 1 to 64 letters, digits,
    ``.``, ``_`` or ``-`` (or one starting ``bootstrap-``). 403 when a stored key, or a
    bootstrap key the field-policy file limits, asks for a key allowed more than itself:
    another scope or audience, a field it hides shown, trusted backend, or a higher rate limit
    (the server's default being the limit of a key without one). An unlimited bootstrap key
    may create any key. An empty
    ``audiences`` (a key that may read no audience) is a 400 too: leave it out for every
    audience."""
    refuse_no_audience(data)
    spec = msgspec.convert(msgspec.to_builtins(data), KeySpec)
    trust: Trust = request.app.state.trust
    return create_key(
        store,
        spec,
        utc_now(),
        KNOWN,
        caller=limited_principal(request),
        default_rate=trust.limiter.default,
    )


def refuse_no_audience(body: KeyBody) -> None:
    """``InvalidKey`` (400) for ``"audiences": []``: such a key could read no context at all,
    while a missing ``audiences`` means every audience."""
    if body.audiences is not None and not body.audiences:
        choices = ", ".join(sorted(KNOWN.audiences))
        raise InvalidKey(
            "audiences is empty: a key limited to no audience can read nothing; name at least "
            f"one of {choices}, or leave audiences out for every audience"
        )


@delete(
    "/v1/keys/{name:str}",
    sync_to_thread=True,
    status_code=200,
    summary="Revoke an API key",
    opt={"scope": ADMIN},
)
def delete_key(
    request: Request[Any, Any, Any],
    store: NamedDependency[Store],
    name: Annotated[str, PathParameter(min_length=1, max_length=64)],
) -> dict[str, str]:
    """Revoke the key at once; 404 when no live key has this name, 403 when a key limited to
    some audiences or hiding fields (its own limits or, a bootstrap key's too, the field-policy
    file's) asks to revoke a key that reads more than itself (another audience, a field it
    hides shown)."""
    trust: Trust = request.app.state.trust
    caller, rate = limited_principal(request), trust.limiter.default
    if not revoke_key(store, name, utc_now(), caller=caller, default_rate=rate):
        raise KeyNotFound(f"no live key named {name!r}")
    return {"revoked": name}


ROUTES = [get_keys, post_key, delete_key]
