"""Shopify REST / webhook payloads -> canonical records, against Shopify's own examples."""

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
from context_service.models import Address, Mapped, Order, PersonFacet, RecordKey
from integrations import shopify
from integrations.shopify import (
    KINDS,
    map_customer,
    map_customer_deletion,
    map_deletion,
    map_fulfillment,
    map_order,
    map_record,
    map_refund,
)
from tests.integrations.refdata import available, shopify_case, shopify_params

CUSTOMERS = shopify_params("customer", "customer")
ORDERS = shopify_params("order", "order") + shopify_params("customer", "order")
FULFILLMENTS = shopify_params("fulfillment", "fulfillment")
REFUNDS = shopify_params("refund", "refund")


def utc(value: str) -> str:
    """Independent reference conversion of an ISO timestamp with offset to ``...Z`` UTC."""
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def person_of(mapped: Mapped) -> PersonFacet:
    assert mapped.person is not None
    return mapped.person


def order_of(mapped: Mapped) -> Order:
    assert isinstance(mapped.activity, Order)
    return mapped.activity


def bob() -> dict[str, Any]:
    """Bob Norman: the fully populated customer of the customers list example."""
    return copy.deepcopy(shopify_case("customer", "test_1", "customer", index=1))


def order_1001() -> dict[str, Any]:
    """Order #1001 from the orders list example (customer, fulfillment, refund)."""
    return copy.deepcopy(shopify_case("order", "test_1", "order"))


def roundtrip(mapped: Mapped) -> Mapped:
    """What the store will read back: the record must survive JSON encode/decode."""
    return msgspec.json.decode(msgspec.json.encode(mapped), type=Mapped)


# --- public surface ---------------------------------------------------------------------------


def test_public_api() -> None:
    assert shopify.SOURCE == "shopify"
    assert shopify.PERSON_KIND == "customer"
    assert KINDS == ("customer", "order")
    for name in shopify.__all__:
        assert hasattr(shopify, name)


def test_unknown_kind_is_a_mapping_error_listing_the_kinds() -> None:
    with pytest.raises(MappingError, match=r"unknown shopify kind 'refund'.*customer, order"):
        map_record("refund", {"id": 1})


# --- customers --------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", CUSTOMERS)
def test_every_example_customer_maps(payload: dict[str, Any]) -> None:
    mapped = map_record("customer", payload)
    person = person_of(mapped)
    assert mapped.key == RecordKey("shopify", "customer", str(payload["id"]))
    assert not mapped.deleted
    assert mapped.activity is None
    assert person.emails == ([payload["email"]] if payload.get("email") else [])
    assert person.first_name == payload.get("first_name")
    assert person.last_name == payload.get("last_name")
    if payload.get("updated_at"):
        assert mapped.updated_at == utc(payload["updated_at"])
    if payload.get("phone"):
        assert person.phones[0] == payload["phone"]
    assert roundtrip(mapped) == mapped


def test_customer_identity_fields() -> None:
    payload = bob()
    person = person_of(map_customer(payload))
    default = payload["default_address"]
    assert person.emails == [payload["email"]]
    assert person.phones == [payload["phone"], default["phone"]]
    assert person.name is None  # both first and last name are present
    assert person.addresses == [
        Address(
            street=default["address1"],  # address2 is "" and is left out
            city=default["city"],
            region=default["province_code"],
            postcode=default["zip"],
            country=default["country_code"],
        )
    ]
    assert person.attributes == {"tags": payload["tags"], "state": payload["state"]}
    assert person.created_at == utc(payload["created_at"])
    assert person.created_at.endswith("Z")
    assert person.links == []


def test_customer_timestamps_are_converted_to_utc() -> None:
    payload = {"id": 1, "created_at": "2025-04-02T11:26:48-05:00", "updated_at": "2025-04-02"}
    mapped = map_customer(payload)
    assert person_of(mapped).created_at == "2025-04-02T16:26:48Z"
    assert mapped.updated_at == "2025-04-02T00:00:00Z"


def test_address_two_is_joined_and_names_fall_back() -> None:
    payload = bob()
    payload["addresses"][0].update(
        address2="Apt 4", province_code=None, country_code=None, company="Acme"
    )
    payload["default_address"] = payload["addresses"][0]
    person = person_of(map_customer(payload))
    assert person.addresses == [
        Address(
            street="Chestnut Street 92, Apt 4",
            city="Louisville",
            region=payload["addresses"][0]["province"],
            postcode="40202",
            country=payload["addresses"][0]["country"],
        )
    ]
    assert person.company == "Acme"


def test_other_addresses_and_their_phones_are_kept_once() -> None:
    payload = bob()
    second = dict(payload["addresses"][0], id=2, address1="1 Main St", phone=payload["phone"])
    payload["addresses"].append(second)
    person = person_of(map_customer(payload))
    assert [address.street for address in person.addresses] == ["Chestnut Street 92", "1 Main St"]
    assert person.phones == [payload["phone"], payload["default_address"]["phone"]]


def test_note_and_tags_become_attributes() -> None:
    payload = shopify_case("customer", "test_16", "customer")
    attributes = person_of(map_customer(payload)).attributes
    assert attributes["note"] == payload["note"]
    assert attributes["tags"] == payload["tags"]


def test_guest_customer_without_contact_data() -> None:
    payload: dict[str, Any] = {
        "id": 5,
        "email": None,
        "phone": None,
        "first_name": None,
        "last_name": None,
        "addresses": [],
        "default_address": None,
        "tags": "",
        "note": "",
    }
    mapped = map_customer(payload)
    assert mapped.key == RecordKey("shopify", "customer", "5")
    assert person_of(mapped) == PersonFacet()


@pytest.mark.parametrize(
    ("first", "last", "name"),
    [
        ("Cher", None, "Cher"),
        (None, "Prince", "Prince"),
        ("Bob", "Norman", None),
        (None, None, None),
    ],
)
def test_name_is_set_only_when_one_part_is_present(
    first: str | None, last: str | None, name: str | None
) -> None:
    person = person_of(map_customer({"id": 1, "first_name": first, "last_name": last}))
    assert (person.first_name, person.last_name, person.name) == (first, last, name)


def test_graphql_gid_is_reduced_to_the_numeric_id() -> None:
    mapped = map_customer({"id": "gid://shopify/Customer/207119551"})
    assert mapped.key == RecordKey("shopify", "customer", "207119551")


def test_customer_deletion_is_a_tombstone() -> None:
    mapped = map_customer_deletion({"id": 207119551})
    assert mapped == Mapped(key=RecordKey("shopify", "customer", "207119551"), deleted=True)
    assert map_deletion("order", {"id": 450789469}).key == RecordKey(
        "shopify", "order", "450789469"
    )


def test_deletion_of_an_unknown_kind_or_without_id_fails() -> None:
    with pytest.raises(MappingError, match="unknown shopify kind"):
        map_deletion("product", {"id": 1})
    with pytest.raises(MappingError, match="`id`"):
        map_customer_deletion({})


# --- orders -----------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", ORDERS)
def test_every_example_order_maps(payload: dict[str, Any]) -> None:
    mapped = map_record("order", payload)
    order = order_of(mapped)
    assert mapped.key == RecordKey("shopify", "order", str(payload["id"]))
    assert order.title == payload["name"]
    expected_number = payload.get("order_number")
    assert order.number == (str(expected_number) if expected_number else payload["name"])
    assert Decimal(order.amount or "nan") == Decimal(payload["total_price"])
    assert len(order.line_items) == len(payload["line_items"])
    if payload.get("currency"):
        assert order.currency == payload["currency"].upper()
    if payload.get("customer"):
        assert order.owners == [RecordKey("shopify", "customer", str(payload["customer"]["id"]))]
    else:
        assert order.owners == []
    assert mapped.updated_at == order.updated_at
    assert roundtrip(mapped) == mapped


def test_order_fields() -> None:
    payload = order_1001()
    mapped = map_order(payload)
    order = order_of(mapped)
    assert order.status == "open"
    assert order.title == "#1001"
    assert order.number == str(payload["order_number"])
    assert order.amount == payload["total_price"]
    assert order.currency == "USD"
    assert order.financial_status == payload["financial_status"]
    assert payload["fulfillment_status"] is None
    assert order.fulfillment_status == "unfulfilled"
    assert order.created_at == utc(payload["created_at"])
    assert mapped.updated_at == utc(payload["updated_at"])
    assert order.cancelled_at is None
    assert order.note is None
    # Each line by its variant's name; two of the three were removed (current_quantity 0):
    # none left of the one ordered, said by ``ordered_quantity``, the title kept plain.
    assert [
        (item.title, item.quantity, item.ordered_quantity, item.sku) for item in order.line_items
    ] == [
        ("IPod Nano - 8gb - green", 0, 1, "IPOD2008GREEN"),
        ("IPod Nano - 8gb - red", 1, None, "IPOD2008RED"),
        ("IPod Nano - 8gb - black", 0, 1, "IPOD2008BLACK"),
    ]
    assert [item["current_quantity"] for item in payload["line_items"]] == [0, 1, 0]


def test_order_fulfillments() -> None:
    payload = order_1001()
    (fulfillment,) = order_of(map_order(payload)).fulfillments
    (source,) = payload["fulfillments"]
    assert fulfillment.status == source["status"]
    assert fulfillment.shipment_status is None
    assert fulfillment.tracking_company == source["tracking_company"]
    assert fulfillment.tracking_numbers == source["tracking_numbers"]
    assert fulfillment.tracking_urls == source["tracking_urls"]
    assert fulfillment.created_at == utc(source["created_at"])


def test_order_refunds_sum_successful_refund_transactions() -> None:
    payload = order_1001()
    (refund,) = order_of(map_order(payload)).refunds
    (source,) = payload["refunds"]
    expected = sum(
        Decimal(t["amount"])
        for t in source["transactions"]
        if t["kind"] == "refund" and t["status"] == "success"
    )
    assert refund.external_id == str(source["id"])
    assert Decimal(refund.amount or "nan") == expected
    assert refund.currency == "USD"
    assert refund.note == source["note"]
    assert refund.created_at == utc(source["created_at"])


@pytest.mark.parametrize(
    ("case", "status"), [("test_1", "open"), ("test_11", "closed"), ("test_13", "cancelled")]
)
def test_order_status(case: str, status: str) -> None:
    payload = shopify_case("order", case, "order")
    order = order_of(map_order(payload))
    assert order.status == status
    if status == "cancelled":
        assert order.cancelled_at == utc(payload["cancelled_at"])


def test_partial_order_leaves_unknown_fields_unknown() -> None:
    """``fields=id,line_items,name,total_price``: an absent fulfillment_status is not 'unfulfilled'."""
    payload = shopify_case("order", "test_7", "order")
    order = order_of(map_order(payload))
    assert order.fulfillment_status is None
    assert order.owners == []
    assert order.number == payload["name"]


def test_order_without_customer_has_no_owner() -> None:
    payload = shopify_case("order", "test_16", "order")
    assert payload.get("customer") is None
    order = order_of(map_order(payload))
    assert order.owners == []
    assert order.currency == payload["currency"]


def test_order_fulfillment_status_is_kept_when_set() -> None:
    payload = order_1001()
    payload["fulfillment_status"] = "partial"
    assert order_of(map_order(payload)).fulfillment_status == "partial"


def test_order_note_and_line_item_without_title() -> None:
    payload = order_1001()
    payload["note"] = "Leave at the back door"
    payload["line_items"] = [{"name": "Gift card", "quantity": None}]
    order = order_of(map_order(payload))
    assert order.note == "Leave at the back door"
    assert [(item.title, item.quantity, item.sku) for item in order.line_items] == [
        ("Gift card", 1, None)
    ]


# --- fulfillments and refunds on their own ----------------------------------------------------


@pytest.mark.parametrize("payload", FULFILLMENTS)
def test_every_example_fulfillment_maps(payload: dict[str, Any]) -> None:
    fulfillment = map_fulfillment(payload)
    assert fulfillment.status == payload["status"]
    # surrounding whitespace is stripped (one example number ends in a newline)
    assert fulfillment.tracking_numbers == [n.strip() for n in payload["tracking_numbers"]]
    assert fulfillment.tracking_urls == payload["tracking_urls"]
    assert fulfillment.created_at == utc(payload["created_at"])


def test_fulfillment_falls_back_to_singular_tracking_fields() -> None:
    payload = {
        "status": "success",
        "shipment_status": "in_transit",
        "tracking_number": "1Z999",
        "tracking_url": "https://example.com/track/1Z999",
    }
    fulfillment = map_fulfillment(payload)
    assert fulfillment.tracking_numbers == ["1Z999"]
    assert fulfillment.tracking_urls == ["https://example.com/track/1Z999"]
    assert fulfillment.shipment_status == "in_transit"


@pytest.mark.parametrize("payload", REFUNDS)
def test_every_example_refund_maps_or_names_the_missing_id(payload: dict[str, Any]) -> None:
    if payload.get("id") is None:  # refunds/calculate suggestions have no id
        with pytest.raises(MappingError, match="`id`"):
            map_refund(payload, "usd")
        return
    refund = map_refund(payload, "usd")
    expected = sum(
        Decimal(t["amount"])
        for t in payload["transactions"]
        if t["kind"] == "refund" and t["status"] == "success"
    )
    assert refund.external_id == str(payload["id"])
    assert Decimal(refund.amount or "nan") == expected
    assert refund.currency == "USD"


def test_refund_amount_ignores_failed_and_non_refund_transactions() -> None:
    payload = {
        "id": 9,
        "transactions": [
            {"kind": "refund", "status": "success", "amount": "10.00"},
            {"kind": "refund", "amount": "5.5"},  # no status: counted
            {"kind": "refund", "status": "failure", "amount": "99.00"},
            {"kind": "suggested_refund", "amount": "42.00"},
        ],
    }
    refund = map_refund(payload, "eur")
    assert refund.amount == "15.50"
    assert refund.currency == "EUR"  # no transaction currency: the order's


def test_three_decimal_currency_amounts_are_not_rounded_to_cents() -> None:
    payload = {
        "id": 1,
        "total_price": "12.345",
        "currency": "KWD",
        "refunds": [{"id": 2, "transactions": [{"kind": "refund", "amount": "1.005"}]}],
    }
    order = map_order(payload).activity
    assert isinstance(order, Order)
    assert order.amount == "12.345"
    assert [refund.amount for refund in order.refunds] == ["1.005"]
    trailing_zero = map_order({"id": 1, "total_price": "12.340", "currency": "KWD"}).activity
    assert isinstance(trailing_zero, Order)
    assert trailing_zero.amount == "12.34"  # the same value as before: cents when they suffice


def test_refund_without_refund_transactions_has_no_amount() -> None:
    assert map_refund({"id": 9, "transactions": []}).amount is None


# --- malformed payloads -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "`id`"),
        ({"id": None}, "$.id"),
        ({"id": [1, 2]}, "$.id"),
        ({"id": {"nested": 1}}, "$.id"),
        ({"id": True}, "$.id"),
        ({"id": ""}, "`id`"),
        ({"id": "  "}, "`id`"),
        ({"id": 1, "updated_at": "yesterday"}, "`updated_at`"),
        ({"id": 1, "updated_at": 1712345678}, "$.updated_at"),
        ({"id": 1, "created_at": "0001-01-01T00:00:00+05:00"}, "`created_at`"),
    ],
)
def test_malformed_payload_names_the_field(kind: str, payload: Any, field: str) -> None:
    with pytest.raises(MappingError) as caught:
        map_record(kind, payload)
    assert field in caught.value.detail
    assert f"shopify {kind}" in caught.value.detail


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": 5}, "$.email"),
        ({"addresses": {"address1": "x"}}, "$.addresses"),
        ({"default_address": {"zip": 40202}}, "$.default_address.zip"),
        ({"tags": ["vip"]}, "$.tags"),
    ],
)
def test_customer_with_wrong_types_names_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(MappingError) as caught:
        map_customer({"id": 1, **change})
    assert caught.value.detail.startswith("shopify customer: ")
    assert field in caught.value.detail


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"total_price": "abc"}, "`total_price`"),
        ({"total_price": "1e40"}, "`total_price`"),
        ({"total_price": "NaN"}, "`total_price`"),
        ({"total_price": 598.94}, "$.total_price"),
        ({"line_items": [{"title": "x", "quantity": "two"}]}, "$.line_items[0].quantity"),
        ({"customer": {"email": "a@b.c"}}, "`id`"),
        ({"refunds": [{"id": 1, "transactions": [{"kind": "refund", "amount": "x"}]}]}, "amount"),
        ({"fulfillments": [{"created_at": "soon"}]}, "created_at"),
    ],
)
def test_order_with_bad_values_names_the_field(change: dict[str, Any], field: str) -> None:
    payload = {**order_1001(), **change}
    with pytest.raises(MappingError) as caught:
        map_order(payload)
    assert field in caught.value.detail


@pytest.mark.parametrize("payload", [None, [], "customer", 42, [("id", 1)]])
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
        "email",
        "phone",
        "created_at",
        "updated_at",
        "addresses",
        "default_address",
        "tags",
        "customer",
        "total_price",
        "line_items",
        "fulfillments",
        "refunds",
        "fulfillment_status",
    ]
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from([*KINDS, "nope"]), payload=st.dictionaries(FIELDS, JSON) | JSON)
def test_arbitrary_payloads_raise_only_mapping_error(kind: str, payload: Any) -> None:
    try:
        mapped = map_record(kind, payload)
    except MappingError:
        return
    assert mapped.key.source == "shopify"
    assert mapped.key.external_id


@pytest.mark.skipif(not available(), reason="vendor reference data not found")
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_corrupted_examples_raise_only_mapping_error(data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(KINDS))
    payload = bob() if kind == "customer" else order_1001()
    key = data.draw(st.sampled_from(sorted(payload)))
    payload[key] = data.draw(JSON)
    try:
        mapped = map_record(kind, payload)
    except MappingError:
        return
    assert roundtrip(mapped) == mapped
