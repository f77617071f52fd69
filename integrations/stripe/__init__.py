"""Stripe: map API objects and webhook ``data.object`` payloads to canonical records."""

from integrations.stripe.mapping import (
    KINDS,
    LINK_METADATA,
    PERSON_KIND,
    SOURCE,
    map_charge,
    map_customer,
    map_dispute,
    map_invoice,
    map_record,
    map_subscription,
)

__all__ = [
    "KINDS",
    "LINK_METADATA",
    "PERSON_KIND",
    "SOURCE",
    "map_charge",
    "map_customer",
    "map_dispute",
    "map_invoice",
    "map_record",
    "map_subscription",
]
