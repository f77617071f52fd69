"""End to end, one vendor each: a webhook signed exactly as the vendor signs it arrives over real
HTTP at a real ``context-service serve`` process (fresh SQLite file), is acknowledged 2xx, and
``GET /v1/context`` shows the change once it is applied in the background. The server's vendor
base URLs point at the test fakes served over loopback HTTP, so every refetch an apply makes is
a real HTTP call. Waits are bounded polls for the state change, never timing assertions.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from integrations.shopify.graphql import to_rest
from tests.e2e.webhook_rig import LiveServer, Outage, live_context_server, poll_until
from tests.integrations.hubspot import fake as hubspot_fake
from tests.integrations.shopify import fake as shopify_fake
from tests.integrations.stripe import fake as stripe_fake
from tests.integrations.zendesk import fake as zendesk_fake
from tests.loopback import serving

pytestmark = pytest.mark.e2e

# What an ``orders/*`` REST body never carries: only the GraphQL order says why it waits.
_GRAPHQL_ONLY_ORDER_FIELDS = (
    "display_fulfillment_status",
    "line_items_has_next_page",
    "current_subtotal_line_items_quantity",
)


def _accepted(response: httpx.Response) -> None:
    """The server acknowledged a delivery it stored."""
    assert 200 <= response.status_code < 300, response.text
    assert response.json()["status"] == "accepted", response.text


# --- Shopify ------------------------------------------------------------------------------------


class ShopifyRig:
    """A shop with one customer and one paid, unfulfilled order on hold, behind loopback HTTP
    (through ``outage``), and a server whose Shopify base URL is that loopback server."""

    def __init__(self, fake: shopify_fake.FakeShopify, outage: Outage, server: LiveServer) -> None:
        self.fake, self.outage, self.server = fake, outage, server
        self.customer_id = next(iter(fake.customers))
        self.order_id = next(iter(fake.orders))

    @property
    def email(self) -> str:
        """The customer's email, which ``GET /v1/context`` looks up."""
        return str(self.fake.customers[self.customer_id]["email"])

    def deliver(self, topic: str, body: dict[str, Any], at: datetime) -> None:
        """A delivery signed as Shopify signs it, triggered at ``at``; acknowledged 2xx."""
        headers, raw = self.fake.signed(topic, body, triggered_at=at)
        _accepted(self.server.post_webhook("shopify", headers, raw))

    def order_body(self) -> dict[str, Any]:
        """The order as an ``orders/*`` webhook carries it: REST fields, no hold reason."""
        body = to_rest("order", copy.deepcopy(self.fake.orders[self.order_id]))
        for field in _GRAPHQL_ONLY_ORDER_FIELDS:
            body.pop(field, None)
        return body

    def change_order(self, at: datetime, **fields: Any) -> None:
        """Shopify changes the order at ``at`` (it stays on hold)."""
        self.fake.orders[self.order_id].update(fields)
        self.fake.touch("order", [self.order_id], at)

    def stored_order(self) -> dict[str, Any] | None:
        """The order as ``GET /v1/context`` shows it, ``None`` while it shows none."""
        snap = self.server.context(self.email)
        orders = (snap or {}).get("commerce", {}).get("orders") or []
        return dict(orders[0]) if orders else None

    def order_refetches(self) -> int:
        """How many GraphQL ``order(id:)`` queries the fake answered."""
        bodies = [json.loads(r.content) for r in self.fake.requests]
        return sum(1 for b in bodies if "order(id:" in b.get("query", "").replace(" ", ""))


@pytest.fixture
def shopify(tmp_path: Path) -> Iterator[ShopifyRig]:
    """``ShopifyRig`` on a fresh server; the customer and the order on hold are delivered
    (``customers/create``, ``orders/create``) and shown before the test starts."""
    fake = shopify_fake.FakeShopify()
    (customer_id,) = fake.add_customers(1)
    (order_id,) = fake.add_orders(1)
    fake.orders[order_id].update(
        displayFulfillmentStatus="ON_HOLD",
        displayFinancialStatus="PAID",
        closedAt=None,
        cancelledAt=None,
        fulfillments=[],
        refunds=[],
        note="Gift wrap",
    )
    created = datetime.now(UTC) - timedelta(minutes=5)
    fake.touch("customer", [customer_id], created)
    fake.touch("order", [order_id], created)
    outage = Outage(fake.handler)
    with (
        serving(outage) as vendor,
        live_context_server(
            tmp_path,
            CONTEXT_SERVICE_SHOPIFY_SHOP=shopify_fake.SHOP,
            CONTEXT_SERVICE_SHOPIFY_ACCESS_TOKEN=shopify_fake.TOKEN,
            CONTEXT_SERVICE_SHOPIFY_WEBHOOK_SECRET=shopify_fake.SECRET,
            CONTEXT_SERVICE_SHOPIFY_BASE_URL=vendor,
        ) as server,
    ):
        rig = ShopifyRig(fake, outage, server)
        rig.deliver("customers/create", to_rest("customer", fake.customers[customer_id]), created)
        rig.deliver("orders/create", rig.order_body(), created)
        poll_until(
            rig.stored_order,
            lambda o: o is not None and o.get("fulfillment_detail") == "on_hold",
            "the order on hold delivered by orders/create",
            server,
        )
        yield rig


def test_shopify_orders_updated_for_an_order_on_hold_keeps_it_on_hold(
    shopify: ShopifyRig,
) -> None:
    """The REST body says nothing of the hold; the order refetched through GraphQL (over
    loopback HTTP) at apply time does, so the context still says "on hold" with the change."""
    refetches_before = shopify.order_refetches()
    later = datetime.now(UTC) - timedelta(seconds=30)
    shopify.change_order(later, note="Customer called about the delay")
    shopify.deliver("orders/updated", shopify.order_body(), later)
    order = poll_until(
        shopify.stored_order,
        lambda o: o is not None and o.get("note") == "Customer called about the delay",
        "the note of orders/updated",
        shopify.server,
    )
    assert order is not None
    assert order["fulfillment_detail"] == "on_hold"
    assert order["fulfillment_status"] == "unfulfilled"
    snap = shopify.server.context(shopify.email)
    assert snap is not None
    assert "on hold" in snap["summary"]
    assert shopify.order_refetches() > refetches_before


def test_a_delivery_waiting_for_shopify_is_applied_by_the_retry_timer(
    shopify: ShopifyRig,
) -> None:
    """Shopify answers 503 to the refetch: the delivery stays pending and the body is not
    applied alone. Once Shopify answers again, the retry timer applies it with no further
    delivery arriving."""
    shopify.outage.down = True
    later = datetime.now(UTC) - timedelta(seconds=30)
    shopify.change_order(later, note="Parcel held at the depot")
    shopify.deliver("orders/updated", shopify.order_body(), later)
    waiting = poll_until(
        lambda: [r for r in shopify.server.inbox() if r["topic"] == "orders/updated"],
        lambda rows: len(rows) == 1 and rows[0]["attempts"] >= 1,
        "a failed attempt recorded on the orders/updated delivery",
        shopify.server,
    )
    assert waiting[0]["status"] == "pending"
    assert waiting[0]["next_attempt_at"] is not None
    assert shopify.outage.refused > 0
    order = shopify.stored_order()
    assert order is not None
    assert order["note"] == "Gift wrap"  # the body was not applied without its refetch
    deliveries = len(shopify.server.inbox())
    shopify.outage.down = False
    order = poll_until(
        shopify.stored_order,
        lambda o: o is not None and o.get("note") == "Parcel held at the depot",
        "the pending orders/updated applied by the retry timer",
        shopify.server,
        deadline_seconds=30,
    )
    assert order is not None
    assert order["fulfillment_detail"] == "on_hold"
    rows = shopify.server.inbox()
    assert len(rows) == deliveries  # nothing else arrived meanwhile
    assert [r["status"] for r in rows if r["topic"] == "orders/updated"] == ["applied"]


# --- Stripe -------------------------------------------------------------------------------------


def _refund(charge: dict[str, Any], amount: int, created: int) -> dict[str, Any]:
    """A succeeded refund of ``amount`` on ``charge``, as ``GET /v1/refunds/<id>`` shows it."""
    return {
        "id": "re_e2e_000001",
        "object": "refund",
        "amount": amount,
        "charge": charge["id"],
        "created": created,
        "currency": charge["currency"],
        "payment_intent": None,
        "reason": "requested_by_customer",
        "status": "succeeded",
        "metadata": {},
    }


def _stripe_deliver(
    server: LiveServer,
    fake: stripe_fake.FakeStripe,
    event_type: str,
    obj: dict[str, Any],
    stored: dict[str, Any] | None = None,
) -> None:
    """Emit ``event_type`` about ``obj`` and deliver it signed as Stripe signs it (``t`` now);
    ``stored``, when given, is what Stripe holds from then on (the event's copy otherwise)."""
    event = fake.emit_event(event_type, obj, created=int(time.time()))
    if stored is not None:
        fake.put(stored)
    headers, raw = fake.signed(event, t=int(time.time()))
    _accepted(server.post_webhook("stripe", headers, raw))


def _charges(server: LiveServer, email: str) -> dict[str, dict[str, Any]]:
    snap = server.context(email)
    return {c["external_id"]: c for c in (snap or {}).get("billing", {}).get("charges") or []}


def test_stripe_charge_refunded_shows_the_refund(tmp_path: Path) -> None:
    """``charge.refunded`` carries the charge without its refunds (API 2022-11-15 and later);
    the server refetches the charge over loopback HTTP and the context lists the refund."""
    fake = stripe_fake.FakeStripe(clock=time.time() - 600)
    (customer_id,) = fake.add_customers(1)
    customer = fake.get("customer", customer_id)
    charge = fake.get("charge", f"ch_{1:06d}a")
    assert customer is not None
    assert charge is not None
    email = str(customer["email"])
    with (
        serving(fake.handler) as vendor,
        live_context_server(
            tmp_path,
            CONTEXT_SERVICE_STRIPE_API_KEY=stripe_fake.API_KEY,
            CONTEXT_SERVICE_STRIPE_WEBHOOK_SECRET=stripe_fake.WEBHOOK_SECRET,
            CONTEXT_SERVICE_STRIPE_BASE_URL=vendor,
        ) as server,
    ):
        _stripe_deliver(server, fake, "customer.created", copy.deepcopy(customer))
        _stripe_deliver(server, fake, "charge.succeeded", copy.deepcopy(charge))
        poll_until(
            lambda: _charges(server, email),
            lambda charges: charge["id"] in charges,
            "the charge delivered by charge.succeeded",
            server,
        )
        refund = _refund(charge, 1500, int(time.time()))
        refunded = {**charge, "amount_refunded": 1500, "refunded": False}
        in_event = {k: v for k, v in refunded.items() if k != "refunds"}
        listed = {"object": "list", "data": [refund], "has_more": False}
        _stripe_deliver(server, fake, "charge.refunded", in_event, {**refunded, "refunds": listed})
        charges = poll_until(
            lambda: _charges(server, email),
            lambda found: bool(found.get(charge["id"], {}).get("refunds")),
            "the refund of charge.refunded",
            server,
        )
    shown = charges[charge["id"]]
    assert [r["external_id"] for r in shown["refunds"]] == [refund["id"]]
    assert shown["refunds"][0]["amount"] == "15.00"
    assert shown["amount_refunded"] == "15.00"
    refetched = [r for r in fake.requests if r.url.path == f"/v1/charges/{charge['id']}"]
    assert refetched, "the charge was not refetched from Stripe"


# --- HubSpot ------------------------------------------------------------------------------------


def _hubspot_event(action: str, object_id: str, event_id: int, **extra: Any) -> dict[str, Any]:
    """One ``contact.<action>`` event as HubSpot batches them, occurred now."""
    return {
        "eventId": event_id,
        "subscriptionId": 2_400_100,
        "portalId": 4_242_424,
        "appId": 400_100,
        "occurredAt": int(time.time() * 1000),
        "subscriptionType": f"contact.{action}",
        "attemptNumber": 0,
        "objectId": int(object_id),
        "changeSource": "CRM",
        **extra,
    }


def _hubspot_deliver(
    server: LiveServer, fake: hubspot_fake.FakeHubSpot, events: list[dict[str, Any]]
) -> None:
    """A batch signed with signature v3 over the URL the server is called at, stamped now."""
    url = server.webhook_url("hubspot")
    headers, raw = fake.signed(events, url, timestamp_ms=int(time.time() * 1000))
    _accepted(server.post_webhook("hubspot", headers, raw))


def _lifecycle_stage(server: LiveServer, email: str) -> str | None:
    snap = server.context(email)
    return None if snap is None else snap["crm"]["lifecycle_stage"]


def test_hubspot_contact_property_change_shows_the_new_value(tmp_path: Path) -> None:
    """``contact.propertyChange`` carries one property at most; the contact is refetched over
    loopback HTTP and the context shows the new lifecycle stage."""
    fake = hubspot_fake.FakeHubSpot()
    email = "rosa.delgado@example.com"
    created_ms = int(time.time() * 1000) - 600_000
    contact = fake.add(
        "contacts",
        created_ms,
        email=email,
        firstname="Rosa",
        lastname="Delgado",
        lifecyclestage="lead",
    )
    contact_id = str(contact["id"])
    with (
        serving(fake.handler) as vendor,
        live_context_server(
            tmp_path,
            CONTEXT_SERVICE_HUBSPOT_ACCESS_TOKEN=hubspot_fake.TOKEN,
            CONTEXT_SERVICE_HUBSPOT_CLIENT_SECRET=hubspot_fake.CLIENT_SECRET,
            CONTEXT_SERVICE_HUBSPOT_BASE_URL=vendor,
        ) as server,
    ):
        _hubspot_deliver(server, fake, [_hubspot_event("creation", contact_id, 1)])
        poll_until(
            lambda: _lifecycle_stage(server, email),
            lambda stage: stage == "Lead",
            "the contact delivered by contact.creation",
            server,
        )
        fake.touch(
            "contacts", contact_id, int(time.time() * 1000) - 1000, lifecyclestage="customer"
        )
        change = _hubspot_event(
            "propertyChange",
            contact_id,
            2,
            propertyName="lifecyclestage",
            propertyValue="customer",
        )
        _hubspot_deliver(server, fake, [change])
        poll_until(
            lambda: _lifecycle_stage(server, email),
            lambda stage: stage == "Customer",
            "the lifecycle stage of contact.propertyChange",
            server,
        )


# --- Zendesk ------------------------------------------------------------------------------------

_ZENDESK_USER, _ZENDESK_TICKET = 384_001, 35_001


def _ticket_status(server: LiveServer, email: str) -> str | None:
    snap = server.context(email)
    tickets = (snap or {}).get("support", {}).get("tickets") or []
    found = [t for t in tickets if t["external_id"] == str(_ZENDESK_TICKET)]
    return str(found[0]["status"]) if found else None


def test_zendesk_trigger_webhook_shows_the_new_ticket_status(tmp_path: Path) -> None:
    """A trigger's custom body (``ticket_id``, ``event``) refetches the ticket over loopback
    HTTP; the context shows its new status. Zendesk's retry (same invocation id, signed anew)
    and a replay of the signed body under a new invocation id are acknowledged as duplicates."""
    fake = zendesk_fake.FakeZendesk(clock=time.time() - 600)
    email = "noor.haddad@example.com"
    fake.put_user(_ZENDESK_USER, email, int(fake.clock))
    fake.put_ticket(_ZENDESK_TICKET, _ZENDESK_USER, int(fake.clock))
    with (
        serving(fake.handler) as vendor,
        live_context_server(
            tmp_path,
            CONTEXT_SERVICE_ZENDESK_SUBDOMAIN=zendesk_fake.SUBDOMAIN,
            CONTEXT_SERVICE_ZENDESK_EMAIL=zendesk_fake.EMAIL,
            CONTEXT_SERVICE_ZENDESK_API_TOKEN=zendesk_fake.API_TOKEN,
            CONTEXT_SERVICE_ZENDESK_WEBHOOK_SECRET=zendesk_fake.WEBHOOK_SECRET,
            CONTEXT_SERVICE_ZENDESK_BASE_URL=vendor,
        ) as server,
    ):
        created = fake.event("ticket.created", _ZENDESK_TICKET, requester_id=_ZENDESK_USER)
        _accepted(server.post_webhook("zendesk", *fake.signed(created, at=time.time())))
        poll_until(
            lambda: _ticket_status(server, email),
            lambda status: status == "open",
            "the ticket delivered by ticket.created",
            server,
        )
        fake.clock += 60
        fake.update("ticket", _ZENDESK_TICKET, status="solved")
        trigger = {"ticket_id": str(_ZENDESK_TICKET), "event": "ticket_solved"}
        signed_at = time.time()
        headers, raw = fake.signed(trigger, at=signed_at, invocation_id="8150493")
        _accepted(server.post_webhook("zendesk", headers, raw))
        poll_until(
            lambda: _ticket_status(server, email),
            lambda status: status == "solved",
            "the ticket status of the trigger webhook",
            server,
        )
        retried = fake.signed(trigger, at=signed_at + 20, invocation_id="8150493")
        replayed = {**headers, "X-Zendesk-Webhook-Invocation-Id": "8150494"}
        answers = [
            server.post_webhook("zendesk", *retried),
            server.post_webhook("zendesk", replayed, raw),
        ]
        stored = [r for r in server.inbox() if r["topic"].startswith("trigger")]
    assert [(a.status_code, a.json()["status"]) for a in answers] == [(200, "duplicate")] * 2
    assert [r["status"] for r in stored] == ["applied"]
