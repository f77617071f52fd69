"""``find_customer`` shows a ``low`` match without its ``profile_id`` (a security review,
session 28): a name alone gave a trusted backend's model a candidate at 3.6% with its id, and
``get_customer_context`` on that id returned the stranger's orders and tracking numbers; a
customer who says "yes, that's me, look me up" needs no more. Matches the details name for
sure keep their id."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.cli_trust import AuditedToolBox
from context_service.store import Store
from context_service.tools.schemas import tool_named
from tests.conftest import TEST_KEY, Ingest
from tests.payloads import shopify_customer, shopify_order

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}  # a bootstrap key: a trusted backend
MAYA = "maya.patel@example.com"


@pytest.fixture
def maya(ingest: Ingest) -> None:
    ingest(
        shopify_customer(1, MAYA, "Maya", "Patel", "+14155550134"),
        shopify_order(11, 1, "#1003", "2026-11-18T10:00:00Z"),
    )


def _find(client: TestClient[Any], **details: str) -> list[dict[str, Any]]:
    call = {"name": "find_customer", "arguments": details}
    response = client.post("/v1/tools/call", json=call, headers=AUTH)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = json.loads(response.text)
    return found


@pytest.mark.usefixtures("maya")
def test_a_name_alone_shows_her_without_an_id_to_open(client: TestClient[Any]) -> None:
    (match,) = _find(client, name="Maya Patel")
    assert (match["name"], match["confidence"], match["profile_id"]) == ("Maya Patel", "low", None)


@pytest.mark.usefixtures("maya")
def test_details_that_name_her_for_sure_keep_her_id(client: TestClient[Any]) -> None:
    (exact,) = _find(client, name="Maya", email=MAYA)
    (high,) = _find(client, name="Maya Patel", order_number="1003")
    assert exact["confidence"] == "exact"
    assert high["confidence"] == "high"
    assert exact["profile_id"] == high["profile_id"]
    assert str(exact["profile_id"]).startswith("prof_")


@pytest.mark.usefixtures("maya")
def test_a_low_match_is_still_a_read_in_the_audit(client: TestClient[Any], store: Store) -> None:
    """Her name was shown: the read is recorded, over HTTP and over stdio."""
    (shown,) = _find(client, name="Maya Patel")
    assert shown["profile_id"] is None
    box = AuditedToolBox(store, "US", who="operator", retention_days=30)
    (match,) = json.loads(box.call("find_customer", {"name": "Maya Patel"}))
    assert match["profile_id"] is None
    (exact,) = _find(client, email=MAYA)  # her id, to compare with what was recorded
    query = "SELECT profile_id FROM read_audit WHERE key_name = 'operator'"
    assert store.conn.execute(query).fetchall() == [(exact["profile_id"],)]
    deadline = time.monotonic() + 5  # the HTTP reads are written a quarter second later
    while time.monotonic() < deadline and _reads(store, "tool:find_customer") < 3:
        time.sleep(0.05)
    assert _reads(store, "tool:find_customer") == 3  # HTTP low, stdio low, HTTP exact


def _reads(store: Store, channel: str) -> int:
    query = "SELECT count(*) FROM read_audit WHERE channel = ? AND profile_id IS NOT NULL"
    return int(store.conn.execute(query, (channel,)).fetchone()[0])


def test_a_tools_409_hands_the_model_no_candidates_id(
    client: TestClient[Any], ingest: Ingest
) -> None:
    """get_customer_context on a mailbox two customers share listed both with their ids,
    which the model could open next; find_customer already showed them without."""
    ingest(
        shopify_customer(4, "info@acme.example", "Ann", "Lee"),
        shopify_customer(5, "info@acme.example", "Bo", "Chen"),
    )
    call = {"name": "get_customer_context", "arguments": {"email": "info@acme.example"}}
    response = client.post("/v1/tools/call", json=call, headers=AUTH)
    assert response.status_code == 409, response.text
    candidates = response.json()["candidates"]
    assert {c["name"] for c in candidates} == {"Ann Lee", "Bo Chen"}
    assert {c["profile_id"] for c in candidates} == {None}
    lookup = client.post("/v1/context/lookup", json={"email": "info@acme.example"}, headers=AUTH)
    assert all(c["profile_id"] for c in lookup.json()["candidates"])  # a program's 409 keeps them


def test_the_description_tells_the_model_so() -> None:
    spec = tool_named("find_customer")
    assert spec is not None
    assert "without a profile_id" in spec.description


@pytest.mark.usefixtures("maya")
def test_her_email_with_another_name_names_both_as_the_lookup_does(
    client: TestClient[Any], ingest: Ingest
) -> None:
    """The lookup answered 409 naming both (the email is Maya's, the name another customer's),
    while find_customer said no one (``[]``): the other customer scored 0.009997, under its
    floor of 0.01, not the lookup's 0.001."""
    ingest(shopify_customer(2, "tomas.garcia@example.com", "Tomás", "García"))
    details = {"name": "Tomás García", "email": MAYA}
    lookup = client.post("/v1/context/lookup", json=details, headers=AUTH)
    assert lookup.status_code == 409, lookup.text
    named = {c["name"] for c in lookup.json()["candidates"]}
    found = _find(client, **details)
    assert {m["name"] for m in found} == named == {"Tomás García", "Maya Patel"}
    assert {m["confidence"] for m in found} == {"low"}
