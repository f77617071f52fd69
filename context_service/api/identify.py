"""Who is this? One function from the identifiers a caller gave to one stored snapshot.

``find(store, region, ids)`` is shared by ``GET /v1/context``, ``POST /v1/context/lookup`` and
``POST /v1/escalations``. It accepts exactly one strong identifier today (email, phone,
profile id, or a vendor id); partial identity (name, order number, ticket id...) is meant to be
added here, as more optional fields of ``Identifiers``, without touching its callers.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from context_service.errors import InvalidIdentifier
from context_service.snapshot import lookup
from context_service.store import Store
from context_service.store.snapshots import StoredSnapshot

MAX_VALUE = 320
Value = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_VALUE)]


class Identifiers(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The ways a caller can name a customer. Give exactly one (``source`` with ``external_id``)."""

    email: Value | None = None
    phone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    profile_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    source: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    external_id: Value | None = None


class Found(msgspec.Struct):
    """The snapshot found, how it was found, and the vendor id the caller asked about."""

    stored: StoredSnapshot
    matched_by: str
    confidence: str
    focus: str | None = None


def find(store: Store, region: str, ids: Identifiers) -> Found:
    """The one customer these identifiers name; 400, 404 or 409 (with candidates) otherwise."""
    given = [n for n in ("email", "phone", "profile_id") if getattr(ids, n) is not None]
    pair = ids.source is not None or ids.external_id is not None
    if len(given) + int(pair) != 1:
        raise InvalidIdentifier(
            "give exactly one identifier: email, phone, profile_id, or source with external_id"
        )
    conn = store.conn
    if ids.email is not None:
        return Found(lookup.by_email(conn, ids.email), "email", "high")
    if ids.phone is not None:
        return Found(lookup.by_phone(conn, ids.phone, region), "phone", "high")
    if ids.profile_id is not None:
        return Found(lookup.by_profile_id(conn, ids.profile_id), "profile_id", "high")
    if not ids.source or not ids.external_id:
        raise InvalidIdentifier("source and external_id must be given together")
    stored = lookup.by_source_id(conn, ids.source, ids.external_id)
    return Found(stored, f"{ids.source} id", "high", focus=ids.external_id)
