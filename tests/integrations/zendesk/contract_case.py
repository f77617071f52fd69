"""The Zendesk fake, set up for the connector contract suite.

The delivery is a thin ``user.identity_changed`` event carrying only the user's id; applying it
refetches the user, whose email the fake has just changed to ``new.address@example.com``.
"""

from __future__ import annotations

from tests.integrations.contract import Case
from tests.integrations.zendesk.fake import FakeZendesk

USER_ID = 384001


def make_case() -> Case:
    fake = FakeZendesk()
    fake.populate(organizations=3, users=4, tickets=3)

    def keys() -> set[tuple[str, str]]:
        stores = {"organization": fake.organizations, "user": fake.users, "ticket": fake.tickets}
        return {(kind, str(ident)) for kind, objects in stores.items() for ident in objects}

    def delivery(now: float, age: float = 0) -> tuple[dict[str, str], bytes]:
        fake.update("user", USER_ID, email="new.address@example.com")
        event = fake.event("user.identity_changed", USER_ID, at=now - 1)
        return fake.signed(event, at=now - age, invocation_id="inv-contract-1")

    return Case(
        source="zendesk",
        fake=fake,
        connector=lambda client: fake.connector(client, page_size=2),
        expected_keys=keys,
        delivery=delivery,
        stale_delivery=lambda now: delivery(now, age=301),
        now=fake.now,
    )
