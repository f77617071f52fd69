"""Looking a customer up by name finds the nickname and the formal name both ways."""

from __future__ import annotations

from context_service.identity.search import PartialIdentity, search
from context_service.identity.state import load_model
from context_service.store import Store
from tests.conftest import Ingest
from tests.payloads import shopify_customer


def _found(store: Store, name: str) -> set[str]:
    query = PartialIdentity(name=name)
    return {c.profile_id for c in search(store.conn, query, load_model(store.conn), "US")}


def _profile(store: Store, external_id: str) -> str:
    row = store.conn.execute(
        "SELECT m.profile_id FROM records r JOIN profile_members m ON m.record_id = r.id "
        "WHERE r.external_id = ?",
        (external_id,),
    ).fetchone()
    return str(row[0])


def test_a_nickname_finds_the_formal_name_and_back(store: Store, ingest: Ingest) -> None:
    ingest(
        shopify_customer(1, "s.harrison@example.com", "Samuel", "Harrison"),
        shopify_customer(2, "sam.okafor@example.com", "Sam", "Okafor"),
        shopify_customer(3, "ann.lee@example.com", "Ann", "Lee"),
    )
    samuel, sam, ann = (_profile(store, str(i)) for i in (1, 2, 3))
    assert samuel in _found(store, "Sam Harrison")  # the customer says Sam
    assert sam in _found(store, "Samantha Okafor")  # the record says Sam
    assert sam in _found(store, "Samuel Okafor")
    assert ann not in _found(store, "Sam Harrison")
