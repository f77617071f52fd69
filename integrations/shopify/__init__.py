"""Shopify: the connector (GraphQL Admin API sync, REST-shaped webhooks) and the mapper."""

from integrations.shopify.connector import ShopifyConnector
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
    "ShopifyConnector",
    "map_customer",
    "map_customer_deletion",
    "map_deletion",
    "map_fulfillment",
    "map_order",
    "map_record",
    "map_refund",
]
