"""Zendesk connector: user identities, suspended users, tickets closed by a
merge, and retries of export requests against the 10-a-minute export limit.

Payloads follow Zendesk's documented shapes: user identities as in ``GET /api/v2/users/{id}/
identities`` (``{"id", "user_id", "type": "email"|"phone_number"|..., "value", "verified",
"primary"}``), side-loaded on the incremental user export with ``include=identities`` (the export
takes the users sideloads); the user's ``suspended`` flag; a merge's source ticket closed with the
``closed_by_merge`` tag and a system comment whose ``via`` has channel ``merge`` (via type 19,
developer.zendesk.com/documentation/ticketing/reference-guides/via-types). Nothing reaches the
network: ``FakeZendesk`` answers, wrapped here where it lacks a sideload.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import msgspec

from context_service.models import RecordKey, Ticket
from context_service.snapshot.lookup import live_records
from context_service.store import Store
from context_service.store.profiles import profile_of_key
from context_service.sync import IngestContext
from integrations.zendesk import map_ticket, map_user
from tests.conftest import Ingest
from tests.integrations.contract import pages
from tests.integrations.zendesk.fake import FakeZendesk
from tests.payloads import shopify_customer, zendesk_ticket, zendesk_user
from tests.snapshots import snapshot_of

Json = dict[str, Any]

CUSTOMER = RecordKey("shopify", "customer", "1")
USER = RecordKey("zendesk", "user", "7")
SECOND = "maria.work@northwind.example"


def _identity(
    user_id: int, kind: str, value: str, *, verified: bool, primary: bool = False
) -> Json:
    """One user identity as ``GET /api/v2/users/{id}/identities`` lists it."""
    return {
        "id": user_id * 100 + len(value),
        "url": f"https://ourshop.zendesk.com/api/v2/users/{user_id}/identities/1.json",
        "user_id": user_id,
        "type": kind,
        "value": value,
        "verified": verified,
        "primary": primary,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }


def _user_with(identities: list[Json], **changes: Any) -> tuple[str, str, Json]:
    source, kind, payload = zendesk_user(7, "Maria Lopez", email="maria@home.example")
    payload.update(changes, identities=identities)
    return source, kind, payload


# --- 1. Secondary emails and phones (user identities) ------------------------------------------


def test_a_verified_second_email_matches_the_customer_who_wrote_from_it(
    store: Store, ingest: Ingest
) -> None:
    ingest(shopify_customer(1, SECOND, "Maria", "Lopez"))
    ingest(_user_with([_identity(7, "email", SECOND, verified=True)]))
    assert profile_of_key(store.conn, USER) == profile_of_key(store.conn, CUSTOMER)


def test_an_unverified_second_email_is_kept_but_never_merges(store: Store, ingest: Ingest) -> None:
    """Anyone can type an address into a profile; unverified, it must not pull the Zendesk user
    (and their tickets) into the profile of the customer who owns that address."""
    ingest(shopify_customer(1, SECOND, "Maria", "Lopez"))
    ingest(_user_with([_identity(7, "email", SECOND, verified=False)]))
    assert profile_of_key(store.conn, USER) != profile_of_key(store.conn, CUSTOMER)
    person = map_user(_user_with([_identity(7, "email", SECOND, verified=False)])[2]).person
    assert person is not None
    assert SECOND not in person.emails
    assert SECOND in person.attributes.get("unmatched_emails", "")


def test_verified_phone_identities_are_phones_and_the_primary_is_not_repeated() -> None:
    identities = [
        _identity(7, "email", "MARIA@home.example", verified=True, primary=True),
        _identity(7, "phone_number", "+1 415 555 0199", verified=True),
        _identity(7, "phone_number", "+1 415 555 0142", verified=False),
        _identity(7, "twitter", "maria_l", verified=True),
    ]
    person = map_user(_user_with(identities)[2]).person
    assert person is not None
    assert [e.lower() for e in person.emails] == ["maria@home.example"]
    assert person.phones == ["+1 415 555 0199"]
    assert "+1 415 555 0142" in person.attributes.get("unmatched_phones", "")


def _sideloading(fake: FakeZendesk, identities: list[Json]) -> httpx.Client:
    """A client on ``fake`` that side-loads ``identities`` when a request asks for them, as
    Zendesk does for ``include=identities`` on the user export and on ``GET /users/{id}``."""

    def handler(request: httpx.Request) -> httpx.Response:
        response = fake.handler(request)
        asked = "identities" in request.url.params.get("include", "").split(",")
        users_path = request.url.path.startswith(("/api/v2/incremental/users", "/api/v2/users/"))
        if not (asked and users_path and response.status_code == 200):
            return response
        body = json.loads(response.content)
        listed = body.get("users") or [body.get("user")]
        wanted = {user["id"] for user in listed if user}
        body["identities"] = [i for i in identities if i["user_id"] in wanted]
        return httpx.Response(200, json=body)

    return httpx.Client(transport=httpx.MockTransport(handler))


def _fake_with_identities() -> tuple[FakeZendesk, int, list[Json]]:
    fake = FakeZendesk()
    fake.populate(organizations=1, users=2, tickets=0)
    first, other = sorted(fake.users)
    identities = [
        _identity(first, "email", fake.users[first]["email"], verified=True, primary=True),
        _identity(first, "email", SECOND, verified=True),
        _identity(other, "email", "someone.else@example.com", verified=True),
    ]
    return fake, first, identities


def test_the_user_export_side_loads_identities_and_each_user_gets_only_their_own() -> None:
    fake, first, identities = _fake_with_identities()
    connector = fake.connector(client=_sideloading(fake, identities), user_identities=True)
    found = {
        obj.payload["id"]: obj.payload for page in pages(connector, "users") for obj in page.objects
    }
    person = map_user(found[first]).person
    assert person is not None
    assert SECOND in person.emails
    assert "someone.else@example.com" not in person.emails


def test_a_refetched_user_keeps_their_second_email() -> None:
    """A webhook refetch must not drop the identities the export brought in."""
    fake, first, identities = _fake_with_identities()
    connector = fake.connector(client=_sideloading(fake, identities), user_identities=True)
    fetched = connector.fetch_one("user", str(first))
    assert fetched is not None
    person = map_user(fetched.payload).person
    assert person is not None
    assert SECOND in person.emails


def test_the_default_connector_side_loads_identities() -> None:
    fake, first, identities = _fake_with_identities()
    connector = fake.connector(client=_sideloading(fake, identities))
    found = [obj.payload for page in pages(connector, "users") for obj in page.objects]
    person = map_user(next(p for p in found if p["id"] == first)).person
    assert person is not None
    assert SECOND in person.emails


# --- 2. Suspended users -----------------------------------------------------------------------


def test_a_suspended_user_with_a_customers_email_stays_out_of_their_profile(
    store: Store, ingest: Ingest
) -> None:
    ingest(shopify_customer(1, "maria@home.example", "Maria", "Lopez"))
    ingest(_user_with([_identity(7, "email", SECOND, verified=True)], suspended=True))
    assert profile_of_key(store.conn, USER) != profile_of_key(store.conn, CUSTOMER)


def test_the_context_of_a_suspended_user_says_suspended_and_keeps_their_tickets(
    store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    source, kind, user = zendesk_user(7, "Cheap Watches", email="spam@bulk.example")
    user["suspended"] = True
    ingest((source, kind, user), zendesk_ticket(35001, 7, "Buy now"))
    snapshot = snapshot_of(store.conn, USER, ctx.links)
    assert "suspended" in msgspec.json.encode(snapshot.identity).decode().lower()
    assert [t.external_id for t in snapshot.support.tickets] == ["35001"]
    person = map_user(user).person
    assert person is not None
    assert person.attributes.get("suspended") == "true"


# --- 3. Tickets closed by a merge -------------------------------------------------------------


def _merge_comment(source_id: int, target_id: int) -> Json:
    """The system comment Zendesk adds to a merge's source ticket (via type ``merge``)."""
    return {
        "id": 9901,
        "author_id": 7,
        "public": False,
        "body": f'This request was closed and merged into request #{target_id} "Where is it?".',
        "created_at": "2026-02-01T10:00:00Z",
        "via": {
            "channel": "merge",
            "source": {
                "from": {"ticket_id": source_id, "subject": "Where is my order?"},
                "to": {"ticket_id": target_id, "subject": "Where is it?"},
                "rel": "merge",
            },
        },
    }


def _merged_away(source_id: int = 35002, target_id: int = 35001) -> Json:
    _, _, ticket = zendesk_ticket(source_id, 7, "Where is my order?")
    ticket.update(
        status="closed",
        tags=["closed_by_merge"],
        updated_at="2026-02-01T10:00:00Z",
        comments=[
            {
                "id": 9900,
                "public": True,
                "body": "Where is my order?",
                "created_at": "2026-01-31T09:00:00Z",
            },
            _merge_comment(source_id, target_id),
        ],
    )
    return ticket


def test_a_ticket_closed_by_a_merge_is_folded_into_the_surviving_ticket() -> None:
    mapped = map_ticket(_merged_away())
    assert mapped.deleted
    assert mapped.merged_into == "35001"


def test_the_merged_away_ticket_is_not_listed_twice_and_its_id_finds_the_survivor(
    store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    ingest(zendesk_user(7, "Maria Lopez", email="maria@home.example"))
    ingest(zendesk_ticket(35001, 7, "Where is it?"), ("zendesk", "ticket", _merged_away()))
    snapshot = snapshot_of(store.conn, USER, ctx.links)
    assert [t.external_id for t in snapshot.support.tickets] == ["35001"]
    survivor = live_records(store.conn, "zendesk", "35001")
    assert live_records(store.conn, "zendesk", "35002") == survivor != []


def test_a_ticket_that_absorbed_others_and_was_closed_later_stays() -> None:
    """The target of a merge carries merge comments too (``from`` the absorbed ticket); once
    solved and closed it is still the surviving conversation."""
    _, _, ticket = zendesk_ticket(35001, 7, "Where is it?")
    absorbed = _merge_comment(35002, 35001)
    absorbed["body"] = (
        'Request #35002 "Where is my order?" was closed and merged into this request.'
    )
    ticket.update(status="closed", comments=[absorbed])
    mapped = map_ticket(ticket)
    assert not mapped.deleted
    assert mapped.merged_into is None
    assert isinstance(mapped.activity, Ticket)


def test_an_exported_merged_away_ticket_keeps_what_names_the_survivor() -> None:
    """The comments attached to an exported ticket are trimmed; the merge comment's ``via``
    must survive the trim or the export never sees the merge."""
    fake = FakeZendesk()
    fake.populate(organizations=1, users=1, tickets=2)
    target, source = sorted(fake.tickets)
    fake.comments[source].append(_merge_comment(source, target))
    fake.update("ticket", source, status="closed", tags=["closed_by_merge"])
    found = [obj for page in pages(fake.connector(), "tickets") for obj in page.objects]
    [merged] = [obj for obj in found if obj.payload["id"] == source]
    assert map_ticket(dict(merged.payload)).merged_into == str(target)


# --- 4. Retries of export requests count toward the export limit ------------------------------


def test_a_retried_export_request_counts_toward_ten_a_minute() -> None:
    """Zendesk counts every request to the incremental exports, retries included: a burst of
    ten after a retried one is eleven in the minute, answered 429."""
    fake = FakeZendesk()
    fake.populate(organizations=0, users=30, tickets=0)
    fake.inject(503, times=1)
    found = pages(fake.connector(page_size=1), "users")
    assert sum(len(page.objects) for page in found) == 30
    times = fake.incremental_at
    assert len(times) == 31
    assert all(later - earlier >= 60 for earlier, later in zip(times, times[10:], strict=False))
