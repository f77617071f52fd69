"""Review of ``POST /v1/escalations`` and the handoff: the note only ever lands on a Zendesk
ticket of this customer, and bad bodies are clear 4xx answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.handoff import NoteFailed, Turn, Who, ZendeskNotes, build_handoff
from context_service.models import Member, Snapshot, Ticket
from context_service.store import Store
from tests.api.test_escalations import AUTH, _body
from tests.audience.helpers import snapshot_of
from tests.conftest import make_settings

replace = msgspec.structs.replace


@pytest.fixture
def client(demo_db: Path) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(make_settings(demo_db))) as test_client:
        yield test_client


@pytest.fixture
def maya(demo_store: Store) -> Snapshot:
    return snapshot_of(demo_store)


def _who(snap: Snapshot) -> Who:
    return Who(snap.profile_id, snap.identity.name, [], [], "email", "high", "matched by email")


def _with_sheet_ticket(snap: Snapshot) -> Snapshot:
    """Maya's snapshot with a newer open ticket that a spreadsheet source (an old helpdesk
    export) holds: its number is no Zendesk ticket of hers."""
    sheet_ticket = Ticket(
        external_id="1002",
        status="open",
        title="Old helpdesk: where is my parcel",
        created_at="2026-11-21T09:00:00Z",
        updated_at="2026-11-21T09:00:00Z",
    )
    return replace(
        snap,
        members=[*snap.members, Member("legacy_desk", "ticket", "1002")],
        support=replace(snap.support, tickets=[sheet_ticket, *snap.support.tickets]),
    )


def test_a_spreadsheet_ticket_is_never_the_zendesk_ticket_of_the_note(maya: Snapshot) -> None:
    """The note is PUT to Zendesk ``/tickets/{open_ticket}``: a ticket number from a
    spreadsheet source is some other Zendesk ticket (another customer's), so only a ticket the
    profile holds as a Zendesk record may be the open ticket."""
    snap = _with_sheet_ticket(maya)
    handoff = build_handoff(snap, _who(snap), [Turn("customer", "any news?")], "needs a human")
    assert handoff.open_ticket == "1001"


def test_a_spreadsheet_ticket_alone_gives_no_open_ticket(maya: Snapshot) -> None:
    snap = _with_sheet_ticket(maya)
    only_sheet = replace(snap, support=replace(snap.support, tickets=snap.support.tickets[:1]))
    handoff = build_handoff(only_sheet, _who(snap), [Turn("customer", "hi")], "needs a human")
    assert handoff.open_ticket is None


@pytest.mark.parametrize("reason", [" ", "\n\t  "])
def test_a_blank_reason_is_a_400(client: TestClient[Any], reason: str) -> None:
    """An empty reason is a 400; one of spaces only was taken and shown as the bot's reason."""
    response = client.post("/v1/escalations", json=_body(reason=reason), headers=AUTH)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "ticket_id", ["\uff11\uff10\uff10\uff11", "\u0661\u0660\u0660\u0661", "\u00b2"]
)
def test_zendesk_notes_refuse_non_ascii_digits(ticket_id: str) -> None:
    """``str.isdigit`` is true for fullwidth, Arabic-Indic and superscript digits: such an id
    went into the Zendesk URL instead of being refused."""
    sent: list[httpx.Request] = []

    def zendesk(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    notes = ZendeskNotes(
        httpx.Client(transport=httpx.MockTransport(zendesk)), "https://acme.zendesk.com", "x"
    )
    with pytest.raises(NoteFailed):
        notes.post_internal_note(ticket_id, "note")
    assert sent == []
