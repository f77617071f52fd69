"""Zendesk Support payloads -> canonical records, against hand-built fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from context_service.errors import MappingError
from context_service.models import Mapped, RecordKey, Ticket
from integrations import zendesk
from integrations.zendesk import KINDS, map_organization, map_record, map_ticket, map_user

FIXTURES = Path(__file__).parent / "fixtures" / "zendesk"

FIXTURE_KINDS = {
    "user_end_user": "user",
    "user_phone_only": "user",
    "user_agent": "user",
    "user_shopify_external_id": "user",
    "user_deleted": "user",
    "organization": "organization",
    "ticket_open_comments": "ticket",
    "ticket_solved_rated": "ticket",
    "ticket_deleted": "ticket",
    "ticket_no_subject": "ticket",
}


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def ticket_of(mapped: Mapped) -> Ticket:
    assert isinstance(mapped.activity, Ticket)
    return mapped.activity


# --- public surface ---------------------------------------------------------------------------


def test_public_api() -> None:
    assert zendesk.SOURCE == "zendesk"
    assert zendesk.PERSON_KIND == "user"
    assert KINDS == ("user", "organization", "ticket")
    assert set(zendesk.__all__) >= {
        "SOURCE",
        "PERSON_KIND",
        "KINDS",
        "map_record",
        "map_user",
        "map_organization",
        "map_ticket",
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
    assert mapped.key == RecordKey("zendesk", kind, str(payload["id"]))
    without_note = {k: v for k, v in payload.items() if k != "_source"}
    assert map_record(kind, without_note) == mapped
    assert sum(x is not None for x in (mapped.person, mapped.activity, mapped.reference)) == 1
    assert msgspec.json.decode(msgspec.json.encode(mapped), type=Mapped) == mapped


# --- users ------------------------------------------------------------------------------------


def test_end_user_with_email() -> None:
    mapped = map_user(load("user_end_user"))
    assert mapped.key == RecordKey("zendesk", "user", "384712001")
    assert mapped.updated_at == "2026-11-21T09:40:00Z"
    assert mapped.deleted is False
    person = mapped.person
    assert person is not None
    assert person.emails == ["maria.lopez@northwind-outfitters.com"]
    assert person.phones == []
    assert person.name == "Maria Lopez"
    assert (person.first_name, person.last_name) == (None, None)
    assert person.addresses == []
    assert person.links == []
    assert person.attributes == {
        "role": "end-user",
        "organization_id": "360021455",
        "tags": "vip,wholesale",
    }
    assert person.created_at == "2025-03-15T18:02:11Z"


def test_end_user_with_name_and_phone_only() -> None:
    person = map_user(load("user_phone_only")).person
    assert person is not None
    assert person.emails == []
    assert person.phones == ["(415) 555-0134"]  # as written; normalization happens later
    assert person.name == "Dana Kim"
    assert person.attributes == {"role": "end-user"}


def test_agent_is_mapped_with_its_role() -> None:
    person = map_user(load("user_agent")).person
    assert person is not None
    assert person.attributes["role"] == "agent"
    assert person.name
    assert person.emails == []  # staff: no contact that could merge them into a customer


def test_external_id_with_vendor_prefix_is_a_link() -> None:
    mapped = map_user(load("user_shopify_external_id"))
    person = mapped.person
    assert person is not None
    assert person.links == [RecordKey("shopify", "customer", "207119551")]
    assert "external_id" not in person.attributes
    assert person.created_at == "2024-06-02T06:00:00Z"  # +02:00 converted to UTC


@pytest.mark.parametrize(
    ("external_id", "link"),
    [
        ("stripe:cus_NffrFeUfNV2Hib", RecordKey("stripe", "customer", "cus_NffrFeUfNV2Hib")),
        ("HubSpot: 501", RecordKey("hubspot", "contact", "501")),
        ("shopify:gid://shopify/Customer/42", RecordKey("shopify", "customer", "42")),
    ],
)
def test_external_id_prefixes(external_id: str, link: RecordKey) -> None:
    person = map_user({"id": 1, "external_id": external_id}).person
    assert person is not None
    assert person.links == [link]


@pytest.mark.parametrize("external_id", ["CRM-88123", "salesforce:003xx", "shopify:", 12345])
def test_other_external_ids_stay_attributes(external_id: str | int) -> None:
    person = map_user({"id": 1, "external_id": external_id}).person
    assert person is not None
    assert person.links == []
    assert person.attributes == {"external_id": str(external_id)}


def test_inactive_user_is_a_tombstone() -> None:
    mapped = map_user(load("user_deleted"))
    assert mapped.deleted is True
    assert mapped.person is not None
    assert mapped.person.attributes == {"role": "end-user", "external_id": "CRM-88123"}


# --- organizations ----------------------------------------------------------------------------


def test_organization() -> None:
    mapped = map_organization(load("organization"))
    assert mapped.key == RecordKey("zendesk", "organization", "360021455")
    assert mapped.updated_at == "2026-10-30T07:15:00Z"
    assert mapped.reference is not None
    assert mapped.reference.label == "Northwind Outfitters"
    assert mapped.reference.attributes == {"domains": "northwind-outfitters.com,northwind.example"}
    bare = map_organization({"id": 8, "domain_names": []})
    assert bare.reference is not None
    assert (bare.reference.label, bare.reference.attributes) == ("Organization 8", {})


# --- tickets ----------------------------------------------------------------------------------


def test_open_ticket_with_comments() -> None:
    mapped = map_ticket(load("ticket_open_comments"))
    assert mapped.key == RecordKey("zendesk", "ticket", "35436")
    assert mapped.updated_at == "2026-11-21T10:05:00Z"
    assert mapped.deleted is False
    ticket = ticket_of(mapped)
    assert ticket.external_id == "35436"
    assert ticket.url == "https://ourshop.zendesk.com/agent/tickets/35436"
    assert ticket.owners == [RecordKey("zendesk", "user", "384712001")]
    assert (ticket.status, ticket.priority, ticket.channel) == ("open", "high", "email")
    assert ticket.title == "Where is my order #1042?"
    assert ticket.satisfaction == "offered"
    assert ticket.tags == ["shipping", "order_status"]
    assert ticket.created_at == "2026-11-20T08:01:00Z"
    assert ticket.updated_at == "2026-11-21T10:05:00Z"
    # the newest comment is private; the agent's public reply is the last public one
    assert ticket.last_public_comment == (
        "Sorry about that Maria! I have asked the carrier for an update and will get back to"
        " you today."
    )


def test_solved_ticket_with_rating_uses_description() -> None:
    ticket = ticket_of(map_ticket(load("ticket_solved_rated")))
    assert (ticket.status, ticket.priority, ticket.channel) == ("solved", None, "web")
    assert ticket.satisfaction == "good"
    assert ticket.tags == []
    assert ticket.owners == [RecordKey("zendesk", "user", "384712003")]
    assert ticket.last_public_comment == (
        "Please update the billing address on my account to 1200 Market Street."
    )


def test_deleted_ticket_is_a_tombstone() -> None:
    mapped = map_ticket(load("ticket_deleted"))
    assert mapped.deleted is True
    ticket = ticket_of(mapped)
    assert ticket.status == "deleted"
    assert ticket.satisfaction is None
    assert ticket.channel == "api"


def test_ticket_without_subject_takes_first_description_line() -> None:
    payload = load("ticket_no_subject")
    # The connector attaches the comments: the first is the description, public here.
    payload["comments"] = [{"body": payload["description"], "public": True}]
    ticket = ticket_of(map_ticket(payload))
    first_line = payload["description"].strip().splitlines()[0]
    assert ticket.title == first_line[:120].rstrip()
    assert len(first_line) > 120
    assert ticket.title is not None
    assert len(ticket.title) <= 120
    assert ticket.title.startswith("Caller Dana Kim says")
    assert ticket.satisfaction is None  # "unoffered"
    assert ticket.last_public_comment == payload["description"].strip()
    assert (ticket.status, ticket.channel) == ("pending", "voice")


@pytest.mark.parametrize("comments", [None, [{"public": False}], []])
def test_a_ticket_without_subject_whose_description_may_be_private_gets_no_title(
    comments: list[dict[str, object]] | None,
) -> None:
    """An agent who opens a ticket with an internal note makes it the description: without
    the comments list saying that first comment is public, it is no title for a bot."""
    payload = load("ticket_no_subject")
    if comments is None:
        payload.pop("comments", None)
    else:
        payload["comments"] = [{**c, "body": payload["description"]} for c in comments]
    assert ticket_of(map_ticket(payload)).title is None


def test_last_public_comment_is_trimmed_to_1000_chars() -> None:
    body = "x" * 1500
    ticket = ticket_of(map_ticket({"id": 1, "comments": [{"body": body, "public": True}]}))
    assert ticket.last_public_comment == "x" * 1000


def test_comments_list_without_public_comment() -> None:
    payload = {"id": 1, "description": "private note", "comments": [{"body": "private note"}]}
    assert ticket_of(map_ticket(payload)).last_public_comment is None


def test_minimal_ticket() -> None:
    mapped = map_ticket({"id": 5})
    ticket = ticket_of(mapped)
    assert ticket.owners == []
    assert (ticket.title, ticket.status, ticket.last_public_comment) == (None, None, None)
    assert (ticket.external_id, ticket.url) == ("5", None)
    assert mapped.deleted is False


# --- bad paths --------------------------------------------------------------------------------


def test_unknown_kind() -> None:
    with pytest.raises(MappingError, match="unknown kind 'contact'"):
        map_record("contact", load("user_end_user"))


@pytest.mark.parametrize("kind", KINDS)
def test_missing_id(kind: str) -> None:
    with pytest.raises(MappingError, match="`id`"):
        map_record(kind, {"name": "no id"})


@pytest.mark.parametrize("kind", KINDS)
def test_empty_id(kind: str) -> None:
    with pytest.raises(MappingError, match="'id'"):
        map_record(kind, {"id": ""})


def test_payload_not_an_object() -> None:
    with pytest.raises(MappingError, match="JSON object"):
        map_record("ticket", "35436")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "payload", "field"),
    [
        ("user", {"id": 1, "updated_at": "not a date"}, "updated_at"),
        ("user", {"id": 1, "created_at": "2026-02-30T00:00:00Z"}, "created_at"),
        ("organization", {"id": 1, "updated_at": "tomorrow"}, "updated_at"),
        ("ticket", {"id": 1, "created_at": "0001-01-01T00:00:00+01:00"}, "created_at"),
    ],
)
def test_unparseable_date_names_the_field(kind: str, payload: dict[str, Any], field: str) -> None:
    with pytest.raises(MappingError, match=f"field '{field}'") as caught:
        map_record(kind, payload)
    assert caught.value.extra["field"] == field


@pytest.mark.parametrize(
    ("kind", "payload", "path"),
    [
        ("user", {"id": 1, "tags": "vip"}, r"\$\.tags"),
        ("user", {"id": 1, "active": "no"}, r"\$\.active"),
        ("ticket", {"id": 1, "via": "email"}, r"\$\.via"),
        ("ticket", {"id": 1, "comments": [{"body": 3}]}, r"\$\.comments\[0\]\.body"),
        ("ticket", {"id": 1, "requester_id": "someone"}, r"\$\.requester_id"),
        ("organization", {"id": 1, "domain_names": "a.com"}, r"\$\.domain_names"),
    ],
)
def test_wrong_type_names_the_field(kind: str, payload: dict[str, Any], path: str) -> None:
    with pytest.raises(MappingError, match=path):
        map_record(kind, payload)


# --- property: only MappingError escapes ------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
timestamps = st.text(max_size=25) | st.from_regex(r"\A[0-9]{1,30}\Z") | st.datetimes().map(str)
zendesk_like = st.fixed_dictionaries(
    {},
    optional={
        "id": st.integers() | st.text(max_size=5) | json_values,
        "name": st.text(max_size=10) | json_values,
        "email": st.text(max_size=10) | json_values,
        "external_id": st.text(max_size=12) | st.integers() | json_values,
        "active": st.booleans() | json_values,
        "tags": st.lists(st.text(max_size=5), max_size=3) | json_values,
        "subject": st.text(max_size=10) | json_values,
        "description": st.text(max_size=200) | json_values,
        "status": st.sampled_from(["open", "deleted", ""]) | json_values,
        "requester_id": st.integers() | json_values,
        "via": st.fixed_dictionaries({"channel": json_values}) | json_values,
        "satisfaction_rating": st.fixed_dictionaries({"score": json_values}) | json_values,
        "comments": st.lists(
            st.fixed_dictionaries({"body": json_values, "public": json_values}), max_size=3
        )
        | json_values,
        "created_at": timestamps | json_values,
        "updated_at": timestamps | json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(KINDS) | st.text(max_size=8),
    payload=zendesk_like | st.dictionaries(st.text(max_size=8), json_values, max_size=5),
)
def test_map_record_raises_only_mapping_error(kind: str, payload: dict[str, Any]) -> None:
    try:
        mapped = map_record(kind, payload)
    except MappingError:
        return
    assert mapped.key.source == "zendesk"
    assert mapped.key.kind == kind
    msgspec.json.encode(mapped)
