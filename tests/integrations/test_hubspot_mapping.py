"""HubSpot CRM v3 payloads -> canonical records, against hand-built fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from context_service.errors import MappingError
from context_service.models import Address, Deal, Mapped, RecordKey, Reference
from integrations import hubspot
from integrations.hubspot import (
    KINDS,
    map_company,
    map_contact,
    map_deal,
    map_owner,
    map_record,
)

FIXTURES = Path(__file__).parent / "fixtures" / "hubspot"

FIXTURE_KINDS = {
    "contact_full": "contact",
    "contact_additional_emails": "contact",
    "contact_no_email": "contact",
    "contact_archived": "contact",
    "company_northwind": "company",
    "company_no_name": "company",
    "deal_won": "deal",
    "deal_lost": "deal",
    "deal_open": "deal",
    "owner": "owner",
    "owner_no_name": "owner",
}


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def deal_of(mapped: Mapped) -> Deal:
    assert isinstance(mapped.activity, Deal)
    return mapped.activity


# --- public surface ---------------------------------------------------------------------------


def test_public_api() -> None:
    assert hubspot.SOURCE == "hubspot"
    assert hubspot.PERSON_KIND == "contact"
    assert KINDS == ("contact", "company", "deal", "owner")
    assert set(hubspot.__all__) >= {
        "SOURCE",
        "PERSON_KIND",
        "KINDS",
        "map_record",
        "map_contact",
        "map_company",
        "map_deal",
        "map_owner",
    }


def test_every_fixture_names_its_source() -> None:
    names = {path.stem for path in FIXTURES.glob("*.json")}
    assert names == set(FIXTURE_KINDS)
    for name in names:
        assert load(name)["_source"].startswith("hand-built from the documented shape")


@pytest.mark.parametrize(("name", "kind"), sorted(FIXTURE_KINDS.items()))
def test_map_record_dispatches_and_ignores_source_note(name: str, kind: str) -> None:
    payload = load(name)
    mapped = map_record(kind, payload)
    assert mapped.key == RecordKey("hubspot", kind, payload["id"])
    without_note = {k: v for k, v in payload.items() if k != "_source"}
    assert map_record(kind, without_note) == mapped
    # exactly one facet, and it survives a JSON round trip (it is persisted as JSON)
    assert sum(x is not None for x in (mapped.person, mapped.activity, mapped.reference)) == 1
    assert msgspec.json.decode(msgspec.json.encode(mapped), type=Mapped) == mapped


# --- contacts ---------------------------------------------------------------------------------


def test_contact_full() -> None:
    mapped = map_contact(load("contact_full"))
    assert mapped.key == RecordKey("hubspot", "contact", "501")
    assert mapped.updated_at == "2026-11-20T16:50:06Z"
    assert mapped.deleted is False
    person = mapped.person
    assert person is not None
    assert person.emails == ["Maria.Lopez@Northwind-Outfitters.com"]  # case kept
    assert person.phones == ["+1 (415) 555-0142", "+1 415 555 0199"]
    assert (person.first_name, person.last_name, person.name) == ("Maria", "Lopez", None)
    assert person.company == "Northwind Outfitters"
    assert person.addresses == [
        Address(
            street="1200 Market Street, Suite 400",
            city="San Francisco",
            region="CA",
            postcode="94103",
            country="United States",
        )
    ]
    assert person.attributes == {
        "lifecycle_stage": "customer",
        "owner_id": "41629779",
        "company_ids": "9001,9002",
    }
    assert person.links == [
        RecordKey("shopify", "customer", "207119551"),
        RecordKey("stripe", "customer", "cus_NffrFeUfNV2Hib"),
    ]
    assert person.created_at == "2025-03-14T09:26:53Z"


def test_contact_additional_emails_split_deduped_in_order() -> None:
    mapped = map_contact(load("contact_additional_emails"))
    person = mapped.person
    assert person is not None
    assert person.emails == [
        "jamal.wright@example.org",
        "J.Wright@Work.example.com",
        "jwright77@mail.example.net",
    ]
    assert person.phones == []
    assert person.addresses == []
    assert person.attributes == {"lifecycle_stage": "lead"}
    assert person.links == [RecordKey("zendesk", "user", "384712003")]
    # epoch-millisecond strings are accepted
    assert person.created_at == "2024-06-01T12:00:00Z"
    assert mapped.updated_at == "2025-11-17T17:20:00Z"


def test_contact_without_email_falls_back_to_object_timestamps() -> None:
    mapped = map_contact(load("contact_no_email"))
    person = mapped.person
    assert person is not None
    assert person.emails == []
    assert person.phones == ["+44 7700 900123"]  # phone == mobilephone, kept once
    assert (person.first_name, person.last_name) == ("Priya", None)
    assert person.attributes == {}
    assert person.created_at == "2026-01-05T08:15:00Z"
    assert mapped.updated_at == "2026-01-05T08:17:41Z"


def test_archived_contact_is_a_tombstone() -> None:
    mapped = map_contact(load("contact_archived"))
    assert mapped.deleted is True
    assert mapped.person is not None
    assert mapped.person.emails == ["old.customer@example.com"]


def test_minimal_contact() -> None:
    mapped = map_contact({"id": "9", "properties": {}})
    assert mapped == Mapped(key=RecordKey("hubspot", "contact", "9"), person=mapped.person)
    assert mapped.person is not None
    assert mapped.person.emails == []


# --- companies --------------------------------------------------------------------------------


def test_company() -> None:
    mapped = map_company(load("company_northwind"))
    assert mapped.key == RecordKey("hubspot", "company", "9001")
    assert mapped.updated_at == "2026-10-30T07:12:45Z"  # +02:00 converted to UTC
    assert mapped.reference is not None
    assert mapped.reference.label == "Northwind Outfitters"
    assert mapped.reference.attributes == {
        "domain": "northwind-outfitters.com",
        "industry": "RETAIL",
    }


def test_company_label_falls_back_to_domain_then_id() -> None:
    mapped = map_company(load("company_no_name"))
    assert mapped.reference is not None
    assert mapped.reference.label == "globex.example"
    assert mapped.reference.attributes == {"domain": "globex.example"}
    assert mapped.updated_at == "2025-05-06T06:06:06Z"
    bare = map_company({"id": "77", "properties": {"name": "  "}})
    assert bare.reference is not None
    assert bare.reference.label == "Company 77"


# --- deals ------------------------------------------------------------------------------------


def test_deal_won() -> None:
    mapped = map_deal(load("deal_won"))
    assert mapped.key == RecordKey("hubspot", "deal", "7001")
    assert mapped.updated_at == "2026-09-30T15:02:11Z"
    deal = deal_of(mapped)
    assert (deal.external_id, deal.url) == ("7001", None)
    assert deal.owners == [
        RecordKey("hubspot", "contact", "501"),
        RecordKey("hubspot", "contact", "502"),
    ]
    assert deal.status == "won"
    assert deal.title == "Northwind - annual plan"
    assert (deal.pipeline, deal.stage) == ("default", "closedwon")
    assert (deal.amount, deal.currency) == ("12500.00", "USD")
    assert deal.close_date == "2026-09-30T00:00:00Z"
    assert deal.owner_id == "41629779"
    assert deal.created_at == "2026-07-01T13:45:00Z"
    assert deal.updated_at == mapped.updated_at


def test_deal_lost_in_custom_pipeline() -> None:
    deal = deal_of(map_deal(load("deal_lost")))
    assert deal.status == "lost"
    assert deal.owners == [RecordKey("hubspot", "contact", "503")]
    assert (deal.amount, deal.currency) == ("899.50", "EUR")
    assert deal.close_date == "2025-10-01T00:00:00Z"  # epoch milliseconds
    assert deal.owner_id is None


@pytest.mark.parametrize(
    ("raw", "shown"), [("12.345", "12.345"), ("12.5", "12.50"), ("12.300", "12.30"), ("7", "7.00")]
)
def test_deal_amounts_keep_a_third_decimal_that_matters(raw: str, shown: str) -> None:
    """A Kuwaiti-dinar deal of 12.345 was shown as 12.34: every amount was rounded to cents."""
    payload = load("deal_lost")
    payload["properties"] = {**payload["properties"], "amount": raw, "deal_currency_code": "KWD"}
    assert deal_of(map_deal(payload)).amount == shown


def test_deal_open_without_amount_or_associations() -> None:
    mapped = map_deal(load("deal_open"))
    deal = deal_of(mapped)
    assert deal.status == "open"
    assert deal.owners == []
    assert (deal.amount, deal.currency, deal.close_date) == (None, None, None)
    assert mapped.updated_at == "2026-11-21T10:30:00Z"  # updatedAt fallback


@pytest.mark.parametrize(
    ("properties", "status"),
    [
        ({"dealstage": "closedwon"}, "won"),
        ({"dealstage": "closedlost"}, "lost"),
        ({"dealstage": "123", "hs_is_closed_won": "true", "hs_is_closed": "true"}, "won"),
        ({"dealstage": "123", "hs_is_closed": "true"}, "lost"),
        ({"dealstage": "123", "hs_is_closed": "false"}, "open"),
        ({}, "open"),
    ],
)
def test_deal_status(properties: dict[str, str], status: str) -> None:
    assert deal_of(map_deal({"id": "1", "properties": properties})).status == status


# --- owners -----------------------------------------------------------------------------------


def test_owner() -> None:
    mapped = map_owner(load("owner"))
    assert mapped.key == RecordKey("hubspot", "owner", "41629779")
    assert mapped.updated_at == "2026-06-02T08:44:10Z"
    assert mapped.deleted is False
    assert mapped.reference is not None
    assert mapped.reference.label == "Sam Rivera"
    assert mapped.reference.attributes == {"email": "sam.rivera@ourshop.example"}


def test_owner_without_name_is_labelled_by_email() -> None:
    mapped = map_owner(load("owner_no_name"))
    assert mapped.deleted is True
    assert mapped.reference is not None
    assert mapped.reference.label == "ops@ourshop.example"
    assert map_owner({"id": 5}).reference == Reference(label="Owner 5")


# --- bad paths --------------------------------------------------------------------------------


def test_unknown_kind() -> None:
    with pytest.raises(MappingError, match="unknown kind 'ticket'"):
        map_record("ticket", load("contact_full"))


@pytest.mark.parametrize("kind", KINDS)
def test_missing_id(kind: str) -> None:
    with pytest.raises(MappingError, match="`id`"):
        map_record(kind, {"properties": {}})


@pytest.mark.parametrize("kind", KINDS)
def test_empty_id(kind: str) -> None:
    with pytest.raises(MappingError, match="'id'"):
        map_record(kind, {"id": " ", "properties": {}})


def test_properties_not_an_object() -> None:
    with pytest.raises(MappingError, match=r"properties"):
        map_contact({"id": "1", "properties": ["email", "a@b.c"]})


def test_property_of_wrong_type_names_the_field() -> None:
    with pytest.raises(MappingError, match=r"properties\.email"):
        map_contact({"id": "1", "properties": {"email": {"value": "a@b.c"}}})


def test_payload_not_an_object() -> None:
    with pytest.raises(MappingError, match="JSON object"):
        map_record("deal", ["id", "1"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "payload", "field"),
    [
        ("deal", {"id": "1", "properties": {"closedate": "next friday"}}, "closedate"),
        ("contact", {"id": "1", "properties": {"lastmodifieddate": "2026-13-01"}}, "lastmodified"),
        ("contact", {"id": "1", "properties": {}, "createdAt": "yesterday"}, "createdAt"),
        ("company", {"id": "1", "properties": {"hs_lastmodifieddate": "x"}}, "hs_lastmodified"),
        ("owner", {"id": "1", "updatedAt": "soon"}, "updatedAt"),
        ("deal", {"id": "1", "properties": {"amount": "12,50"}}, "amount"),
        ("deal", {"id": "1", "properties": {"amount": "1e40"}}, "amount"),
    ],
)
def test_unconvertible_value_names_the_field(
    kind: str, payload: dict[str, Any], field: str
) -> None:
    with pytest.raises(MappingError, match=field) as caught:
        map_record(kind, payload)
    assert caught.value.extra["external_id"] == "1"


def test_association_without_id() -> None:
    payload = {"id": "1", "associations": {"contacts": {"results": [{"type": "deal_to_contact"}]}}}
    with pytest.raises(MappingError, match="`id`"):
        map_deal(payload)


# --- property: only MappingError escapes ------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
property_names = st.sampled_from(
    [
        "email",
        "hs_additional_emails",
        "phone",
        "createdate",
        "lastmodifieddate",
        "hs_lastmodifieddate",
        "closedate",
        "amount",
        "dealstage",
        "hs_is_closed",
        "name",
        "shopify_customer_id",
    ]
)
property_values = (
    st.none() | st.text(max_size=20) | st.from_regex(r"\A-?[0-9]{1,40}\Z") | json_values
)
crm_like = st.fixed_dictionaries(
    {},
    optional={
        "id": st.text(max_size=5) | st.integers() | json_values,
        "properties": st.dictionaries(property_names, property_values, max_size=6) | json_values,
        "createdAt": st.text(max_size=25) | json_values,
        "updatedAt": st.text(max_size=25) | json_values,
        "archived": st.booleans() | json_values,
        "associations": json_values,
        "firstName": json_values,
        "email": json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(KINDS) | st.text(max_size=8),
    payload=crm_like | st.dictionaries(st.text(max_size=8), json_values, max_size=5),
)
def test_map_record_raises_only_mapping_error(kind: str, payload: dict[str, Any]) -> None:
    try:
        mapped = map_record(kind, payload)
    except MappingError:
        return
    assert mapped.key.source == "hubspot"
    assert mapped.key.kind == kind
    msgspec.json.encode(mapped)
