"""Two copies of one record dated the same second: ask the vendor which is current.

Vendors date objects to the second (Shopify's ``updatedAt``, Zendesk's ``updated_at``; HubSpot's
milliseconds are cut to seconds here; a Stripe backfill dates its pages by its start), so two
changes of one second arrive as two copies with one date, in any order: a webhook's and a sync
page's, or two webhooks'. Whichever came last would win. ``settle_ties`` replaces each copy that
ties with the stored one (``contested``: same time, other content, neither a deletion) by
the vendor's current copy, for the webhook applier and the sync runner alike.

The check reads the stored copies before the batch is written, outside its transaction (the
vendor is not called with the write lock held), so another writer may commit a copy of the
same second in between: two webhook passes of one server each decided "no tie" on an empty
row, and the later write (``invoice.finalized``) reopened the paid invoice the other had stored.
``settle_ties`` notes what it read (``Seen``; the webhook applier adds its deletion notices'
records) and the writer checks it again in its transaction (``moved_since``): if a copy of the
same second was stored meanwhile, nothing is written and the batch is settled again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from context_service.errors import MappingError
from context_service.models import Connector, RecordKey, VendorObject
from context_service.store import Store
from context_service.store.records import StoredState, encode_mapped, payload_hash, stored_states
from context_service.sync.ingest import (
    IngestContext,
    Prepared,
    RawPayload,
    from_vendor,
    prepare,
    prepared_all,
)

Fetched = dict[tuple[str, str], VendorObject | None]  # (kind, external id) -> current copy
# What the tie check read of each record: the stored copy (its hash, date and deleted flag, or
# None), and the incoming copy's date and hash (no hash for a deletion notice).
Stored = tuple[str, str | None, int] | None
Seen = dict[RecordKey, tuple[Stored, str | None, str | None]]
SETTLE_ATTEMPTS = 3  # a batch whose records keep moving under it is left for a later pass


def settle_ties(
    store: Store,
    connector: Connector,
    items: list[RawPayload],
    ctx: IngestContext,
    fetched: Fetched | None = None,
    missed: list[tuple[str, str]] | None = None,
    seen: Seen | None = None,
    *,
    fetch_one: Callable[[str, str], VendorObject | None] | None = None,
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
    (``MappingError``) keeps the last copy, as before such ties were settled. ``seen`` is
    filled with the stored copies the check read, for ``moved_since``. ``fetch_one`` looks
    an object up in the connector's place (the sync runner's keeps its heartbeat meanwhile)."""
    look_up = connector.fetch_one if fetch_one is None else fetch_one
    fetched = {} if fetched is None else fetched
    missed = [] if missed is None else missed
    prepared = prepared_all(items, ctx)
    tied = contested(store.conn, prepared, ctx, seen)
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
                fresh = look_up(item.item.kind, key.external_id)
            except MappingError:  # a kind the vendor has no look-up for: the last copy wins
                settled.append(item)
                continue
            if fresh is not None:
                current = prepare(from_vendor(connector.source, fresh), ctx)
                settled.append(current)
                if seen is not None:
                    note_written(seen, current)
            else:
                missed.append((item.item.kind, key.external_id))
    return settled


def contested(
    conn: Any,
    items: Sequence[RawPayload | Prepared],
    ctx: IngestContext,
    seen: Seen | None = None,
) -> dict[int, RecordKey]:
    """The positions (and keys) of the items that tie with their stored copy: the same time,
    other content, neither one a deletion. Which of the two is newer cannot be told from them
    (a vendor that dates objects to the second sends two changes of one second in any order),
    so the caller asks the vendor for the current copy instead of letting the last delivery
    win. Copies that differ only where the mapping does not read (a webhook's refetch and a
    sync page can bring one object in two shapes) map alike: no tie, no call to the vendor.
    Items already ``prepare``d are not mapped again. ``seen``, when given, is filled with the
    stored copies read."""
    live = [
        (position, prepared)
        for position, prepared in enumerate(prepared_all(items, ctx))
        if prepared.mapped is not None
        and not prepared.mapped.deleted
        and prepared.mapped.updated_at is not None
    ]
    states = stored_states(conn, [prepared.key for _, prepared in live])
    if seen is not None:
        for _, prepared in live:
            at = prepared.mapped.updated_at if prepared.mapped else None
            seen[prepared.key] = (
                fingerprint(states.get(prepared.key)),
                at,
                payload_hash(prepared.text),
            )
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


def moved_since(conn: Any, seen: Seen) -> bool:
    """Whether another writer stored a copy since ``settle_ties`` read the store (``seen``)
    that ties with the incoming one: live, of its very date, other content. The batch's ties
    were then decided on an old view, so it must be settled again before it is written. A copy
    stored newer, older or deleted in between needs nothing: the usual rules (newest wins, a
    deletion wins its second) decide against it as they would have. Asked in the writer's
    transaction, where nothing can move any more."""
    if not seen:
        return False
    states = stored_states(conn, list(seen))
    for key, (before, at, digest) in seen.items():
        now = states.get(key)
        if now is None or now.deleted or fingerprint(now) == before:
            continue
        if at is not None and now.updated_at == at and now.payload_hash != digest:
            return True
    return False


def note_written(seen: Seen, item: Prepared) -> None:
    """Note in ``seen`` that ``item`` (the vendor's current copy, put in place of a tied one)
    is what will be written of its record: ``moved_since`` compares a copy stored meanwhile
    with its date, not the replaced copy's."""
    if item.mapped is None or item.mapped.deleted:
        return
    before = seen[item.key][0] if item.key in seen else None
    seen[item.key] = (before, item.mapped.updated_at, payload_hash(item.text))


def fingerprint(state: StoredState | None) -> Stored:
    """What ``moved_since`` compares of a stored copy: its hash, date and deleted flag."""
    return None if state is None else (state.payload_hash, state.updated_at, state.deleted)
