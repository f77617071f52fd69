"""Adversarial deliveries to ``POST /v1/webhooks/{source}``: order and concurrency.

One delivery twice at once, concurrent appliers, a delivery that breaks ingestion, two updates of
one object newest first, a deletion delivered before the creation, HubSpot's restorable
deletions and partly unreadable batches, and HubSpot behind a TLS proxy. What is asserted is the
documented outcome, and a snapshot that never goes back to older data.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.models import Delivery, RecordKey, VendorObject
from context_service.store import Store
from context_service.store.records import get_record
from context_service.sync import IngestContext, apply_pending, receive
from context_service.sync.webhooks import _apply_due
from context_service.wiring import ingest_context
from tests.api.webhook_deliveries import (
    NEW_EMAIL,
    OLD_EMAIL,
    VENDORS,
    as_post_args,
    emails_found,
    hook_url,
    hubspot_event,
    hubspot_signed,
    inbox_errors,
    inbox_rows,
    iso_at,
    record_count,
    shopify_customer_delivery,
    stripe_customer_delivery,
    stripe_signing,
    valid_delivery,
    vendor_fake,
)
from tests.conftest import make_settings
from tests.integrations.hubspot.fake import FakeHubSpot
from tests.integrations.shopify.fake import FakeShopify
from tests.integrations.stripe.fake import FakeStripe
from tests.integrations.zendesk.fake import FakeZendesk
from tests.payloads import shopify_customer, stripe_customer, stripe_event, stripe_signed

# --- The same delivery twice at once ------------------------------------------------------------


def _app_ctx(store: Store) -> IngestContext:
    return ingest_context(make_settings(store.path))


@pytest.mark.parametrize("source", VENDORS)
def test_the_same_delivery_twice_at_once_is_stored_and_applied_once(
    store: Store, source: str
) -> None:
    fake = vendor_fake(source)
    connector = fake.connector()
    now = time.time()
    headers, body = valid_delivery(source, fake, now)
    gate = threading.Barrier(2)
    receipts: list[str] = []
    applied: list[int] = []

    def deliver() -> None:
        gate.wait()
        receipts.append(receive(store, connector, headers, body, hook_url(source), now).status)
        gate.wait()
        applied.append(apply_pending(store, {source: connector}, _app_ctx(store)))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(receipts) == ["accepted", "duplicate"]
    assert [status for _, status in inbox_rows(store)] == ["applied"]
    assert sum(applied) == 1
    assert emails_found(store, NEW_EMAIL) == {NEW_EMAIL: True}


class _Interleaved:
    """A connector whose first refetch lets a second applier run to its end meanwhile, as a
    second worker (another process) would; then, optionally, fails. (Within one process a
    second pass waits for the running one: ``sync.one_pass``; this is the pass itself.)"""

    def __init__(self, inner: Any, store: Store, *, then_fail: bool = False) -> None:
        self._inner = inner
        self._store = store
        self._then_fail = then_fail
        self.source = inner.source
        self.second: list[int] = []
        self._started = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def fetch_one(self, kind: str, external_id: str) -> VendorObject | None:
        if not self._started:
            self._started = True
            other = threading.Thread(target=self._apply)
            other.start()
            other.join()
            if self._then_fail:
                raise RuntimeError("the vendor went away")
        found: VendorObject | None = self._inner.fetch_one(kind, external_id)
        return found

    def _apply(self) -> None:
        ctx = _app_ctx(self._store)
        self.second.append(_apply_due(self._store, {self.source: self}, ctx, 100, None, None))


def _zendesk_received(store: Store, fake: FakeZendesk, connector: Any) -> None:
    now = time.time()
    fake.put_user(384_001, NEW_EMAIL, int(now) - 5)
    headers, body = fake.signed(fake.event("user.created", 384_001, at=now - 5), at=now)
    assert receive(store, connector, headers, body, hook_url("zendesk"), now).status == "accepted"


def test_a_delivery_a_concurrent_applier_applied_is_not_applied_again(store: Store) -> None:
    fake = FakeZendesk()
    connector = _Interleaved(fake.connector(), store)
    _zendesk_received(store, fake, connector)
    first = apply_pending(store, {"zendesk": connector}, _app_ctx(store))
    assert connector.second == [1]
    assert first == 0
    assert inbox_rows(store) == [("zen:event-type:user.created", "applied")]


def test_a_late_failure_never_turns_an_applied_delivery_into_a_failed_one(store: Store) -> None:
    fake = FakeZendesk()
    connector = _Interleaved(fake.connector(), store, then_fail=True)
    _zendesk_received(store, fake, connector)
    assert apply_pending(store, {"zendesk": connector}, _app_ctx(store)) == 0
    assert connector.second == [1]
    assert inbox_rows(store) == [("zen:event-type:user.created", "applied")]
    assert inbox_errors(store) == [None]


class _Breaks:
    """A Stripe connector whose deliveries about ``cus_poison`` break ingestion itself."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.source = inner.source

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Delivery:
        delivery: Delivery = self._inner.parse_webhook(headers, body)
        if b"cus_poison" in body:
            delivery.objects = [VendorObject("customer", {"id": "cus_poison", "x": object()})]
        return delivery


def test_a_delivery_that_breaks_ingestion_is_failed_and_the_next_ones_still_apply(
    store: Store,
) -> None:
    fake = FakeStripe()
    connector = _Breaks(fake.connector())
    now = int(time.time())
    poison = stripe_customer("cus_poison", "poison@example.com", "P")[2]
    for event in (
        stripe_event("evt_poison", "customer.updated", poison, now - 10),
        stripe_event(
            "evt_fine", "customer.updated", stripe_customer("cus_1", NEW_EMAIL, "M")[2], now
        ),
    ):
        headers, body = stripe_signed(event, fake.webhook_secret, now)
        assert (
            receive(store, connector, headers, body, hook_url("stripe"), now).status == "accepted"
        )
    assert apply_pending(store, {"stripe": connector}, _app_ctx(store)) == 1
    assert [status for _, status in inbox_rows(store)] == ["failed", "applied"]
    assert "TypeError" in (inbox_errors(store)[0] or "")
    assert emails_found(store, NEW_EMAIL) == {NEW_EMAIL: True}


# --- Two updates of one object, newest first ----------------------------------------------------


def test_shopify_newest_first_keeps_the_newest(store: Store, post: Callable[..., Any]) -> None:
    fake = FakeShopify()
    now = time.time()
    assert (
        post(
            "shopify", fake, *as_post_args(shopify_customer_delivery(fake, NEW_EMAIL, now - 10))
        ).status_code
        == 200
    )
    assert (
        post(
            "shopify", fake, *as_post_args(shopify_customer_delivery(fake, OLD_EMAIL, now - 100))
        ).status_code
        == 200
    )
    assert inbox_rows(store) == [("customers/update", "applied")] * 2
    assert emails_found(store, NEW_EMAIL, OLD_EMAIL) == {NEW_EMAIL: True, OLD_EMAIL: False}


def test_stripe_newest_first_keeps_the_newest(store: Store, post: Callable[..., Any]) -> None:
    fake = FakeStripe()
    now = int(time.time())
    for event_id, email, created in (
        ("evt_2", NEW_EMAIL, now - 10),
        ("evt_1", OLD_EMAIL, now - 100),
    ):
        headers, body = stripe_customer_delivery(fake, event_id, email, created)
        assert post("stripe", fake, body, headers).status_code == 200
    assert inbox_rows(store) == [("customer.updated", "applied")] * 2
    assert emails_found(store, NEW_EMAIL, OLD_EMAIL) == {NEW_EMAIL: True, OLD_EMAIL: False}


def test_hubspot_newest_first_keeps_the_newest(store: Store, post: Callable[..., Any]) -> None:
    fake = FakeHubSpot()
    now_ms = int(time.time() * 1000)
    contact = fake.add("contacts", now_ms - 10_000, email=NEW_EMAIL, firstname="Max")
    for occurred, value in ((now_ms - 10_000, NEW_EMAIL), (now_ms - 100_000, OLD_EMAIL)):
        event = hubspot_event(
            "contact.propertyChange",
            contact["id"],
            occurred,
            propertyName="email",
            propertyValue=value,
        )
        headers, body = hubspot_signed(fake, [event])
        assert post("hubspot", fake, body, headers).status_code == 200
    assert [status for _, status in inbox_rows(store)] == ["applied", "applied"]
    assert emails_found(store, NEW_EMAIL, OLD_EMAIL) == {NEW_EMAIL: True, OLD_EMAIL: False}


def test_zendesk_newest_first_keeps_the_newest(store: Store, post: Callable[..., Any]) -> None:
    fake = FakeZendesk()
    now = time.time()
    fake.put_user(384_001, NEW_EMAIL, int(now) - 10)
    for at in (now - 10, now - 100):
        headers, body = fake.signed(fake.event("user.identity_changed", 384_001, at=at), at=now)
        assert post("zendesk", fake, body, headers).status_code == 200
    assert [status for _, status in inbox_rows(store)] == ["applied", "applied"]
    assert emails_found(store, NEW_EMAIL) == {NEW_EMAIL: True}


def test_stripe_an_older_unmappable_event_never_replaces_newer_data(
    store: Store, post: Callable[..., Any]
) -> None:
    fake = FakeStripe()
    now = int(time.time())
    headers, body = stripe_customer_delivery(fake, "evt_new", NEW_EMAIL, now - 10)
    assert post("stripe", fake, body, headers).status_code == 200
    broken = {**stripe_customer("cus_7001", OLD_EMAIL, "Old")[2], "metadata": "not an object"}
    event = stripe_event("evt_old", "customer.updated", broken, now - 100)
    assert (
        post("stripe", fake, *as_post_args(stripe_signed(event, *stripe_signing(fake)))).status_code
        == 200
    )
    headers, body = stripe_customer_delivery(fake, "evt_mid", OLD_EMAIL, now - 50)
    assert post("stripe", fake, body, headers).status_code == 200
    record = get_record(store.conn, RecordKey("stripe", "customer", "cus_7001"))
    assert record is not None
    assert record.error is None
    assert emails_found(store, NEW_EMAIL, OLD_EMAIL) == {NEW_EMAIL: True, OLD_EMAIL: False}


# --- A deletion delivered before the creation ---------------------------------------------------


def _deleted(store: Store, source: str, kind: str, external_id: str) -> bool:
    record = get_record(store.conn, RecordKey(source, kind, external_id))
    return record is None or record.deleted


@pytest.mark.parametrize("triggered", [True, False], ids=["triggered-at", "no-triggered-at"])
def test_shopify_a_deletion_before_the_creation_stays_deleted(
    store: Store, post: Callable[..., Any], triggered: bool
) -> None:
    """Without ``X-Shopify-Triggered-At`` the deletion notice carries no time at all; it counts
    as observed when received, so the older creation cannot bring the customer back."""
    fake = FakeShopify()
    now = time.time()
    deletion = fake.signed(
        "customers/delete", {"id": 7001}, triggered_at=now - 10 if triggered else None
    )
    assert post("shopify", fake, *as_post_args(deletion)).status_code == 200
    body = shopify_customer(7001, NEW_EMAIL, "Max", "Roe", updated_at=iso_at(now - 100))[2]
    creation = fake.signed("customers/create", body, triggered_at=now - 100)
    assert post("shopify", fake, *as_post_args(creation)).status_code == 200
    assert [status for _, status in inbox_rows(store)] == ["applied", "applied"]
    assert _deleted(store, "shopify", "customer", "7001")
    assert emails_found(store, NEW_EMAIL) == {NEW_EMAIL: False}


def test_stripe_a_deletion_before_the_creation_stays_deleted(
    store: Store, post: Callable[..., Any]
) -> None:
    fake = FakeStripe()
    now = int(time.time())
    customer = stripe_customer("cus_7001", NEW_EMAIL, "Max Roe")[2]
    for event_id, kind, created in (
        ("evt_del", "customer.deleted", now - 10),
        ("evt_new", "customer.created", now - 100),
    ):
        event = stripe_event(event_id, kind, customer, created)
        assert (
            post(
                "stripe", fake, *as_post_args(stripe_signed(event, *stripe_signing(fake)))
            ).status_code
            == 200
        )
    assert [status for _, status in inbox_rows(store)] == ["applied", "applied"]
    assert _deleted(store, "stripe", "customer", "cus_7001")
    assert emails_found(store, NEW_EMAIL) == {NEW_EMAIL: False}


def test_hubspot_a_deletion_before_the_creation_stays_deleted(
    store: Store, post: Callable[..., Any]
) -> None:
    """A company (tombstoned) still answered by HubSpot with its older state, and a contact
    (erased) HubSpot no longer has: neither comes back."""
    fake = FakeHubSpot()
    now_ms = int(time.time() * 1000)
    company = fake.add("companies", now_ms - 100_000, name="Globex", domain="globex.example")
    contact_id = "990001"  # deleted in HubSpot: fetching it answers 404
    events = [
        hubspot_event("company.deletion", company["id"], now_ms - 10_000),
        hubspot_event("contact.deletion", contact_id, now_ms - 10_000),
    ]
    assert post("hubspot", fake, *as_post_args(hubspot_signed(fake, events))).status_code == 200
    events = [
        hubspot_event("company.creation", company["id"], now_ms - 100_000),
        hubspot_event("contact.creation", contact_id, now_ms - 100_000),
    ]
    assert post("hubspot", fake, *as_post_args(hubspot_signed(fake, events))).status_code == 200
    assert [status for _, status in inbox_rows(store)] == ["applied", "applied"]
    assert _deleted(store, "hubspot", "company", company["id"])
    assert _deleted(store, "hubspot", "contact", contact_id)


def test_zendesk_a_deletion_before_the_creation_stays_deleted(
    store: Store, post: Callable[..., Any]
) -> None:
    fake = FakeZendesk()
    now = time.time()
    fake.put_user(384_001, NEW_EMAIL, int(now) - 100)  # what a refetch answers: older
    for name, at in (("user.deleted", now - 10), ("user.created", now - 100)):
        headers, body = fake.signed(fake.event(name, 384_001, at=at), at=now)
        assert post("zendesk", fake, body, headers).status_code == 200
    assert [status for _, status in inbox_rows(store)] == ["applied", "applied"]
    assert _deleted(store, "zendesk", "user", "384001")
    assert emails_found(store, NEW_EMAIL) == {NEW_EMAIL: False}


def test_hubspot_an_older_deletion_after_a_restore_never_erases_the_contact(
    store: Store, post: Callable[..., Any]
) -> None:
    fake = FakeHubSpot()
    now_ms = int(time.time() * 1000)
    contact = fake.add("contacts", now_ms - 10_000, email=NEW_EMAIL, firstname="Max")
    for kind, occurred in (
        ("contact.restore", now_ms - 10_000),
        ("contact.deletion", now_ms - 100_000),  # happened before the restore, delivered after
        ("contact.propertyChange", now_ms - 5_000),
    ):
        event = hubspot_event(kind, contact["id"], occurred)
        assert (
            post("hubspot", fake, *as_post_args(hubspot_signed(fake, [event]))).status_code == 200
        )
    assert [status for _, status in inbox_rows(store)] == ["applied"] * 3
    assert emails_found(store, NEW_EMAIL) == {NEW_EMAIL: True}


def test_hubspot_one_unreadable_event_does_not_cost_the_rest_of_the_batch(
    store: Store, post: Callable[..., Any]
) -> None:
    """HubSpot retries a refused batch whole, and it would fail the same way each time: the
    readable events apply, and what was skipped is recorded on the delivery."""
    fake = FakeHubSpot()
    now_ms = int(time.time() * 1000)
    contact = fake.add("contacts", now_ms - 5000, email=NEW_EMAIL, firstname="Max")
    good = hubspot_event("contact.creation", contact["id"], now_ms - 5000)
    no_id = {**hubspot_event("contact.creation", "1", now_ms - 4000), "objectId": None}
    bad_time = {**hubspot_event("contact.creation", "2", now_ms - 3000), "occurredAt": "soon"}
    headers, body = hubspot_signed(fake, [no_id, good, bad_time])
    assert post("hubspot", fake, body, headers).status_code == 200
    assert inbox_rows(store) == [("contact.creation", "applied")]
    [error] = inbox_errors(store)
    assert error is not None
    assert "event 2 skipped" in error
    assert "no objectId" in error
    assert emails_found(store, NEW_EMAIL) == {NEW_EMAIL: True}


def test_hubspot_a_batch_with_no_readable_event_is_refused_and_kept_raw(
    store: Store, post: Callable[..., Any]
) -> None:
    fake = FakeHubSpot()
    now_ms = int(time.time() * 1000)
    no_id = {**hubspot_event("contact.creation", "1", now_ms - 4000), "objectId": None}
    headers, body = hubspot_signed(fake, [no_id, {"eventId": "x"}])
    assert post("hubspot", fake, body, headers).status_code == 422
    assert [status for _, status in inbox_rows(store)] == ["rejected"]
    assert record_count(store) == 0


def test_hubspot_a_deleted_contact_that_hubspot_restores_comes_back(
    store: Store, post: Callable[..., Any]
) -> None:
    """A plain deletion removes the contact's data but suppresses nothing: HubSpot can undo it
    for 90 days, and the restore brings the contact back."""
    fake = FakeHubSpot()
    now_ms = int(time.time() * 1000)
    contact = fake.add("contacts", now_ms - 100_000, email=NEW_EMAIL, firstname="Max")
    created = hubspot_event("contact.creation", contact["id"], now_ms - 100_000)
    assert post("hubspot", fake, *as_post_args(hubspot_signed(fake, [created]))).status_code == 200
    assert emails_found(store, NEW_EMAIL) == {NEW_EMAIL: True}
    deleted = hubspot_event("contact.deletion", contact["id"], now_ms - 50_000)
    assert post("hubspot", fake, *as_post_args(hubspot_signed(fake, [deleted]))).status_code == 200
    assert emails_found(store, NEW_EMAIL) == {NEW_EMAIL: False}
    tombstone = get_record(store.conn, RecordKey("hubspot", "contact", contact["id"]))
    assert tombstone is not None  # the key, dated by the deletion, and no data
    assert tombstone.deleted
    assert NEW_EMAIL not in tombstone.payload
    fake.add("contacts", now_ms - 10_000, contact["id"], email=NEW_EMAIL, firstname="Max")
    restored = hubspot_event("contact.restore", contact["id"], now_ms - 10_000)
    assert post("hubspot", fake, *as_post_args(hubspot_signed(fake, [restored]))).status_code == 200
    assert [status for _, status in inbox_rows(store)] == ["applied"] * 3
    assert emails_found(store, NEW_EMAIL) == {NEW_EMAIL: True}


# --- HubSpot behind a proxy ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("public_url", "signed_for", "expected"),
    [
        ("https://ctx.example.com/", "https://ctx.example.com", 200),
        ("https://ctx.example.com", "http://ctx.example.com", 200),  # the URL it arrived at
        (None, "https://ctx.example.com", 401),
        ("https://ctx.example.com", "https://elsewhere.example.com", 401),
    ],
)
def test_hubspot_v3_checks_the_url_hubspot_called_behind_a_tls_proxy(
    store: Store, public_url: str | None, signed_for: str, expected: int
) -> None:
    """The proxy forwards plain HTTP with the host kept; HubSpot signed the https URL it
    called, which is ``CONTEXT_SERVICE_PUBLIC_URL`` plus the route and the query."""
    fake = FakeHubSpot()
    now_ms = int(time.time() * 1000)
    contact = fake.add("contacts", now_ms - 5000, email=NEW_EMAIL, firstname="Max")
    event = hubspot_event("contact.creation", contact["id"], now_ms - 5000)
    path = "/v1/webhooks/hubspot?portal=4242424&x=a:b"
    headers, body = fake.signed([event], signed_for + path, timestamp_ms=now_ms)
    app = create_app(
        make_settings(store.path, public_url=public_url),
        store=store,
        connectors={"hubspot": fake.connector()},
    )
    with TestClient(app=app, base_url="http://ctx.example.com") as client:
        response = client.post(path, content=body, headers=headers)
    assert response.status_code == expected, response.text
    if expected == 401:
        assert inbox_rows(store) == []
    else:
        assert emails_found(store, NEW_EMAIL) == {NEW_EMAIL: True}
