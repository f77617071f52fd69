"""Zendesk: a trigger delivery's requester, a ticket marked as spam, two copies in one page.

* A trigger or automation webhook posts the body its template says, ``{"ticket_id":
  "{{ticket.id}}", "event": ...}``, optionally with ``"requester_id": "{{ticket.requester.id}}"``:
  the requester is refetched before the ticket either way, as for a ``ticket.created`` event
  subscription, so a new customer's first ticket has an owner at once.
* "Mark as spam" (``PUT /api/v2/tickets/{id}/mark_as_spam``) deletes the ticket and suspends its
  requester; ``ticket.marked_as_spam`` is the only webhook that tells of that suspension (no user
  event reports one), so it refetches the requester, who then no longer links to a customer.
* One export response can hold the same object twice (zendesk_api_client_rb #251): the copy kept
  is the newest by ``updated_at`` when the object has no ``generated_timestamp`` (users).
"""

from __future__ import annotations

from typing import Any

from context_service.models import RecordKey
from context_service.snapshot.assemble import assemble
from context_service.store import Store
from context_service.store.profiles import profile_of_key
from context_service.sync import IngestContext, apply_pending, receive, run_sync
from integrations.zendesk import map_user
from integrations.zendesk.streams import unique_by_id
from integrations.zendesk.webhooks import TICKET_REQUESTER
from tests.conftest import Ingest
from tests.integrations.zendesk.fake import FakeZendesk
from tests.payloads import shopify_customer

URL = "https://context.example.com/v1/webhooks/zendesk"
Json = dict[str, Any]


def _synced(store: Store, ctx: IngestContext) -> FakeZendesk:
    fake = FakeZendesk()
    fake.populate(organizations=1, users=2, tickets=2)
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    return fake


def _deliver(store: Store, fake: FakeZendesk, payload: Json, **signed: Any) -> None:
    headers, body = fake.signed(payload, **signed)
    assert receive(store, fake.connector(), headers, body, URL, fake.now()).status == "accepted"


def _new_customer_writes_in(fake: FakeZendesk) -> None:
    """User 390001, never synced, opens ticket 36001 (a minute after the last sync)."""
    fake.clock += 120
    fake.put_user(390001, "new.customer@example.com", int(fake.clock))
    fake.put_ticket(36001, 390001, int(fake.clock))
    fake.add_comment(36001, "My parcel never arrived", public=True, at=fake.clock)
    fake.clock += 5


def _tickets_in_context(store: Store, ctx: IngestContext, user: str) -> list[str]:
    """The Zendesk tickets the context of ``user``'s profile lists (none without a profile)."""
    profile = profile_of_key(store.conn, RecordKey("zendesk", "user", user))
    snapshot = assemble(store.conn, profile, ctx.links, "now", "US") if profile else None
    members = snapshot.members if snapshot else []
    return [m.external_id for m in members if (m.source, m.kind) == ("zendesk", "ticket")]


# --- 1. A trigger delivery brings the ticket's requester --------------------------------------


def test_a_trigger_body_with_its_requester_refetches_that_user_first() -> None:
    fake = FakeZendesk()
    body = {"ticket_id": "36001", "event": "created", "requester_id": "390001"}
    delivery = fake.connector().parse_webhook(*fake.signed(body, invocation_id="inv-1"))
    assert delivery.refetch == [("user", "390001"), ("ticket", "36001")]


def test_a_trigger_body_whose_requester_placeholder_is_empty_asks_the_ticket() -> None:
    fake = FakeZendesk()
    body = {"ticket_id": "36001", "event": "created", "requester_id": ""}
    delivery = fake.connector().parse_webhook(*fake.signed(body, invocation_id="inv-1"))
    assert delivery.refetch == [(TICKET_REQUESTER, "36001"), ("ticket", "36001")]


def test_a_trigger_delivery_for_a_new_customers_first_ticket_brings_the_customer(
    store: Store, ctx: IngestContext
) -> None:
    fake = _synced(store, ctx)
    _new_customer_writes_in(fake)
    _deliver(store, fake, {"ticket_id": "36001", "event": "created"}, invocation_id="inv-new")
    assert apply_pending(store, {"zendesk": fake.connector()}, ctx, now=fake.now()) == 1
    assert _tickets_in_context(store, ctx, "390001") == ["36001"]


def test_a_trigger_delivery_naming_the_requester_asks_for_the_ticket_once(
    store: Store, ctx: IngestContext
) -> None:
    fake = _synced(store, ctx)
    _new_customer_writes_in(fake)
    body = {"ticket_id": "36001", "event": "created", "requester_id": "390001"}
    _deliver(store, fake, body, invocation_id="inv-new")
    fake.requests.clear()
    assert apply_pending(store, {"zendesk": fake.connector()}, ctx, now=fake.now()) == 1
    shown = [r.url.path for r in fake.requests if r.url.path.endswith("36001.json")]
    assert shown == ["/api/v2/tickets/36001.json"]
    assert _tickets_in_context(store, ctx, "390001") == ["36001"]


def test_the_requester_of_a_ticket_gone_meanwhile_is_nobody() -> None:
    fake = FakeZendesk()
    fake.populate(organizations=1, users=2, tickets=2)
    fake.delete("ticket", 35001)
    assert fake.connector().fetch_one(TICKET_REQUESTER, "35001") is None


def test_the_requester_of_a_ticket_is_fetched_as_a_user_refetch() -> None:
    fake = FakeZendesk()
    fake.populate(organizations=1, users=2, tickets=2)
    found = fake.connector().fetch_one(TICKET_REQUESTER, "35001")
    assert found is not None
    assert (found.kind, found.payload["id"]) == ("user", fake.tickets[35001]["requester_id"])


# --- 2. Marking a ticket as spam suspends its requester --------------------------------------


def test_marking_a_ticket_as_spam_refetches_its_requester_first() -> None:
    fake = FakeZendesk()
    event = fake.event("ticket.marked_as_spam", 35001, requester_id="384002")
    delivery = fake.connector().parse_webhook(*fake.signed(event))
    assert delivery.refetch == [("user", "384002"), ("ticket", "35001")]


def test_marking_a_ticket_as_spam_unlinks_the_suspended_requester(
    store: Store, ctx: IngestContext, ingest: Ingest
) -> None:
    fake = FakeZendesk()
    fake.populate(organizations=1, users=2, tickets=2)
    spammer = 384002
    fake.users[spammer]["name"] = "Maria Lopez"
    ingest(shopify_customer(1, "user2@example.com", "Maria", "Lopez"))
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    user, customer = (
        RecordKey("zendesk", "user", str(spammer)),
        RecordKey("shopify", "customer", "1"),
    )
    assert profile_of_key(store.conn, user) == profile_of_key(store.conn, customer)

    ticket = next(t for t, v in fake.tickets.items() if v["requester_id"] == spammer)
    fake.clock += 60
    fake.update("user", spammer, suspended=True)  # what mark_as_spam does to the requester...
    fake.delete("ticket", ticket)  # ... and to the ticket
    event = fake.event("ticket.marked_as_spam", ticket, requester_id=str(spammer))
    _deliver(store, fake, event)
    assert apply_pending(store, {"zendesk": fake.connector()}, ctx, now=fake.now()) == 1

    deleted = store.conn.execute(
        "SELECT deleted FROM records WHERE source = 'zendesk' AND kind = 'ticket' "
        "AND external_id = ?",
        (str(ticket),),
    ).fetchone()
    assert deleted == (1,)
    assert profile_of_key(store.conn, user) != profile_of_key(store.conn, customer)


# --- 3. Two copies of one object in one page ----------------------------------------------------


def _user_copy(email: str, updated_at: str) -> Json:
    return {
        "id": 7,
        "name": "Maria Lopez",
        "email": email,
        "role": "end-user",
        "active": True,
        "updated_at": updated_at,
    }


def test_of_two_copies_in_one_page_the_newest_is_kept() -> None:
    newer = _user_copy("maria@new.example", "2026-01-02T10:00:00Z")
    older = _user_copy("maria@old.example", "2026-01-01T09:00:00Z")
    for listed in ([newer, older], [older, newer]):  # users: by updated_at, whatever the order
        [kept] = unique_by_id(listed)
        person = map_user(kept).person
        assert person is not None
        assert person.emails == ["maria@new.example"]
    # tickets: by generated_timestamp (system updates move only that)
    later = {"id": 9, "updated_at": "2026-01-01T09:00:00Z", "generated_timestamp": 1_767_300_000}
    earlier = {**later, "subject": "stale", "generated_timestamp": 1_767_200_000}
    assert unique_by_id([later, earlier]) == [later]
    # two copies of one time: the later listed
    again = _user_copy("maria@again.example", "2026-01-02T10:00:00Z")
    assert unique_by_id([newer, again]) == [again]
