"""Zendesk tickets whose comments vanish (refetched or exported) never show their private
description as the last public comment."""

from __future__ import annotations

import httpx

from context_service.models import Ticket
from integrations.zendesk import map_record
from tests.integrations.contract import pages
from tests.integrations.zendesk.fake import FakeZendesk


def _comments_gone(fake: FakeZendesk) -> httpx.Client:
    """A client on ``fake`` whose comments endpoint answers 404 (the ticket deleted meanwhile)."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/comments.json"):
            fake.requests.append(request)
            return httpx.Response(404, json={"error": "RecordNotFound", "description": "Not found"})
        return fake.handler(request)

    return httpx.Client(transport=httpx.MockTransport(handler))


def _agent_opened_ticket() -> FakeZendesk:
    """A ticket an agent opened with an internal note: its ``description`` is that note."""
    fake = FakeZendesk()
    fake.populate(organizations=1, users=1, tickets=1)
    ticket_id = next(iter(fake.tickets))
    fake.update("ticket", ticket_id, description="INTERNAL: customer flagged for fraud review")
    fake.comments[ticket_id] = []
    fake.add_comment(ticket_id, "INTERNAL: customer flagged for fraud review", public=False, at=1)
    return fake


def _last_public_comment(payload: dict[str, object]) -> str | None:
    activity = map_record("ticket", payload).activity
    assert isinstance(activity, Ticket)
    return activity.last_public_comment


def test_refetched_ticket_whose_comments_vanish_does_not_show_its_private_description() -> None:
    fake = _agent_opened_ticket()
    ticket_id = next(iter(fake.tickets))
    connector = fake.connector(client=_comments_gone(fake))
    fetched = connector.fetch_one("ticket", str(ticket_id))
    assert fetched is not None
    assert _last_public_comment(dict(fetched.payload)) is None


def test_exported_ticket_whose_comments_vanish_does_not_show_its_private_description() -> None:
    fake = _agent_opened_ticket()
    connector = fake.connector(client=_comments_gone(fake))
    [page] = [p for p in pages(connector, "tickets") if p.objects]
    [ticket] = page.objects
    assert _last_public_comment(dict(ticket.payload)) is None
