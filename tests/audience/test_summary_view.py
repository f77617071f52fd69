"""The deterministic summary (summary=deterministic, and the LLM fallback) shows only what the
view shows: the same fields the facts and the escalation handoff hide, it hides too."""

from __future__ import annotations

from pathlib import Path

import httpx2
import msgspec
import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.audience import FieldPolicy, View
from context_service.audience.summary import deterministic_summary
from context_service.llm import Summarizer
from context_service.models import Snapshot
from context_service.store import Store
from tests.audience.helpers import snapshot_of
from tests.conftest import TEST_KEY, make_settings
from tests.llm.helpers import mock_client
from tests.trust.helpers import MAYA, copy_demo, make_key

OWNER = "Jordan Reyes"  # Maya's account owner in the demo CRM
AGENT = FieldPolicy().view("agent", None)
CHATBOT = FieldPolicy().view("chatbot", None)


def _hiding(*fields: str) -> View:
    return msgspec.structs.replace(AGENT, hidden=frozenset(fields))


def test_the_agent_summary_names_the_owner_and_the_deals(maya: Snapshot) -> None:
    text = deterministic_summary(maya, AGENT)
    assert maya.crm.owner == OWNER
    assert f"owner {OWNER}" in text
    assert "1 open deal(s)" in text


def test_the_chatbot_summary_says_nothing_of_the_owner_or_the_deals(maya: Snapshot) -> None:
    text = deterministic_summary(maya, CHATBOT)
    assert OWNER not in text
    assert "open deal" not in text
    assert f"CRM: {maya.crm.lifecycle_stage}." in text  # the stage stays: the chatbot sees it


@pytest.mark.parametrize(
    ("field", "line"),
    [
        ("orders", "Orders:"),
        ("support.tickets", "Support:"),
        ("billing.subscriptions", "Billing:"),
        ("crm", "CRM:"),
        ("crm.stage", "CRM: customer"),
        ("crm.owner", OWNER),
        ("crm.deals", "open deal"),
    ],
)
def test_a_hidden_field_leaves_no_line_in_the_summary(
    maya: Snapshot, field: str, line: str
) -> None:
    assert line in deterministic_summary(maya, AGENT)
    assert line not in deterministic_summary(maya, _hiding(field))


def test_a_hidden_stage_is_not_called_missing(maya: Snapshot) -> None:
    text = deterministic_summary(maya, _hiding("crm.stage"))
    assert f"CRM: owner {OWNER}, 1 open deal(s)." in text
    assert "no stage" not in text


def test_signals_stay_when_their_section_is_hidden(maya: Snapshot) -> None:
    """Signals are account state, in every audience (as in the facts and the handoff)."""
    text = deterministic_summary(maya, _hiding("orders", "billing", "support"))
    assert "Attention: " in text
    assert "Orders:" not in text


def test_the_llm_fallback_keeps_the_chatbot_view(demo_db: Path, tmp_path: Path) -> None:
    store = Store(copy_demo(demo_db, tmp_path))
    try:
        failing = mock_client(lambda r: httpx2.Response(503, json={"error": {}}))
        block = Summarizer(store, failing).summary(snapshot_of(store), "chatbot", CHATBOT, "llm")
    finally:
        store.close()
    assert block.source == "deterministic"
    assert block.fallback == "HTTP 503 from the LLM endpoint"
    assert OWNER not in block.text
    assert "open deal" not in block.text


def test_api_chatbot_summary_without_an_llm_hides_the_owner(demo_db: Path) -> None:
    params = {"email": MAYA, "audience": "chatbot", "format": "text", "summary": "llm"}
    with TestClient(app=create_app(make_settings(demo_db))) as client:
        response = client.get(
            "/v1/context", params=params, headers={"Authorization": f"Bearer {TEST_KEY}"}
        )
    assert response.status_code == 200, response.text
    assert response.headers["X-Summary-Fallback"] == "no LLM configured"
    assert OWNER not in response.text


def test_api_summary_honours_a_key_that_hides_the_owner(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    key = make_key(db, "agent-no-owner", ["context:read"], hide=["crm.owner", "crm.deals"])
    params = {"email": MAYA, "audience": "agent", "format": "text"}
    with TestClient(app=create_app(make_settings(db))) as client:
        plain = client.get(
            "/v1/context", params=params, headers={"Authorization": f"Bearer {TEST_KEY}"}
        )
        scoped = client.get(
            "/v1/context",
            params={**params, "summary": "deterministic"},
            headers={"Authorization": f"Bearer {key}"},
        )
    assert plain.status_code == scoped.status_code == 200, scoped.text
    assert OWNER in plain.text  # the unscoped key sees the owner...
    assert OWNER not in scoped.text  # ...the scoped key nowhere, its summary included
    assert "open deal" not in scoped.text
