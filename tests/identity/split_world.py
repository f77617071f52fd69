"""A split that merges a profile away, shared by the identity and the API tests.

A person merged two Christopher Desais who share nothing: the son's Shopify record and his
father's HubSpot contact (born 1958). The son's own HubSpot contact (born 1991) links to his
Shopify record by their mailbox but its date of birth conflicts with the father's, so it gets a
profile of its own. Splitting the father off lets it join the son again: its profile is merged
away in the split.
"""

from __future__ import annotations

from context_service.identity.decisions import merge_profiles
from context_service.models import RecordKey
from context_service.store import Store
from tests.conftest import Ingest
from tests.identity_helpers import pid, write
from tests.payloads import hubspot_contact, shopify_customer

NOW = "2026-03-01T00:00:00Z"
CHRIS = RecordKey("shopify", "customer", "1")
FATHER = RecordKey("hubspot", "contact", "2")
CHRIS_CRM = RecordKey("hubspot", "contact", "3")


def desai_held_together(store: Store, ingest: Ingest) -> tuple[str, str]:
    """The son and his father merged by a person; the son's HubSpot contact alone.
    Returns (the merged profile, the son's HubSpot contact's profile)."""
    ingest(shopify_customer(1, "desai.family@example.com", "Christopher", "Desai"))
    ingest(
        hubspot_contact(
            "2", "c.desai@work.example", "Christopher", "Desai", date_of_birth="1958-04-02"
        )
    )
    write(store, merge_profiles, [pid(store, CHRIS), pid(store, FATHER)], "t", NOW, "US")
    ingest(
        hubspot_contact(
            "3", "desai.family@example.com", "Christopher", "Desai", date_of_birth="1991-09-14"
        )
    )
    merged, alone = pid(store, CHRIS), pid(store, CHRIS_CRM)
    assert pid(store, FATHER) == merged != alone
    return merged, alone
