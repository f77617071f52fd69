"""POST /v1/tools/call under the trust rules (``GuardedToolBox``): what a public key is told
and audited for, where a helpdesk note is posted from, and what the bot hears of a ticket."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.audience import load_policy
from context_service.handoff import NoteFailed
from context_service.store import Store
from context_service.tools import ToolBox
from tests.conftest import TEST_KEY, make_settings
from tests.spies import LoopSpy
from tests.trust.helpers import copy_demo, make_key

MAYA = "maya.patel@example.com"
AUTH = {"Authorization": f"Bearer {TEST_KEY}"}


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _call(client: TestClient[Any], name: str, arguments: Any, key: str = TEST_KEY) -> Any:
    call = {"name": name, "arguments": arguments}
    return client.post("/v1/tools/call", json=call, headers=_auth(key))


@pytest.fixture
def public_bot(demo_db: Path, tmp_path: Path) -> Iterator[tuple[TestClient[Any], str]]:
    """A public chatbot key (``context:lookup``, chatbot audience, no trusted backend)."""
    db = copy_demo(demo_db, tmp_path)
    key = make_key(db, "bot", ["context:lookup"], audiences=["chatbot"])
    with TestClient(app=create_app(make_settings(db))) as client:
        yield client, key


def test_an_unknown_tool_is_404_for_a_public_key_too(public_bot: Any) -> None:
    client, key = public_bot
    response = _call(client, "delete_customer", {}, key)
    assert response.status_code == 404
    assert response.json()["title"] == "Unknown tool"
    assert "An account exists" not in response.text


def test_a_public_key_asking_for_json_gets_the_unverified_answer_as_json(
    public_bot: Any,
) -> None:
    client, key = public_bot
    response = _call(client, "get_customer_context", {"email": MAYA, "format": "json"}, key)
    assert response.status_code == 200
    body = json.loads(response.text)  # as GET /v1/context answers the same key
    assert body["verification"] == "unverified"
    assert "Maya" not in response.text
    as_text = _call(client, "get_customer_context", {"email": MAYA}, key)
    assert as_text.text.startswith("Verification: unverified")


def test_a_public_key_s_bad_format_is_still_400(public_bot: Any) -> None:
    client, key = public_bot
    response = _call(client, "get_customer_context", {"email": MAYA, "format": "yaml"}, key)
    assert response.status_code == 400


def test_find_customer_by_a_public_key_is_an_unverified_read_in_the_audit(
    public_bot: Any,
) -> None:
    client, key = public_bot
    response = _call(client, "find_customer", {"email": MAYA}, key)
    assert response.json() == {"verification": "unverified", "account_exists": True}
    maya = _call(client, "find_customer", {"email": MAYA}).json()[0]["profile_id"]
    client.app.state.trust.audit.flush()  # reads are buffered; write them now
    reads = client.get("/v1/audit/reads", params={"profile_id": maya}, headers=AUTH)
    seen = {(r["key_name"], r["channel"], r["verified"]) for r in reads.json()["reads"]}
    assert ("bot", "tool:find_customer", False) in seen


def test_create_escalation_posts_its_note_off_the_event_loop(demo_db: Path, tmp_path: Path) -> None:
    """The Zendesk call blocks for up to 30 s: on the loop it would stall every request."""
    spy = LoopSpy()
    db = copy_demo(demo_db, tmp_path)
    with TestClient(app=create_app(make_settings(db), note_poster=spy)) as client:
        arguments = {"email": MAYA, "reason": "asks for a person", "post_note": True}
        assert _call(client, "create_escalation", arguments).status_code == 200
    assert spy.on_loop == [False]


class Poster:
    """A note poster that keeps the ticket it was given, or fails with ``error``."""

    def __init__(self, error: str | None = None) -> None:
        self.ticket = ""
        self.error = error

    def post_internal_note(self, ticket_id: str, body: str) -> None:
        self.ticket = ticket_id
        if self.error is not None:
            raise NoteFailed(self.error.format(ticket_id))


def _escalate(demo_db: Path, tmp_path: Path, poster: Poster, chatbot: str) -> str:
    policy = tmp_path / "policy.toml"
    policy.write_text(f'[audiences.chatbot]\ncontact = "masked"\n{chatbot}\n')
    store = Store(demo_db)
    try:
        box = ToolBox(store.conn, "US", load_policy(str(policy)), poster)
        return box.call("create_escalation", {"email": MAYA, "reason": "wants a human"})
    finally:
        store.close()


def test_the_bot_is_not_told_a_ticket_id_its_view_hides(demo_db: Path, tmp_path: Path) -> None:
    poster = Poster()
    answer = _escalate(demo_db, tmp_path, poster, 'hide = ["support.tickets"]')
    assert poster.ticket  # the note went to the agents' ticket...
    assert "internal note posted on the customer's open ticket" in answer
    assert "Open ticket:" not in answer  # ...the bot's copy of the handoff leaves it out...
    assert poster.ticket not in answer  # ...and so does the outcome line


def test_a_failed_note_does_not_name_a_hidden_ticket_either(demo_db: Path, tmp_path: Path) -> None:
    poster = Poster(error="'{}' is not a Zendesk ticket id")
    answer = _escalate(demo_db, tmp_path, poster, 'hide = ["support.tickets"]')
    assert "the note on the customer's open ticket failed" in answer
    assert poster.ticket not in answer


def test_a_bot_that_sees_tickets_is_told_which_one_got_the_note(
    demo_db: Path, tmp_path: Path
) -> None:
    poster = Poster()
    answer = _escalate(demo_db, tmp_path, poster, "")
    assert f"internal note posted on ticket {poster.ticket}" in answer


def test_a_faint_match_does_not_tell_a_public_key_an_account_exists(public_bot: Any) -> None:
    """A name that only faintly fits someone (the trusted answer lists a candidate well below
    the review threshold) names no account: 'account exists' would be a guess told to an
    unverified caller."""
    client, key = public_bot
    details = {"name": "Maya Patel"}  # her full name alone: 0.04 on the demo store
    trusted = _call(client, "find_customer", details).json()
    assert trusted  # someone is listed, at a low probability
    assert all(m["probability"] is not None and m["probability"] < 0.5 for m in trusted)
    answer = _call(client, "find_customer", details, key).json()
    assert answer == {"verification": "unverified", "account_exists": False}
