"""Stripe: the connector (streams, webhooks) and the mapping of API objects to canonical records."""

from integrations.stripe.connector import StripeConnector
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
    "StripeConnector",
    "map_charge",
    "map_customer",
    "map_dispute",
    "map_invoice",
    "map_record",
    "map_subscription",
]
