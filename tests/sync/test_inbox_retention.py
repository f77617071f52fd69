"""Applied webhook deliveries are deleted after the retention; pending and failed ones stay."""

from __future__ import annotations

from datetime import UTC, datetime

from context_service.store import Store
from context_service.store import inbox as inbox_store
from context_service.sync import InboxPruner

DAY = 86400.0
NOW = 1_796_000_000.0  # 2026-11-29


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _deliver(store: Store, dedup: str, days_ago: float, status: str) -> int:
    with store.transaction() as conn:
        return inbox_store.add_delivery(
            conn, "stripe", "invoice.paid", b"{}", {}, [dedup], _iso(NOW - days_ago * DAY), status
        )


def _left(store: Store) -> dict[str, str]:
    rows = store.conn.execute(
        "SELECT s.dedup_id, i.status FROM webhook_seen s "
        "LEFT JOIN webhook_inbox i ON i.id = s.inbox_id ORDER BY 1"
    )
    return {str(dedup): str(status) for dedup, status in rows}


def test_only_old_applied_deliveries_and_their_dedup_ids_go(store: Store) -> None:
    _deliver(store, "evt_old_applied", 31, "applied")
    _deliver(store, "evt_old_failed", 31, "failed")
    _deliver(store, "evt_old_pending", 31, "pending")
    _deliver(store, "evt_recent_applied", 29, "applied")
    gone = InboxPruner(store, retention_days=30).maybe_purge(NOW)
    assert gone == 1
    assert _left(store) == {
        "evt_old_failed": "failed",
        "evt_old_pending": "pending",
        "evt_recent_applied": "applied",
    }
    with store.transaction() as conn:  # a recent delivery is still recognised when replayed
        assert inbox_store.seen_before(conn, "stripe", ["evt_recent_applied"])
        assert not inbox_store.seen_before(conn, "stripe", ["evt_old_applied"])


def test_purges_at_most_once_an_hour(store: Store) -> None:
    pruner = InboxPruner(store, retention_days=30)
    assert pruner.maybe_purge(NOW) == 0  # nothing to delete yet, but the hour starts
    _deliver(store, "evt_old", 40, "applied")
    assert pruner.maybe_purge(NOW + 60) == 0  # within the hour: not looked at
    assert pruner.maybe_purge(NOW + 3601) == 1


def test_zero_days_keeps_every_delivery(store: Store) -> None:
    _deliver(store, "evt_ancient", 3650, "applied")
    assert InboxPruner(store, retention_days=0).maybe_purge(NOW) == 0
    assert _left(store) == {"evt_ancient": "applied"}
