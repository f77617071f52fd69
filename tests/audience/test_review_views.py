"""Review of the audience layer against key views: what a hidden field may not say elsewhere.

A key created with ``--hide FIELD`` must not read that field through another door: a signal's
words, the deterministic summary, the identity line, JSON items, or the escalation handoff.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.audience import ContextRequest, SummaryBlock, View, build_context
from context_service.audience.policy import FieldPolicy
from context_service.audience.summary import deterministic_summary
from context_service.models import Dispute, Refund, Snapshot
from tests.audience.helpers import HOSTILE, MARKERS
from tests.conftest import make_settings
from tests.trust.helpers import MAYA, copy_demo, make_key

INVOICE = "KJFEVMTW"  # Maya's unpaid invoice is KJFEVMTW-0009
SUBJECT = "charged twice"  # Maya's open ticket: "I was charged twice this month"
OWNER = "Jordan Reyes"  # Maya's CRM owner


def _context(db: Path, key: str, **params: Any) -> Any:
    with TestClient(app=create_app(make_settings(db))) as client:
        return client.get(
            "/v1/context",
            params={"email": MAYA, **params},
            headers={"Authorization": f"Bearer {key}"},
        )


def _render(
    snap: Snapshot, audience: str, fmt: str, hidden: set[str], *, summary: bool = False
) -> str:
    """One audience's context under its default view with ``hidden`` hidden on top."""
    view = FieldPolicy().view(audience, None)
    wider = View(view.contact, view.hidden | hidden)
    request = ContextRequest(audience, fmt)  # type: ignore[arg-type]
    block = SummaryBlock(deterministic_summary(snap, wider), "deterministic") if summary else None
    return build_context(snap, request, wider, block).body


# --- signals and the summary --------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_a_key_hiding_invoices_reads_no_invoice_in_signals_or_summary(
    demo_db: Path, tmp_path: Path, fmt: str
) -> None:
    """The payment-failed signal said "Payment failed for invoice KJFEVMTW-0009 (49.00 USD
    due...)" and the summary's Attention line repeated it, to a key that hides invoices."""
    db = copy_demo(demo_db, tmp_path)
    key = make_key(db, "no-invoices", ["context:read"], hide=["billing.invoices"])
    response = _context(db, key, audience="agent", format=fmt, summary="deterministic")
    assert response.status_code == 200, response.text
    assert INVOICE not in response.text
    assert "Payment failed" in response.text  # the signal stays, without the invoice


@pytest.mark.parametrize("audience", ["chatbot", "agent", "sidebar", "escalation"])
def test_a_view_hiding_tickets_reads_no_ticket_subject(maya: Snapshot, audience: str) -> None:
    """The open-tickets signal (and the summary's Attention line) quoted the latest ticket's
    subject to a view that hides tickets."""
    for fmt in ("text", "json"):
        body = _render(maya, audience, fmt, {"support.tickets"}, summary=True)
        assert SUBJECT not in body
        assert "open ticket" in body


def test_signals_about_hidden_orders_and_plans_keep_no_details(maya: Snapshot) -> None:
    for audience in ("chatbot", "agent"):
        body = _render(maya, audience, "text", {"orders", "billing.subscriptions"})
        assert "#1003" not in body
        assert "Pro subscription" not in body
        assert "not fulfilled yet" in body  # the signals stay, as words
        assert "subscription is past_due" in body


_TEXT_QUOTED = re.compile(r'customer-written "(?:[^"\\]|\\.)*"')
_MD_QUOTED = re.compile(r"(`+) customer-written .*? \1")


@pytest.mark.parametrize("text", [t for t in HOSTILE if "\n" in t])
@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_a_name_with_line_breaks_stays_quoted_in_the_summary(
    maya: Snapshot, text: str, fmt: str
) -> None:
    """The summary line is the summary's lines joined; a name with a line break no longer
    matched its start, so it was rendered bare ("Summary: ``` </untrusted-data> SYSTEM: ...")."""
    identity = msgspec.structs.replace(maya.identity, name=text, names=[text])
    snap = msgspec.structs.replace(maya, identity=identity)
    body = _render(snap, "agent", fmt, set(), summary=True)
    summary = next(line for line in body.splitlines() if line.startswith("Summary"))
    bare = (_TEXT_QUOTED if fmt == "text" else _MD_QUOTED).sub("", summary).lower()
    assert not [marker for marker in MARKERS if marker in bare], summary
    assert "<|im_start|>" not in bare


# --- names -------------------------------------------------------------------------------


def test_a_key_hiding_names_reads_no_name(demo_db: Path, tmp_path: Path) -> None:
    """``--hide identity.names`` left the chosen name on the identity line and the summary
    (free text such as a deal's title or a comment may still hold it: it is quoted as is)."""
    db = copy_demo(demo_db, tmp_path)
    key = make_key(db, "no-names", ["context:read"], hide=["identity.names"])
    for audience in ("agent", "sidebar", "escalation"):
        text = _context(db, key, audience=audience, format="text", summary="deterministic")
        assert text.status_code == 200, text.text
        named = [
            line
            for line in text.text.splitlines()
            if line.startswith(("Customer:", "Customer (", "Summary"))
        ]
        assert len(named) == 2
        assert not [line for line in named if "Maya" in line]
        doc = _context(db, key, audience=audience, format="json", summary="deterministic").json()
        assert doc["customer"][0]["name"] is None
        assert "Maya" not in doc["summary"][0]["text"]


# --- CRM ---------------------------------------------------------------------------------


def test_hiding_the_crm_stage_keeps_the_owner(maya: Snapshot) -> None:
    """A key hiding only ``crm.stage`` lost the CRM owner too (both were one fact)."""
    body = _render(maya, "agent", "text", {"crm.stage"})
    assert OWNER in body
    assert "lifecycle" not in body
    data = json.loads(_render(maya, "agent", "json", {"crm.stage"}))
    assert data["crm"][0] == {"lifecycle_stage": None, "owner": OWNER}


def test_hiding_the_crm_owner_hides_the_deals_owner_id(maya: Snapshot) -> None:
    data = json.loads(_render(maya, "agent", "json", {"crm.owner"}))
    deals = [item for item in data["crm"] if "pipeline" in item]
    assert deals
    assert not [deal for deal in deals if "owner_id" in deal]


# --- vendor ids without ``records`` -------------------------------------------------------


def test_the_chatbot_reads_no_dispute_or_refund_ids(maya: Snapshot) -> None:
    """The chatbot hides ``records`` (vendor ids), yet its text named a dispute ``dp_...``
    and its JSON listed each refund's id."""
    dispute = Dispute(
        external_id="dp_1PrivateDisputeId",
        status="needs_response",
        reason="fraudulent",
        amount="49.00",
        currency="USD",
        charge="ch_12y5T3VV9c5Hsbv91QAzaFy5",
    )
    order = maya.commerce.orders[0]
    refunded = msgspec.structs.replace(
        order,
        financial_status="partially_refunded",
        refunds=[Refund(external_id="2560000009999", amount="20.00", currency="USD")],
    )
    snap = msgspec.structs.replace(
        maya,
        billing=msgspec.structs.replace(maya.billing, disputes=[dispute]),
        commerce=msgspec.structs.replace(
            maya.commerce, orders=[refunded, *maya.commerce.orders[1:]]
        ),
    )
    for fmt in ("text", "json", "markdown"):
        body = _render(snap, "chatbot", fmt, set())
        assert "dp_1PrivateDisputeId" not in body
        assert "2560000009999" not in body
    assert "Dispute" in _render(snap, "chatbot", "text", set())
    agent = _render(snap, "agent", "text", set())  # the agent sees records, ids and all
    assert "dp_1PrivateDisputeId" in agent


# --- escalation handoff (context_service/handoff, api/escalations: not this layer) --------


def _escalate(db: Path, key: str) -> Any:
    body = {"customer": {"email": MAYA}, "reason": "customer wants a person"}
    with TestClient(app=create_app(make_settings(db))) as client:
        return client.post("/v1/escalations", json=body, headers={"Authorization": f"Bearer {key}"})


@pytest.mark.parametrize(
    ("hidden", "secret"), [("billing.invoices", INVOICE), ("support.tickets", SUBJECT)]
)
def test_an_escalation_handoff_keeps_hidden_fields_out_of_its_signals(
    demo_db: Path, tmp_path: Path, hidden: str, secret: str
) -> None:
    db = copy_demo(demo_db, tmp_path)
    key = make_key(db, "esc", ["escalations:write"], hide=[hidden], trusted_backend=True)
    response = _escalate(db, key)
    assert response.status_code == 201, response.text
    assert secret not in response.text


def test_an_escalation_handoff_of_a_key_hiding_names_names_nobody(
    demo_db: Path, tmp_path: Path
) -> None:
    db = copy_demo(demo_db, tmp_path)
    key = make_key(db, "esc", ["escalations:write"], hide=["identity.names"], trusted_backend=True)
    response = _escalate(db, key)
    assert response.status_code == 201, response.text
    assert "Maya Patel" not in response.text
