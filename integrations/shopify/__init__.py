"""Shopify: map REST Admin / webhook payloads to canonical records."""

from integrations.shopify.mapping import (
    KINDS,
    PERSON_KIND,
    SOURCE,
    map_customer,
    map_customer_deletion,
    map_deletion,
    map_fulfillment,
    map_order,
    map_record,
    map_refund,
)

__all__ = [
    "KINDS",
    "PERSON_KIND",
    "SOURCE",
    "map_customer",
    "map_customer_deletion",
    "map_deletion",
    "map_fulfillment",
    "map_order",
    "map_record",
    "map_refund",
]
