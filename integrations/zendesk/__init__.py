"""Zendesk Support: the connector (exports, webhooks) and the mapping to canonical records."""

from integrations.zendesk.connector import ZendeskConnector
from integrations.zendesk.mapping import (
    KINDS,
    PERSON_KIND,
    SOURCE,
    map_organization,
    map_record,
    map_ticket,
    map_user,
)

__all__ = [
    "KINDS",
    "PERSON_KIND",
    "SOURCE",
    "ZendeskConnector",
    "map_organization",
    "map_record",
    "map_ticket",
    "map_user",
]
