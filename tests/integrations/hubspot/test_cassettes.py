"""The contacts stream replayed from a vcrpy cassette built from HubSpot's documented shapes.

vcrpy patches httpx's transports, so these tests use a plain ``httpx.Client`` and never a
``MockTransport`` (fault tests live in ``test_http.py``). Requests match on method, URI and the
JSON body, so the cassette also pins the search filters the connector sends.
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

from context_service.models import RecordKey
from integrations.hubspot import HubSpotConnector, map_record

CASSETTES = Path(__file__).parent / "cassettes"
PLACEHOLDER_TOKEN = "pat-redacted"
NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def _json_body(recorded: Any, sent: Any) -> None:
    """vcrpy matcher: the same JSON body (or both empty)."""
    a, b = recorded.body, sent.body
    assert (json.loads(a) if a else None) == (json.loads(b) if b else None)


def _vcr() -> vcr.VCR:
    recorder = vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode="none",
        filter_headers=["authorization"],
        match_on=["method", "uri", "json_body"],
    )
    recorder.register_matcher("json_body", _json_body)
    return recorder


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as plain:
        yield plain


def test_contacts_replayed_from_the_cassette(client: httpx.Client) -> None:
    connector = HubSpotConnector(
        client, access_token=PLACEHOLDER_TOKEN, page_size=2, sleep=lambda s: None, now=lambda: NOW
    )
    [contacts] = [s for s in connector.streams() if s.name == "contacts"]
    with _vcr().use_cassette("contacts_search.yaml") as cassette:
        pages = list(contacts.pages(None))
        assert cassette.all_played
    assert [json.loads(page.cursor or "") for page in pages] == [{"since": 1_764_264_000_000}]
    maria, jamal = (obj.payload for obj in pages[0].objects)
    assert maria["associations"] == {"companies": {"results": [{"id": "9001"}, {"id": "9002"}]}}
    assert jamal["associations"] == {"companies": {"results": []}}
    person = map_record("contact", maria).person
    assert person is not None
    assert person.emails == ["Maria.Lopez@Northwind-Outfitters.com"]
    assert person.attributes["company_ids"] == "9001,9002"
    assert person.links == [RecordKey("shopify", "customer", "207119551")]
    assert person.birth_date == "1986-07-21"  # requested, so a differing one keeps people apart
    assert maria["_labels"] == {"lifecyclestage": "Customer"}
    assert person.attributes["lifecycle_stage"] == "Customer"  # the label, not ``customer``
    other = map_record("contact", jamal)
    assert other.updated_at == "2025-11-27T17:20:00Z"
    assert other.person is not None
    assert other.person.emails == ["jamal.wright@example.org", "jwright77@mail.example.net"]
    assert other.person.birth_date is None
    assert other.person.attributes["lifecycle_stage"] == "Lead"


def test_the_cassettes_hold_no_secret() -> None:
    for path in CASSETTES.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# Hand-built cassette")
        for interaction in yaml.safe_load(text)["interactions"]:
            assert "authorization" not in {n.lower() for n in interaction["request"]["headers"]}
        for marker in ("Bearer", "pat-na1-", "pat-eu1-", "hapikey"):
            assert marker not in text
