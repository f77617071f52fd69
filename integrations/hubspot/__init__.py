"""HubSpot CRM v3: map contacts, companies, deals and owners to canonical records."""

from integrations.hubspot.mapping import (
    KINDS,
    PERSON_KIND,
    SOURCE,
    map_company,
    map_contact,
    map_deal,
    map_owner,
    map_record,
)

__all__ = [
    "KINDS",
    "PERSON_KIND",
    "SOURCE",
    "map_company",
    "map_contact",
    "map_deal",
    "map_owner",
    "map_record",
]
