"""The read audit's buffer: nothing is lost, and flush points make reads visible at once."""

from __future__ import annotations

from context_service.store import Store
from context_service.trust.audit import BUFFER_ROWS, Read, ReadAudit, reads_of


def _count(store: Store) -> int:
    return int(store.conn.execute("SELECT count(*) FROM read_audit").fetchone()[0])


def test_buffered_reads_are_written_at_flush_when_full_and_at_close(store: Store) -> None:
    audit = ReadAudit(store, retention_days=30, clock=lambda: 1_800_000_000.0, buffer_seconds=60)
    audit.record([Read("bot", "prof_1", "chatbot", False, "context")])
    assert _count(store) == 0  # still in memory: the background writer waits a minute
    audit.flush()
    assert [e.profile_id for e in reads_of(store.conn)] == ["prof_1"]
    audit.record([Read("bot", f"prof_{i}", "agent", True, "context") for i in range(100)])
    assert _count(store) == 1  # a hundred waiting reads are still the background writer's
    full = BUFFER_ROWS - 100
    audit.record([Read("bot", f"prof_{i}", "agent", True, "context") for i in range(full)])
    assert _count(store) == 1 + BUFFER_ROWS  # a full buffer is written at once
    audit.record([Read("bot", "prof_last", "agent", True, "widget")])
    audit.close()
    assert _count(store) == 2 + BUFFER_ROWS


def test_without_a_buffer_every_read_is_written_immediately(store: Store) -> None:
    audit = ReadAudit(store, retention_days=30, clock=lambda: 1_800_000_000.0)
    audit.record([Read("bot", "prof_1", "chatbot", False, "context")])
    assert _count(store) == 1
