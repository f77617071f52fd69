"""An activity stored after a vendor merge that still names the merged-away record.

Shopify's ``customers/merge`` (fed here as the deletion notice it becomes, ``merged_into`` the
kept customer) moves the merged-away customer's orders to the kept one
(``activities.transfer_owner``). An order stored later that names the merged-away customer (a
page read before the merge, a late webhook) must go to the kept one too: indexed as its own,
shown on its profile, found by the order's id, and left there by ``resolve --all``; whatever
order the order and the merge arrive in, in one batch or several.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from context_service.models import RecordKey, Snapshot
from context_service.snapshot.lookup import by_source_id
from context_service.store import Store
from context_service.store.activities import survivors_of
from context_service.sync import IngestContext, RawPayload, ingest_batch
from context_service.sync.rebuild import resolve_all
from tests.payloads import shopify_customer, shopify_order

LATER = "2026-06-01T00:00:00Z"
KEPT, GONE, FIRST = "1", "2", "3"


def _customer(external_id: str) -> RecordKey:
    return RecordKey("shopify", "customer", external_id)


def _merge(gone: str, kept: str, at: str = LATER) -> RawPayload:
    """Shopify merged customer ``gone`` into customer ``kept``."""
    return RawPayload(
        "shopify", "customer", {"id": gone}, observed_at=at, deleted=True, merged_into=kept
    )


def _customers() -> list[RawPayload]:
    """Three customers no rule links (different emails, names and no phone)."""
    return [
        RawPayload(*shopify_customer(1, "ann.lee@example.com", "Ann", "Lee")),
        RawPayload(*shopify_customer(2, "bo.kim@example.net", "Bo", "Kim")),
        RawPayload(*shopify_customer(3, "cy.ng@example.org", "Cy", "Ng")),
    ]


def _order(oid: int, customer: str) -> RawPayload:
    return RawPayload(*shopify_order(oid, int(customer), f"#{oid}", "2026-05-01T00:00:00Z"))


def _owners(store: Store, order: str) -> list[str]:
    rows = store.conn.execute(
        "SELECT a.owner_external_id FROM activities a JOIN records r ON r.id = a.record_id "
        "WHERE r.source = 'shopify' AND r.kind = 'order' AND r.external_id = ?",
        (order,),
    ).fetchall()
    return [str(owner) for (owner,) in rows]


def _shown(store: Store, source_id: str) -> tuple[str, list[str]]:
    """The profile a look-up by this Shopify id finds and the order ids its stored snapshot
    shows."""
    stored = by_source_id(store.conn, "shopify", source_id)
    snapshot = msgspec.json.decode(stored.json, type=Snapshot)
    return stored.profile_id, sorted(o.external_id or "" for o in snapshot.commerce.orders)


def test_an_order_stored_after_the_merge_goes_to_the_kept_customer(
    store: Store, ctx: IngestContext
) -> None:
    ingest_batch(store, [*_customers(), _order(55, GONE)], ctx)
    ingest_batch(store, [_merge(GONE, KEPT)], ctx)
    ingest_batch(store, [_order(56, GONE)], ctx)  # read before the merge, stored after it
    assert _owners(store, "55") == _owners(store, "56") == [KEPT]
    shown = _shown(store, KEPT)
    assert shown[1] == ["55", "56"]
    assert _shown(store, "56") == _shown(store, GONE) == shown
    resolve_all(store, ctx)
    assert _shown(store, KEPT) == _shown(store, "56") == shown
    assert _owners(store, "56") == [KEPT]


def test_a_later_copy_naming_the_merged_away_customer_stays_with_the_kept_one(
    store: Store, ctx: IngestContext
) -> None:
    ingest_batch(store, [*_customers(), _order(55, GONE)], ctx)
    ingest_batch(store, [_merge(GONE, KEPT)], ctx)
    later = RawPayload(*shopify_order(55, int(GONE), "#55", "2026-05-01T00:00:00Z"))
    later.payload["updated_at"] = "2026-07-01T00:00:00Z"
    later.payload["financial_status"] = "refunded"
    assert ingest_batch(store, [later], ctx).updated == 1
    assert _owners(store, "55") == [KEPT]
    assert _shown(store, KEPT)[1] == ["55"]


def test_chained_merges_are_followed_to_the_last_survivor(store: Store, ctx: IngestContext) -> None:
    ingest_batch(store, _customers(), ctx)
    ingest_batch(store, [_merge(FIRST, GONE)], ctx)
    ingest_batch(store, [_merge(GONE, KEPT, "2026-06-02T00:00:00Z")], ctx)
    ingest_batch(store, [_order(57, FIRST)], ctx)
    assert _owners(store, "57") == [KEPT]
    assert _shown(store, KEPT)[1] == ["57"]
    found = survivors_of(store.conn, [_customer(FIRST), _customer(GONE), _customer(KEPT)])
    assert found == {_customer(FIRST): _customer(KEPT), _customer(GONE): _customer(KEPT)}


def _index(store: Store) -> list[tuple[str, str]]:
    rows = store.conn.execute(
        "SELECT a.owner_external_id, r.external_id FROM activities a "
        "JOIN records r ON r.id = a.record_id ORDER BY 1, 2"
    ).fetchall()
    return [(str(owner), str(order)) for owner, order in rows]


def test_any_order_of_arrival_in_one_batch_or_several_ends_the_same(
    tmp_path: Path, ctx: IngestContext
) -> None:
    arrivals = {
        "merge first, apart": [[_merge(GONE, KEPT)], [_order(56, GONE)]],
        "order first, apart": [[_order(56, GONE)], [_merge(GONE, KEPT)]],
        "merge first, together": [[_merge(GONE, KEPT), _order(56, GONE)]],
        "order first, together": [[_order(56, GONE), _merge(GONE, KEPT)]],
    }
    ends = {}
    for n, (name, batches) in enumerate(arrivals.items()):
        store = Store(tmp_path / f"{n}.db")
        try:
            ingest_batch(store, _customers(), ctx)
            for batch in batches:
                ingest_batch(store, batch, ctx)
            ends[name] = (tuple(_index(store)), tuple(_shown(store, KEPT)[1]))
        finally:
            store.close()
    assert set(ends.values()) == {(((KEPT, "56"),), ("56",))}, ends
