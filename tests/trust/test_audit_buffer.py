"""The read audit's buffer: nothing is lost, and flush points make reads visible at once."""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Any

import pytest

from context_service.store import Store
from context_service.trust.audit import BUFFER_ROWS, Read, ReadAudit, reads_of


def _count(store: Store) -> int:
    return int(store.conn.execute("SELECT count(*) FROM read_audit").fetchone()[0])


def test_buffered_reads_are_written_at_flush_when_full_and_at_close(store: Store) -> None:
    with store.transaction() as conn:  # a read of a profile that is gone is written "erased"
        conn.execute("INSERT INTO profiles VALUES ('prof_1', 1, '2027-01-01', '2027-01-01')")
    audit = ReadAudit(store, retention_days=30, clock=lambda: 1_800_000_000.0, buffer_seconds=60)
    audit.record([Read("bot", "prof_1", "chatbot", False, "context")])
    assert _count(store) == 0  # still in memory: the background writer waits a minute
    audit.flush()
    assert [e.profile_id for e in reads_of(store.conn)] == ["prof_1"]
    audit.record([Read("bot", f"prof_{i}", "agent", True, "context") for i in range(100)])
    assert _count(store) == 1  # a hundred waiting reads are still the background writer's
    full = BUFFER_ROWS - 100
    audit.record([Read("bot", f"prof_{i}", "agent", True, "context") for i in range(full)])
    deadline = time.monotonic() + 10
    while _count(store) < 1 + BUFFER_ROWS and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _count(store) == 1 + BUFFER_ROWS  # a full buffer wakes the writer at once
    audit.record([Read("bot", "prof_last", "agent", True, "widget")])
    audit.close()
    assert _count(store) == 2 + BUFFER_ROWS


def test_without_a_buffer_every_read_is_written_immediately(store: Store) -> None:
    audit = ReadAudit(store, retention_days=30, clock=lambda: 1_800_000_000.0)
    audit.record([Read("bot", "prof_1", "chatbot", False, "context")])
    assert _count(store) == 1


def test_a_failed_write_keeps_its_reads_for_the_next_flush(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    audit = ReadAudit(store, retention_days=30, clock=lambda: 1_800_000_000.0, buffer_seconds=60)
    audit.record([Read("bot", f"prof_{i}", "chatbot", False, "context") for i in range(5)])
    write = audit._write
    failures = [sqlite3.OperationalError("database is locked")]

    def locked_once(rows: list[Any]) -> None:
        if failures:
            raise failures.pop()
        write(rows)

    monkeypatch.setattr(audit, "_write", locked_once)
    with pytest.raises(sqlite3.OperationalError):
        audit.flush()
    audit.record([Read("bot", "prof_later", "agent", True, "context")])
    audit.close()
    assert _count(store) == 6  # none lost, the failed batch first
    assert audit.dropped == 0
    audit.record([Read("bot", "prof_after_close", "agent", True, "context")])
    assert _count(store) == 7  # after close, written at once


def test_a_flush_returns_only_once_a_flush_under_way_has_written(store: Store) -> None:
    """An erasure flushes, then anonymizes: the reads the background writer had just taken
    must be in the table before the erasure goes on."""
    audit = ReadAudit(store, retention_days=30, clock=lambda: 1_800_000_000.0, buffer_seconds=60)
    audit.record([Read("bot", "prof_1", "chatbot", False, "context")])
    started, release = threading.Event(), threading.Event()
    write = audit._write

    def slow(rows: list[Any]) -> None:
        started.set()
        release.wait(5)
        write(rows)

    audit._write = slow  # type: ignore[method-assign]
    background = threading.Thread(target=audit.flush)
    background.start()
    assert started.wait(5)
    audit._write = write  # type: ignore[method-assign]
    done = threading.Event()

    def flush_then_done() -> None:
        audit.flush()
        done.set()

    waiter = threading.Thread(target=flush_then_done)
    waiter.start()
    assert not done.wait(0.2)  # the second flush waits for the first one's rows
    release.set()
    waiter.join(5)
    background.join(5)
    assert done.is_set()
    assert _count(store) == 1
