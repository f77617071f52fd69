"""Zendesk connector: agents are never customers, private text and attachment tokens stay out
of profiles, trigger replays are caught, and exports resume without ``after_cursor``.
Payloads follow Zendesk's documented shapes, as the fixtures in
``tests/integrations/fixtures/zendesk`` and ``FakeZendesk`` do; nothing reaches the network.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from context_service.models import RecordKey, Ticket
from context_service.store import Store
from context_service.store.profiles import profile_of_key
from integrations.zendesk import map_ticket
from tests.conftest import Ingest
from tests.integrations.contract import pages
from tests.integrations.zendesk.fake import FakeZendesk
from tests.payloads import shopify_customer, zendesk_user

Json = dict[str, Any]

CUSTOMER = RecordKey("shopify", "customer", "1")
AGENT = RecordKey("zendesk", "user", "7")


def _agent(email: str, name: str = "Sam Lee", role: str = "agent") -> tuple[str, str, Json]:
    """A Zendesk staff member's own user record (``role`` agent or admin)."""
    source, kind, payload = zendesk_user(7, name, email=email, phone="+1 415 555 0100")
    payload["role"] = role
    return source, kind, payload


def _ticket(payload: Json) -> Ticket:
    activity = map_ticket(payload).activity
    assert isinstance(activity, Ticket)
    return activity


# --- Agents are never customers ---------------------------------------------------------------


def test_an_agents_user_record_is_not_merged_into_the_customer_with_the_same_email(
    store: Store, ingest: Ingest
) -> None:
    """An agent who also shops at the store (or tests with a customer's address) must not drag
    their staff record, and the tickets they requested for others, into a customer's profile."""
    ingest(shopify_customer(1, "sam@shop.example", "Sam", "Lee"))
    ingest(_agent("sam@shop.example"))
    assert profile_of_key(store.conn, AGENT) != profile_of_key(store.conn, CUSTOMER)


def test_an_admins_user_record_is_not_merged_into_a_customer_either(
    store: Store, ingest: Ingest
) -> None:
    ingest(shopify_customer(1, "sam@shop.example", "Sam", "Lee"))
    ingest(_agent("sam@shop.example", role="admin"))
    assert profile_of_key(store.conn, AGENT) != profile_of_key(store.conn, CUSTOMER)


def test_an_end_user_promoted_to_agent_leaves_the_customers_profile(
    store: Store, ingest: Ingest
) -> None:
    ingest(shopify_customer(1, "sam@shop.example", "Sam", "Lee"))
    source, kind, end_user = _agent("sam@shop.example", role="end-user")
    ingest((source, kind, end_user))
    assert profile_of_key(store.conn, AGENT) == profile_of_key(store.conn, CUSTOMER)
    promoted = {**end_user, "role": "agent", "updated_at": "2026-02-01T00:00:00Z"}
    ingest((source, kind, promoted))
    assert profile_of_key(store.conn, AGENT) != profile_of_key(store.conn, CUSTOMER)


# --- Private text never becomes the last public comment ----------------------------------------


def test_a_ticket_zendesk_marks_as_having_no_public_comment_shows_no_description() -> None:
    """Without the comments list (``fetch_comments=False``) the mapper falls back to the
    description, which is the first comment; Zendesk's ``is_public: false`` says no comment of
    the ticket is public, so that description is an agent's internal note."""
    payload = {
        "id": 35436,
        "subject": "Chargeback risk",
        "description": "INTERNAL: customer flagged for fraud review",
        "status": "open",
        "is_public": False,
    }
    assert _ticket(payload).last_public_comment is None


def test_an_exported_private_only_ticket_without_comments_shows_no_description() -> None:
    fake = FakeZendesk()
    fake.populate(organizations=1, users=1, tickets=1)
    ticket_id = next(iter(fake.tickets))
    fake.update("ticket", ticket_id, description="INTERNAL: refund abuse", is_public=False)
    found = pages(fake.connector(fetch_comments=False), "tickets")
    [ticket] = [obj for page in found for obj in page.objects]
    assert _ticket(dict(ticket.payload)).last_public_comment is None


# --- Attachment tokens -------------------------------------------------------------------------


TOKEN = "tQ7mZ1a9Kx3Lp0RfYb2WcN8sD"
INLINE_IMAGE = (
    "Here is the damaged box: "
    f"![](https://ourshop.zendesk.com/attachments/token/{TOKEN}/?name=box.jpg) thanks"
)


def test_an_attachment_token_in_a_public_comment_does_not_reach_the_profile() -> None:
    """Inline images appear in a comment's ``body`` as token URLs that open the file without
    signing in; the comment text is kept, the token is not."""
    comment = _ticket({"id": 1, "comments": [{"body": INLINE_IMAGE, "public": True}]})
    text = comment.last_public_comment or ""
    assert TOKEN not in text
    assert "damaged box" in text
    assert "box.jpg" in text


def test_an_attachment_token_in_the_description_does_not_reach_the_profile() -> None:
    ticket = _ticket({"id": 1, "description": INLINE_IMAGE})
    assert TOKEN not in (ticket.last_public_comment or "")


def test_an_attachment_token_in_a_subjectless_title_does_not_reach_the_profile() -> None:
    payload = {"id": 1, "description": INLINE_IMAGE}
    payload["comments"] = [{"body": INLINE_IMAGE, "public": True}]
    assert TOKEN not in (_ticket(payload).title or "")


# --- Webhook replay ----------------------------------------------------------------------------


def test_a_replayed_trigger_delivery_with_a_forged_invocation_id_is_still_a_replay() -> None:
    """The invocation id header is not signed: an attacker replaying a captured trigger
    delivery (inside the 5-minute window) with a new invocation id must still be caught, or
    each replay costs a ticket and comments refetch against the account's rate limit."""
    fake = FakeZendesk()
    connector = fake.connector()
    headers, raw = fake.signed({"ticket_id": "35001", "event": "ticket_updated"})
    original = connector.parse_webhook(headers, raw)
    forged = {**headers, "X-Zendesk-Webhook-Invocation-Id": "01HZZZFORGED"}
    connector.verify_webhook(forged, raw, "", fake.now())
    replay = connector.parse_webhook(forged, raw)
    assert set(original.dedup_ids) & set(replay.dedup_ids)


def test_zendesk_retries_of_one_trigger_invocation_are_still_one_delivery() -> None:
    fake = FakeZendesk()
    connector = fake.connector()
    body = {"ticket_id": "35001", "event": "ticket_updated"}
    first = connector.parse_webhook(*fake.signed(body, invocation_id="inv-1"))
    fake.clock += 20
    retry = connector.parse_webhook(*fake.signed(body, invocation_id="inv-1"))
    assert set(first.dedup_ids) & set(retry.dedup_ids)


# --- Cursor exports: an answer without after_cursor ---------------------------------------------


def _without_after_cursor(fake: FakeZendesk) -> httpx.Client:
    """A client on ``fake`` whose cursor exports end at once with ``after_cursor: null``."""

    def handler(request: httpx.Request) -> httpx.Response:
        response = fake.handler(request)
        if "/cursor.json" not in request.url.path or response.status_code != 200:
            return response
        body = json.loads(response.content)
        body.update(after_cursor=None, after_url=None, end_of_stream=True)
        return httpx.Response(200, json=body)

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_an_export_ending_without_after_cursor_resumes_after_what_it_read() -> None:
    """If Zendesk ends a cursor export with ``after_cursor: null``, the next run must not go
    back to the first start (a full re-export at 10 requests a minute on every sync)."""
    fake = FakeZendesk()
    fake.populate(organizations=1, users=3, tickets=3)
    connector = fake.connector(client=_without_after_cursor(fake))
    for stream, newest in (
        ("users", max(_unix_of(u["updated_at"]) for u in fake.users.values())),
        ("tickets", max(t["generated_timestamp"] for t in fake.tickets.values())),
    ):
        [page] = pages(connector, stream)
        fake.requests.clear()
        pages(connector, stream, page.cursor)
        [params] = [dict(r.url.params) for r in fake.requests if "/cursor.json" in r.url.path]
        assert int(params["start_time"]) == newest, stream


def _unix_of(value: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
