"""An export given the store reads through a connection of its own, in one read transaction:
never the store's shared reader, which the API uses from several threads at once. So an
export is the store as at one moment (a write committed in the middle is not in it) and
exports from several threads at once each come out whole."""

from __future__ import annotations

import io
import json
import sqlite3
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from context_service import export
from context_service.export import exported_profiles, subject_document, write_export
from context_service.store import Store, snapshots
from context_service.sync import IngestContext, RawPayload, ingest_batch
from context_service.sync.snapshot_queue import build_queued_on_read
from context_service.trust import erasure, subject
from tests.payloads import zendesk_user

RENAMED = "2026-11-29T00:00:00Z"


@pytest.fixture
def one_per_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    """One profile per chunk, so that every profile is read by statements of its own."""
    monkeypatch.setattr(export, "_CHUNK", 1)


@pytest.fixture
def shared_reader_statements(store: Store) -> Iterator[list[str]]:
    """Every statement run on the store's shared reader while the test runs (only for tests
    where at most one thread uses it: see below)."""
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    yield statements
    store.conn.set_trace_callback(None)


def _people(store: Store, ctx: IngestContext, count: int, first: int = 1) -> None:
    ingest_batch(
        store,
        [
            RawPayload(*zendesk_user(uid, f"Person{uid} Lee", f"p{uid}@example.com"))
            for uid in range(first, first + count)
        ],
        ctx,
    )


def _rename(store: Store, ctx: IngestContext, uid: int, name: str) -> None:
    renamed = zendesk_user(uid, name, f"p{uid}@example.com", updated_at=RENAMED)
    ingest_batch(store, [RawPayload(*renamed)], ctx)


@pytest.mark.usefixtures("one_per_chunk")
def test_a_write_committed_between_profiles_is_not_in_the_export(
    store: Store, ctx: IngestContext, shared_reader_statements: list[str]
) -> None:
    _people(store, ctx, 3)
    stream = exported_profiles(store)
    seen = [next(stream)]  # the export has started: its first profile is read
    _rename(store, ctx, 3, "Renamed Later")  # committed by the writer, meanwhile
    _people(store, ctx, 1, first=4)
    seen += list(stream)
    assert [p.identity.name for p in seen] == ["Person1 Lee", "Person2 Lee", "Person3 Lee"]
    assert shared_reader_statements == []  # the shared reader was never used
    after = [p.identity.name for p in exported_profiles(store)]
    assert after == ["Person1 Lee", "Person2 Lee", "Renamed Later", "Person4 Lee"]


@pytest.mark.usefixtures("one_per_chunk")
def test_exports_from_several_threads_at_once_each_come_out_whole(
    store: Store, ctx: IngestContext, shared_reader_statements: list[str]
) -> None:
    _people(store, ctx, 8)
    stop = threading.Event()
    errors: list[BaseException] = []
    results: list[list[dict[str, Any]]] = []
    lock = threading.Lock()

    def exporter() -> None:
        try:
            for _ in range(5):
                out = io.StringIO()
                count = write_export(store, out, "jsonl")
                lines = [json.loads(line) for line in out.getvalue().splitlines()]
                assert count == len(lines)
                with lock:
                    results.append(lines)
        except BaseException as exc:  # reported below, with the thread's traceback
            errors.append(exc)

    def writer() -> None:
        uid = 100
        while not stop.is_set():
            _people(store, ctx, 1, first=uid)
            uid += 1

    writing = threading.Thread(target=writer)
    writing.start()
    threads = [threading.Thread(target=exporter) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    stop.set()
    writing.join(timeout=30)
    assert errors == []
    assert len(results) == 30
    for lines in results:
        ids = [line["profile_id"] for line in lines]
        assert len(ids) == len(set(ids))
        assert len(ids) >= 8
        for line in lines:  # each profile whole: its member and its identity
            assert len(line["members"]) == 1
            assert line["identity"]["emails"]
    assert shared_reader_statements == []
    assert not store.conn.in_transaction


def test_a_subject_export_does_not_see_a_write_committed_while_it_runs(
    store: Store, ctx: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    _people(store, ctx, 1)
    profile_id = store.conn.execute("SELECT id FROM profiles").fetchone()[0]
    owned_records = erasure.owned_records  # the function subject.py imports

    def rename_meanwhile(conn: sqlite3.Connection, keys: Any) -> Any:
        found = owned_records(conn, keys)  # the profile and its members are read by now
        _rename(store, ctx, 1, "Renamed Later")
        return found

    monkeypatch.setattr(subject, "owned_records", rename_meanwhile)
    document = subject_document(store, profile_id)
    assert [r["payload"]["name"] for r in document["records"]] == ["Person1 Lee"]
    assert document["snapshot"]["identity"]["name"] == "Person1 Lee"
    monkeypatch.setattr(subject, "owned_records", owned_records)
    document = subject_document(store, profile_id)
    assert [r["payload"]["name"] for r in document["records"]] == ["Renamed Later"]
    assert document["snapshot"]["identity"]["name"] == "Renamed Later"


def test_a_subject_export_builds_a_queued_snapshot_first(store: Store, ctx: IngestContext) -> None:
    _people(store, ctx, 1)
    profile_id = store.conn.execute("SELECT id FROM profiles").fetchone()[0]
    with store.transaction() as conn:
        conn.execute("DELETE FROM snapshots")
        snapshots.enqueue(conn, {profile_id}, RENAMED)
    build_queued_on_read(store, ctx)
    document = subject_document(store, profile_id)
    assert document["snapshot"]["identity"]["name"] == "Person1 Lee"
    assert not snapshots.is_queued(store.conn, profile_id)


def test_subject_exports_from_several_threads_at_once_are_each_right(
    store: Store, ctx: IngestContext
) -> None:
    # (No trace callback on ``store.conn`` here: each export asks it for the live id first,
    # from its own thread, and SQLite calls a callback holding the connection's mutex, which
    # deadlocks against a thread that holds the GIL and waits for that mutex.)
    _people(store, ctx, 6)
    ids = [row[0] for row in store.conn.execute("SELECT id FROM profiles ORDER BY rowid")]
    errors: list[BaseException] = []

    def exporter(n: int) -> None:
        try:
            for _ in range(10):
                document = subject_document(store, ids[n])
                assert document["profile_id"] == ids[n]
                assert [r["payload"]["name"] for r in document["records"]] == [f"Person{n + 1} Lee"]
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=exporter, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert not store.conn.in_transaction


def test_an_export_stopped_early_closes_its_connection(store: Store, ctx: IngestContext) -> None:
    _people(store, ctx, 2)
    stream = exported_profiles(store)
    next(stream)
    stream.close()  # the read transaction ends: a checkpoint can copy the whole WAL
    _people(store, ctx, 1, first=10)
    with store.maintenance() as conn:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    assert busy == 0


def test_an_in_memory_store_exports_through_its_one_connection(ctx: IngestContext) -> None:
    store = Store(":memory:")
    try:
        _people(store, ctx, 2)
        out = io.StringIO()
        assert write_export(store, out, "csv") == 2
        assert not store.conn.in_transaction
        with store.transaction() as conn:  # the writer is free again
            conn.execute("DELETE FROM snapshot_queue")
    finally:
        store.close()
