"""A link that stands as it was keeps its row and the time it was decided, when a later record
joins the profile (the audit says when each link was decided, not when the profile last moved)."""

from __future__ import annotations

from context_service.store import Store
from tests.conftest import Ingest
from tests.payloads import hubspot_contact, shopify_customer, stripe_customer


def _links(store: Store) -> dict[tuple[int, int | None], tuple[int, str]]:
    rows = store.conn.execute(
        "SELECT record_id, other_record_id, id, decided_at FROM identity_links"
    )
    return {(int(r), None if o is None else int(o)): (int(i), str(at)) for r, o, i, at in rows}


def test_a_new_member_leaves_the_standing_links_alone(store: Store, ingest: Ingest) -> None:
    ingest(shopify_customer(1, "kenneth.katz@example.com", "Kenneth", "Katz"))
    ingest(hubspot_contact("5", "kenneth.katz@example.com", "Ken", "Katz"))
    before = _links(store)
    assert len(before) == 1  # the second record links to the first
    store.conn.execute("UPDATE identity_links SET decided_at = '2020-01-01T00:00:00Z'")
    kept = _links(store)

    ingest(stripe_customer("cus_9", "kenneth.katz@example.com", "Kenneth Katz"))

    after = _links(store)
    assert len(after) == 2
    assert {pair: after[pair] for pair in kept} == kept
    (new,) = set(after) - set(kept)
    assert after[new][1] != "2020-01-01T00:00:00Z"
    profiles = {p for (p,) in store.conn.execute("SELECT DISTINCT profile_id FROM identity_links")}
    assert len(profiles) == 1
