"""HubSpot CRM v3: the connector (streams, webhooks) and the mapping of CRM objects to records."""

from integrations.hubspot._portal import ACCOUNT_DETAILS_PATH, PORTAL_SETTING, portal_text
from integrations.hubspot.connector import HubSpotConnector
from integrations.hubspot.mapping import (
    KINDS,
    PERSON_KIND,
    PROPERTIES,
    SOURCE,
    map_company,
    map_contact,
    map_deal,
    map_owner,
    map_record,
)

__all__ = [
    "ACCOUNT_DETAILS_PATH",
    "KINDS",
    "PERSON_KIND",
    "PORTAL_SETTING",
    "PROPERTIES",
    "SOURCE",
    "HubSpotConnector",
    "map_company",
    "map_contact",
    "map_deal",
    "map_owner",
    "map_record",
    "portal_text",
]
