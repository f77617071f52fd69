"""The HubSpot fake, set up for the connector contract suite."""

from __future__ import annotations

from typing import Any

from tests.integrations.contract import Case
from tests.integrations.hubspot.fake import START, FakeHubSpot

HOOK_URL = "https://example.test/hook"  # the URL the contract suite verifies deliveries at
DAY_AGO_MS = int(START * 1000) - 86_400_000


def populate(fake: FakeHubSpot, contacts: int = 5) -> list[str]:
    """Owners, companies, contacts and deals with associations; returns the contact ids.

    Every record is modified a minute after the previous one, starting a day before the clock.
    """
    minute = iter(range(DAY_AGO_MS, DAY_AGO_MS + 10_000 * 60_000, 60_000))
    for n, (first, last) in enumerate([("Sam", "Rivera"), ("Ana", "Ito"), ("Lee", "Park")]):
        fake.add_owner(
            str(41629779 + n), next(minute), f"{first.lower()}@ourshop.example", first, last
        )
    companies = [
        fake.add("companies", next(minute), name=name, domain=domain, industry="RETAIL")["id"]
        for name, domain in [
            ("Northwind", "northwind.example"),
            ("Globex", "globex.example"),
            ("Initech", "initech.example"),
        ]
    ]
    people = []
    for k in range(contacts):
        contact = fake.add(
            "contacts",
            next(minute),
            email=f"person{k}@example.com",
            firstname=f"Person{k}",
            lastname="Example",
            lifecyclestage="customer",
            hubspot_owner_id="41629779",
        )
        fake.associate("contacts", contact["id"], "companies", companies[k % len(companies)])
        people.append(contact["id"])
    stages = [("default", "closedwon", "true"), ("default", "appointmentscheduled", "false")]
    stages += [("75400221", "118832947", "true"), ("default", "closedlost", "true")]
    for k, (pipeline, stage, closed) in enumerate(stages):
        deal = fake.add(
            "deals",
            next(minute),
            dealname=f"Deal {k}",
            pipeline=pipeline,
            dealstage=stage,
            amount=str(1000 * (k + 1)),
            hs_is_closed=closed,
            hs_is_closed_won=str(stage == "closedwon").lower(),
        )
        fake.associate("deals", deal["id"], "contacts", people[k % len(people)])
        fake.associate("deals", deal["id"], "companies", companies[k % len(companies)])
    return people


def make_case() -> Case:
    fake = FakeHubSpot()
    people = populate(fake)

    def events(now: float) -> list[dict[str, Any]]:
        when = int(now * 1000)
        fake.touch("contacts", people[0], when - 1000, email="new.address@example.com")
        return [
            {
                "eventId": 4_001_001,
                "subscriptionId": 2_001,
                "portalId": 4_242_424,
                "appId": 1_001,
                "occurredAt": when - 1000,
                "subscriptionType": "contact.propertyChange",
                "attemptNumber": 0,
                "objectId": int(people[0]),
                "changeSource": "CRM_UI",
                "propertyName": "email",
                "propertyValue": "new.address@example.com",
            }
        ]

    return Case(
        source="hubspot",
        fake=fake,
        connector=lambda client: fake.connector(client, page_size=2),
        expected_keys=fake.keys,
        delivery=lambda now: fake.signed(events(now), HOOK_URL, timestamp_ms=int(now * 1000)),
        stale_delivery=lambda now: fake.signed(
            events(now), HOOK_URL, timestamp_ms=int(now * 1000) - 301_000
        ),
        now=fake.now,
    )
