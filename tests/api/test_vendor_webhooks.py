"""POST /v1/webhooks/hubspot and /v1/webhooks/zendesk through the app, with refetches answered
by each vendor's fake: a signed delivery changes the profile, a bad signature stores nothing."""

from __future__ import annotations

import time
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.snapshot import lookup
from context_service.store import Store
from tests.conftest import make_settings
from tests.integrations.hubspot.contract_case import populate
from tests.integrations.hubspot.fake import FakeHubSpot
from tests.integrations.zendesk.fake import FakeZendesk

BASE = "http://testserver.local"
NEW_EMAIL = "new.address@example.com"


def _hubspot_delivery(fake: FakeHubSpot, contact_id: str, now: float) -> tuple[Any, bytes]:
    when = int(now * 1000)
    fake.touch("contacts", contact_id, when - 1000, email=NEW_EMAIL)
    event = {
        "eventId": 9_001,
        "subscriptionId": 2_001,
        "portalId": 4_242_424,
        "appId": 1_001,
        "occurredAt": when - 1000,
        "subscriptionType": "contact.propertyChange",
        "attemptNumber": 0,
        "objectId": int(contact_id),
        "propertyName": "email",
        "propertyValue": NEW_EMAIL,
    }
    return fake.signed([event], f"{BASE}/v1/webhooks/hubspot", timestamp_ms=when)


def _zendesk_delivery(fake: FakeZendesk, now: float) -> tuple[Any, bytes]:
    user_id = next(iter(fake.users))
    fake.update("user", user_id, email=NEW_EMAIL)
    event = fake.event("user.identity_changed", user_id, at=now - 1)
    return fake.signed(event, at=now, invocation_id="inv-api-1")


def _client(store: Store, source: str, fake: Any) -> TestClient[Any]:
    connector = fake.connector()
    app = create_app(make_settings(store.path), store=store, connectors={source: connector})
    return TestClient(app=app, base_url=BASE)


@pytest.mark.parametrize("source", ["hubspot", "zendesk"])
def test_signed_delivery_updates_the_profile_and_a_tampered_one_stores_nothing(
    store: Store, source: str
) -> None:
    now = time.time()
    if source == "hubspot":
        hubspot = FakeHubSpot()
        contact = populate(hubspot, contacts=2)[0]
        fake: Any = hubspot
        headers, body = _hubspot_delivery(hubspot, contact, now)
    else:
        zendesk = FakeZendesk()
        zendesk.populate(organizations=1, users=2, tickets=1)
        fake = zendesk
        headers, body = _zendesk_delivery(zendesk, now)
    with _client(store, source, fake) as client:
        tampered = client.post(f"/v1/webhooks/{source}", content=body + b" ", headers=headers)
        assert tampered.status_code == 401
        assert store.conn.execute("SELECT count(*) FROM webhook_inbox").fetchone()[0] == 0

        accepted = client.post(f"/v1/webhooks/{source}", content=body, headers=headers)
        assert accepted.status_code in {200, 202}, accepted.text
        again = client.post(f"/v1/webhooks/{source}", content=body, headers=headers)
        assert again.status_code in {200, 202}
    statuses = store.conn.execute("SELECT status FROM webhook_inbox").fetchall()
    assert statuses == [("applied",)]
    stored = lookup.by_email(store.conn, NEW_EMAIL)
    assert NEW_EMAIL in stored.text
