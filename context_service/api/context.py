"""``GET /v1/context``: the snapshot of one customer, as JSON or text."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter

from context_service.errors import InvalidIdentifier
from context_service.snapshot import lookup
from context_service.store import Store
from context_service.store.snapshots import StoredSnapshot

Format = Literal["json", "text"]
_MAX_PARAM = 320


def _find(
    store: Store,
    region: str,
    email: str | None,
    phone: str | None,
    profile_id: str | None,
    source: str | None,
    external_id: str | None,
) -> StoredSnapshot:
    given = [
        name
        for name, value in (("email", email), ("phone", phone), ("profile_id", profile_id))
        if value is not None
    ]
    pair = source is not None or external_id is not None
    if len(given) + int(pair) != 1:
        raise InvalidIdentifier(
            "give exactly one identifier: email, phone, profile_id, or source with external_id"
        )
    conn = store.conn
    if email is not None:
        return lookup.by_email(conn, email)
    if phone is not None:
        return lookup.by_phone(conn, phone, region)
    if profile_id is not None:
        return lookup.by_profile_id(conn, profile_id)
    if not source or not external_id:
        raise InvalidIdentifier("source and external_id must be given together")
    return lookup.by_source_id(conn, source, external_id)


def render(stored: StoredSnapshot, fmt: Format) -> Response[bytes]:
    """The stored snapshot in the requested format, with its version in the headers."""
    headers = {
        "ETag": f'"{stored.profile_id}.{stored.version}"',
        "X-Profile-Id": stored.profile_id,
        "X-Profile-Version": str(stored.version),
    }
    if fmt == "text":
        return Response(
            stored.text.encode(), media_type="text/plain; charset=utf-8", headers=headers
        )
    return Response(stored.json, media_type="application/json", headers=headers)


@get("/v1/context", sync_to_thread=False, summary="Customer context snapshot")
def get_context(
    request: Request,  # type: ignore[type-arg]
    store: NamedDependency[Store],
    email: Annotated[str | None, QueryParameter(max_length=_MAX_PARAM)] = None,
    phone: Annotated[str | None, QueryParameter(max_length=64)] = None,
    profile_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
    source: Annotated[str | None, QueryParameter(max_length=64)] = None,
    external_id: Annotated[str | None, QueryParameter(max_length=_MAX_PARAM)] = None,
    format: FromQuery[Format] = "json",
) -> Response[bytes]:
    """Look a customer up by exactly one identifier and return their snapshot.

    Identifiers: ``email``, ``phone`` (any common format), ``profile_id`` (aliases of merged
    profiles resolve), or ``source`` with ``external_id`` (a customer, order, invoice or ticket
    id in that system). 404 when nobody matches, 409 with candidates when several do.
    """
    region: str = request.app.state.settings.default_region
    stored = _find(store, region, email, phone, profile_id, source, external_id)
    return render(stored, format)
