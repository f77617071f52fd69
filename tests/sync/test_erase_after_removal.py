"""A vendor's erasure request that comes after the vendor deleted the record.

Shopify sends ``customers/redact`` days after ``customers/delete``, and HubSpot may send a
``contact.privacyDeletion`` after a ``contact.deletion``. By then the record belongs to no
profile (a Shopify tombstone; a HubSpot contact whose data was removed), but the request is
still the person's: the profile the record left is erased and suppressed, as it is when the
request comes first, and no one else's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from context_service.models import Connector, RecordKey
from context_service.store import Store, profiles
from context_service.store.records import get_record
from context_service.sync import IngestContext, apply_pending, receive
from context_service.trust.erasure import erase_profiles
from integrations._convert import iso_utc
from tests.conftest import Ingest
from tests.integrations.hubspot.fake import FakeHubSpot
from tests.integrations.shopify.fake import FakeShopify
from tests.payloads import shopify_customer, zendesk_user
from tests.trust.helpers import profile_of_email

SHOPIFY_URL = "https://context.example/v1/webhooks/shopify"
HUBSPOT_URL = "https://context.example/v1/webhooks/hubspot"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC).timestamp()
MAX = "max.roe@example.com"
ANN = "ann.lee@example.com"
SHOPIFY_MAX = RecordKey("shopify", "customer", "7001")


def _apply(
    store: Store, ctx: IngestContext, connector: Connector, delivery: tuple[Any, bytes], now: float
) -> None:
    headers, raw = delivery
    url = SHOPIFY_URL if connector.source == "shopify" else HUBSPOT_URL
    assert receive(store, connector, headers, raw, url, now).status == "accepted"
    assert apply_pending(store, {connector.source: connector}, ctx) == 1


def _suppressed(store: Store) -> int:
    return int(store.conn.execute("SELECT count(*) FROM suppressions").fetchone()[0])


# --- Shopify: customers/redact after customers/delete ---------------------------------------


def _shopify_customer(store: Store, ctx: IngestContext, fake: FakeShopify) -> dict[str, Any]:
    body = shopify_customer(7001, MAX, "Max", "Roe", updated_at="2026-11-20T11:00:00Z")[2]
    _apply(store, ctx, fake.connector(), fake.signed("customers/update", body), NOW)
    return body


def _redact(store: Store, ctx: IngestContext, fake: FakeShopify) -> None:
    body = {
        "shop_id": 1,
        "shop_domain": "fake-shop.myshopify.com",
        "customer": {"id": 7001, "email": MAX, "phone": None},
        "orders_to_redact": [],
    }
    _apply(store, ctx, fake.connector(), fake.signed("customers/redact", body), NOW)


def _delete(store: Store, ctx: IngestContext, fake: FakeShopify) -> None:
    delivery = fake.signed("customers/delete", {"id": 7001}, triggered_at="2026-11-20T11:30:00Z")
    _apply(store, ctx, fake.connector(), delivery, NOW)


@pytest.mark.parametrize("deleted_first", [False, True], ids=["redact", "delete-then-redact"])
def test_a_shopify_redaction_erases_the_persons_profile_even_after_customers_delete(
    store: Store, ctx: IngestContext, ingest: Ingest, deleted_first: bool
) -> None:
    fake = FakeShopify()
    _shopify_customer(store, ctx, fake)
    ingest(zendesk_user(55, "Max Roe", MAX), zendesk_user(56, "Ann Lee", ANN))
    max_profile, ann_profile = profile_of_email(store, MAX), profile_of_email(store, ANN)
    assert max_profile is not None
    assert ann_profile is not None
    if deleted_first:
        _delete(store, ctx, fake)
        assert profile_of_email(store, MAX) == max_profile  # the Zendesk user holds it
    _redact(store, ctx, fake)
    assert profiles.canonical_id(store.conn, max_profile) is None
    assert get_record(store.conn, RecordKey("zendesk", "user", "55")) is None
    assert get_record(store.conn, SHOPIFY_MAX) is None
    assert _suppressed(store) >= 2  # the email and the Shopify record, at least
    assert profile_of_email(store, ANN) == ann_profile  # no one else's


def test_a_customer_redacted_after_delete_is_not_brought_back_by_a_late_update(
    store: Store, ctx: IngestContext
) -> None:
    """The customer was alone in their profile, which went with the deletion: the redaction
    still suppresses the record, so Shopify's retry of an older update cannot re-create it."""
    fake = FakeShopify()
    body = _shopify_customer(store, ctx, fake)
    _delete(store, ctx, fake)
    _redact(store, ctx, fake)
    late = fake.signed("customers/update", body, webhook_id="retried-1")
    _apply(store, ctx, fake.connector(), late, NOW)
    assert get_record(store.conn, SHOPIFY_MAX) is None
    assert profile_of_email(store, MAX) is None


# --- HubSpot: contact.privacyDeletion after contact.deletion -----------------------------------


def _hubspot_event(kind: str, object_id: str, occurred_ms: int) -> dict[str, Any]:
    return {
        "eventId": occurred_ms % 1_000_000,
        "subscriptionId": 2_001,
        "portalId": 4_242_424,
        "appId": 1_001,
        "occurredAt": occurred_ms,
        "subscriptionType": kind,
        "attemptNumber": 0,
        "objectId": int(object_id),
    }


def _hubspot(
    store: Store, ctx: IngestContext, fake: FakeHubSpot, kind: str, contact: str, at_ms: int
) -> None:
    delivery = fake.signed([_hubspot_event(kind, contact, at_ms)], HUBSPOT_URL)
    _apply(store, ctx, fake.connector(), delivery, fake.now())


def _hubspot_contact(store: Store, ctx: IngestContext, fake: FakeHubSpot, now_ms: int) -> str:
    contact_id = str(fake.add("contacts", now_ms - 100_000, email=MAX, firstname="Max")["id"])
    _hubspot(store, ctx, fake, "contact.creation", contact_id, now_ms - 100_000)
    return contact_id


@pytest.mark.parametrize("deleted_first", [False, True], ids=["privacy", "deletion-then-privacy"])
def test_a_hubspot_privacy_deletion_erases_the_persons_profile_even_after_a_deletion(
    store: Store, ctx: IngestContext, ingest: Ingest, deleted_first: bool
) -> None:
    fake = FakeHubSpot()
    now_ms = int(fake.now() * 1000)
    contact_id = _hubspot_contact(store, ctx, fake, now_ms)
    ingest(zendesk_user(55, "Max Roe", MAX), zendesk_user(56, "Ann Lee", ANN))
    max_profile, ann_profile = profile_of_email(store, MAX), profile_of_email(store, ANN)
    assert max_profile is not None
    assert ann_profile is not None
    if deleted_first:
        _hubspot(store, ctx, fake, "contact.deletion", contact_id, now_ms - 50_000)
    _hubspot(store, ctx, fake, "contact.privacyDeletion", contact_id, now_ms - 40_000)
    assert profiles.canonical_id(store.conn, max_profile) is None
    assert get_record(store.conn, RecordKey("zendesk", "user", "55")) is None
    assert get_record(store.conn, RecordKey("hubspot", "contact", contact_id)) is None
    assert profile_of_email(store, ANN) == ann_profile  # no one else's


def _contact_deleted_from_a_shared_profile(
    store: Store, ctx: IngestContext, ingest: Ingest
) -> tuple[FakeHubSpot, int, str, RecordKey, str]:
    """Max's HubSpot contact and Zendesk user share a profile; HubSpot deletes the contact.
    Returns the fake, its time in ms, the contact id, its key and the profile it left."""
    fake = FakeHubSpot()
    now_ms = int(fake.now() * 1000)
    contact_id = _hubspot_contact(store, ctx, fake, now_ms)
    ingest(zendesk_user(55, "Max Roe", MAX))
    key = RecordKey("hubspot", "contact", contact_id)
    profile_id = profiles.profile_of_key(store.conn, key)
    assert profile_id is not None
    _hubspot(store, ctx, fake, "contact.deletion", contact_id, now_ms - 50_000)
    return fake, now_ms, contact_id, key, profile_id


def test_a_removed_contact_keeps_no_data_and_a_restore_brings_it_back(
    store: Store, ctx: IngestContext, ingest: Ingest
) -> None:
    """What a plain deletion leaves of a contact whose profile lives on is a bare tombstone:
    its id, no data, dated by the deletion, which HubSpot's restore (dated later) replaces."""
    fake, now_ms, contact_id, key, profile_id = _contact_deleted_from_a_shared_profile(
        store, ctx, ingest
    )
    kept = get_record(store.conn, key)
    assert kept is not None
    assert kept.deleted
    assert kept.updated_at == iso_utc(now_ms - 50_000)
    assert kept.mapped is not None
    assert kept.mapped.person is None
    assert "max" not in kept.payload.lower()  # neither the email nor the name
    assert profiles.profile_of_key(store.conn, key) is None
    assert _suppressed(store) == 0
    fake.touch("contacts", contact_id, now_ms - 10_000)  # a restore sets a newer modification
    _hubspot(store, ctx, fake, "contact.restore", contact_id, now_ms - 10_000)
    assert profiles.profile_of_key(store.conn, key) == profile_id


def test_a_copy_from_before_the_deletion_does_not_bring_the_contact_back(
    store: Store, ctx: IngestContext, ingest: Ingest
) -> None:
    """A copy fetched before the deletion and stored after it (a sync page in flight, a
    delayed delivery) is older than the tombstone: the contact stays deleted."""
    fake, now_ms, contact_id, key, _ = _contact_deleted_from_a_shared_profile(store, ctx, ingest)
    _hubspot(store, ctx, fake, "contact.propertyChange", contact_id, now_ms - 60_000)
    kept = get_record(store.conn, key)
    assert kept is not None
    assert kept.deleted
    assert "max" not in kept.payload.lower()
    assert profiles.profile_of_key(store.conn, key) is None


def test_a_deletion_of_a_contact_never_stored_leaves_a_dated_tombstone(
    store: Store, ctx: IngestContext
) -> None:
    """HubSpot's deletion of a contact the store has not fetched yet (a sync page holding it
    is still in flight): the page's copy, older than the deletion, is not stored live."""
    fake = FakeHubSpot()
    now_ms = int(fake.now() * 1000)
    contact_id = str(fake.add("contacts", now_ms - 100_000, email=MAX, firstname="Max")["id"])
    key = RecordKey("hubspot", "contact", contact_id)
    _hubspot(store, ctx, fake, "contact.deletion", contact_id, now_ms - 50_000)
    tombstone = get_record(store.conn, key)
    assert tombstone is not None
    assert tombstone.deleted
    assert tombstone.updated_at == iso_utc(now_ms - 50_000)
    _hubspot(store, ctx, fake, "contact.creation", contact_id, now_ms - 100_000)  # the old copy
    kept = get_record(store.conn, key)
    assert kept is not None
    assert kept.deleted
    assert profile_of_email(store, MAX) is None


def test_a_contact_alone_in_its_profile_leaves_only_a_dated_tombstone_when_removed(
    store: Store, ctx: IngestContext
) -> None:
    """Its profile went with it; the tombstone holds no data, and a later privacy deletion
    takes it too."""
    fake = FakeHubSpot()
    now_ms = int(fake.now() * 1000)
    contact_id = _hubspot_contact(store, ctx, fake, now_ms)
    key = RecordKey("hubspot", "contact", contact_id)
    _hubspot(store, ctx, fake, "contact.deletion", contact_id, now_ms - 50_000)
    tombstone = get_record(store.conn, key)
    assert tombstone is not None
    assert tombstone.deleted
    assert "max" not in tombstone.payload.lower()
    assert profile_of_email(store, MAX) is None
    _hubspot(store, ctx, fake, "contact.privacyDeletion", contact_id, now_ms - 40_000)
    assert get_record(store.conn, key) is None


def test_erasing_the_profile_also_erases_the_tombstone_of_a_contact_that_left_it(
    store: Store, ctx: IngestContext, ingest: Ingest
) -> None:
    """``DELETE /v1/profiles/{id}`` after HubSpot deleted one of the person's contacts: the
    bare tombstone still names the person by HubSpot's id, so it goes too, and its key is
    suppressed (a restore from HubSpot must not bring the erased person back)."""
    fake, now_ms, contact_id, key, profile_id = _contact_deleted_from_a_shared_profile(
        store, ctx, ingest
    )
    assert get_record(store.conn, key) is not None  # the tombstone
    with store.transaction() as conn:
        erase_profiles(conn, [profile_id], requested_by="t", reason="asked", now="n", region="US")
    assert get_record(store.conn, key) is None
    _hubspot(store, ctx, fake, "contact.restore", contact_id, now_ms - 10_000)
    assert get_record(store.conn, key) is None  # suppressed
