"""Zendesk exports replayed from vcrpy cassettes hand-built from Zendesk's documented shapes.

vcrpy patches httpx's transports, so these tests use a plain ``httpx.Client`` and never a
``MockTransport`` (fault tests live in ``test_http.py`` and ``test_streams.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import vcr
import yaml

from context_service.models import PersonFacet, RecordKey, Ticket
from integrations._connector import Page, Stream
from integrations.zendesk import ZendeskConnector, map_record

CASSETTES = Path(__file__).parent / "cassettes"
REPLAY = vcr.VCR(
    cassette_library_dir=str(CASSETTES),
    record_mode="none",
    filter_headers=["authorization"],
)
PLACEHOLDER_TOKEN = "redacted"
NOW = 1_800_000_000.0  # long after the cassettes' data


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as the_client:
        yield the_client


def connector(client: httpx.Client, page_size: int) -> ZendeskConnector:
    return ZendeskConnector(
        subdomain="ourshop",
        email="agent@ourshop.example",
        api_token=PLACEHOLDER_TOKEN,
        client=client,
        now=lambda: NOW,
        sleep=lambda _: None,
        page_size=page_size,
    )


def stream(c: ZendeskConnector, name: str) -> Stream:
    return next(s for s in c.streams() if s.name == name)


def objects(pages: list[Page]) -> list[dict[str, Any]]:
    return [obj.payload for page in pages for obj in page.objects]


def test_users_page_through_the_cursor_export_and_resume_from_after_cursor(
    client: httpx.Client,
) -> None:
    with REPLAY.use_cassette("users_export.yaml") as cassette:
        users = stream(connector(client, page_size=2), "users")
        pages = list(users.pages(None))
        again = list(users.pages(pages[-1].cursor))
        assert cassette.all_played
    assert [json.loads(page.cursor or "") for page in pages] == [
        {"after_cursor": "MTc5NTI1NDA2MC4wfHwzODQ3MDAwMDF8"},
        {"after_cursor": "MTc5NTMzNDQwMC4wfHwzODQ3MTI3Nzd8"},
    ]
    assert again == []
    maria, agent, gone = (map_record("user", payload) for payload in objects(pages))
    assert maria.person == PersonFacet(
        emails=["maria.lopez@northwind-outfitters.com"],
        name="Maria Lopez",
        attributes={"role": "end-user", "organization_id": "360021455", "tags": "vip,wholesale"},
        created_at="2025-03-15T18:02:11Z",
    )
    assert agent.person is not None
    assert agent.person.attributes["role"] == "agent"
    assert agent.person.links == []  # staff: its Shopify link would merge it into a customer
    assert gone.deleted


def test_tickets_carry_their_comments_and_map_the_last_public_one(client: httpx.Client) -> None:
    with REPLAY.use_cassette("tickets_export.yaml") as cassette:
        pages = list(stream(connector(client, page_size=100), "tickets").pages(None))
        assert cassette.all_played  # one comments request: none for the deleted ticket
    open_ticket, deleted = objects(pages)
    assert [c["id"] for c in open_ticket["comments"]] == [1274, 1275, 1276]
    assert json.loads(pages[-1].cursor or "") == {
        "after_cursor": "MTc5NTI2MDYwMC4wfHwzNTQ0MHw=",
        "generated": 1795260600,
    }
    mapped = map_record("ticket", open_ticket)
    assert isinstance(mapped.activity, Ticket)
    assert mapped.activity.last_public_comment == (
        "Sorry about that Maria! I have asked the carrier for an update and will get back to "
        "you today."
    )
    assert mapped.activity.url == "https://ourshop.zendesk.com/agent/tickets/35436"
    assert mapped.activity.owners == [RecordKey("zendesk", "user", "384712001")]
    assert "comments" not in deleted
    assert map_record("ticket", deleted).deleted


def test_organizations_drop_the_boundary_duplicate(client: httpx.Client) -> None:
    with REPLAY.use_cassette("organizations_export.yaml") as cassette:
        pages = list(stream(connector(client, page_size=2), "organizations").pages(None))
        assert cassette.all_played
    assert [payload["id"] for payload in objects(pages)] == [360021455, 360021456]
    assert json.loads(pages[-1].cursor or "") == {"start_time": 1793437200, "ids": ["360021456"]}
    reference = map_record("organization", objects(pages)[0]).reference
    assert reference is not None
    assert reference.label == "Northwind Outfitters"


@pytest.mark.parametrize("name", sorted(p.name for p in CASSETTES.glob("*.yaml")))
def test_the_cassettes_hold_no_secret(name: str) -> None:
    text = (CASSETTES / name).read_text(encoding="utf-8")
    assert text.startswith("# Hand-built cassette")
    for interaction in yaml.safe_load(text)["interactions"]:
        assert "authorization" not in {h.lower() for h in interaction["request"]["headers"]}
    for marker in ("Basic ", "Bearer ", "/token:", "signing_secret"):
        assert marker not in text
