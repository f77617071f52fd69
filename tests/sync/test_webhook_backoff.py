"""Deliveries that wait for a vendor to answer again (a refetch answered 429/503) are retried
after a growing delay and hold up neither the deliveries behind them nor the vendor."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from context_service.errors import RetriableError
from context_service.models import Delivery, VendorObject
from context_service.store import Store
from context_service.sync import IngestContext, apply_pending, receive
from context_service.sync.status import sync_status
from context_service.sync.webhooks import retry_delay
from tests.payloads import T0, zendesk_user

NOW = 1_796_000_000.0  # 2026-11-30; the clock handed to apply_pending: nothing here waits
T1 = "2026-06-01T00:00:00Z"  # later than T0


class _Zendesk:
    """A Zendesk-like source: a body ``{"user": N}`` carries the whole user (dated ``at``);
    ``{"refetch": N}`` names one to fetch, which fails while ``down``."""

    source = "zendesk"

    def __init__(self) -> None:
        self.down = True
        self.calls = 0
        self.current: dict[str, dict[str, Any]] = {}

    def streams(self) -> list[Any]:
        return []

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, url: str, now: float) -> None:
        return None

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Delivery:
        sent = json.loads(body)
        if "refetch" in sent:
            ref = str(sent["refetch"])
            return Delivery([f"r{ref}"], "user.updated", refetch=[("user", ref)])
        user = _user(sent["user"], sent.get("email"), sent.get("at", T0))
        return Delivery([f"u{body!r}"], "user.created", objects=[VendorObject("user", user)])

    def fetch_one(self, kind: str, external_id: str) -> VendorObject | None:
        self.calls += 1
        if self.down:
            raise RetriableError("zendesk answered 503")
        payload = self.current.get(external_id)
        return None if payload is None else VendorObject(kind, payload)


def _user(n: int, email: str | None = None, at: str = T0) -> dict[str, Any]:
    return zendesk_user(n, f"User{n} Test", email or f"u{n}@example.com", updated_at=at)[2]


def _send(store: Store, vendor: _Zendesk, **body: Any) -> None:
    assert receive(store, vendor, {}, json.dumps(body).encode(), "u", NOW).status == "accepted"


def _apply(store: Store, vendor: _Zendesk, ctx: IngestContext, at: float = NOW) -> int:
    return apply_pending(store, {"zendesk": vendor}, ctx, now=at)


def _statuses(store: Store) -> dict[str, int]:
    rows = store.conn.execute("SELECT status, count(*) FROM webhook_inbox GROUP BY status")
    return {str(status): int(n) for status, n in rows}


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _has_email(store: Store, email: str) -> bool:
    row = store.conn.execute("SELECT 1 FROM identifiers WHERE value = ?", (email,)).fetchone()
    return row is not None


def test_deliveries_waiting_on_a_failing_vendor_do_not_starve_the_ones_behind_them(
    store: Store, ctx: IngestContext
) -> None:
    """Each pass takes the oldest 100 pending deliveries: with 100 waiting for the vendor, a
    newer one that carries its whole object was never applied, and every pass called the
    vendor 100 times."""
    vendor = _Zendesk()
    for n in range(100):
        _send(store, vendor, refetch=n)
        _apply(store, vendor, ctx)  # after each response, as serve does
    assert vendor.calls == 100  # each one asked once, not once per pass
    _send(store, vendor, user=7)
    assert _apply(store, vendor, ctx) == 1
    assert vendor.calls == 100
    assert _statuses(store) == {"pending": 100, "applied": 1}
    assert _has_email(store, "u7@example.com")


def test_a_waiting_delivery_is_tried_again_only_when_due(store: Store, ctx: IngestContext) -> None:
    vendor = _Zendesk()
    _send(store, vendor, refetch=1)
    _apply(store, vendor, ctx)
    tries = [(NOW + 4, 1), (NOW + 5, 2), (NOW + 14, 2), (NOW + 15, 3), (NOW + 34, 3)]
    for at, calls in tries:
        _apply(store, vendor, ctx, at)
        assert vendor.calls == calls, at - NOW
    attempts, due = store.conn.execute(
        "SELECT attempts, next_attempt_at FROM webhook_inbox"
    ).fetchone()
    assert (attempts, due) == (3, _iso(NOW + 15 + 20))


def test_the_delay_doubles_from_five_seconds_to_ten_minutes() -> None:
    delays = [retry_delay(attempts) for attempts in range(1, 11)]
    assert delays == [5, 10, 20, 40, 80, 160, 320, 600, 600, 600]


def test_a_waiting_delivery_is_applied_once_the_vendor_answers(
    store: Store, ctx: IngestContext
) -> None:
    vendor = _Zendesk()
    _send(store, vendor, refetch=3)
    _apply(store, vendor, ctx)
    vendor.down = False
    vendor.current["3"] = _user(3)
    assert _apply(store, vendor, ctx, NOW + 1) == 0  # not due yet
    assert _apply(store, vendor, ctx, NOW + 5) == 1
    assert _statuses(store) == {"applied": 1}
    assert _has_email(store, "u3@example.com")


def test_waiting_deliveries_are_still_reported_pending(store: Store, ctx: IngestContext) -> None:
    vendor = _Zendesk()
    for n in range(3):
        _send(store, vendor, refetch=n)
    _send(store, vendor, user=9)
    _apply(store, vendor, ctx)
    webhooks = sync_status(store, ["zendesk"])["zendesk"]["webhooks"]
    assert webhooks == {"pending": 3, "applied": 1}


def test_a_delivery_applied_late_never_replaces_what_a_newer_one_brought(
    store: Store, ctx: IngestContext
) -> None:
    """Waiting lets a later delivery about the same user go first; the older copy the waiting
    one brings afterwards (a vendor replica behind, say) does not replace it."""
    vendor = _Zendesk()
    _send(store, vendor, refetch=5)
    _apply(store, vendor, ctx)
    _send(store, vendor, user=5, email="new@example.com", at=T1)
    assert _apply(store, vendor, ctx, NOW + 1) == 1
    vendor.down = False
    vendor.current["5"] = _user(5, "old@example.com", T0)
    assert _apply(store, vendor, ctx, NOW + 5) == 1
    assert (_has_email(store, "new@example.com"), _has_email(store, "old@example.com")) == (
        True,
        False,
    )
