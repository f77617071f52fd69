"""A view that hides ``identity.names`` reads the customer's name in no free text either.

The reviewer's reproduction: a key hiding ``identity.names`` got "Customer (name hidden)" on
the identity line, but Maya's name in the HubSpot deal title ("Maya Patel - Team plan
upgrade") and in a ticket comment ("Thanks Maya, ..."), in every audience and format, in the
widget card, the escalation handoff and ``get_customer_context``. The names are rewritten where
the contacts are (``audience.contacts.text_as_viewed``, rule in ``audience.names``), when the
text is read: the stored snapshot keeps them, and a view that shows names reads them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import msgspec
import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.audience import ContextRequest, SummaryBlock, View, build_context
from context_service.audience.names import NAME_HIDDEN_IN_TEXT, names_as_viewed
from context_service.audience.policy import FieldPolicy
from context_service.audience.summary import deterministic_summary
from context_service.handoff import Turn, Who, build_handoff, render_text
from context_service.llm.handoff import llm_handoff
from context_service.models import Snapshot
from tests.conftest import TEST_KEY, make_settings
from tests.llm.helpers import completion, mock_client
from tests.trust.helpers import MAYA, MAYA_PHONE, copy_demo, make_key

DASH = "\u2013"  # the en dash of the deal's title
DEAL = f"Maya Patel {DASH} Team plan upgrade"  # Maya's HubSpot deal
COMMENT = "Thanks Maya, I'm checking this"  # the last public comment of her open ticket
HIDDEN = NAME_HIDDEN_IN_TEXT
NO_NAMES = View("full", frozenset({"identity.names"}))
MCP_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-06-18",
}


def _named(text: str) -> list[str]:
    """Maya's names in ``text``, in any case, outside her email address (which a view that
    shows emails shows whole; JSON escapes included)."""
    rest = text.replace(MAYA, "").replace("m***@example.com", "")
    return re.findall(r"(?i)maya|patel", rest)


def _hiding_names(audience: str) -> View:
    view = FieldPolicy().view(audience, None)
    return View(view.contact, view.hidden | {"identity.names"})


def _named_as(maya: Snapshot, name: str) -> Snapshot:
    identity = msgspec.structs.replace(maya.identity, name=name, names=[name])
    return msgspec.structs.replace(maya, identity=identity, conflicts=[])


def _hide(snap: Snapshot, text: str) -> str:
    hide = names_as_viewed(snap, NO_NAMES)
    assert hide is not None
    return hide(text)


# --- the rule ---------------------------------------------------------------------------------


def test_the_whole_name_and_each_part_go_in_any_case(maya: Snapshot) -> None:
    assert _hide(maya, DEAL) == f"{HIDDEN} {DASH} Team plan upgrade"
    assert _hide(maya, "Dear MAYA, patel's order; Maya\nPatel") == (
        f"Dear {HIDDEN}, {HIDDEN}'s order; {HIDDEN}"
    )
    # whole words only; her email address stays whole (the view shows it)
    assert _hide(maya, "Mayan Patelco wrote from maya.patel@example.com") == (
        "Mayan Patelco wrote from maya.patel@example.com"
    )
    once = _hide(maya, COMMENT)
    assert once == f"Thanks {HIDDEN}, I'm checking this"
    assert _hide(maya, once) == once  # text passed twice is left as it is


def test_accents_are_matched_as_written(maya: Snapshot) -> None:
    snap = _named_as(maya, "Zoë O'Brien-Smith")
    assert (
        _hide(snap, "ZOË, Zoe, O\u2019Brien and smith") == f"{HIDDEN}, Zoe, {HIDDEN} and {HIDDEN}"
    )


@pytest.mark.parametrize(
    ("name", "text", "hidden"),
    [
        ("张伟", "您好张伟\uff0c订单已发货", f"您好{HIDDEN}\uff0c订单已发货"),
        ("伟 张", "您好张伟\uff0c订单已发货", f"您好{HIDDEN}\uff0c订单已发货"),  # given name first
        (
            "山田 太郎",
            "山田太郎様、ご注文ありがとうございます",
            f"{HIDDEN}様、ご注文ありがとうございます",
        ),
        ("김민준", "김민준님 안녕하세요", f"{HIDDEN}님 안녕하세요"),
    ],
)
def test_names_in_scripts_without_spaces_go_too(
    maya: Snapshot, name: str, text: str, hidden: str
) -> None:
    """A review found these left as written: Chinese, Japanese and Korean put no space between
    a name and the words around it, so a name was never a word of its own."""
    assert _hide(_named_as(maya, name), text) == hidden


def test_names_that_are_ordinary_words_go_only_capitalised(maya: Snapshot) -> None:
    snap = _named_as(maya, "Will May Brown")
    assert _hide(snap, "We will ship the brown box in may.") == "We will ship the brown box in may."
    assert _hide(snap, "Thanks Will! Mrs BROWN, May") == f"Thanks {HIDDEN}! Mrs {HIDDEN}, {HIDDEN}"
    assert _hide(snap, "will may brown") == HIDDEN  # the whole name, in any case


def test_initials_and_function_words_go_only_within_the_whole_name(maya: Snapshot) -> None:
    snap = _named_as(maya, "An J. Li")
    assert _hide(snap, "An order for J. Smith. Thanks An J. Li, and Ms Li; li") == (
        f"An order for J. Smith. Thanks {HIDDEN}, and Ms {HIDDEN}; li"
    )


def test_a_view_showing_names_rewrites_nothing(maya: Snapshot) -> None:
    assert names_as_viewed(maya, FieldPolicy().view("agent", None)) is None


# --- every audience and format ----------------------------------------------------------------


@pytest.mark.parametrize("audience", ["chatbot", "agent", "sidebar", "escalation"])
@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_no_audience_reads_the_name_in_free_text(maya: Snapshot, audience: str, fmt: str) -> None:
    view = _hiding_names(audience)
    request = ContextRequest(audience, fmt)  # type: ignore[arg-type]
    summary = SummaryBlock(deterministic_summary(maya, view), "deterministic")
    body = build_context(maya, request, view, summary).body
    assert not _named(body), body
    if audience != "sidebar":  # the sidebar lists no ticket comment
        assert "Thanks " + HIDDEN in body
    if audience in {"agent", "escalation"}:  # the audiences that list deals
        assert f"{HIDDEN} {DASH} Team plan upgrade" in body


@pytest.mark.parametrize("audience", ["chatbot", "agent", "escalation"])
def test_a_view_showing_names_still_reads_them(maya: Snapshot, audience: str) -> None:
    view = FieldPolicy().view(audience, None)
    body = build_context(maya, ContextRequest(audience, "text"), view).body  # type: ignore[arg-type]
    assert "Thanks Maya" in body
    assert HIDDEN not in body


def test_an_llm_summary_naming_the_customer_reads_no_name(maya: Snapshot) -> None:
    """The LLM reads the viewed context (no name in it), and what it writes is read through the
    same view: a name it guessed (from the email address the view shows) is hidden too."""
    summary = SummaryBlock("Maya Patel (Maya) was charged twice.", "llm")
    body = build_context(maya, ContextRequest("agent", "text"), NO_NAMES, summary).body
    assert not _named(body)
    assert f"{HIDDEN} ({HIDDEN}) was charged twice." in body


# --- the escalation handoff --------------------------------------------------------------------


def _who(snap: Snapshot, view: View) -> Who:
    shown = view.contact != "none"
    emails = list(snap.identity.emails[:1]) if shown else []
    name = snap.identity.name if view.shows("identity.names") else None
    return Who(snap.profile_id, name, emails, [], "email", "high", "matched by email")


TRANSCRIPT = [Turn("customer", "Hi, this is Maya Patel. I was charged twice, Maya here again")]


def test_the_handoff_names_nobody_and_says_the_name_is_hidden(maya: Snapshot) -> None:
    handoff = build_handoff(maya, _who(maya, NO_NAMES), TRANSCRIPT, "refund", NO_NAMES)
    text = render_text(handoff)
    assert not _named(text), text
    assert not _named(json.dumps(msgspec.to_builtins(handoff)))
    assert f"Who: Customer (name hidden), {MAYA}; high confidence: " in text
    assert msgspec.to_builtins(handoff.who)["name"] is None  # the JSON keeps its shape
    assert HIDDEN in handoff.wants


def test_the_handoff_who_line_without_name_or_contacts_has_no_empty_brackets(
    maya: Snapshot,
) -> None:
    """It said ``Who: customer-written "unknown" (); ...``: server words marked as the
    customer's, and an empty pair of brackets."""
    view = View("none", frozenset({"identity.names"}))
    text = render_text(build_handoff(maya, _who(maya, view), TRANSCRIPT, "refund", view))
    (who,) = [line for line in text.splitlines() if line.startswith("Who:")]
    assert who.startswith("Who: Customer (name hidden); high confidence: ")
    assert "()" not in who
    assert "customer-written" not in who


def test_a_customer_without_a_name_is_not_called_customer_written(maya: Snapshot) -> None:
    view = FieldPolicy().view("escalation", None)
    who = Who(maya.profile_id, None, [], [], "email", "high", "matched by email")
    text = render_text(build_handoff(maya, who, TRANSCRIPT, "refund", view))
    assert "Who: Customer (no name on record); high confidence: " in text


def test_the_llm_handoff_neither_sends_nor_writes_the_name(maya: Snapshot) -> None:
    prompts: list[str] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        prompts.append(json.loads(request.content)["messages"][-1]["content"])
        return httpx2.Response(200, json=completion("Maya Patel wants a refund. Next: Stripe."))

    block = llm_handoff(mock_client(answer), maya, NO_NAMES, TRANSCRIPT, "refund", "FALLBACK")
    assert block.source == "llm", block
    assert block.text == f"{HIDDEN} wants a refund. Next: Stripe."
    assert not _named(prompts[0]), prompts[0]


# --- over HTTP: the context, the widget card, the tools, MCP, escalations ----------------------


@pytest.fixture
def served(demo_db: Path, tmp_path: Path) -> Iterator[tuple[TestClient[Any], dict[str, str]]]:
    """The app on a demo copy, and the auth header of a trusted backend hiding names."""
    db = copy_demo(demo_db, tmp_path)
    scopes = ["context:read", "context:lookup", "escalations:write"]
    key = make_key(db, "nonames", scopes, hide=["identity.names"], trusted_backend=True)
    with TestClient(app=create_app(make_settings(db))) as client:
        yield client, {"Authorization": f"Bearer {key}"}


def test_http_answers_of_a_key_hiding_names_name_nobody(served: Any) -> None:
    client, auth = served
    for audience in ("chatbot", "agent", "escalation"):
        for fmt in ("text", "json", "markdown"):
            params = {"email": MAYA, "audience": audience, "format": fmt}
            response = client.get("/v1/context", params=params, headers=auth)
            assert response.status_code == 200, response.text
            assert not _named(response.text), (audience, fmt, response.text)
            assert "Thanks " + HIDDEN in response.text
    call = {"name": "get_customer_context", "arguments": {"email": MAYA}}
    tool = client.post("/v1/tools/call", json=call, headers=auth)
    assert tool.status_code == 200, tool.text
    assert not _named(tool.text), tool.text
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": call}
    mcp = client.post("/mcp", json=message, headers={**auth, **MCP_HEADERS})
    assert mcp.status_code == 200, mcp.text
    assert "Thanks" in mcp.text
    assert not _named(mcp.text), mcp.text


def test_the_widget_card_of_a_key_hiding_names_names_nobody(served: Any) -> None:
    client, auth = served
    minted = client.post("/v1/widget/url", json={"email": MAYA}, headers=auth)
    assert minted.status_code == 200, minted.text
    parts = urlsplit(minted.json()["url"])
    card = client.get(f"{parts.path}?{parts.query}")
    assert card.status_code == 200
    assert not _named(card.text), card.text
    assert "Team plan upgrade" in card.text  # the deal is listed, its title without the name
    assert "<h1><bdi>Customer</bdi></h1>" in card.text


def test_an_escalation_of_a_key_hiding_names_names_nobody(served: Any) -> None:
    client, auth = served
    body = {
        "customer": {"email": MAYA},
        "transcript": [{"role": "customer", "text": TRANSCRIPT[0].text}],
        "reason": "Maya wants a person",
    }
    response = client.post("/v1/escalations", json=body, headers=auth)
    assert response.status_code == 201, response.text
    assert not _named(response.text), response.text
    assert response.json()["handoff"]["who"]["name"] is None
    (who,) = [line for line in response.json()["text"].splitlines() if line.startswith("Who:")]
    assert who.startswith(f"Who: Customer (name hidden), {MAYA}, {MAYA_PHONE}; exact match"), who


def test_the_stored_snapshot_keeps_the_names_for_a_key_showing_them(served: Any) -> None:
    """Names are hidden when the text is read, per view: nothing stored changes (no rebuild)."""
    client, _ = served
    auth = {"Authorization": f"Bearer {TEST_KEY}"}
    response = client.get("/v1/context", params={"email": MAYA}, headers=auth)
    assert response.status_code == 200
    assert DEAL in response.json()["crm"]["deals"][0]["title"]
    assert COMMENT in response.text
