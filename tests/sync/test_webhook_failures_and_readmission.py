"""Webhook intake and application: failed deliveries keep a bounded, secret-free
error; rejected (authentic but unreadable) deliveries can be read again after an upgrade;
two stores on one SQLite file (two serve workers) receive and apply one event once."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from context_service.errors import MappingError
from context_service.models import Delivery, VendorObject
from context_service.store import Store
from context_service.sync import IngestContext, apply_pending, receive
from context_service.sync import webhooks as sync_webhooks
from tests.payloads import zendesk_user

NOW = 1_796_000_000.0
STRIPE_KEY = "sk_live_" + "Q" * 24  # the shape of a key an error message could quote


class _Zendesk:
    """A Zendesk-like source: ``{"user": N}`` carries user N; ``{"boom": text}`` raises
    ``ValueError(text)`` once ``applying``; while ``strict``, a body with ``"new_field"`` cannot be
    read (as before an upgrade that learnt it)."""

    source = "zendesk"

    def __init__(self) -> None:
        self.strict = False
        self.applying = False

    def streams(self) -> list[Any]:
        return []

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, url: str, now: float) -> None:
        return None

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Delivery:
        sent = json.loads(body)
        if self.strict and "new_field" in sent:
            raise MappingError("zendesk webhook: unknown field new_field", source="zendesk")
        if "boom" in sent:
            if self.applying:
                raise ValueError(sent["boom"])
            return Delivery(["boom"], "user.updated")
        user = zendesk_user(sent["user"], f"User{sent['user']} Test", f"u{sent['user']}@ex.com")
        return Delivery(
            [f"evt{sent['user']}"], "user.created", objects=[VendorObject("user", user[2])]
        )

    def fetch_one(self, kind: str, external_id: str) -> VendorObject | None:
        raise NotImplementedError  # no delivery here asks for a fresh copy


def _statuses(store: Store) -> dict[str, int]:
    rows = store.conn.execute("SELECT status, count(*) FROM webhook_inbox GROUP BY status")
    return {str(status): int(n) for status, n in rows}


def _has_email(store: Store, email: str) -> bool:
    row = store.conn.execute("SELECT 1 FROM identifiers WHERE value = ?", (email,)).fetchone()
    return row is not None


# --- A delivery whose applying raises -----------------------------------------------------------


def _fail_with(store: Store, ctx: IngestContext, message: str) -> str:
    vendor = _Zendesk()
    body = json.dumps({"boom": message}).encode()
    assert receive(store, vendor, {}, body, "u", NOW).status == "accepted"
    vendor.applying = True
    apply_pending(store, {"zendesk": vendor}, ctx, now=NOW)
    status, error = store.conn.execute("SELECT status, error FROM webhook_inbox").fetchone()
    assert status == "failed"
    return str(error)


def test_a_failed_delivery_keeps_its_error_bounded(store: Store, ctx: IngestContext) -> None:
    """A mapping bug that raises with a huge message (a whole payload quoted) stored it all
    on the row, and logged it all."""
    huge = "x" * 200_000
    error = _fail_with(store, ctx, "cannot map " + huge)
    assert error.startswith("ValueError: cannot map x")
    assert len(error) < len(huge) // 100


def test_a_failed_delivery_keeps_no_secret_in_its_error(
    store: Store, ctx: IngestContext, caplog: pytest.LogCaptureFixture
) -> None:
    """An exception that quotes a key (a vendor client's error echoing its request) put the
    key in the inbox row, in ``webhooks retry``'s output and in the log."""
    with caplog.at_level("WARNING", logger="context_service.webhooks"):
        error = _fail_with(store, ctx, f"refused with key {STRIPE_KEY}")
    assert error.startswith("ValueError: refused with key")
    assert STRIPE_KEY not in error
    assert STRIPE_KEY not in caplog.text
    assert "refused with key" in caplog.text


def test_a_failed_delivery_keeps_no_email_address_in_its_error_or_the_log(
    store: Store, ctx: IngestContext, caplog: pytest.LogCaptureFixture
) -> None:
    """A mapper's exception that quotes the customer's address put it in every log line about
    the delivery; the reason keeps its words, the address goes."""
    with caplog.at_level("WARNING", logger="context_service.webhooks"):
        error = _fail_with(store, ctx, "no account for maya.patel+vip@example.co.uk in 'x'")
    assert error == "ValueError: no account for [email removed] in 'x'"
    assert "maya.patel" not in caplog.text
    assert "no account for [email removed]" in caplog.text


# --- Rejected deliveries read again after an upgrade --------------------------------------------


def _reject_one(store: Store, vendor: _Zendesk, user: int) -> int:
    vendor.strict = True
    body = json.dumps({"user": user, "new_field": 1}).encode()
    with pytest.raises(MappingError):
        receive(store, vendor, {"X-Zendesk-Webhook-Id": "w1"}, body, "u", NOW)
    row = store.conn.execute("SELECT id FROM webhook_inbox WHERE status = 'rejected'").fetchone()
    assert row is not None
    return int(row[0])


def test_a_rejected_delivery_readable_now_is_applied_once(store: Store, ctx: IngestContext) -> None:
    vendor = _Zendesk()
    inbox_id = _reject_one(store, vendor, 5)
    assert sync_webhooks.readmit_rejected(store, vendor, [inbox_id]) == {
        inbox_id: "rejected"
    }  # still strict
    assert _statuses(store) == {"rejected": 1}
    vendor.strict = False  # the upgrade
    assert sync_webhooks.readmit_rejected(store, vendor, [inbox_id]) == {inbox_id: "pending"}
    topic = store.conn.execute("SELECT topic FROM webhook_inbox").fetchone()[0]
    assert topic == "user.created"
    assert apply_pending(store, {"zendesk": vendor}, ctx, now=NOW) == 1
    assert _has_email(store, "u5@ex.com")
    # The vendor's own retry of it is a duplicate now, and readmitting again does nothing.
    body = json.dumps({"user": 5, "new_field": 1}).encode()
    assert receive(store, vendor, {}, body, "u", NOW).status == "duplicate"
    assert sync_webhooks.readmit_rejected(store, vendor, [inbox_id]) == {inbox_id: "applied"}
    assert _statuses(store) == {"applied": 1}


def test_a_rejected_delivery_still_unreadable_stays_rejected(store: Store) -> None:
    vendor = _Zendesk()
    inbox_id = _reject_one(store, vendor, 6)
    assert sync_webhooks.readmit_rejected(store, vendor, [inbox_id]) == {inbox_id: "rejected"}
    assert _statuses(store) == {"rejected": 1}


def test_a_rejected_delivery_whose_event_came_again_is_not_applied_twice(
    store: Store, ctx: IngestContext
) -> None:
    """After the upgrade the vendor's next retry is read and applied: the kept rejected copy
    is the same event and is settled without being applied again."""
    vendor = _Zendesk()
    inbox_id = _reject_one(store, vendor, 7)
    vendor.strict = False
    body = json.dumps({"user": 7, "new_field": 1}).encode()
    assert receive(store, vendor, {}, body, "u", NOW).status == "accepted"
    assert sync_webhooks.readmit_rejected(store, vendor, [inbox_id]) == {inbox_id: "duplicate"}
    assert apply_pending(store, {"zendesk": vendor}, ctx, now=NOW) == 1
    assert _statuses(store) == {"applied": 2}
    note = store.conn.execute("SELECT error FROM webhook_inbox WHERE id = ?", (inbox_id,))
    assert "not applied" in note.fetchone()[0]


def test_a_blanked_rejected_delivery_is_not_readmitted(store: Store) -> None:
    vendor = _Zendesk()
    inbox_id = _reject_one(store, vendor, 8)
    with store.transaction() as conn:
        conn.execute(
            "UPDATE webhook_inbox SET body = X'', headers = '{}' WHERE id = ?", (inbox_id,)
        )
    vendor.strict = False
    assert sync_webhooks.readmit_rejected(store, vendor, [inbox_id]) == {inbox_id: "blanked"}
    assert _statuses(store) == {"rejected": 1}


def test_only_rejected_deliveries_of_the_source_are_readmitted(
    store: Store, ctx: IngestContext
) -> None:
    vendor = _Zendesk()
    assert receive(store, vendor, {}, json.dumps({"user": 9}).encode(), "u", NOW).inbox_id
    applied_id = int(store.conn.execute("SELECT id FROM webhook_inbox").fetchone()[0])
    apply_pending(store, {"zendesk": vendor}, ctx, now=NOW)
    assert sync_webhooks.readmit_rejected(store, vendor, [applied_id, 999]) == {
        applied_id: "applied",
        999: "missing",
    }
    assert _statuses(store) == {"applied": 1}


# --- Two serve workers: two stores on one SQLite file -------------------------------------------


def _race(workers: list[Callable[[], Any]]) -> list[Any]:
    start = threading.Barrier(len(workers))
    results: list[Any] = [None] * len(workers)

    def run(at: int) -> None:
        start.wait()
        results[at] = workers[at]()

    threads = [threading.Thread(target=run, args=(at,)) for at in range(len(workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_workers_receive_and_apply_one_event_once(tmp_path: Path, ctx: IngestContext) -> None:
    path = tmp_path / "shared.db"
    stores = [Store(path), Store(path)]
    try:
        vendor = _Zendesk()
        body = json.dumps({"user": 11}).encode()
        for _round in range(5):  # the vendor's retry racing the first copy, over and over
            receipts = _race([partial(receive, s, vendor, {}, body, "u", NOW) for s in stores])
            assert sorted(r.status for r in receipts) in (
                ["accepted", "duplicate"],
                ["duplicate", "duplicate"],
            )
        applied = _race(
            [partial(apply_pending, s, {"zendesk": vendor}, ctx, now=NOW) for s in stores]
        )
        assert sum(applied) == 1
        assert _statuses(stores[0]) == {"applied": 1}
        assert _has_email(stores[1], "u11@ex.com")
    finally:
        for store in stores:
            store.close()
