"""The lookup and tools path: what the confidence words mean, contacts a household
shares, a one-word name, duplicate notes across workers, and an unknown source."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from context_service.demo.personas import MAYA_NAME
from context_service.errors import InvalidIdentifier
from context_service.identity.pairs import Thresholds
from context_service.store import Store
from context_service.tools import ToolBox
from tests.conftest import Ingest
from tests.payloads import shopify_customer, zendesk_user
from tests.review_fixtures import AUTH, app_client

MAYA_EMAIL = "maya.patel@example.com"
HOME_PHONE = "+14155550177"  # one line for a household of two
OWN_PHONE = "+14155550199"


@pytest.fixture
def household(store: Store, ingest: Ingest) -> Store:
    """Michael and Michelle Brown share a home phone (two people: their names conflict);
    Zed Zulu has a phone of his own; Ana Silva and Bruno Costa share another line."""
    ingest(
        shopify_customer(1, "michael.brown@example.com", "Michael", "Brown", HOME_PHONE),
        zendesk_user(2, "Michelle Brown", "michelle.b@example.net", HOME_PHONE),
        shopify_customer(3, "zed.zulu@example.com", "Zed", "Zulu", OWN_PHONE),
        shopify_customer(4, "ana.silva@example.com", "Ana", "Silva", "+14155550166"),
        zendesk_user(5, "Bruno Costa", "bruno.costa@example.net", "+14155550166"),
    )
    return store


def _find(box: ToolBox, **arguments: str) -> list[dict[str, Any]]:
    found = json.loads(box.call("find_customer", arguments))
    assert isinstance(found, list)
    return found


def _expected_word(probability: float, thresholds: Thresholds) -> str:
    if probability >= thresholds.link:
        return "high"
    return "medium" if probability >= thresholds.review else "low"


# 1. Confidence words with a calibrated meaning -------------------------------------------------


def test_find_customer_says_high_only_at_the_link_threshold(household: Store) -> None:
    """A shared home phone with a first name scores 0.977: under the link threshold (0.99), so
    a person would have to confirm it. The match must not read as certain ("high")."""
    found = _find(ToolBox(household.conn, "US"), phone=HOME_PHONE, name="Mike")
    assert found
    assert all("confidence" in m for m in found)
    assert max(m["probability"] for m in found) < Thresholds().link
    for match in found:
        assert match["confidence"] == _expected_word(match["probability"], Thresholds()), match


def test_find_customer_confidence_follows_configured_thresholds(household: Store) -> None:
    """The words follow CONTEXT_SERVICE_IDENTITY_LINK/REVIEW_THRESHOLD: the same faint match
    by a full name alone is "low" under the default review threshold and "medium" under one
    set below its probability."""
    words = set()
    for review in (0.5, 0.01):
        thresholds = Thresholds(link=0.99, review=review)
        box = ToolBox(household.conn, "US", thresholds=thresholds)
        (zed,) = _find(box, name="Zed Zulu")
        assert zed["confidence"] == _expected_word(zed["probability"], thresholds)
        words.add(zed["confidence"])
    assert words == {"low", "medium"}


def test_find_customer_names_an_identifier_match_exact(demo_db: Path) -> None:
    """An email that one customer holds is "exact"; with a first name that agrees (p < link)
    the answer is still that customer's email, so still "exact", never "high" at 0.98."""
    store = Store(demo_db)
    try:
        box = ToolBox(store.conn, "US")
        (alone,) = _find(box, email=MAYA_EMAIL)
        (with_name,) = _find(box, email=MAYA_EMAIL, name="Maya")
        (full_name,) = _find(box, name=MAYA_NAME)
    finally:
        store.close()
    assert alone["confidence"] == "exact"
    assert with_name["probability"] < Thresholds().link
    assert with_name["confidence"] == "exact"
    assert full_name["confidence"] == "low"  # a name alone is never enough


def test_find_customer_documents_the_confidence_words() -> None:
    from context_service.tools import tool_named

    spec = tool_named("find_customer")
    assert spec is not None
    for word in ("exact", "high", "medium", "low"):
        assert f"{word}:" in spec.description or f'"{word}"' in spec.description


def test_lookup_says_high_confidence_only_at_the_link_threshold(demo_db: Path) -> None:
    with app_client(demo_db) as client:
        body = {"email": MAYA_EMAIL, "name": "Maya", "audience": "agent", "format": "text"}
        response = client.post("/v1/context/lookup", json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    probability = float(response.headers["X-Match-Probability"])
    if "high confidence" in response.text:
        assert probability >= Thresholds().link


def test_lookup_through_a_shared_mailbox_is_never_high_confidence(demo_db: Path) -> None:
    """find_customer caps a match that rests on a contact several customers hold at medium;
    the lookup said "high confidence" for the same details (0.998 through info@)."""
    body = {
        "email": "info@silvacosta.example",
        "name": "Ana Silva",
        "audience": "agent",
        "format": "text",
    }
    with app_client(demo_db) as client:
        response = client.post("/v1/context/lookup", json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    assert "medium confidence" in response.text
    assert "high confidence" not in response.text


# 2. A contact more than one profile holds -------------------------------------------------------


def test_find_customer_says_when_the_phone_given_is_shared(household: Store) -> None:
    """The household phone with a first name answered Michael with "phone: exact" and 0.977,
    as if the line were his alone: the bot must hear that two customers hold it, and the match
    may not read "high" however it scores."""
    found = _find(ToolBox(household.conn, "US"), phone=HOME_PHONE, name="Michael Brown")
    michael = next(m for m in found if m["name"] == "Michael Brown")
    assert "the phone given is held by 2 customers" in michael["why"]
    assert michael["probability"] >= Thresholds().link
    assert michael["confidence"] == "medium"
    (zed,) = _find(ToolBox(household.conn, "US"), phone=OWN_PHONE, name="Zed Zulu")
    assert "held by" not in zed["why"]


# 3. A one-word name ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Maya", "Zzyzxqv"])
def test_find_customer_by_a_one_word_name_asks_for_more(demo_db: Path, name: str) -> None:
    """A first name alone answered ``[]``: "no such customer", though Maya Patel is one. It is
    a 400 that asks for more, the same whether or not anyone has the name (no enumeration)."""
    store = Store(demo_db)
    try:
        with pytest.raises(InvalidIdentifier, match="one name alone") as raised:
            ToolBox(store.conn, "US").call("find_customer", {"name": name})
    finally:
        store.close()
    assert name in str(raised.value)
    assert "full name" in str(raised.value)


def test_a_one_word_name_with_another_detail_is_still_searched(demo_db: Path) -> None:
    store = Store(demo_db)
    try:
        (maya,) = _find(ToolBox(store.conn, "US"), email=MAYA_EMAIL, name="Maya")
    finally:
        store.close()
    assert maya["name"] == MAYA_NAME


def test_lookup_by_a_one_word_name_is_not_no_customer(demo_db: Path) -> None:
    with app_client(demo_db) as client:
        response = client.post("/v1/context/lookup", json={"name": "Maya"}, headers=AUTH)
    assert response.status_code == 400, response.text


# 4. Duplicate notes across workers -------------------------------------------------------------


class _Notes:
    def __init__(self) -> None:
        self.posted: list[tuple[str, str]] = []

    def post_internal_note(self, ticket_id: str, body: str) -> None:
        self.posted.append((ticket_id, body))


def test_a_retry_on_another_worker_does_not_post_the_note_again(demo_db: Path) -> None:
    """``serve`` runs CONTEXT_SERVICE_WORKERS processes, each with its own ToolBox: a retried
    create_escalation that lands on another worker (or after a restart) posted it twice."""
    notes = _Notes()
    arguments = {"email": MAYA_EMAIL, "reason": "wants a refund for a double charge"}
    first, second = Store(demo_db), Store(demo_db)
    try:
        ToolBox(first.conn, "US", notes=notes).call("create_escalation", arguments)
        retried = ToolBox(second.conn, "US", notes=notes).call("create_escalation", arguments)
    finally:
        first.close()
        second.close()
    assert len(notes.posted) == 1
    assert "already posted" in retried


# Further review: an unknown source ------------------------------------------------------------


@pytest.mark.parametrize("tool", ["get_customer_context", "find_customer"])
def test_a_tool_call_with_a_misspelt_source_is_a_400(demo_db: Path, tool: str) -> None:
    """``GET /v1/context?source=Shopify`` is a 400 naming the sources; the tools answered 404
    "no customer with Shopify id ...", and a bot told the customer they have no account."""
    store = Store(demo_db)
    try:
        box = ToolBox(store.conn, "US")
        with pytest.raises(InvalidIdentifier, match="unknown source"):
            box.call(tool, {"source": "Shopify", "external_id": "1"})
    finally:
        store.close()


def test_an_unknown_tool_name_is_not_echoed_back_in_full(demo_db: Path) -> None:
    """A model (or a caller) that sends a 20,000-character tool name got all of it back in
    the 404's detail, and a chatbot loop passes that detail back into the model's context."""
    name = "get_customer_context" + "x" * 20_000
    with app_client(demo_db) as client:
        response = client.post("/v1/tools/call", json={"name": name, "arguments": {}}, headers=AUTH)
    assert response.status_code in (400, 404), response.text
    assert len(response.json()["detail"]) < 400
