"""Signed vendor deliveries and what the app stored: helpers of the adversarial webhook tests
(``test_webhooks_adversarial``, ``test_webhooks_ordering``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from litestar.testing import TestClient

from context_service.api import create_app
from context_service.errors import ProfileNotFound
from context_service.snapshot import lookup
from context_service.store import Store
from tests.conftest import make_settings
from tests.integrations.hubspot.fake import FakeHubSpot
from tests.integrations.shopify.fake import SECRET as SHOPIFY_SECRET
from tests.integrations.shopify.fake import FakeShopify
from tests.integrations.stripe.fake import FakeStripe
from tests.integrations.zendesk.fake import FakeZendesk
from tests.payloads import shopify_customer, stripe_customer, stripe_event, stripe_signed

BASE = "http://testserver.local"
VENDORS = ["shopify", "stripe", "hubspot", "zendesk"]
MAX_BODY = 1_048_576
DEEP = b"[" * 100_000 + b"]" * 100_000  # far past any JSON parser's recursion limit
OLD_EMAIL, NEW_EMAIL = "old.address@example.com", "new.address@example.com"

Headers = dict[str, str]


# --- Building signed deliveries -----------------------------------------------------------------


def vendor_fake(source: str) -> Any:
    return {
        "shopify": FakeShopify,
        "stripe": FakeStripe,
        "hubspot": FakeHubSpot,
        "zendesk": FakeZendesk,
    }[source]()


def hook_url(source: str, base: str = BASE) -> str:
    return f"{base}/v1/webhooks/{source}"


def iso_at(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def b64_hmac(secret: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def signed_raw(source: str, fake: Any, body: bytes, now: float) -> Headers:
    """Headers that sign ``body`` exactly as the vendor does, whatever the body is."""
    if source == "shopify":
        return {
            "X-Shopify-Topic": "customers/update",
            "X-Shopify-Hmac-Sha256": b64_hmac(SHOPIFY_SECRET, body),
            "X-Shopify-Webhook-Id": f"wh-{hashlib.sha256(body).hexdigest()[:16]}",
            "X-Shopify-Triggered-At": iso_at(now),
        }
    if source == "stripe":
        t = int(now)
        digest = hmac.new(fake.webhook_secret.encode(), f"{t}.".encode() + body, hashlib.sha256)
        return {"Stripe-Signature": f"t={t},v1={digest.hexdigest()}"}
    if source == "hubspot":
        stamp = str(int(now * 1000))
        signed = b"POST" + hook_url(source).encode() + body + stamp.encode()
        return {
            "X-HubSpot-Signature-v3": b64_hmac(fake.client_secret, signed),
            "X-HubSpot-Request-Timestamp": stamp,
        }
    headers, _ = fake.signed(body, at=now)
    return dict(headers)


def shopify_customer_delivery(fake: FakeShopify, email: str, updated: float, **kw: Any) -> Any:
    body = shopify_customer(7001, email, "Max", "Roe", updated_at=iso_at(updated))[2]
    return fake.signed("customers/update", body, triggered_at=updated, **kw)


def stripe_customer_delivery(fake: FakeStripe, event_id: str, email: str, created: int) -> Any:
    customer = stripe_customer("cus_7001", email, "Max Roe")[2]
    return stripe_signed(
        stripe_event(event_id, "customer.updated", customer, created), *stripe_signing(fake)
    )


def stripe_signing(fake: FakeStripe) -> tuple[str, int]:
    return fake.webhook_secret, int(time.time())


def hubspot_event(kind: str, object_id: str, occurred_ms: int, **extra: Any) -> dict[str, Any]:
    return {
        "eventId": occurred_ms % 1_000_000,
        "subscriptionId": 2_001,
        "portalId": 4_242_424,
        "appId": 1_001,
        "occurredAt": occurred_ms,
        "subscriptionType": kind,
        "attemptNumber": 0,
        "objectId": int(object_id),
        **extra,
    }


def hubspot_signed(fake: FakeHubSpot, events: list[dict[str, Any]]) -> tuple[Headers, bytes]:
    return fake.signed(events, hook_url("hubspot"), timestamp_ms=int(time.time() * 1000))


def valid_delivery(source: str, fake: Any, now: float) -> tuple[Headers, bytes]:
    """One authentic, well-formed delivery about a customer the fake knows."""
    if source == "shopify":
        headers, body = shopify_customer_delivery(fake, NEW_EMAIL, now - 5)
    elif source == "stripe":
        headers, body = stripe_customer_delivery(fake, "evt_valid", NEW_EMAIL, int(now) - 5)
    elif source == "hubspot":
        contact = fake.add("contacts", int(now * 1000) - 5000, email=NEW_EMAIL, firstname="Max")
        event = hubspot_event("contact.creation", contact["id"], int(now * 1000) - 5000)
        headers, body = hubspot_signed(fake, [event])
    else:
        fake.put_user(384_001, NEW_EMAIL, int(now) - 5)
        headers, body = fake.signed(fake.event("user.created", 384_001, at=now - 5), at=now)
    return dict(headers), body


# --- The app and what it stored -----------------------------------------------------------------


def webhook_client(store: Store, source: str, fake: Any, **settings: Any) -> TestClient[Any]:
    app = create_app(
        make_settings(store.path, **settings), store=store, connectors={source: fake.connector()}
    )
    return TestClient(app=app, base_url=BASE)


def startup_drain_done(patience: float = 10.0) -> None:
    """Wait until the startup drain's thread (``api.webhooks.drain_inbox``) has ended: while it
    runs it holds the app's webhook pass, so a delivery posted meanwhile is applied by that
    thread a moment after the response instead of by the response's own pass, and a test that
    reads the inbox right after the response would race it."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        if not any(t.name == "inbox-drain" and t.is_alive() for t in threading.enumerate()):
            return
        time.sleep(0.01)


def inbox_rows(store: Store) -> list[tuple[str, str]]:
    return store.conn.execute("SELECT topic, status FROM webhook_inbox ORDER BY id").fetchall()


def inbox_errors(store: Store) -> list[str | None]:
    return [row[0] for row in store.conn.execute("SELECT error FROM webhook_inbox ORDER BY id")]


def record_count(store: Store) -> int:
    return int(store.conn.execute("SELECT count(*) FROM records").fetchone()[0])


def emails_found(store: Store, *emails: str) -> dict[str, bool]:
    found = {}
    for email in emails:
        try:
            lookup.by_email(store.conn, email)
        except ProfileNotFound:
            found[email] = False
        else:
            found[email] = True
    return found


def assert_refused_and_nothing_kept(response: Any, store: Store, status: int = 401) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert inbox_rows(store) == []
    assert record_count(store) == 0


def posting(store: Store) -> Iterator[Callable[..., Any]]:
    """``post(source, fake, body, headers)``: one delivery through a fresh app on ``store``
    (the ``post`` fixture of the webhook test modules)."""
    clients: dict[str, TestClient[Any]] = {}

    def run(source: str, fake: Any, body: bytes, headers: Headers | list[Any]) -> Any:
        if source not in clients:
            clients[source] = webhook_client(store, source, fake).__enter__()
            startup_drain_done()
        return clients[source].post(f"/v1/webhooks/{source}", content=body, headers=headers)

    yield run
    for client in clients.values():
        client.__exit__(None, None, None)


def as_post_args(delivery: tuple[Headers, bytes]) -> tuple[bytes, Headers]:
    headers, body = delivery
    return body, headers
