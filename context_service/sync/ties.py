"""Two copies of one record dated the same second: ask the vendor which is current.

Vendors date objects to the second (Shopify's ``updatedAt``, Zendesk's ``updated_at``; HubSpot's
milliseconds are cut to seconds here; a Stripe backfill dates its pages by its start), so two
changes of one second arrive as two copies with one date, in any order: a webhook's and a sync
page's, or two webhooks'. Whichever came last would win. ``settle_ties`` replaces each copy that
ties with the stored one (``contested``: same time, other content, neither a deletion) by
the vendor's current copy, for the webhook applier and the sync runner alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from context_service.errors import MappingError
from context_service.models import Connector, RecordKey, VendorObject
from context_service.store import Store
from context_service.store.records import encode_mapped, payload_hash, stored_states
from context_service.sync.ingest import (
    IngestContext,
    Prepared,
    RawPayload,
    from_vendor,
    prepare,
    prepared_all,
)

Fetched = dict[tuple[str, str], VendorObject | None]  # (kind, external id) -> current copy


def settle_ties(
    store: Store,
    connector: Connector,
    items: list[RawPayload],
    ctx: IngestContext,
    fetched: Fetched | None = None,
    missed: list[tuple[str, str]] | None = None,
) -> list[Prepared]:
    """``items`` mapped (``prepare``: ``ingest_batch`` does not map them again), each one that
    ties with its stored copy replaced by the vendor's current copy; one the vendor no longer
    has is left out (its deletion arrives on its own) and added to ``missed``. Stripe sends
    ``invoice.finalized`` and ``invoice.paid`` of one second in either order: without this, a
    late ``finalized`` would reopen a paid invoice; and a sync page read just before a
    same-second change would overwrite the change's webhook.

    A tied item whose object the caller already refetched (``fetched``, a webhook's refetch)
    is not fetched again: the current copy is already in ``items``, after it, and wins the tie;
    the item is left out when that refetch found nothing. A kind the connector cannot look up
    (``MappingError``) keeps the last copy, as before such ties were settled."""
    fetched = {} if fetched is None else fetched
    missed = [] if missed is None else missed
    prepared = prepared_all(items, ctx)
    tied = contested(store.conn, prepared, ctx)
    settled: list[Prepared] = []
    for position, item in enumerate(prepared):
        key = tied.get(position)
        if key is None:
            settled.append(item)
        elif (item.item.kind, key.external_id) in fetched:
            if fetched[(item.item.kind, key.external_id)] is not None:
                settled.append(item)
        else:
            try:
                fresh = connector.fetch_one(item.item.kind, key.external_id)
            except MappingError:  # a kind the vendor has no look-up for: the last copy wins
                settled.append(item)
                continue
            if fresh is not None:
                settled.append(prepare(from_vendor(connector.source, fresh), ctx))
            else:
                missed.append((item.item.kind, key.external_id))
    return settled


def contested(
    conn: Any, items: Sequence[RawPayload | Prepared], ctx: IngestContext
) -> dict[int, RecordKey]:
    """The positions (and keys) of the items that tie with their stored copy: the same time,
    other content, neither one a deletion. Which of the two is newer cannot be told from them
    (a vendor that dates objects to the second sends two changes of one second in any order),
    so the caller asks the vendor for the current copy instead of letting the last delivery
    win. Copies that differ only where the mapping does not read (a webhook's refetch and a
    sync page can bring one object in two shapes) map alike: no tie, no call to the vendor.
    Items already ``prepare``d are not mapped again."""
    live = [
        (position, prepared)
        for position, prepared in enumerate(prepared_all(items, ctx))
        if prepared.mapped is not None
        and not prepared.mapped.deleted
        and prepared.mapped.updated_at is not None
    ]
    states = stored_states(conn, [prepared.key for _, prepared in live])
    tied: dict[int, RecordKey] = {}
    for position, prepared in live:
        state = states.get(prepared.key)
        if (
            state is not None
            and prepared.mapped is not None
            and not state.deleted
            and state.updated_at == prepared.mapped.updated_at
            and state.payload_hash != payload_hash(prepared.text)
            and state.mapped != encode_mapped(prepared.mapped)
        ):
            tied[position] = prepared.key
    return tied
