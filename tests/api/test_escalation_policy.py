"""Escalations under the trust rules: only a trusted backend may escalate (over HTTP as with the
``create_escalation`` tool), and a key's hidden fields and contact masking bind every part of
the handoff (who, facts, next step, priority, open ticket), over HTTP and through the tool."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.audience import FieldPolicy, View
from context_service.audience.policy import fingerprint
from context_service.handoff import Turn, Who, build_handoff, render_text
from context_service.models import Snapshot
from context_service.snapshot import lookup
from context_service.store import Store
from tests.conftest import TEST_KEY, make_settings
from tests.trust.helpers import MAYA, MAYA_PHONE, copy_demo, make_key

BODY = {
    "customer": {"email": MAYA},
    "transcript": [{"role": "customer", "text": "I was charged twice this month"}],
    "reason": "billing question",
}
REASON = "customer wants a person"
OWNER = "Jordan Reyes"  # Maya's account owner in the demo CRM


class FakeNotes:
    """A helpdesk that records the internal notes it is asked to post."""

    def __init__(self) -> None:
        self.notes: list[tuple[str, str]] = []

    def post_internal_note(self, ticket_id: str, body: str) -> None:
        self.notes.append((ticket_id, body))


def _escalate(db: Path, key: str, body: dict[str, Any], **settings: Any) -> Any:
    with TestClient(app=create_app(make_settings(db, **settings))) as client:
        return client.post("/v1/escalations", json=body, headers={"Authorization": f"Bearer {key}"})


# --- who may escalate -------------------------------------------------------------------------


def test_untrusted_key_escalates_over_http_what_the_tool_refuses(
    demo_db: Path, tmp_path: Path
) -> None:
    db = copy_demo(demo_db, tmp_path)
    key = make_key(db, "public-bot", ["context:lookup", "escalations:write"])
    auth = {"Authorization": f"Bearer {key}"}
    with TestClient(app=create_app(make_settings(db))) as client:
        tool = client.post(
            "/v1/tools/call",
            json={"name": "create_escalation", "arguments": {"email": MAYA, "reason": REASON}},
            headers=auth,
        )
        assert tool.status_code == 403  # control: the tool path refuses this key
        http = client.post(
            "/v1/escalations", json={"customer": {"email": MAYA}, "reason": REASON}, headers=auth
        )
    assert http.status_code == 403, (http.status_code, MAYA in http.text, MAYA_PHONE in http.text)
    assert "trusted-backend" in http.json()["detail"]
    assert MAYA not in http.text
    assert "Maya" not in http.text


def test_untrusted_refusal_never_says_who_exists(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    key = make_key(db, "public-bot", ["escalations:write"])
    known = _escalate(db, key, {"customer": {"email": MAYA}, "reason": REASON})
    unknown = _escalate(db, key, {"customer": {"email": "nobody.here@example.com"}, "reason": "x"})
    assert known.status_code == unknown.status_code == 403
    assert known.json()["detail"] == unknown.json()["detail"]


def test_only_the_trusted_escalation_is_audited_as_a_read(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    untrusted = make_key(db, "public-bot", ["escalations:write"])
    trusted = make_key(db, "backend", ["escalations:write"], trusted_backend=True)
    assert _escalate(db, untrusted, BODY).status_code == 403
    assert _escalate(db, trusted, BODY).status_code == 201
    store = Store(db)
    try:
        rows = store.conn.execute(
            "SELECT key_name, audience, verified, channel FROM read_audit "
            "WHERE key_name IN ('public-bot', 'backend')"
        ).fetchall()
    finally:
        store.close()
    assert rows == [("backend", "escalation", 1, "escalation")]


def test_trusted_backend_scoped_key_still_escalates(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    key = make_key(db, "helpdesk-backend", ["escalations:write"], trusted_backend=True)
    r = _escalate(db, key, BODY)
    assert r.status_code == 201, r.text
    handoff = r.json()["handoff"]
    assert handoff["who"]["emails"] == [MAYA]  # the escalation audience: contacts in full
    assert any(f.startswith(f"Account owner in CRM: {OWNER}") for f in handoff["facts"])
    assert any(f.startswith("Recent charges") for f in handoff["facts"])
    assert handoff["open_ticket"] == "1001"


# --- hidden fields and masked contacts over HTTP ----------------------------------------------


def test_escalation_honours_key_hidden_fields(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    hide = ["identity.emails", "identity.phones", "crm.owner", "billing.charges"]
    key = make_key(db, "esc", ["escalations:write"], hide=hide, trusted_backend=True)
    r = _escalate(db, key, BODY)
    assert r.status_code == 201, r.text
    handoff = r.json()["handoff"]
    leaks = {
        "identity.emails": MAYA in handoff["who"]["emails"] or MAYA in r.text,
        "identity.phones": MAYA_PHONE in handoff["who"]["phones"] or MAYA_PHONE in r.text,
        "crm.owner": OWNER in r.text,
        "billing.charges": any(f.startswith("Recent charges") for f in handoff["facts"]),
        "charge counts": "successful and" in handoff["next_step"],
    }
    assert not any(leaks.values()), leaks
    assert handoff["who"]["emails"] == []
    assert handoff["who"]["phones"] == []
    assert "duplicate" in handoff["next_step"]  # the step stays, without the hidden numbers


def test_escalation_masks_contacts_when_policy_masks(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    policy = tmp_path / "policy.toml"
    policy.write_text('[audiences.escalation]\ncontact = "masked"\n')
    r = _escalate(db, TEST_KEY, BODY, field_policy=str(policy))
    assert r.status_code == 201, r.text
    assert MAYA not in r.text, "escalation audience is contact=masked but full email is shown"
    assert MAYA_PHONE not in r.text
    who = r.json()["handoff"]["who"]
    assert who["emails"] == ["m***@example.com"]
    assert who["phones"] == ["+1******0134"]
    assert "m***@example.com" in r.json()["text"]


def test_key_grant_contact_none_hides_contacts(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    policy = tmp_path / "policy.toml"
    policy.write_text(f'[keys.{fingerprint(TEST_KEY)}]\ncontact = "none"\n')
    r = _escalate(db, TEST_KEY, BODY, field_policy=str(policy))
    assert r.status_code == 201, r.text
    assert r.json()["handoff"]["who"]["emails"] == []
    assert MAYA not in r.text
    assert MAYA_PHONE not in r.text


def test_hidden_plan_orders_stage_and_tickets_stay_out(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    hide = ["billing.subscriptions", "orders", "crm.stage", "support.tickets"]
    key = make_key(db, "esc", ["escalations:write"], hide=hide, trusted_backend=True)
    body = {"customer": {"email": MAYA}, "reason": REASON, "post_note": True}
    notes = FakeNotes()
    with TestClient(app=create_app(make_settings(db), note_poster=notes)) as client:
        r = client.post("/v1/escalations", json=body, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 201, r.text
    body_out = r.json()
    facts = body_out["handoff"]["facts"]
    assert not [f for f in facts if f.startswith(("Plan ", "Latest order"))], facts
    assert f"Account owner in CRM: {OWNER}" in facts  # the owner, without the hidden stage
    assert body_out["handoff"]["open_ticket"] is None
    assert "an open ticket is marked high priority" not in body_out["handoff"]["priority_why"]
    assert body_out["note"] == {
        "posted": False,
        "error": "support tickets are hidden from this API key",
    }
    assert notes.notes == []


def test_llm_summary_context_honours_the_view_too(demo_db: Path, tmp_path: Path) -> None:
    """The deterministic text and its fallback are the filtered handoff."""
    db = copy_demo(demo_db, tmp_path)
    key = make_key(db, "esc", ["escalations:write"], hide=["crm.owner"], trusted_backend=True)
    r = _escalate(db, key, {**BODY, "summary": "llm"})
    assert r.status_code == 201, r.text
    assert r.json()["summary"]["fallback"] == "no LLM configured"
    assert OWNER not in r.text


# --- the create_escalation tool ---------------------------------------------------------------


def test_create_escalation_tool_honours_key_hidden_fields(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    key = make_key(
        db,
        "esc-tool",
        ["escalations:write", "context:lookup"],
        hide=["crm.owner", "billing.charges"],
        trusted_backend=True,
    )
    call = {
        "name": "create_escalation",
        "arguments": {
            "email": MAYA,
            "reason": "billing question",
            "transcript": BODY["transcript"],
        },
    }
    notes = FakeNotes()
    with TestClient(app=create_app(make_settings(db), note_poster=notes)) as client:
        r = client.post("/v1/tools/call", json=call, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    leaks = {"crm.owner": OWNER in r.text, "billing.charges": "Recent charges" in r.text}
    assert not any(leaks.values()), leaks
    [(ticket, note)] = notes.notes  # the agents' note obeys the key's limits too
    assert ticket == "1001"
    assert OWNER not in note
    assert "Recent charges" not in note
    assert MAYA in note  # the escalation audience shows contacts in full


def test_tool_copy_for_the_bot_follows_the_chatbot_audience(api_client_trusted: Any) -> None:
    """The bootstrap key: the agents' note carries the CRM owner, the bot's copy (chatbot
    audience: owner hidden, contacts masked) does not."""
    client, notes = api_client_trusted
    call = {"name": "create_escalation", "arguments": {"email": MAYA, "reason": REASON}}
    r = client.post("/v1/tools/call", json=call)
    assert r.status_code == 200, r.text
    assert OWNER not in r.text
    assert MAYA not in r.text
    assert "m***@example.com" in r.text
    [(_, note)] = notes.notes
    assert f"Account owner in CRM: {OWNER}" in note


@pytest.fixture
def api_client_trusted(demo_db: Path) -> Any:
    notes = FakeNotes()
    with TestClient(app=create_app(make_settings(demo_db), note_poster=notes)) as client:
        client.headers["Authorization"] = f"Bearer {TEST_KEY}"
        yield client, notes


# --- build_handoff itself ---------------------------------------------------------------------


def _maya(demo_db: Path) -> Snapshot:
    store = Store(demo_db)
    try:
        return msgspec.json.decode(lookup.by_email(store.conn, MAYA).json, type=Snapshot)
    finally:
        store.close()


@pytest.mark.parametrize(
    ("hidden", "gone"),
    [
        ("billing.subscriptions", "Plan Pro"),
        ("billing", "Plan Pro"),
        ("billing.charges", "Recent charges"),
        ("billing", "Recent charges"),
        ("orders", "Latest order"),
        ("crm.owner", OWNER),
        ("crm", OWNER),
        ("support.tickets", "Open ticket: 1001"),
        ("support", "Open ticket: 1001"),
    ],
)
def test_build_handoff_leaves_out_what_the_view_hides(
    demo_db: Path, hidden: str, gone: str
) -> None:
    snap = _maya(demo_db)
    who = Who(snap.profile_id, "Maya Patel", [], [], "email", "high", "test")
    turns: list[Turn] = []
    shown = render_text(build_handoff(snap, who, turns, REASON))
    assert gone in shown  # control: the default (escalation audience) view shows it
    view = View(contact="full", hidden=frozenset({hidden}))
    assert gone not in render_text(build_handoff(snap, who, turns, REASON, view))


def test_build_handoff_default_view_is_the_escalation_audience() -> None:
    assert FieldPolicy().view("escalation", None) == View(contact="full", hidden=frozenset())
