"""Review of the bot tools: what ``find_customer`` may answer when the details name two people or
too many, how sure a handoff says it is, and what a retried ``create_escalation`` posts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.demo.personas import (
    ANA_PHONE,
    MAYA_NAME,
    TOMAS_EMAIL,
    TOMAS_NAME,
    TOMAS_ORDER_NAME,
)
from context_service.errors import AmbiguousIdentifier
from context_service.handoff import NoteFailed
from context_service.store import Store
from context_service.tools import ToolBox
from tests.conftest import TEST_KEY, Ingest, make_settings
from tests.payloads import hubspot_contact, shopify_customer
from tests.trust.helpers import make_key

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
TOMAS_ORDER = TOMAS_ORDER_NAME.lstrip("#")


@pytest.fixture
def api(demo_db: Path) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(make_settings(demo_db))) as client:
        client.headers.update(AUTH)
        yield client


def _call(client: TestClient[Any], name: str, arguments: Any, key: str = TEST_KEY) -> Any:
    call = {"name": name, "arguments": arguments}
    return client.post("/v1/tools/call", json=call, headers={"Authorization": f"Bearer {key}"})


@pytest.mark.parametrize(
    ("said", "holder", "field", "other"),
    [({"email": TOMAS_EMAIL, "name": MAYA_NAME}, TOMAS_NAME, "email", MAYA_NAME)],
)
def test_find_customer_never_offers_another_customer_for_a_contact_it_holds(
    api: TestClient[Any], said: dict[str, str], holder: str, field: str, other: str
) -> None:
    """Ana's phone with Tomás's order number listed Tomás first at 0.998 and nothing said the
    phone was Ana's: a bot would read Tomás's orders to whoever holds Ana's phone. Like
    ``POST /v1/context/lookup`` (409 naming both), the tool names both, neither as likelier."""
    response = _call(api, "find_customer", said)
    assert response.status_code == 200, response.text
    found = json.loads(response.text)
    assert {m["name"] for m in found} == {holder, other}
    assert all("probability" not in m for m in found)
    whys = {m["name"]: m["why"] for m in found}
    assert whys[holder].startswith(f"holds the {field} given")
    assert f"the {field} given is another customer's" in whys[other]


def test_find_customer_says_which_candidate_does_not_hold_the_email_given(
    api: TestClient[Any],
) -> None:
    """Maya's email with Tomás's order number: Maya (who holds the email) comes first, but
    Tomás followed at 0.997 with "order_number: theirs" and nothing said the email was not his,
    where ``POST /v1/context/lookup`` answers 409. A bot must hear that he is not the email's."""
    for said in (
        {"email": "maya.patel@example.com", "order_number": TOMAS_ORDER},
        {"phone": ANA_PHONE, "order_number": TOMAS_ORDER},
    ):
        # Since session 28 details with a number name the customer or no one: a match for
        # the contact's holder beside Tomás would say whose the order is.
        response = _call(api, "find_customer", said)
        assert response.status_code == 409, response.text
        assert response.json()["candidates"] == []
        assert "Tom" not in response.text


@pytest.fixture
def common_name_db(store: Store, ingest: Ingest) -> Path:
    """A store where 60 customers are called John Smith (more than a name search looks at)."""
    ingest(*(shopify_customer(i, f"john.smith{i}@example.com", "John", "Smith") for i in range(60)))
    return Path(store.conn.execute("PRAGMA database_list").fetchone()[2])


def test_find_customer_by_a_too_common_name_is_not_nobody(common_name_db: Path) -> None:
    """A name held by too many records to search returned ``[]``, as for a name nobody has: a
    bot would tell a John Smith he has no account. It is ambiguous, as for the HTTP lookup."""
    store = Store(common_name_db)
    try:
        with pytest.raises(AmbiguousIdentifier, match="many different customers"):
            ToolBox(store.conn, "US").call("find_customer", {"name": "John Smith"})
    finally:
        store.close()


def test_a_public_key_is_not_told_a_common_name_has_no_account(common_name_db: Path) -> None:
    key = make_key(common_name_db, "bot", ["context:lookup"], audiences=["chatbot"])
    with TestClient(app=create_app(make_settings(common_name_db))) as client:
        response = _call(client, "find_customer", {"name": "John Smith"}, key)
    assert response.status_code == 409, response.text
    assert "account_exists" not in response.text
    assert response.json()["candidates"] == []


class Notes:
    """A helpdesk that keeps every internal note it is asked to post; the first ``failures``
    posts fail."""

    def __init__(self, failures: int = 0) -> None:
        self.posted: list[tuple[str, str]] = []
        self.failures = failures

    def post_internal_note(self, ticket_id: str, body: str) -> None:
        if self.failures:
            self.failures -= 1
            raise NoteFailed("Zendesk answered 503")
        self.posted.append((ticket_id, body))


def test_a_handoff_whose_sources_disagree_on_the_phone_is_not_high_confidence(
    store: Store, ingest: Ingest
) -> None:
    """``POST /v1/escalations`` says "medium confidence ... sources disagree on phone" when the
    sources give the customer two phones; the tool's handoff (the note for agents and the bot's
    copy) said "high confidence", so an agent would trust a number that may be wrong."""
    ingest(
        shopify_customer(1, "sam.ortiz@example.com", "Sam", "Ortiz", phone="+14155550101"),
        hubspot_contact("2", "sam.ortiz@example.com", "Sam", "Ortiz", phone="+14155550199"),
    )
    arguments = {"email": "sam.ortiz@example.com", "reason": "wants a human", "post_note": False}
    text = ToolBox(store.conn, "US").call("create_escalation", arguments)
    assert "high confidence" not in text
    assert "medium confidence" in text
    assert "sources disagree on identity details" in text  # the chatbot view hides conflicts


def test_a_retried_escalation_posts_its_note_once(demo_db: Path) -> None:
    """Agent frameworks retry a tool call whose answer was lost (a timeout, a dropped
    connection): each retry posted the same handoff on Maya's ticket again. A retry with the
    same customer, reason and transcript answers that the note is already there."""
    notes = Notes()
    arguments: dict[str, Any] = {
        "email": "maya.patel@example.com",
        "reason": "wants a refund for a double charge",
        "transcript": [{"role": "customer", "text": "I was charged twice, I want a human"}],
    }
    store = Store(demo_db)
    try:
        box = ToolBox(store.conn, "US", notes=notes)
        first = box.call("create_escalation", arguments)
        retried = box.call("create_escalation", arguments)
        later = [*arguments["transcript"], {"role": "customer", "text": "and a discount"}]
        other = box.call("create_escalation", {**arguments, "transcript": later})
    finally:
        store.close()
    assert "internal note posted on ticket 1001" in first
    assert "already posted on ticket 1001" in retried
    assert [body for _, body in notes.posted].count(notes.posted[0][1]) == 1
    assert "internal note posted on ticket 1001" in other  # more conversation: a new note
    assert len(notes.posted) == 2


def test_an_escalation_whose_note_failed_posts_it_when_retried(demo_db: Path) -> None:
    notes = Notes(failures=1)
    arguments = {"email": "maya.patel@example.com", "reason": "wants a human"}
    store = Store(demo_db)
    try:
        box = ToolBox(store.conn, "US", notes=notes)
        failed = box.call("create_escalation", arguments)
        retried = box.call("create_escalation", arguments)
    finally:
        store.close()
    assert "failed: Zendesk answered 503" in failed
    assert "internal note posted on ticket 1001" in retried
    assert len(notes.posted) == 1
