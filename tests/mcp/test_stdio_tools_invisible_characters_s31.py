"""Over stdio MCP (``context-service mcp``: ``AuditedToolBox``) as over HTTP, a detail pasted
with a character no reader sees (a right-to-left mark after an email, an override before a
name) names the customer it names without it (session 31)."""

from __future__ import annotations

import json

import pytest

from context_service.cli_trust import AuditedToolBox
from context_service.store import Store
from tests.conftest import Ingest
from tests.payloads import shopify_customer

MAYA = "maya.patel@example.com"


@pytest.fixture
def box(ingest: Ingest, store: Store) -> AuditedToolBox:
    ingest(shopify_customer(1, MAYA, "Maya", "Patel", "+14155550134"))
    return AuditedToolBox(store, "US", who="operator", retention_days=30)


def test_an_email_with_a_trailing_bidi_mark_finds_the_customer(box: AuditedToolBox) -> None:
    text = box.call("get_customer_context", {"email": MAYA + "\u200f"})
    assert "Maya Patel" in text


def test_a_name_with_an_override_scores_as_the_plain_name(box: AuditedToolBox) -> None:
    plain = json.loads(box.call("find_customer", {"name": "Maya Patel", "email": MAYA}))
    marked = json.loads(
        box.call("find_customer", {"name": "\u202eMaya Patel", "email": "\u200b" + MAYA})
    )
    assert marked == plain
    assert marked[0]["profile_id"] is not None
