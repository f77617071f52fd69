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


def _scored(store: Store, **details: str) -> dict[str, tuple[float, dict[str, str]]]:
    found = search(store.conn, PartialIdentity(**details), load_model(store.conn), "US")
    return {c.profile_id: (c.probability, c.evidence) for c in found}


def test_a_surname_initial_agrees_with_the_surname_it_starts(store: Store, ingest: Ingest) -> None:
    ingest(shopify_customer(1, "maya.patel@example.com", "Maya", "Patel"))
    maya = _profile(store, "1")
    full = _scored(store, email="maya.patel@example.com", name="Maya Patel")[maya]
    first = _scored(store, email="maya.patel@example.com", name="Maya")[maya]
    initial = _scored(store, email="maya.patel@example.com", name="Maya P.")[maya]
    wrong = _scored(store, email="maya.patel@example.com", name="Maya Q")[maya]
    assert initial[1]["last_name"] == "initial"
    assert initial[0] == first[0]  # an initial adds nothing over the first name alone
    assert full[0] > initial[0]
    assert wrong[1]["last_name"] == "different"
    assert wrong[0] < first[0]


def test_a_single_word_is_read_as_a_surname_too(store: Store, ingest: Ingest) -> None:
    ingest(shopify_customer(1, "maya.patel@example.com", "Maya", "Patel"))
    maya = _profile(store, "1")
    surname = _scored(store, email="maya.patel@example.com", name="Patel")[maya]
    first = _scored(store, email="maya.patel@example.com", name="Maya")[maya]
    other = _scored(store, email="maya.patel@example.com", name="Anna")[maya]
    assert surname[1]["last_name"] == "exact"
    assert "first_name" not in surname[1]
    assert first[1]["first_name"] == "exact"
    assert "last_name" not in first[1]
    assert "different" in other[1].values()
    assert other[0] < first[0]
    assert other[0] < surname[0]
