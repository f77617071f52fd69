"""The store as a database engineer would poke at it: failed commits, full disks, schemas from
a newer release, threads sharing one store, big payloads and odd external ids."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from context_service.errors import MigrationError
from context_service.models import Mapped, RecordKey
from context_service.store import Store
from context_service.store.records import get_record, upsert_record

_PROFILE = "INSERT INTO profiles (id, version, created_at, updated_at) VALUES (?, 1, 'n', 'n')"


def _profile_ids(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM profiles ORDER BY id")]


def _fail_at_commit(conn: sqlite3.Connection) -> None:
    """Leave a deferred foreign-key violation behind, so that COMMIT itself fails (as a full
    disk or an I/O error at commit would) and SQLite keeps the transaction open."""
    conn.execute("PRAGMA defer_foreign_keys=ON")
    conn.execute(_PROFILE, ("doomed",))
    conn.execute(
        "INSERT INTO records (source, kind, external_id, payload, payload_hash, fetched_at) "
        "VALUES ('s', 'k', '1', '{}', 'h', 'n')"
    )
    conn.execute("INSERT INTO profile_members (record_id, profile_id) VALUES (1, 'missing')")


def test_a_failed_commit_rolls_back_and_the_next_transaction_still_commits(
    tmp_path: Path,
) -> None:
    path = tmp_path / "commit.db"
    store = Store(path)
    try:
        with pytest.raises(sqlite3.IntegrityError), store.transaction() as conn:
            _fail_at_commit(conn)
        assert not store.in_transaction
        with store.transaction() as conn:
            conn.execute(_PROFILE, ("later",))
    finally:
        store.close()
    assert _profile_ids(path) == ["later"]


def _fill(store: Store) -> None:
    with store.transaction() as conn:
        conn.execute(_PROFILE, ("kept-nowhere",))
        conn.executemany(
            "INSERT INTO profiles (id, version, created_at, updated_at) VALUES (?, 1, 'n', ?)",
            [(f"bulk_{i}", "x" * 1000) for i in range(1000)],
        )


def test_a_full_disk_reports_the_full_disk_and_keeps_the_store_usable(tmp_path: Path) -> None:
    """SQLITE_FULL rolls the whole transaction back by itself; the error the caller sees must
    be the full disk, not a failed ROLLBACK that hides it."""
    path = tmp_path / "full.db"
    store = Store(path)
    try:
        pages = store.db.execute("PRAGMA page_count").fetchone()[0]
        store.db.execute(f"PRAGMA max_page_count={pages + 2}")
        with pytest.raises(sqlite3.OperationalError, match="full"):
            _fill(store)
        store.db.execute("PRAGMA max_page_count=1073741823")
        with store.transaction() as conn:
            conn.execute(_PROFILE, ("after",))
    finally:
        store.close()
    assert _profile_ids(path) == ["after"]


def _interrupted_nested_writes(store: Store) -> None:
    with store.transaction() as outer:
        outer.execute(_PROFILE, ("outer",))
        with store.transaction() as inner:
            inner.execute(_PROFILE, ("inner",))
            raise KeyboardInterrupt


def test_an_interrupt_inside_a_nested_transaction_rolls_back_everything(tmp_path: Path) -> None:
    path = tmp_path / "interrupt.db"
    store = Store(path)
    try:
        with pytest.raises(KeyboardInterrupt):
            _interrupted_nested_writes(store)
        assert not store.in_transaction
        with store.transaction() as conn:
            conn.execute(_PROFILE, ("after",))
    finally:
        store.close()
    assert _profile_ids(path) == ["after"]


def test_a_schema_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    Store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO _migrations (name, applied_at) VALUES ('9999_from_the_future', 'n')"
        )
    with pytest.raises(MigrationError, match="9999_from_the_future"):
        Store(path)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"not a database at all\n" * 200)
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        Store(path)
    assert path.read_bytes() == b"not a database at all\n" * 200


def test_close_twice_and_use_after_close(tmp_path: Path) -> None:
    store = Store(tmp_path / "closed.db")
    store.close()
    store.close()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"), store.transaction():
        pass


def test_threads_share_one_store_without_sqlite_misuse(tmp_path: Path) -> None:
    """``serve`` reads and writes one store from its ``to_thread`` workers."""
    store = Store(tmp_path / "threads.db")
    errors: list[BaseException] = []

    def read() -> None:
        try:
            for i in range(200):
                list(store.conn.execute("SELECT id FROM profiles"))
                store.conn.execute("SELECT count(*) FROM profiles WHERE id > ?", (str(i),))
        except BaseException as exc:
            errors.append(exc)

    def write(worker: int) -> None:
        try:
            for i in range(50):
                with store.transaction() as conn:
                    conn.execute(_PROFILE, (f"w{worker}_{i}",))
                    with store.transaction() as nested:
                        nested.execute("SELECT count(*) FROM profiles").fetchone()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    threads += [threading.Thread(target=write, args=(worker,)) for worker in range(3)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert store.conn.execute("SELECT count(*) FROM profiles").fetchone()[0] == 150
    finally:
        store.close()


@pytest.mark.parametrize("external_id", ["日本語-😀", "nul\x00inside", "  spaced  ", "ǅ\u200b"])
def test_odd_external_ids_round_trip_exactly(store: Store, external_id: str) -> None:
    key = RecordKey("shopify", "customer", external_id)
    with store.transaction() as conn:
        upsert_record(conn, key, "{}", Mapped(key=key), fetched_at="2026-01-01T00:00:00Z")
    record = get_record(store.conn, key)
    assert record is not None
    assert record.key == key
    for near_miss in (
        external_id[:-1],
        external_id.split("\x00", maxsplit=1)[0],
        external_id + "!",
    ):
        if near_miss != external_id:
            assert get_record(store.conn, RecordKey("shopify", "customer", near_miss)) is None


def test_a_ten_megabyte_payload_is_stored_whole(store: Store) -> None:
    key = RecordKey("zendesk", "ticket", "big")
    payload = '{"body": "' + "é" * 5_000_000 + '"}'
    with store.transaction() as conn:
        upsert_record(conn, key, payload, Mapped(key=key), fetched_at="2026-01-01T00:00:00Z")
    record = get_record(store.conn, key)
    assert record is not None
    assert record.payload == payload


def test_a_writer_locked_out_by_another_process_gets_an_error_and_loses_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "locked.db"
    store = Store(path)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        store.db.execute("PRAGMA busy_timeout=50")  # the default waits 30 s
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError, match="locked"), store.transaction() as c:
            c.execute(_PROFILE, ("never",))
        assert not store.in_transaction
        other.execute("ROLLBACK")
        with store.transaction() as conn:
            conn.execute(_PROFILE, ("after",))
    finally:
        other.close()
        store.close()
    assert _profile_ids(path) == ["after"]


def test_the_checkpointer_survives_an_unreadable_wal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A WAL it cannot read this round (permissions, an I/O error) must not end the thread:
    without it the WAL grows for as long as the process lives."""
    from context_service.store import db

    rounds = threading.Semaphore(0)

    def unreadable(path: str) -> bytes | None:
        rounds.release()
        raise PermissionError(f"{path}-wal")

    monkeypatch.setattr(db, "wal_salt", unreadable)
    store = Store(tmp_path / "wal.db")
    checkpointer = store._checkpointer
    assert checkpointer is not None
    checkpointer.interval = 0.001
    try:
        for _ in range(3):
            assert rounds.acquire(timeout=30)
        assert checkpointer.running
    finally:
        store.close()
    assert not checkpointer.running


def _upsert(store: Store, key: RecordKey, payload: str, updated_at: str) -> str:
    with store.transaction() as conn:
        outcome = upsert_record(
            conn, key, payload, Mapped(key=key, updated_at=updated_at), fetched_at=updated_at
        )
    return outcome.status


def test_a_repeated_copy_moves_the_date_forward_so_an_older_copy_stays_out(store: Store) -> None:
    """Stripe objects are dated by when we saw them: the same object seen again later proves
    it was still so then, and a delayed copy from in between must not roll it back."""
    key = RecordKey("stripe", "customer", "cus_1")
    assert _upsert(store, key, '{"email": "new@x.io"}', "2026-01-01T00:00:01Z") == "inserted"
    assert _upsert(store, key, '{"email": "new@x.io"}', "2026-01-01T00:00:03Z") == "unchanged"
    assert _upsert(store, key, '{"email": "old@x.io"}', "2026-01-01T00:00:02Z") == "stale"
    record = get_record(store.conn, key)
    assert record is not None
    assert record.payload == '{"email": "new@x.io"}'
    assert record.updated_at == "2026-01-01T00:00:03Z"
    # The mapped form stays as derived (an unchanged copy re-derives nothing from it).
    assert record.mapped is not None
    assert record.mapped.updated_at == "2026-01-01T00:00:01Z"


def test_a_repeated_older_copy_never_moves_the_date_back(store: Store) -> None:
    key = RecordKey("stripe", "customer", "cus_2")
    assert _upsert(store, key, '{"email": "a@x.io"}', "2026-01-01T00:00:05Z") == "inserted"
    assert _upsert(store, key, '{"email": "a@x.io"}', "2026-01-01T00:00:04Z") == "stale"
    assert _upsert(store, key, '{"email": "a@x.io"}', "2026-01-01T00:00:05Z") == "unchanged"
    record = get_record(store.conn, key)
    assert record is not None
    assert record.updated_at == "2026-01-01T00:00:05Z"


def test_a_payload_once_rejected_is_mapped_when_it_maps_now(store: Store) -> None:
    """After an upgrade that fixes a mapper, syncing the very same payload again must take
    the record out of ``rejected``."""
    key = RecordKey("zendesk", "user", "7")
    with store.transaction() as conn:
        first = upsert_record(
            conn, key, '{"id": 7}', None, fetched_at="2026-01-01T00:00:00Z", error="bad"
        )
        again = upsert_record(
            conn,
            key,
            '{"id": 7}',
            Mapped(key=key, updated_at="2026-01-01T00:00:00Z"),
            fetched_at="2026-01-02T00:00:00Z",
        )
    assert (first.status, again.status) == ("inserted", "updated")
    record = get_record(store.conn, key)
    assert record is not None
    assert record.mapped == Mapped(key=key, updated_at="2026-01-01T00:00:00Z")
    assert record.error is None


class _FullDisk:
    """A connection whose claim insert fails as SQLITE_FULL does: SQLite ends the whole
    transaction itself, then reports the full disk."""

    def __init__(self, real: sqlite3.Connection) -> None:
        self.real = real

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql.startswith("INSERT OR IGNORE INTO posted_notes"):
            self.real.execute("ROLLBACK")
            raise sqlite3.OperationalError("database or disk is full")
        return self.real.execute(sql, *args)

    @property
    def in_transaction(self) -> bool:
        return self.real.in_transaction

    def close(self) -> None:
        self.real.close()


def test_a_note_claim_on_a_full_disk_reports_the_full_disk(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from context_service.store import notes

    connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: _FullDisk(connect(*a, **k)))
    with pytest.raises(sqlite3.OperationalError, match="full"):
        notes.claim(store.conn, notes.note_digest("t1", "hello"), datetime.now(UTC))
