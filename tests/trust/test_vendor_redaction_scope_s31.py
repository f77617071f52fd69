"""Session 31's erasure findings: what a vendor's redaction reaches, and what suppression sees.

- A redaction request names one vendor record: it erases that record and the records of its
  profile that hold one of its emails, never a stranger the engine joined on a name and phone.
- Guest checkouts and charges without a customer name the buyer: an erasure takes them, and
  the guard keeps new ones out.
- Suppression reads a mailbox as the lookup does (``+tag``, Gmail's dots).
- A payload that cannot be mapped is checked for phones too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from context_service.errors import ProfileNotFound
from context_service.models import RecordKey
from context_service.snapshot import lookup
from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, ingest_batch
from context_service.sync.erase import erase_records
from context_service.trust.suppression import Guard
from tests.payloads import shopify_customer, stripe_customer
from tests.trust.helpers import copy_demo, erase, profile_of_email

MAYA = "maya.patel@example.com"
MAYA_PHONE = "+14155550134"
EVE = "eve@evil.example"
EVE_KEY = RecordKey("shopify", "customer", "8880001")
NOW = "2026-06-01T00:00:00Z"
ADDRESS = {
    "first_name": "Maya",
    "last_name": "Patel",
    "address1": "742 Valencia St",
    "city": "San Francisco",
    "zip": "94110",
    "country_code": "US",
    "phone": MAYA_PHONE,
}


@pytest.fixture
def maya_store(demo_db: Path, tmp_path: Path) -> Any:
    store = Store(copy_demo(demo_db, tmp_path))
    yield store
    store.close()


def _ingest(store: Store, ctx: IngestContext, *items: tuple[str, str, dict[str, Any]]) -> Any:
    return ingest_batch(store, [RawPayload(*item) for item in items], ctx)


def _records_with_email(store: Store, email: str) -> list[RecordKey]:
    rows = store.conn.execute(
        "SELECT r.source, r.kind, r.external_id FROM records r JOIN identifiers i "
        "ON i.record_id = r.id WHERE i.kind = 'email' AND i.value = ?",
        (email,),
    )
    return [RecordKey(*row) for row in rows]


def _held(store: Store, key: RecordKey) -> bool:
    row = store.conn.execute(
        "SELECT 1 FROM records WHERE source = ? AND kind = ? AND external_id = ?",
        (key.source, key.kind, key.external_id),
    ).fetchone()
    return row is not None


def _suppressed(store: Store, emails: list[str], phones: list[str]) -> bool:
    guard = Guard.load(store.conn, "US")
    return guard is not None and guard.names_erased(RecordKey("x", "y", "z"), emails, phones)


def _redact(store: Store, ctx: IngestContext, key: RecordKey) -> None:
    with store.transaction() as conn:
        erase_records(conn, [key], "US", NOW, ctx.thresholds, links=ctx.links)


def _plant_eve(store: Store, ctx: IngestContext) -> str:
    """Eve's Shopify customer with her own email and Maya's name and phone: the engine joins
    it to Maya's profile. Returns that profile."""
    maya = profile_of_email(store, MAYA)
    _ingest(store, ctx, shopify_customer(8880001, EVE, "Maya", "Patel", "+1 415 555 0134"))
    assert profile_of_email(store, EVE) == maya is not None
    return maya


# --- 1. a redaction for a planted record ------------------------------------------------------


def test_a_redaction_for_a_planted_record_erases_it_and_not_the_customer_it_joined(
    maya_store: Store, ctx: IngestContext
) -> None:
    maya = _plant_eve(maya_store, ctx)
    mayas = _records_with_email(maya_store, MAYA)
    _redact(maya_store, ctx, EVE_KEY)
    assert not _held(maya_store, EVE_KEY)
    assert all(_held(maya_store, key) for key in mayas)
    assert profile_of_email(maya_store, MAYA) == maya
    assert lookup.by_email(maya_store.conn, MAYA).profile_id == maya
    assert lookup.by_phone(maya_store.conn, MAYA_PHONE, "US").profile_id == maya  # Zendesk too
    assert _suppressed(maya_store, [EVE], [])
    assert not _suppressed(maya_store, [MAYA], [])
    assert not _suppressed(maya_store, [], [MAYA_PHONE])  # Maya's records keep it
    stripe = next(key for key in mayas if key.source == "stripe")
    report = _ingest(maya_store, ctx, stripe_customer(stripe.external_id, MAYA, "Maya Patel"))
    assert report.suppressed == 0
    assert "8880001" not in lookup.by_email(maya_store.conn, MAYA).text


def test_a_redaction_for_mayas_own_customer_still_erases_every_record_with_her_email(
    maya_store: Store, ctx: IngestContext
) -> None:
    maya = profile_of_email(maya_store, MAYA)
    mayas = _records_with_email(maya_store, MAYA)
    shopify = next(key for key in mayas if key.source == "shopify" and key.kind == "customer")
    _redact(maya_store, ctx, shopify)
    assert not any(_held(maya_store, key) for key in mayas)
    assert profile_of_email(maya_store, MAYA) is None
    with pytest.raises(ProfileNotFound):  # her helpdesk user, known only by her phone, too
        lookup.by_phone(maya_store.conn, MAYA_PHONE, "US")
    with pytest.raises(ProfileNotFound):
        lookup.by_email(maya_store.conn, MAYA)
    assert maya is not None
    assert _suppressed(maya_store, [MAYA], [MAYA_PHONE])


# --- 2. guest checkouts and charges without a customer ---------------------------------------


def _guest_order(order_id: int, customer: dict[str, Any] | None = None) -> tuple[str, str, Any]:
    return (
        "shopify",
        "order",
        {
            "id": order_id,
            "name": f"#{order_id % 10000}",
            "order_number": order_id % 10000,
            "email": MAYA,
            "phone": MAYA_PHONE,
            "created_at": "2026-01-02T00:00:00Z",
            "updated_at": "2026-01-02T00:00:00Z",
            "cancelled_at": None,
            "closed_at": None,
            "financial_status": "paid",
            "fulfillment_status": None,
            "total_price": "10.00",
            "currency": "USD",
            "customer": customer,
            "shipping_address": ADDRESS,
            "billing_address": ADDRESS,
            "line_items": [{"title": "Lamp", "quantity": 1, "sku": "L1"}],
            "fulfillments": [],
            "refunds": [],
        },
    )


def _guest_charge(charge_id: str, phone_only: bool = False) -> tuple[str, str, Any]:
    email = None if phone_only else MAYA
    details = {"email": email, "name": "Maya Patel", "phone": MAYA_PHONE, "address": None}
    return (
        "stripe",
        "charge",
        {
            "id": charge_id,
            "object": "charge",
            "customer": None,
            "amount": 4900,
            "currency": "usd",
            "status": "succeeded",
            "paid": True,
            "failure_code": None,
            "failure_message": None,
            "refunded": False,
            "amount_refunded": 0,
            "disputed": False,
            "created": 1735689600,
            "billing_details": details,
            "receipt_email": email,
            "payment_method_details": {"type": "card", "card": {"brand": "visa", "last4": "4242"}},
        },
    )


def test_erasing_maya_takes_her_guest_checkouts_and_charges_without_a_customer(
    maya_store: Store, ctx: IngestContext
) -> None:
    report = _ingest(
        maya_store,
        ctx,
        _guest_order(5550001),
        _guest_charge("ch_guestmaya01"),
        _guest_charge("ch_guestphone1", phone_only=True),
    )
    assert report.inserted == 3
    maya = profile_of_email(maya_store, MAYA)
    assert maya is not None
    erase(maya_store, maya)
    for key in (
        RecordKey("shopify", "order", "5550001"),
        RecordKey("stripe", "charge", "ch_guestmaya01"),
        RecordKey("stripe", "charge", "ch_guestphone1"),
    ):
        assert not _held(maya_store, key)


def test_after_the_erasure_guest_orders_naming_her_are_suppressed(
    maya_store: Store, ctx: IngestContext
) -> None:
    maya = profile_of_email(maya_store, MAYA)
    assert maya is not None
    erase(maya_store, maya)
    assert _ingest(maya_store, ctx, _guest_order(5550002)).suppressed == 1
    assert _ingest(maya_store, ctx, _guest_charge("ch_guestphone2", phone_only=True)).suppressed
    # An order that comes before its (re-created) customer names no one held yet.
    early = _guest_order(5550003, {"id": 7770001, "email": MAYA})
    assert _ingest(maya_store, ctx, early).suppressed == 1
    assert not _held(maya_store, RecordKey("shopify", "order", "5550003"))


def test_a_guest_order_of_someone_else_is_kept(maya_store: Store, ctx: IngestContext) -> None:
    maya = profile_of_email(maya_store, MAYA)
    assert maya is not None
    erase(maya_store, maya)
    other = _guest_order(5550004)
    other[2].update(email="zoe.quinn@example.org", phone="+14155550199")
    other[2]["billing_address"] = other[2]["shipping_address"] = dict(ADDRESS, phone=None)
    assert _ingest(maya_store, ctx, other).inserted == 1


# --- 3. a mailbox as the lookup reads it ---------------------------------------------------------


@pytest.mark.parametrize(
    ("erased", "returning"),
    [
        (MAYA, "maya.patel+shop@example.com"),
        ("maya.patel+shop@example.com", MAYA),
        ("maya.patel@gmail.com", "m.a.y.a.patel+x@gmail.com"),
    ],
)
def test_the_same_mailbox_written_another_way_is_suppressed(
    store: Store, ctx: IngestContext, erased: str, returning: str
) -> None:
    _ingest(store, ctx, shopify_customer(101, erased, "Maya", "Patel"))
    profile = profile_of_email(store, erased)
    assert profile is not None
    erase(store, profile)
    report = _ingest(store, ctx, shopify_customer(102, returning, "Maya", "Patel"))
    assert report.suppressed == 1
    with pytest.raises(ProfileNotFound):
        lookup.by_email(store.conn, erased)


def test_another_mailbox_at_the_same_domain_is_not_suppressed(
    store: Store, ctx: IngestContext
) -> None:
    _ingest(store, ctx, shopify_customer(101, MAYA, "Maya", "Patel"))
    profile = profile_of_email(store, MAYA)
    assert profile is not None
    erase(store, profile)
    report = _ingest(store, ctx, shopify_customer(102, "mayapatel@example.com", "Maya", "Patel"))
    assert report.inserted == 1


# --- 4. a rejected payload with only her phone ---------------------------------------------------


def test_a_payload_that_cannot_be_mapped_naming_her_phone_is_suppressed(
    store: Store, ctx: IngestContext
) -> None:
    _ingest(store, ctx, shopify_customer(101, MAYA, "Maya", "Patel", MAYA_PHONE))
    profile = profile_of_email(store, MAYA)
    assert profile is not None
    erase(store, profile)
    bad = shopify_customer(7770009, None, "Maya", "Patel", "+1 (415) 555-0134")
    bad[2]["updated_at"] = "not-a-date"
    report = _ingest(store, ctx, bad)
    assert report.suppressed == 1
    assert report.rejected == 0
    assert not _held(store, RecordKey("shopify", "customer", "7770009"))
