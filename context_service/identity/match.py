"""The identifiers a person-like record is looked up by (``identifiers`` table).

Emails, phones and cross-system references are indexed for lookups (``GET /v1/context?email=``);
generic mailboxes (``info@``), placeholder values and unparseable identifiers are indexed as weak,
so a lookup finds every profile that uses them. Which records link is decided elsewhere
(``pairs.py``).
"""

from __future__ import annotations

from context_service.identity.features import xref_value
from context_service.identity.normalize import (
    is_merge_email,
    is_merge_phone,
    normalize_email,
    normalize_phone,
)
from context_service.models import PersonFacet, RecordKey
from context_service.store.identifiers import Identifier


def person_identifiers(key: RecordKey, facet: PersonFacet, region: str) -> set[Identifier]:
    """Every identifier a person-like record offers, each marked strong (merge key) or weak."""
    found: set[Identifier] = set()
    for raw in facet.emails:
        email = normalize_email(raw)
        if email:
            found.add(Identifier("email", email, is_merge_email(email)))
    for raw in facet.phones:
        phone = normalize_phone(raw, region)
        if phone:
            found.add(Identifier("phone", phone, is_merge_phone(phone)))
    for link in facet.links:
        if link != key:
            found.add(Identifier("xref", xref_value(link)))
    return found
