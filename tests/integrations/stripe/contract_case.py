"""The Stripe fake, set up for the connector contract suite."""

from __future__ import annotations

from typing import Any

from tests.integrations.contract import Case
from tests.integrations.stripe.fake import FakeStripe


def make_case() -> Case:
    fake = FakeStripe()
    fake.add_customers(5)

    def keys() -> set[tuple[str, str]]:
        return {(kind, obj["id"]) for kind, items in fake.objects.items() for obj in items}

    def event(now: float) -> dict[str, Any]:
        customer = dict(fake.objects["customer"][0], email="new.address@example.com")
        return {
            "id": "evt_contract_1",
            "object": "event",
            "type": "customer.updated",
            "created": int(now),
            "data": {"object": customer},
        }

    return Case(
        source="stripe",
        fake=fake,
        connector=lambda client: fake.connector(client, page_size=2),
        expected_keys=keys,
        delivery=lambda now: fake.signed(event(now), t=int(now)),
        stale_delivery=lambda now: fake.signed(event(now), t=int(now) - 301),
        now=fake.now,
    )
