"""Stripe API objects -> canonical records, against Stripe's own example objects."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from context_service.errors import MappingError
from context_service.models import (
    Address,
    Charge,
    Dispute,
    Invoice,
    Mapped,
    PersonFacet,
    RecordKey,
    Subscription,
)
from integrations import stripe
from integrations.stripe import (
    KINDS,
    map_charge,
    map_customer,
    map_dispute,
    map_invoice,
    map_record,
    map_subscription,
)
from tests.integrations.refdata import available, refdata


def example(name: str) -> dict[str, Any]:
    """A fresh copy of Stripe's example object ``stripe/<name>.json``."""
    data: dict[str, Any] = refdata("stripe", f"{name}.json")
    return copy.deepcopy(data)


def fixture(name: str) -> dict[str, Any]:
    """An object from ``stripe/fixtures3.json`` (``deleted_customer``, ``deleted_invoice``...)."""
    data: dict[str, Any] = refdata("stripe", "fixtures3.json")["resources"][name]
    return copy.deepcopy(data)


def utc(seconds: int) -> str:
    """Independent reference conversion of unix seconds to ``...Z`` UTC."""
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def major(minor: int, places: int = 2) -> Decimal:
    return Decimal(minor) / Decimal(10) ** places


def person_of(mapped: Mapped) -> PersonFacet:
    assert mapped.person is not None
    return mapped.person


def subscription_of(mapped: Mapped) -> Subscription:
    assert isinstance(mapped.activity, Subscription)
    return mapped.activity


def invoice_of(mapped: Mapped) -> Invoice:
    assert isinstance(mapped.activity, Invoice)
    return mapped.activity


def charge_of(mapped: Mapped) -> Charge:
    assert isinstance(mapped.activity, Charge)
    return mapped.activity


def dispute_of(mapped: Mapped) -> Dispute:
    assert isinstance(mapped.activity, Dispute)
    return mapped.activity


# --- public surface ---------------------------------------------------------------------------


def test_public_api() -> None:
    assert stripe.SOURCE == "stripe"
    assert stripe.PERSON_KIND == "customer"
    assert KINDS == ("customer", "subscription", "invoice", "charge", "dispute")
    for name in stripe.__all__:
        assert hasattr(stripe, name)


@pytest.mark.parametrize("kind", KINDS)
def test_every_example_object_maps(kind: str) -> None:
    payload = example(kind)
    mapped = map_record(kind, payload)
    assert mapped.key == RecordKey("stripe", kind, payload["id"])
    assert mapped.updated_at is None  # Stripe objects carry no modification time
    assert not mapped.deleted
    assert (mapped.person is not None) == (kind == "customer")
    assert (mapped.activity is not None) == (kind != "customer")
    assert msgspec.json.decode(msgspec.json.encode(mapped), type=Mapped) == mapped


@pytest.mark.parametrize("kind", KINDS)
def test_example_objects_in_fixtures3_map_the_same(kind: str) -> None:
    assert map_record(kind, fixture(kind)) == map_record(kind, example(kind))


def test_unknown_kind_is_a_mapping_error_listing_the_kinds() -> None:
    with pytest.raises(MappingError, match=r"unknown stripe kind 'refund'.*customer, subscription"):
        map_record("refund", example("refund"))


# --- customers --------------------------------------------------------------------------------


def test_example_customer_with_nothing_filled_in() -> None:
    payload = example("customer")
    person = person_of(map_customer(payload))
    assert payload["email"] is None
    assert person.emails == []
    assert person.phones == []
    assert person.addresses == []  # every address field is null
    assert person.links == []
    assert person.created_at == utc(payload["created"])


def test_customer_identity_fields_and_links() -> None:
    payload = example("customer")
    payload.update(
        email="jenny.rosen@example.com",
        phone="+18005550100",
        name="Jenny Rosen",
        address={
            "line1": "510 Townsend St",
            "line2": "Suite 2",
            "city": "San Francisco",
            "state": "CA",
            "postal_code": "94103",
            "country": "US",
        },
        metadata={
            "company": "Rosen Labs",
            "shopify_customer_id": "207119551",
            "hubspot_contact_id": "151",
            "zendesk_user_id": "  ",  # blank: no link
            "favourite_colour": "green",
        },
    )
    person = person_of(map_customer(payload))
    assert person.emails == [payload["email"]]
    assert person.phones == [payload["phone"]]
    assert person.name == payload["name"]
    assert (person.first_name, person.last_name) == (None, None)
    assert person.company == "Rosen Labs"
    assert person.addresses == [
        Address(
            street="510 Townsend St, Suite 2",
            city="San Francisco",
            region="CA",
            postcode="94103",
            country="US",
        )
    ]
    assert person.links == [
        RecordKey("shopify", "customer", "207119551"),
        RecordKey("hubspot", "contact", "151"),
    ]


def test_zendesk_link() -> None:
    payload = example("customer")
    payload["metadata"] = {"zendesk_user_id": "9001"}
    assert person_of(map_customer(payload)).links == [RecordKey("zendesk", "user", "9001")]


def test_deleted_customer_is_a_tombstone() -> None:
    payload = fixture("deleted_customer")
    assert map_record("customer", payload) == Mapped(
        key=RecordKey("stripe", "customer", payload["id"]), deleted=True
    )


def test_deleted_invoice_is_a_tombstone() -> None:
    payload = fixture("deleted_invoice")
    mapped = map_record("invoice", payload)
    assert mapped == Mapped(key=RecordKey("stripe", "invoice", payload["id"]), deleted=True)


# --- subscriptions ----------------------------------------------------------------------------


def _without_transform(payload: dict[str, Any]) -> dict[str, Any]:
    """The published example's price divides the quantity by 1,592,560,163 (``transform_quantity``,
    a generated value): Stripe would bill it 0, so the amount tests use a plain per-unit price."""
    payload["items"]["data"][0]["price"]["transform_quantity"] = None
    return payload


def test_subscription_fields() -> None:
    payload = _without_transform(example("subscription"))
    sub = subscription_of(map_subscription(payload))
    (item,) = payload["items"]["data"]
    price = item["price"]
    assert sub.owners == [RecordKey("stripe", "customer", payload["customer"])]
    assert sub.status == payload["status"]
    # no nickname, no lookup key, product not expanded: the product id names the plan
    assert sub.plan == sub.title == price["product"]
    assert sub.interval == price["recurring"]["interval"]
    assert Decimal(sub.amount or "nan") == major(price["unit_amount"] * item["quantity"])
    assert sub.currency == payload["currency"].upper()
    assert sub.created_at == utc(payload["created"])
    assert sub.current_period_end == utc(item["current_period_end"])  # lives on the item now
    assert sub.cancel_at_period_end is payload["cancel_at_period_end"]
    assert sub.canceled_at == utc(payload["canceled_at"])
    assert sub.trial_end == utc(payload["trial_end"])
    assert sub.latest_invoice is None


def test_subscription_amount_is_unit_amount_times_quantity_in_major_units() -> None:
    payload = _without_transform(example("subscription"))
    payload["items"]["data"][0].update(quantity=3)
    payload["items"]["data"][0]["price"].update(unit_amount=1999)
    assert subscription_of(map_subscription(payload)).amount == "59.97"


def test_subscription_amount_in_a_zero_decimal_currency() -> None:
    payload = _without_transform(example("subscription"))
    payload["currency"] = "jpy"
    payload["items"]["data"][0]["price"].update(unit_amount=500, currency="jpy")
    sub = subscription_of(map_subscription(payload))
    assert (sub.amount, sub.currency) == ("500", "JPY")


def test_subscription_with_expanded_customer_product_and_invoice() -> None:
    payload = example("subscription")
    payload["customer"] = example("customer")
    payload["latest_invoice"] = example("invoice")
    payload["items"]["data"][0]["price"]["product"] = {"id": "prod_1", "name": "Pro plan"}
    sub = subscription_of(map_subscription(payload))
    assert sub.owners == [RecordKey("stripe", "customer", payload["customer"]["id"])]
    assert sub.latest_invoice == payload["latest_invoice"]["id"]
    assert sub.plan == "Pro plan"


@pytest.mark.parametrize(
    ("price", "plan"),
    [
        ({"nickname": "Gold", "lookup_key": "gold_m", "product": {"id": "p", "name": "N"}}, "Gold"),
        ({"nickname": None, "lookup_key": "gold_m", "product": {"id": "p", "name": "N"}}, "N"),
        ({"nickname": None, "lookup_key": "gold_m", "product": "prod_1"}, "gold_m"),
        ({"nickname": "", "lookup_key": None, "product": "prod_1"}, "prod_1"),
        ({"nickname": None, "lookup_key": None, "product": {"id": "prod_2"}}, "prod_2"),
    ],
)
def test_subscription_plan_name_precedence(price: dict[str, Any], plan: str) -> None:
    payload = example("subscription")
    payload["items"]["data"][0]["price"].update(price)
    assert subscription_of(map_subscription(payload)).plan == plan


def test_subscription_in_an_older_api_version() -> None:
    """Before 2025 the period end was on the subscription, not on its items."""
    payload = example("subscription")
    del payload["items"]["data"][0]["current_period_end"]
    payload["current_period_end"] = 1735689600
    assert subscription_of(map_subscription(payload)).current_period_end == "2025-01-01T00:00:00Z"


def test_subscription_without_items() -> None:
    payload = {"id": "sub_1", "object": "subscription", "customer": "cus_1", "status": "canceled"}
    sub = subscription_of(map_subscription(payload))
    assert (sub.plan, sub.amount, sub.interval, sub.status) == (None, None, None, "canceled")


# --- invoices ---------------------------------------------------------------------------------


def test_invoice_fields() -> None:
    payload = example("invoice")
    invoice = invoice_of(map_invoice(payload))
    assert invoice.owners == [RecordKey("stripe", "customer", payload["customer"])]
    assert invoice.status == payload["status"]
    assert invoice.number is None
    assert invoice.title is None
    assert Decimal(invoice.amount or "nan") == major(payload["amount_due"])
    assert Decimal(invoice.amount_paid or "nan") == major(payload["amount_paid"])
    assert Decimal(invoice.amount_remaining or "nan") == major(payload["amount_remaining"])
    assert invoice.currency == payload["currency"].upper()
    assert invoice.attempt_count == payload["attempt_count"]
    assert invoice.next_payment_attempt == utc(payload["next_payment_attempt"])
    # current API: the subscription is under parent.subscription_details
    assert invoice.subscription == payload["parent"]["subscription_details"]["subscription"]
    assert invoice.paid_at is None
    assert invoice.due_date == utc(payload["due_date"])
    assert invoice.created_at == utc(payload["created"])


def test_paid_invoice() -> None:
    payload = example("invoice")
    payload.update(status="paid", number="7FE1103-0001", amount_due=4999, amount_paid=4999)
    payload["status_transitions"]["paid_at"] = 1735689600
    invoice = invoice_of(map_invoice(payload))
    assert (invoice.status, invoice.number, invoice.title) == ("paid", *(["7FE1103-0001"] * 2))
    assert (invoice.amount, invoice.amount_paid) == ("49.99", "49.99")
    assert invoice.paid_at == "2025-01-01T00:00:00Z"


def test_invoice_subscription_in_an_older_api_version() -> None:
    payload = example("invoice")
    payload["parent"] = None
    payload["subscription"] = "sub_legacy"
    assert invoice_of(map_invoice(payload)).subscription == "sub_legacy"


def test_invoice_without_subscription() -> None:
    payload = example("invoice")
    payload["parent"] = {"type": "quote_details", "subscription_details": None}
    assert invoice_of(map_invoice(payload)).subscription is None


# --- charges ----------------------------------------------------------------------------------


def test_charge_fields() -> None:
    payload = example("charge")
    charge = charge_of(map_charge(payload))
    card = payload["payment_method_details"]["card"]
    assert charge.owners == []  # the example charge has no customer
    assert (payload["status"], payload["captured"]) == ("succeeded", False)  # a hold
    assert charge.status == "authorized"
    assert Decimal(charge.amount or "nan") == major(payload["amount"])
    assert charge.currency == payload["currency"].upper()
    assert charge.refunded is payload["refunded"]
    assert charge.amount_refunded is None  # a hold: nothing taken, nothing paid back
    captured = charge_of(map_charge({**payload, "captured": True, "amount_refunded": 50}))
    assert captured.status == "succeeded"
    assert Decimal(captured.amount_refunded or "nan") == major(50)
    assert (charge.card_brand, charge.card_last4) == (card["brand"], card["last4"])
    assert charge.disputed is payload["disputed"]
    assert charge.refunds == []
    assert charge.created_at == utc(payload["created"])


def test_charge_never_carries_more_of_the_card_than_brand_and_last4() -> None:
    payload = example("charge")
    card = payload["payment_method_details"]["card"]
    encoded = msgspec.json.encode(map_charge(payload))
    for secret in ("fingerprint", "exp_month", "exp_year", "client_secret", "routing_number"):
        assert secret.encode() not in encoded
    assert card["fingerprint"].encode() not in encoded
    assert payload["source"]["client_secret"].encode() not in encoded
    assert str(card["exp_year"]).encode() not in encoded


def test_failed_charge_of_a_customer_with_refunds() -> None:
    payload = example("charge")
    refund = example("refund")
    failed_refund = dict(refund, id="re_failed", status="failed")
    payload.update(
        customer={"id": "cus_QXg1o8vcGmoR32", "object": "customer"},
        status="failed",
        failure_code="card_declined",
        failure_message="Your card was declined.",
        refunded=True,
        amount_refunded=refund["amount"],
        refunds={"object": "list", "data": [refund, failed_refund], "has_more": False},
    )
    charge = charge_of(map_charge(payload))
    assert charge.owners == [RecordKey("stripe", "customer", "cus_QXg1o8vcGmoR32")]
    assert (charge.status, charge.failure_code) == ("failed", "card_declined")
    assert charge.failure_message == payload["failure_message"]
    assert charge.refunded is True
    (mapped_refund,) = charge.refunds  # the failed refund returned no money
    assert mapped_refund.external_id == refund["id"]
    assert Decimal(mapped_refund.amount or "nan") == major(refund["amount"])
    assert mapped_refund.currency == refund["currency"].upper()
    assert mapped_refund.created_at == utc(refund["created"])


def test_charge_without_card_details() -> None:
    payload = example("charge")
    payload["payment_method_details"] = {"type": "sepa_debit", "sepa_debit": {"last4": "3000"}}
    charge = charge_of(map_charge(payload))
    assert (charge.card_brand, charge.card_last4) == (None, None)


# --- disputes ---------------------------------------------------------------------------------


def test_dispute_fields() -> None:
    payload = example("dispute")
    dispute = dispute_of(map_dispute(payload))
    assert dispute.owners == [RecordKey("stripe", "charge", payload["charge"])]
    assert dispute.charge == payload["charge"]
    assert dispute.status == payload["status"]
    assert dispute.reason == payload["reason"]
    assert Decimal(dispute.amount or "nan") == major(payload["amount"])
    assert dispute.currency == payload["currency"].upper()
    assert dispute.evidence_due_by == utc(payload["evidence_details"]["due_by"])
    assert dispute.created_at == utc(payload["created"])


def test_dispute_with_expanded_charge() -> None:
    payload = example("dispute")
    payload["charge"] = example("charge")
    assert dispute_of(map_dispute(payload)).charge == payload["charge"]["id"]


@pytest.mark.parametrize("charge", [None, "", {"object": "charge"}])
def test_dispute_without_charge_names_the_field(charge: Any) -> None:
    payload = example("dispute")
    payload["charge"] = charge
    with pytest.raises(MappingError, match="charge"):
        map_dispute(payload)


# --- malformed payloads -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": None}, "$.id"),
        ({"id": ["cus_1"]}, "$.id"),
        ({"id": 42}, "$.id"),
        ({"id": ""}, "`id`"),
        ({"created": "yesterday"}, "$.created"),
        ({"created": 10**20}, "`created`"),
        ({"currency": 840}, "$.currency"),
        ({"object": "payment_intent"}, "`object`"),
    ],
)
def test_malformed_object_names_the_field(kind: str, change: dict[str, Any], field: str) -> None:
    payload = {**example(kind), **change}
    with pytest.raises(MappingError) as caught:
        map_record(kind, payload)
    assert field in caught.value.detail
    assert caught.value.detail.startswith(f"stripe {kind}")


@pytest.mark.parametrize("kind", KINDS)
def test_missing_id_names_the_field(kind: str) -> None:
    payload = example(kind)
    del payload["id"]
    with pytest.raises(MappingError, match="missing required field `id`"):
        map_record(kind, payload)


@pytest.mark.parametrize(
    ("kind", "change", "field"),
    [
        ("charge", {"amount": "100"}, "$.amount"),
        ("charge", {"amount": 10**40}, "`amount`"),
        ("charge", {"amount": 1.5}, "$.amount"),
        ("charge", {"refunds": {"data": [{"amount": 1}]}}, "$.refunds.data[0]"),
        ("charge", {"payment_method_details": {"card": {"last4": 4242}}}, "last4"),
        ("customer", {"metadata": {"shopify_customer_id": 207119551}}, "$.metadata"),
        ("customer", {"email": ["a@example.com"]}, "$.email"),
        ("customer", {"deleted": "yes"}, "$.deleted"),
        ("subscription", {"items": {"data": [{"quantity": "1"}]}}, "quantity"),
        ("subscription", {"cancel_at_period_end": "false"}, "$.cancel_at_period_end"),
        ("invoice", {"amount_due": None, "amount_paid": "0"}, "$.amount_paid"),
        ("invoice", {"status_transitions": {"paid_at": "now"}}, "paid_at"),
        ("dispute", {"evidence_details": {"due_by": -(10**15)}}, "due_by"),
    ],
)
def test_wrong_types_name_the_field(kind: str, change: dict[str, Any], field: str) -> None:
    payload = {**example(kind), **change}
    with pytest.raises(MappingError) as caught:
        map_record(kind, payload)
    assert field in caught.value.detail


@pytest.mark.parametrize("payload", [None, [], "cus_1", 42])
def test_non_object_payload_is_a_mapping_error(payload: Any) -> None:
    with pytest.raises(MappingError, match="must be a JSON object"):
        map_record("customer", payload)


# --- properties -------------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=10,
)
FIELDS = st.sampled_from(
    [
        "id",
        "object",
        "deleted",
        "customer",
        "created",
        "amount",
        "currency",
        "status",
        "items",
        "parent",
        "refunds",
        "payment_method_details",
        "charge",
        "metadata",
        "address",
    ]
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from([*KINDS, "nope"]), payload=st.dictionaries(FIELDS, JSON) | JSON)
def test_arbitrary_payloads_raise_only_mapping_error(kind: str, payload: Any) -> None:
    try:
        mapped = map_record(kind, payload)
    except MappingError:
        return
    assert mapped.key.source == "stripe"
    assert mapped.key.external_id


@pytest.mark.skipif(not available(), reason="vendor reference data not found")
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_corrupted_examples_raise_only_mapping_error(data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(KINDS))
    payload = example(kind)
    key = data.draw(st.sampled_from(sorted(payload)))
    payload[key] = data.draw(JSON)
    try:
        mapped = map_record(kind, payload)
    except MappingError:
        return
    assert msgspec.json.decode(msgspec.json.encode(mapped), type=Mapped) == mapped
