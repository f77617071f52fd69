"""People's decisions that contradict each other are refused, never silently dropped.

On a family mailbox, a nameless record accepted as Christopher's and then as Robert's (whose
name conflicts with Christopher's) cannot be both: re-clustering would keep one decision and
drop the other while the review queue reported both items as accepted.
"""

from __future__ import annotations

import pytest

from context_service.identity.audit import list_review
from context_service.identity.decisions import (
    DecisionConflict,
    ReviewItemNotFound,
    decide_review,
    merge_profiles,
)
from context_service.models import RecordKey
from context_service.store import Store
from context_service.store.profiles import profile_of_key
from tests.conftest import Ingest
from tests.payloads import hubspot_contact, shopify_customer, stripe_customer

NOW = "2026-03-01T00:00:00Z"
CHRIS = RecordKey("shopify", "customer", "1")
ROBERT = RecordKey("hubspot", "contact", "2")
NAMELESS = RecordKey("stripe", "customer", "cus_3")


def _family(ingest: Ingest) -> None:
    ingest(shopify_customer(1, "desai.family@example.com", "Christopher", "Desai"))
    ingest(hubspot_contact("2", "desai.family@example.com", "Robert", "Petrov"))
    ingest(stripe_customer("cus_3", "desai.family@example.com", None))


def _item(store: Store, first: str, second: str) -> int:
    items = list_review(store.conn).items
    return next(i.id for i in items if (i.a.external_id, i.b.external_id) == (first, second))


def _decide(store: Store, item_id: int, accept: bool) -> None:
    with store.transaction() as conn:
        decide_review(conn, item_id, accept, "tester", NOW, "US")


def _pid(store: Store, key: RecordKey) -> str | None:
    return profile_of_key(store.conn, key)


def _status(store: Store, item_id: int) -> str:
    for status in ("open", "accepted", "rejected"):
        if item_id in {i.id for i in list_review(store.conn, status=status).items}:
            return status
    return "gone"


def test_an_accept_that_cannot_bind_is_refused_and_the_item_stays_open(
    store: Store, ingest: Ingest
) -> None:
    _family(ingest)
    as_chris, as_robert = _item(store, "1", "cus_3"), _item(store, "2", "cus_3")
    _decide(store, as_chris, accept=True)
    assert _pid(store, NAMELESS) == _pid(store, CHRIS)

    with pytest.raises(DecisionConflict, match="cannot put hubspot:contact:2") as refused:
        _decide(store, as_robert, accept=True)

    assert refused.value.extra["records"][0] == {
        "source": "hubspot",
        "kind": "contact",
        "external_id": "2",
    }
    assert _status(store, as_robert) == "open"
    assert _status(store, as_chris) == "accepted"
    assert _pid(store, NAMELESS) == _pid(store, CHRIS) != _pid(store, ROBERT)
    decided = store.conn.execute("SELECT a, b, decision FROM identity_decisions").fetchall()
    assert len(decided) == 1


def test_an_accept_that_would_undo_an_earlier_accept_is_refused(
    store: Store, ingest: Ingest
) -> None:
    _family(ingest)
    as_chris, as_robert = _item(store, "1", "cus_3"), _item(store, "2", "cus_3")
    _decide(store, as_robert, accept=True)
    assert _pid(store, NAMELESS) == _pid(store, ROBERT)

    with pytest.raises(DecisionConflict, match="would undo an earlier decision"):
        _decide(store, as_chris, accept=True)

    assert _status(store, as_chris) == "open"
    assert _pid(store, NAMELESS) == _pid(store, ROBERT) != _pid(store, CHRIS)


def test_the_contradicting_item_can_still_be_rejected(store: Store, ingest: Ingest) -> None:
    _family(ingest)
    as_chris, as_robert = _item(store, "1", "cus_3"), _item(store, "2", "cus_3")
    _decide(store, as_chris, accept=True)

    _decide(store, as_robert, accept=False)

    assert _status(store, as_robert) == "rejected"
    assert _pid(store, NAMELESS) == _pid(store, CHRIS) != _pid(store, ROBERT)


def test_an_item_taken_off_the_queue_by_a_merge_says_so(store: Store, ingest: Ingest) -> None:
    _family(ingest)
    item_id = _item(store, "1", "2")
    chris, robert = _pid(store, CHRIS), _pid(store, ROBERT)
    assert chris is not None
    assert robert is not None
    with store.transaction() as conn:
        merge_profiles(conn, [chris, robert], "tester", NOW, "US")

    with pytest.raises(ReviewItemNotFound, match="no longer in the queue: its records"):
        _decide(store, item_id, accept=True)
    with pytest.raises(ReviewItemNotFound, match=r"^no review item 999$"):
        _decide(store, 999, accept=True)
