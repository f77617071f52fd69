"""The Shopify fake, set up for the connector contract suite."""

from __future__ import annotations

import time

from tests.integrations.contract import Case
from tests.integrations.shopify.fake import FakeShopify


def make_case() -> Case:
    fake = FakeShopify()
    fake.add_customers(7)
    fake.add_orders(6)

    def keys() -> set[tuple[str, str]]:
        return {("customer", str(i)) for i in fake.customers} | {
            ("order", str(i)) for i in fake.orders
        }

    body = {
        "id": 7_000_000_001,
        "email": "new.address@example.com",
        "first_name": "Ann",
        "last_name": "Lee",
        "updated_at": "2026-03-01T00:00:00Z",
    }
    return Case(
        source="shopify",
        fake=fake,
        connector=lambda client: fake.connector(client, page_size=3),
        expected_keys=keys,
        delivery=lambda now: fake.signed("customers/update", body, triggered_at=now - 5),
        stale_delivery=lambda now: fake.signed(
            "customers/update", body, triggered_at=now - 49 * 3600
        ),
        now=time.time,
    )
