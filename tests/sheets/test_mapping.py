"""The spreadsheet mapper: payloads from canonical rows, and Mapped records from payloads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
import pytest

from context_service.errors import MappingError
from context_service.models import Address, Mapped, Order, RecordKey, Subscription, Ticket
from context_service.sheets.mapping import (
    WithSheetSources,
    canonical_row,
    check_source_name,
    map_sheet_record,
    person_key,
    row_payloads,
)


def mapped_row(row: dict[str, str], source: str = "crm") -> list[Mapped]:
    return [map_sheet_record(kind, payload) for kind, payload in row_payloads(source, row)]


def test_canonical_row_trims_drops_empties_and_joins_multi_values() -> None:
    fields = ["email", "email", "name", "phone", None]
    cells = [" a@example.com ", "b@example.com", "   ", None, "ignored"]
    assert canonical_row(fields, cells) == {"email": "a@example.com; b@example.com"}


def test_a_person_row() -> None:
    row = {
        "email": "Ann@Example.com; ann.lee@example.org",
        "phone": "(415) 555-0199",
        "first_name": "Ann",
        "last_name": "Lee",
        "company": "Acme",
        "city": "Oakland",
        "country": "US",
        "customer_since": "2024-03-01",
        "stripe_customer_id": "cus_123",
    }
    (person,) = mapped_row(row)
    assert person.key.source == "crm"
    assert person.key.kind == "row"
    facet = person.person
    assert facet is not None
    assert facet.emails == ["Ann@Example.com", "ann.lee@example.org"]
    assert facet.phones == ["(415) 555-0199"]
    assert (facet.first_name, facet.last_name, facet.company) == ("Ann", "Lee", "Acme")
    assert facet.addresses == [Address(city="Oakland", country="US")]
    assert facet.links == [RecordKey("stripe", "customer", "cus_123")]
    assert facet.created_at == "2024-03-01T00:00:00Z"


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("4155550123.0", "4155550123"),  # a numeric column written by pandas
        ("14155550123.00", "14155550123"),
        ("+447946095800.0", "+447946095800"),
        ("415.555.0123", "415.555.0123"),  # dots that are separators stay
        ("4155550123.5", "4155550123.5"),
        ("12.0", "12.0"),  # too short to be a phone: left as written
    ],
)
def test_a_phone_written_as_a_float_loses_only_its_dot_zero(written: str, read: str) -> None:
    (person,) = mapped_row({"email": "a@example.com", "phone": written})
    assert person.person is not None
    assert person.person.phones == [read]


def test_the_key_is_the_external_id_or_a_stable_content_hash() -> None:
    (with_id,) = mapped_row({"external_id": "C-7", "email": "a@example.com"})
    assert with_id.key.external_id == "C-7"
    (hashed,) = mapped_row({"email": "a@example.com", "name": "Ann"})
    (again,) = mapped_row({"name": "Ann", "email": "a@example.com"}, source="other")
    assert hashed.key.external_id.startswith("sha256:")
    assert hashed.key.external_id == again.key.external_id  # order and source do not matter
    (changed,) = mapped_row({"email": "a@example.com", "name": "Anne"})
    assert changed.key.external_id != hashed.key.external_id


def test_activity_columns_add_activities_owned_by_the_row() -> None:
    row = {
        "email": "a@example.com",
        "order_number": "1001",
        "ordered_at": "2026-11-18 09:30",
        "order_total": "160.9",
        "currency": "usd",
        "order_status": "Paid",
        "ticket_id": "T-9",
        "ticket_subject": "Where is my parcel?",
        "ticket_status": "Open",
        "plan": "Pro",
        "plan_status": "past_due",
        "renews_at": "2026-12-01",
    }
    person, order, ticket, subscription = mapped_row(row)
    owner = [person.key]
    assert isinstance(order.activity, Order)
    assert order.key == RecordKey("crm", "order", "1001")
    assert order.activity.owners == owner
    assert (order.activity.title, order.activity.amount, order.activity.currency) == (
        "#1001",
        "160.90",
        "USD",
    )
    assert order.activity.financial_status == "paid"
    assert order.activity.created_at == "2026-11-18T09:30:00Z"
    assert isinstance(ticket.activity, Ticket)
    assert ticket.activity.owners == owner
    assert (ticket.activity.title, ticket.activity.status) == ("Where is my parcel?", "open")
    assert isinstance(subscription.activity, Subscription)
    assert subscription.activity.owners == owner
    assert subscription.activity.status == "past_due"
    assert subscription.activity.current_period_end == "2026-12-01T00:00:00Z"


def test_currency_alone_adds_no_order() -> None:
    assert len(mapped_row({"email": "a@example.com", "currency": "EUR"})) == 1


def test_a_date_of_birth_is_kept_for_identity_and_is_not_part_of_the_row_key() -> None:
    (person,) = mapped_row({"email": "a@example.com", "name": "Ann", "birth_date": "1984-03-09"})
    assert person.person is not None
    assert person.person.birth_date == "1984-03-09"
    (without,) = mapped_row({"email": "a@example.com", "name": "Ann"})
    # A file that gains a date of birth column keeps its rows' keys: importing it updates them.
    assert person.key.external_id == without.key.external_id


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"company": "Acme", "city": "Oakland"}, "no email, phone, name"),
        ({"email": "not-an-email"}, "email: not an email address 'not-an-email'"),
        ({"email": "a@example.com; nope"}, "not an email address 'nope'"),
        ({"name": "Ann", "customer_since": "18/11/2026"}, "customer_since: not an ISO-8601"),
        ({"name": "Ann", "order_number": "1", "order_total": "1,234"}, "order_total"),
        ({"name": "Ann", "order_number": "1", "currency": "dollars"}, "three-letter currency"),
        ({"name": "Ann", "order_total": "12.00"}, "need a order_number column"),
        ({"name": "Ann", "ticket_subject": "Help"}, "need a ticket_id column"),
        ({"name": "Ann", "ticket_id": "1", "opened_at": "yesterday"}, "opened_at"),
        ({"name": "Ann", "birth_date": "09/03/1984"}, "birth_date: not an ISO-8601 date"),
    ],
)
def test_invalid_rows_raise_mapping_errors_with_the_reason(
    row: dict[str, str], reason: str
) -> None:
    with pytest.raises(MappingError, match=reason):
        mapped_row(row)


@pytest.mark.parametrize(
    "written", ["1984-03-09T00:00:00", "1984-03-09 00:00:00", "1984-03-09T00:00:00Z"]
)
def test_a_date_of_birth_written_as_a_date_time_keeps_its_date(written: str) -> None:
    (person,) = mapped_row({"email": "a@example.com", "birth_date": written})
    assert person.person is not None
    assert person.person.birth_date == "1984-03-09"


def test_decimal_comma_amounts() -> None:
    _, order = mapped_row({"name": "Ann", "order_number": "7", "order_total": "12,5"})
    assert isinstance(order.activity, Order)
    assert order.activity.amount == "12.50"


def test_a_stored_rejected_payload_stays_rejected() -> None:
    payload = {"source": "crm", "line": 3, "rejected": "email: bad", "raw": {"Email": "x"}}
    with pytest.raises(MappingError, match="email: bad"):
        map_sheet_record("row", payload)


def test_remapping_a_stored_payload_gives_the_same_record() -> None:
    for kind, payload in row_payloads("crm", {"email": "a@example.com", "plan": "Pro"}):
        stored = msgspec.json.decode(msgspec.json.encode(payload))
        assert map_sheet_record(kind, stored) == map_sheet_record(kind, payload)


def test_person_key_ignores_the_source_field() -> None:
    assert person_key({"source": "a", "name": "Ann"}) == person_key({"name": "Ann"})


@pytest.mark.parametrize("name", ["shopify", "stripe", "hubspot", "zendesk"])
def test_built_in_source_names_are_refused(name: str) -> None:
    with pytest.raises(MappingError, match="built-in source"):
        check_source_name(name)


@pytest.mark.parametrize("name", ["", "CRM", "crm export", "-x", "x" * 41])
def test_malformed_source_names_are_refused(name: str) -> None:
    with pytest.raises(MappingError, match="source name"):
        check_source_name(name)


def test_with_sheet_sources_falls_back_to_the_sheet_mapper() -> None:
    def vendor(kind: str, payload: Mapping[str, Any]) -> Mapped:
        raise AssertionError

    mappers = WithSheetSources({"shopify": vendor})
    assert mappers["shopify"] is vendor
    assert mappers.get("events-2026") is map_sheet_record
    assert list(mappers) == ["shopify"]
