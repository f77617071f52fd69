"""Webhook events of another HubSpot portal are refused, never applied.

A public app has one client secret and one webhook URL for every portal that installs it (the
production portal, a sandbox or developer test account, anyone's), and every event names its
portal (``portalId``, NOTES.md section 3, "Payload"). Object ids are only unique within a
portal (new portals number contacts alike), so a ``contact.privacyDeletion`` a tester fires in
the sandbox for its contact 1004 would erase our contact 1004 and suppress the person for good.
The portal is ``CONTEXT_SERVICE_HUBSPOT_PORTAL_ID``, else the access token's own portal, read
once from ``GET /account-info/v3/details`` (``{"portalId": ...}``).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.errors import ConfigurationError, WebhookRejected
from context_service.store import Store
from context_service.sync import IngestContext, apply_pending, receive, run_sync
from context_service.wiring import build_connectors
from tests.conftest import make_settings
from tests.integrations.hubspot.contract_case import populate
from tests.integrations.hubspot.fake import CLIENT_SECRET, PORTAL_ID, TOKEN, FakeHubSpot

BASE = "http://testserver.local"
URL = "https://context.example.com/v1/webhooks/hubspot"
SANDBOX = 7_777_777  # another portal the same public app is installed in
DETAILS = "/account-info/v3/details"


def event(subscription: str, object_id: str, at_ms: int, portal: Any = PORTAL_ID) -> dict[str, Any]:
    """One event as HubSpot's webhooks API sends it; ``portal`` ``None`` leaves ``portalId`` out."""
    sent = {
        "eventId": at_ms % 1_000_003,
        "subscriptionId": 2_001,
        "appId": 1_001,
        "occurredAt": at_ms,
        "subscriptionType": subscription,
        "attemptNumber": 0,
        "objectId": int(object_id),
        "changeSource": "CRM_UI",
    }
    return sent if portal is None else {**sent, "portalId": portal}


def contact_state(store: Store, contact_id: str) -> list[tuple[Any, ...]]:
    return store.conn.execute(
        "SELECT deleted FROM records WHERE source = 'hubspot' AND kind = 'contact' "
        "AND external_id = ?",
        (contact_id,),
    ).fetchall()


def inbox(store: Store) -> list[tuple[str, str | None]]:
    rows = store.conn.execute("SELECT status, error FROM webhook_inbox ORDER BY id").fetchall()
    return [(str(status), error) for status, error in rows]


def synced(store: Store, ctx: IngestContext) -> tuple[FakeHubSpot, list[str]]:
    fake = FakeHubSpot()
    people = populate(fake, contacts=2)
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    assert contact_state(store, people[0]) == [(0,)]
    return fake, people


def details_reads(fake: FakeHubSpot) -> int:
    return sum(request.url.path == DETAILS for request in fake.requests)


def test_a_privacy_deletion_from_another_portal_erases_nothing(
    store: Store, ctx: IngestContext
) -> None:
    """Through the app as configured (the portal learned from the token): the sandbox's event
    for its own contact with our contact's id is refused."""
    fake, people = synced(store, ctx)
    settings = make_settings(
        store.path,
        hubspot_access_token=TOKEN,
        hubspot_client_secret=CLIENT_SECRET,
        hubspot_portal_id=None,  # learned from the token when the delivery is applied
    )
    now_ms = int(time.time() * 1000)
    erasure = event("contact.privacyDeletion", people[0], now_ms - 1000, portal=SANDBOX)
    headers, body = fake.signed([erasure], f"{BASE}/v1/webhooks/hubspot", timestamp_ms=now_ms)
    app = create_app(settings, store=store, connectors=build_connectors(settings, fake.client()))
    with TestClient(app=app, base_url=BASE) as client:
        client.post("/v1/webhooks/hubspot", content=body, headers=headers)
    assert contact_state(store, people[0]) == [(0,)], "another portal's event erased our contact"
    [(status, error)] = inbox(store)
    assert status == "failed"
    assert error is not None
    assert "portal 7777777" in error
    assert f"not portal {PORTAL_ID}" in error


def test_with_the_portal_configured_another_portals_delivery_is_refused_at_once(
    store: Store, ctx: IngestContext
) -> None:
    """401 and nothing stored (as Shopify refuses another shop's delivery); HubSpot is not
    asked which portal the token is for."""
    fake, people = synced(store, ctx)
    connector = fake.connector(portal_id=str(PORTAL_ID))
    deletion = event("contact.deletion", people[0], int(fake.now() * 1000), portal=SANDBOX)
    headers, raw = fake.signed([deletion], URL)
    with pytest.raises(WebhookRejected, match="from portal 7777777, not portal 4242424"):
        receive(store, connector, headers, raw, URL, fake.now())
    assert inbox(store) == []
    assert details_reads(fake) == 0


def test_in_a_mixed_batch_only_our_portals_events_apply(store: Store, ctx: IngestContext) -> None:
    fake, people = synced(store, ctx)
    connector = fake.connector()
    at = int(fake.now() * 1000)
    events = [
        event("contact.privacyDeletion", people[0], at - 2000, portal=SANDBOX),
        event("contact.deletion", people[0], at - 1500, portal=None),  # names no portal
        event("contact.deletion", people[1], at - 1000),
    ]
    headers, raw = fake.signed(events, URL)
    assert receive(store, connector, headers, raw, URL, fake.now()).status == "accepted"
    assert apply_pending(store, {"hubspot": connector}, ctx) == 1
    assert contact_state(store, people[0]) == [(0,)]
    assert contact_state(store, people[1]) == [(1,)]  # ours: deleted as asked
    [(status, note)] = inbox(store)
    assert status == "applied"
    assert note is not None
    assert "1 event(s) from portal 7777777 skipped" in note
    assert "1 event(s) from no portal (no portalId) skipped" in note


def test_the_tokens_portal_is_read_once_and_then_checked_on_arrival(
    store: Store, ctx: IngestContext
) -> None:
    fake, people = synced(store, ctx)
    connector = fake.connector()
    at = int(fake.now() * 1000)
    headers, raw = fake.signed([event("contact.propertyChange", people[0], at - 2000)], URL)
    receive(store, connector, headers, raw, URL, fake.now())
    assert details_reads(fake) == 0  # nothing asked of HubSpot while HubSpot waits
    assert apply_pending(store, {"hubspot": connector}, ctx) == 1
    headers, raw = fake.signed([event("contact.propertyChange", people[1], at - 1000)], URL)
    receive(store, connector, headers, raw, URL, fake.now())
    assert apply_pending(store, {"hubspot": connector}, ctx) == 1
    assert details_reads(fake) == 1
    foreign = event("contact.deletion", people[0], at, portal=SANDBOX)
    headers, raw = fake.signed([foreign], URL)
    with pytest.raises(WebhookRejected):  # known now: refused on arrival, nothing stored
        receive(store, connector, headers, raw, URL, fake.now())
    assert [status for status, _ in inbox(store)] == ["applied", "applied"]


def test_without_a_token_or_a_portal_id_no_delivery_is_applied(
    store: Store, ctx: IngestContext
) -> None:
    """Nothing tells which events are ours: a deletion is not applied on faith."""
    fake, people = synced(store, ctx)
    connector = fake.connector(access_token=None)
    headers, raw = fake.signed([event("contact.deletion", people[0], int(fake.now() * 1000))], URL)
    assert receive(store, connector, headers, raw, URL, fake.now()).status == "accepted"
    assert apply_pending(store, {"hubspot": connector}, ctx) == 0
    assert contact_state(store, people[0]) == [(0,)]
    [(status, error)] = inbox(store)
    assert status == "failed"
    assert error is not None
    assert "CONTEXT_SERVICE_HUBSPOT_PORTAL_ID" in error


def test_with_the_portal_id_configured_no_token_is_needed_to_apply_a_deletion(
    store: Store, ctx: IngestContext
) -> None:
    fake, people = synced(store, ctx)
    connector = fake.connector(access_token=None, portal_id=f" {PORTAL_ID} ")
    headers, raw = fake.signed([event("contact.deletion", people[0], int(fake.now() * 1000))], URL)
    receive(store, connector, headers, raw, URL, fake.now())
    assert apply_pending(store, {"hubspot": connector}, ctx) == 1
    assert contact_state(store, people[0]) == [(1,)]


def test_a_portal_id_that_is_no_number_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="CONTEXT_SERVICE_HUBSPOT_PORTAL_ID"):
        FakeHubSpot().connector(portal_id="app.hubspot.com/contacts/4242424")


def test_the_tokens_portal_can_be_read_whatever_is_configured() -> None:
    """What a configuration check compares with CONTEXT_SERVICE_HUBSPOT_PORTAL_ID."""
    fake = FakeHubSpot()
    assert fake.connector(portal_id="1234").account_portal_id() == str(PORTAL_ID)
