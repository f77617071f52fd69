"""Zendesk Support: map users, organizations and tickets to canonical records."""

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
    "map_organization",
    "map_record",
    "map_ticket",
    "map_user",
]
