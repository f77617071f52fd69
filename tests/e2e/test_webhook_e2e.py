"""End to end: the demo server receives a signed Stripe payment for Maya over real HTTP."""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from tests.conftest import TEST_KEY
from tests.payloads import stripe_event, stripe_signed
from tests.widget.live import live_server

pytestmark = pytest.mark.e2e
SECRET = "whsec_e2e_0123456789"
AUTH = {"Authorization": f"Bearer {TEST_KEY}"}


@pytest.fixture
def server(demo_db: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    db = tmp_path / "demo-copy.db"
    source = sqlite3.connect(demo_db)
    source.execute(f"VACUUM INTO '{db}'")
    source.close()
    with live_server(db, CONTEXT_SERVICE_STRIPE_WEBHOOK_SECRET=SECRET) as base:
        yield base, db
    shutil.rmtree(tmp_path, ignore_errors=True)


def _maya(base: str) -> dict[str, Any]:
    response = httpx.get(
        f"{base}/v1/context", params={"email": "maya.patel@example.com"}, headers=AUTH
    )
    assert response.status_code == 200
    return dict(response.json())


def _open_invoice(db: Path, invoice_id: str) -> dict[str, Any]:
    conn = sqlite3.connect(db)
    row = conn.execute(
        "SELECT payload FROM records WHERE source = 'stripe' AND kind = 'invoice' "
        "AND external_id = ?",
        (invoice_id,),
    ).fetchone()
    conn.close()
    return dict(msgspec.json.decode(row[0]))


def test_payment_succeeded_webhook_clears_past_due(server: tuple[str, Path]) -> None:
    base, db = server
    before = _maya(base)
    assert "subscription_past_due" in {s["code"] for s in before["signals"]}
    failed = next(s for s in before["signals"] if s["code"] == "invoice_payment_failed")
    invoice = _open_invoice(db, failed["ref"])
    invoice.update(
        status="paid",
        amount_paid=invoice["amount_due"],
        amount_remaining=0,
        attempt_count=2,
        status_transitions={"paid_at": int(time.time())},
    )
    event = stripe_event("evt_e2e_paid", "invoice.payment_succeeded", invoice, int(time.time()))
    headers, body = stripe_signed(event, SECRET, int(time.time()))
    response = httpx.post(f"{base}/v1/webhooks/stripe", content=body, headers=headers)
    assert response.status_code == 200
    after = _poll_until_version_changes(base, before["version"])
    codes = {s["code"] for s in after["signals"]}
    assert "subscription_past_due" not in codes
    assert "invoice_payment_failed" not in codes
    assert after["billing"]["subscriptions"][0]["status"] == "active"


def _poll_until_version_changes(base: str, version: int) -> dict[str, Any]:
    # Applied in the background after the 200; bounded wait, no timing assertion.
    for _ in range(100):
        snap = _maya(base)
        if snap["version"] != version:
            return snap
        time.sleep(0.05)
    raise AssertionError("the webhook was not applied")
