"""Vendor merges that carry contradicting decisions: ``apart`` wins, whatever the order.

Shopify merged customers 2 and 3 into customer 1 in one batch. A person had split contact 7
off customer 2 (``apart``) and merged it with customer 3 (``together``). Both decisions now
concern customer 1 and contradict each other; the safe one, ``apart``, must bind, not whichever
merge happened to be processed first (a false merge shows one customer's orders to another).
"""

from __future__ import annotations

import pytest

from context_service.identity.carry import carry_all
from context_service.identity.decisions import merge_profiles, split_profile
from context_service.models import RecordKey
from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, ingest_batch
from tests.conftest import Ingest
from tests.identity_helpers import pid, rid, write
from tests.payloads import hubspot_contact, shopify_customer

NOW = "2026-03-01T00:00:00Z"
LATER = "2026-06-01T00:00:00Z"
KEPT = RecordKey("shopify", "customer", "1")
APART = RecordKey("shopify", "customer", "2")
TOGETHER = RecordKey("shopify", "customer", "3")
OTHER = RecordKey("hubspot", "contact", "7")
ORDERS = pytest.mark.parametrize("first", ["2", "3"], ids=["apart-first", "together-first"])


def _decisions(store: Store) -> dict[tuple[int, int], str]:
    rows = store.conn.execute("SELECT a, b, decision FROM identity_decisions")
    return {(int(a), int(b)): str(d) for a, b, d in rows}


def _contradicting_people(store: Store, ingest: Ingest) -> None:
    ingest(shopify_customer(2, "ann.other@example.net", "Ann", "Lee"))
    ingest(hubspot_contact("7", "ann.other@example.net", "Ann", "Lee"))
    write(store, split_profile, pid(store, APART), [OTHER], "tester", NOW, "US")
    ingest(shopify_customer(3, "annie@elsewhere.example", "Annie", "Lee"))
    write(store, merge_profiles, [pid(store, TOGETHER), pid(store, OTHER)], "tester", NOW, "US")
    ingest(shopify_customer(1, "ann.lee@example.com", "Ann", "Lee"))
    assert pid(store, OTHER) == pid(store, TOGETHER) != pid(store, KEPT)
    assert pid(store, OTHER) != pid(store, APART)


def _expected(store: Store) -> dict[tuple[int, int], str]:
    kept, other = rid(store, KEPT), rid(store, OTHER)
    return {(min(kept, other), max(kept, other)): "apart"}


@ORDERS
def test_carrying_a_batch_keeps_apart_over_together_in_either_order(
    store: Store, ingest: Ingest, first: str
) -> None:
    _contradicting_people(store, ingest)
    kept, apart, together = rid(store, KEPT), rid(store, APART), rid(store, TOGETHER)
    merges = [(apart, kept), (together, kept)]
    if first == "3":
        merges.reverse()
    with store.transaction() as conn:
        taken = carry_all(conn, merges)
    assert _decisions(store) == _expected(store)
    assert taken == {kept: 1}


def test_a_chain_of_merges_in_one_batch_ends_in_the_last_survivor(
    store: Store, ingest: Ingest
) -> None:
    """3 merged into 2 and 2 into 1 in one batch: both decisions reach 1, and apart wins."""
    _contradicting_people(store, ingest)
    kept, apart, together = rid(store, KEPT), rid(store, APART), rid(store, TOGETHER)
    with store.transaction() as conn:
        taken = carry_all(conn, [(together, apart), (apart, kept)])
    assert _decisions(store) == _expected(store)
    assert taken == {kept: 1}


def _merged_into_1(external_id: str) -> RawPayload:
    return RawPayload(
        "shopify", "customer", {"id": external_id}, LATER, deleted=True, merged_into="1"
    )


@pytest.mark.parametrize(
    "first",
    [
        pytest.param("2", id="apart-first"),
        pytest.param("3", id="together-first"),
    ],
)
def test_one_batch_of_vendor_merges_keeps_the_contact_apart_in_either_order(
    store: Store, ingest: Ingest, ctx: IngestContext, first: str
) -> None:
    _contradicting_people(store, ingest)
    second = "3" if first == "2" else "2"
    ingest_batch(store, [_merged_into_1(first), _merged_into_1(second)], ctx)
    assert _decisions(store) == _expected(store)
    assert pid(store, OTHER) != pid(store, KEPT)
