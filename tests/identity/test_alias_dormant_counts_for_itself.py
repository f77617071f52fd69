"""A merged-away id that went dormant (its records split evenly) still owns the records it
remembers as taken over: they are no own records of the profile it named when it slept.

Before, ``remembered_for`` looked at live aliases only: after merging Ann+Bo and Cy+Di and a
chain of splits, Cy's id ended up holding only Bo's and Di's HubSpot contacts (Di's record 203
counted as Cy's own once Di's id slept), serving Bo's name, while Cy's one record got a new id."""

from __future__ import annotations

from context_service.identity.decisions import merge_profiles, split_profile
from context_service.models import RecordKey
from context_service.store import Store
from context_service.store.profiles import canonical_id, members
from tests.conftest import Ingest
from tests.identity_helpers import pid, rid, write
from tests.payloads import hubspot_contact, shopify_customer

NOW = "2026-03-01T00:00:00Z"
PEOPLE = [
    ("ann.lee@example.com", "Ann", "Lee"),
    ("bo.diaz@example.net", "Bo", "Diaz"),
    ("cy.park@example.org", "Cy", "Park"),
    ("di.khan@example.com", "Di", "Khan"),
]


def _shop(i: int) -> RecordKey:
    return RecordKey("shopify", "customer", str(100 + i))


def _crm(i: int) -> RecordKey:
    return RecordKey("hubspot", "contact", str(200 + i))


def test_an_id_never_keeps_only_records_it_took_over_from_a_sleeping_id(
    store: Store, ingest: Ingest
) -> None:
    for i, (email, first, last) in enumerate(PEOPLE):
        ingest(shopify_customer(100 + i, email, first, last))
        ingest(hubspot_contact(str(200 + i), email, first, last))
    ann, bo, cy, di = (pid(store, _shop(i)) for i in range(4))
    write(store, merge_profiles, [ann, bo], "api", NOW, "US")
    write(store, merge_profiles, [cy, di], "api", NOW, "US")
    bos_crm = write(store, split_profile, ann, [_crm(1)], "api", NOW, "US").split_off[0]
    write(store, merge_profiles, [cy, bos_crm], "api", NOW, "US")
    write(store, split_profile, cy, [_shop(2), _crm(1), _crm(3)], "api", NOW, "US")
    assert canonical_id(store.conn, di) is None  # Di's records split evenly: it sleeps

    write(store, split_profile, cy, [_shop(2)], "api", NOW, "US")

    assert pid(store, _shop(2)) == cy
    assert members(store.conn, cy) == [rid(store, _shop(2))]
    assert pid(store, _crm(1)) == pid(store, _crm(3)) != cy
