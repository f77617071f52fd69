"""A split that merges a profile away, shared by the identity and the API tests.

Christopher's Zendesk user links to his Shopify record but conflicts with Robert, whom a person
had merged into Christopher's profile, so it gets a profile of its own. Splitting Robert off
lets it join Christopher again: its profile is merged away in the split.
"""

from __future__ import annotations

from context_service.identity.decisions import merge_profiles
from context_service.models import RecordKey
from context_service.store import Store
from tests.conftest import Ingest
from tests.identity_helpers import pid, write
from tests.payloads import hubspot_contact, shopify_customer, zendesk_user

NOW = "2026-03-01T00:00:00Z"
CHRIS = RecordKey("shopify", "customer", "1")
ROBERT = RecordKey("hubspot", "contact", "2")
CHRIS_ZD = RecordKey("zendesk", "user", "4")


def desai_held_together(store: Store, ingest: Ingest) -> tuple[str, str]:
    """Christopher and Robert merged by a person; Christopher's Zendesk user alone.
    Returns (the merged profile, the Zendesk user's profile)."""
    ingest(shopify_customer(1, "desai.family@example.com", "Christopher", "Desai"))
    ingest(hubspot_contact("2", "desai.family@example.com", "Robert", "Petrov"))
    write(store, merge_profiles, [pid(store, CHRIS), pid(store, ROBERT)], "t", NOW, "US")
    ingest(zendesk_user(4, "Christopher Desai", email="desai.family@example.com"))
    merged, alone = pid(store, CHRIS), pid(store, CHRIS_ZD)
    assert pid(store, ROBERT) == merged != alone
    return merged, alone
