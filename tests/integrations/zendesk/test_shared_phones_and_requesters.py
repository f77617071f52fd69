"""Zendesk connector: shared phone numbers and requester changes.

Payloads follow Zendesk's documented shapes: the user's ``shared_phone_number`` ("Whether the
phone number is shared or not"; Zendesk Talk's shared numbers link several end-user profiles,
while only a direct line identifies one user), and ticket event webhooks, whose ``detail``
carries the ticket's ``requester_id`` (developer.zendesk.com/api-reference/webhooks/event-types/
ticket-events).
"""

from __future__ import annotations

import json
from typing import Any

from context_service.models import RecordKey
from context_service.store import Store
from context_service.store.profiles import profile_of_key
from integrations.zendesk import map_user
from integrations.zendesk.webhooks import parse_delivery
from tests.conftest import Ingest
from tests.payloads import shopify_customer, zendesk_user

Json = dict[str, Any]

LINE = "+14155550199"
CUSTOMER = RecordKey("shopify", "customer", "1")
USER = RecordKey("zendesk", "user", "7")


def _shared_line_user() -> tuple[str, str, Json]:
    source, kind, payload = zendesk_user(7, "Ann Lee", email=None, phone=LINE)
    payload["shared_phone_number"] = True
    return source, kind, payload


# --- 1. Shared phone numbers ------------------------------------------------------------------


def test_a_shared_phone_number_is_kept_but_never_matched_on() -> None:
    person = map_user(_shared_line_user()[2]).person
    assert person is not None
    assert LINE not in person.phones
    assert LINE in person.attributes.get("unmatched_phones", "")


def test_a_direct_line_is_still_matched_on() -> None:
    payload = zendesk_user(7, "Ann Lee", phone=LINE)[2]
    payload["shared_phone_number"] = False
    person = map_user(payload).person
    assert person is not None
    assert person.phones == [LINE]


def test_a_shared_line_does_not_join_a_customer_with_that_phone(
    store: Store, ingest: Ingest
) -> None:
    ingest(shopify_customer(1, "ann.lee@example.com", "Ann", "Lee", phone=LINE))
    ingest(_shared_line_user())
    assert profile_of_key(store.conn, USER) is not None
    assert profile_of_key(store.conn, USER) != profile_of_key(store.conn, CUSTOMER)


# --- 2. Requester changes ----------------------------------------------------------------------


def _ticket_event(kind: str, requester: str) -> bytes:
    return json.dumps(
        {
            "type": f"zen:event-type:ticket.{kind}",
            "account_id": 12514403,
            "id": f"evt-{kind}",
            "time": "2026-02-01T10:00:00Z",
            "zendesk_event_version": "2022-11-06",
            "subject": "zen:ticket:35001",
            "detail": {"id": "35001", "requester_id": requester, "status": "OPEN"},
            "event": {"current": requester, "previous": "8"},
        }
    ).encode()


def test_a_requester_change_refetches_the_new_requester_before_the_ticket() -> None:
    delivery = parse_delivery({}, _ticket_event("requester_changed", "9"))
    assert delivery.refetch == [("user", "9"), ("ticket", "35001")]


def test_other_ticket_events_refetch_only_the_ticket() -> None:
    delivery = parse_delivery({}, _ticket_event("priority_changed", "9"))
    assert delivery.refetch == [("ticket", "35001")]


def test_a_shared_line_stays_unmatched_when_its_phone_identity_is_verified() -> None:
    payload = _shared_line_user()[2]
    payload["identities"] = [
        {"id": 1, "user_id": 7, "type": "phone_number", "value": LINE, "verified": True},
        {"id": 2, "user_id": 7, "type": "phone_number", "value": "+14155550100", "verified": True},
    ]
    person = map_user(payload).person
    assert person is not None
    assert person.phones == ["+14155550100"]
    assert LINE in person.attributes.get("unmatched_phones", "")


# --- 3. Organizations' domains --------------------------------------------------------------


def test_people_of_one_organization_are_not_merged_by_its_domain(
    store: Store, ingest: Ingest
) -> None:
    ingest(
        (
            "zendesk",
            "organization",
            {
                "id": 360001,
                "name": "Northwind",
                "domain_names": ["northwind.example"],
                "created_at": "2026-01-01T00:00:00Z",
                "updated_at": "2026-01-01T00:00:00Z",
            },
        )
    )
    for uid, name in ((7, "Ann Lee"), (8, "Bo Park")):
        source, kind, payload = zendesk_user(
            uid, name, email=f"{name.split()[0]}@northwind.example"
        )
        payload["organization_id"] = 360001
        ingest((source, kind, payload))
    first = profile_of_key(store.conn, USER)
    second = profile_of_key(store.conn, RecordKey("zendesk", "user", "8"))
    assert first is not None
    assert second is not None
    assert first != second
