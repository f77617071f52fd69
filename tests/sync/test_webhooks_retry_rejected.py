"""``context-service webhooks retry`` on a rejected delivery: an authentic body an older
release could not read is kept raw; once an upgrade reads it, the operator can apply it
(``sync.webhooks.readmit_rejected`` does the reading; the command must call it)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from context_service.cli import main
from context_service.errors import MappingError
from context_service.settings import load_settings
from context_service.store import Store
from context_service.sync import apply_pending, receive
from context_service.sync import webhooks as sync_webhooks
from context_service.wiring import ingest_context
from tests.integrations.stripe.fake import API_KEY, WEBHOOK_SECRET, FakeStripe
from tests.loopback import serving

URL = "https://context.example.com/v1/webhooks/stripe"


@pytest.fixture
def rejected_delivery(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A store with one authentic Stripe delivery the release that got it could not read."""
    fake = FakeStripe()
    [customer_id] = fake.add_customers(1)
    customer = fake.get("customer", customer_id)
    assert customer is not None
    headers, body = fake.signed(fake.emit_event("customer.updated", customer))
    db = tmp_path / "hooks.db"
    store = Store(str(db))

    def older_release(*_args: Any, **_kwargs: Any) -> Any:
        raise MappingError("stripe event shape not known to this release", source="stripe")

    with monkeypatch.context() as patched:
        patched.setattr(sync_webhooks, "_read", older_release)
        with pytest.raises(MappingError):
            receive(store, fake.connector(), headers, body, URL, fake.now())
    [(status,)] = store.conn.execute("SELECT status FROM webhook_inbox").fetchall()
    assert status == "rejected"
    store.close()
    with serving(fake.handler) as base_url:
        for name, value in {
            "CONTEXT_SERVICE_DB": str(db),
            "CONTEXT_SERVICE_STRIPE_API_KEY": API_KEY,
            "CONTEXT_SERVICE_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "CONTEXT_SERVICE_STRIPE_BASE_URL": base_url,
        }.items():
            monkeypatch.setenv(name, value)
        yield db


def _stripe_customers(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT count(*) FROM records WHERE source = 'stripe' AND kind = 'customer'"
        ).fetchone()
    return int(row[0])


def test_readmitting_the_kept_body_applies_it(rejected_delivery: Path) -> None:
    """What the command needs is there: the body was kept raw, with its headers."""
    fake_connector = FakeStripe().connector()  # reads the body; no vendor call needed
    store = Store(str(rejected_delivery))
    try:
        [(inbox_id,)] = store.conn.execute("SELECT id FROM webhook_inbox").fetchall()
        assert sync_webhooks.readmit_rejected(store, fake_connector, [inbox_id]) == {
            inbox_id: "pending"
        }
        ctx = ingest_context(load_settings())
        assert apply_pending(store, {"stripe": fake_connector}, ctx) == 1
    finally:
        store.close()
    assert _stripe_customers(rejected_delivery) == 1


def test_webhooks_retry_applies_a_rejected_delivery_an_upgrade_reads(
    rejected_delivery: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with sqlite3.connect(rejected_delivery) as conn:
        [(inbox_id,)] = conn.execute("SELECT id FROM webhook_inbox").fetchall()
    assert main(["webhooks", "retry", "--id", str(inbox_id)]) == 0
    assert "applied" in capsys.readouterr().out
    assert _stripe_customers(rejected_delivery) == 1


def test_webhooks_retry_all_rejected_reads_every_kept_body_again(
    rejected_delivery: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["webhooks", "retry", "--all-rejected"]) == 0
    out = capsys.readouterr().out
    assert "read again" in out
    assert _stripe_customers(rejected_delivery) == 1
    assert main(["webhooks", "retry", "--all-rejected"]) == 0  # nothing rejected is left
    assert "no rejected webhook deliveries" in capsys.readouterr().out


def test_a_rejected_delivery_of_a_source_not_configured_here_says_so(
    rejected_delivery: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CONTEXT_SERVICE_STRIPE_API_KEY")
    monkeypatch.delenv("CONTEXT_SERVICE_STRIPE_WEBHOOK_SECRET")
    with sqlite3.connect(rejected_delivery) as conn:
        [(inbox_id,)] = conn.execute("SELECT id FROM webhook_inbox").fetchall()
    assert main(["webhooks", "retry", "--id", str(inbox_id)]) == 1
    out = capsys.readouterr().out
    assert "stripe is not configured here" in out
    assert _stripe_customers(rejected_delivery) == 0
