"""Small helpers the review test files share, so that each file states only what it tests.

- ``AUTH`` and ``app_client``: the app over a store, called with the test key.
- ``receive_shopify``: a Shopify webhook signed by a ``FakeShopify``, through the intake.
- ``hubspot_event``: one event of a HubSpot webhook body.
- ``stripe_example``, ``UnexpandedRefundsStripe``, ``one_customer_without_refunds``,
  ``signed_event_body`` and ``latest_charge``: Stripe at the pinned API version, where a
  charge carries its ``refunds`` only when expanded.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.models import Charge, Page
from context_service.store import Store
from context_service.sync import receive
from integrations.shopify import ShopifyConnector
from integrations.stripe import map_record
from tests.conftest import TEST_KEY, make_settings
from tests.integrations.refdata import refdata
from tests.integrations.shopify.fake import FakeShopify
from tests.integrations.stripe.fake import FakeStripe

Json = dict[str, Any]
S = TypeVar("S", bound=FakeStripe)

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}  # the test API key, as a request header
SHOPIFY_URL = "https://context.example/v1/webhooks/shopify"
HUBSPOT_URL = "https://context.example.com/v1/webhooks/hubspot"
HUBSPOT_PORTAL = 4242424


@contextmanager
def app_client(
    db: Path | str, *, store: Store | None = None, **settings: Any
) -> Iterator[TestClient[Any]]:
    """A test client of the app over the store at ``db`` (``store``: the open one it uses),
    with the test key and ``settings`` as ``make_settings`` overrides."""
    with TestClient(app=create_app(make_settings(db, **settings), store=store)) as client:
        yield client


# --- Shopify -------------------------------------------------------------------------------------


def receive_shopify(
    store: Store,
    connector: ShopifyConnector,
    fake: FakeShopify,
    topic: str,
    body: Json,
    *,
    triggered_at: datetime | float,
    now: float,
) -> str:
    """Receive a ``topic`` delivery of ``body`` that ``fake`` signs as triggered at
    ``triggered_at``, at ``now``: the intake's answer (``accepted``, ...)."""
    headers, raw = fake.signed(topic, body, triggered_at=triggered_at)
    return receive(store, connector, headers, raw, SHOPIFY_URL, now).status


# --- HubSpot -------------------------------------------------------------------------------------


def hubspot_event(subscription_type: str, event_id: int, occurred_at: int, **fields: Any) -> Json:
    """One event of a HubSpot webhook body (the fields of HubSpot's webhook reference), from
    the demo portal; ``fields`` are those of its subscription type (``objectId``, ...)."""
    return {
        "eventId": event_id,
        "subscriptionId": 200,
        "portalId": HUBSPOT_PORTAL,
        "appId": 400,
        "occurredAt": occurred_at,
        "subscriptionType": subscription_type,
        **fields,
    }


# --- Stripe --------------------------------------------------------------------------------------


def stripe_example(name: str) -> Json:
    """A fresh copy of Stripe's published example object ``stripe/<name>.json``."""
    data: Json = refdata("stripe", f"{name}.json")
    return copy.deepcopy(data)


class UnexpandedRefundsStripe(FakeStripe):
    """``FakeStripe`` answering as the pinned API version does: a charge's ``refunds`` list is
    present only when expanded (``expand[]=refunds`` on retrieve, ``data.refunds`` on a
    list). What the expanded list holds is the subclass's (``expanded_refunds``)."""

    def _route(self, request: httpx.Request) -> httpx.Response:
        response = super()._route(request)
        if not response.is_success or not request.url.path.startswith("/v1/charges"):
            return response
        body = response.json()
        expand = request.url.params.get_list("expand[]")
        if body.get("object") == "list":
            body["data"] = [self._shaped(c, "data.refunds" in expand) for c in body["data"]]
        else:
            body = self._shaped(body, "refunds" in expand)
        return httpx.Response(200, json=body)

    def _shaped(self, charge: Json, expanded: bool) -> Json:
        shaped = {k: v for k, v in charge.items() if k != "refunds"}
        if expanded:
            shaped["refunds"] = self.expanded_refunds(charge)
        return shaped

    def expanded_refunds(self, charge: Json) -> Json:
        """The ``refunds`` list of ``charge`` as an expanded charge carries it."""
        raise NotImplementedError

    def unexpanded(self, charge_id: str) -> Json:
        """The charge as an event carries it at the pinned version: no ``refunds`` list."""
        return self._shaped(self.get("charge", charge_id) or {}, expanded=False)


def one_customer_without_refunds(fake: S) -> S:
    """``fake`` with one customer whose charges carry no embedded ``refunds``."""
    fake.add_customers(1)
    for charge in fake.objects["charge"]:
        charge.pop("refunds", None)
    return fake


def signed_event_body(fake: FakeStripe, type_: str, obj: Json) -> bytes:
    """The body of a signed webhook delivery of a new ``type_`` event about ``obj``."""
    return fake.signed(fake.emit_event(type_, obj))[1]


def latest_charge(found: list[Page], charge_id: str) -> Charge:
    """The newest copy of the charge on these pages (the store keeps the newest), mapped."""
    copies = [
        obj
        for page in found
        for obj in page.objects
        if obj.kind == "charge" and obj.payload.get("id") == charge_id
    ]
    assert copies, f"no copy of {charge_id} reached the customer's context"
    newest = max(copies, key=lambda obj: obj.observed_at or "")
    activity = map_record("charge", newest.payload).activity
    assert isinstance(activity, Charge)
    return activity
