"""Source records: lossless storage, newest-wins, migrations recorded."""

from __future__ import annotations

from pathlib import Path

from context_service.models import Mapped, RecordKey
from context_service.store import Store
from context_service.store.migrations import MIGRATIONS, applied, migrate
from context_service.store.records import (
    get_record,
    payload_hash,
    rejected,
    rejected_payload,
    upsert_record,
)

KEY = RecordKey("shopify", "customer", "42")


def _mapped(updated_at: str | None) -> Mapped:
    return Mapped(key=KEY, updated_at=updated_at)


def _upsert(store: Store, payload: str, updated_at: str | None, deleted: bool = False) -> str:
    mapped = Mapped(key=KEY, updated_at=updated_at, deleted=deleted)
    with store.transaction() as conn:
        return upsert_record(conn, KEY, payload, mapped, fetched_at="2026-01-01T00:00:00Z").status


def test_first_write_inserts_and_keeps_raw_payload(store: Store) -> None:
    assert _upsert(store, '{"id": 42, "note": "é"}', "2026-01-01T00:00:00Z") == "inserted"
    record = get_record(store.conn, KEY)
    assert record is not None
    assert record.payload == '{"id": 42, "note": "é"}'
    assert record.updated_at == "2026-01-01T00:00:00Z"
    row = store.conn.execute("SELECT payload_hash FROM records").fetchone()
    assert row[0] == payload_hash('{"id": 42, "note": "é"}')


def test_newer_update_overwrites(store: Store) -> None:
    _upsert(store, '{"v": 1}', "2026-01-01T00:00:00Z")
    assert _upsert(store, '{"v": 2}', "2026-01-02T00:00:00Z") == "updated"
    record = get_record(store.conn, KEY)
    assert record is not None
    assert record.payload == '{"v": 2}'


def test_older_update_never_overwrites_newer(store: Store) -> None:
    _upsert(store, '{"v": 2}', "2026-01-02T00:00:00Z")
    assert _upsert(store, '{"v": 1}', "2026-01-01T00:00:00Z") == "stale"
    record = get_record(store.conn, KEY)
    assert record is not None
    assert record.payload == '{"v": 2}'
    assert record.updated_at == "2026-01-02T00:00:00Z"


def _reject(store: Store, payload: str, observed_at: str | None) -> str:
    with store.transaction() as conn:
        return upsert_record(
            conn,
            KEY,
            payload,
            None,
            fetched_at="2026-01-05T00:00:00Z",
            error="metadata: expected an object",
            observed_at=observed_at,
        ).status


def test_an_unmappable_payload_keeps_the_good_version_and_is_kept_beside_it(
    store: Store,
) -> None:
    _upsert(store, '{"v": 1}', "2026-01-02T00:00:00Z")
    assert _reject(store, '{"v": "broken"}', "2026-01-03T00:00:00Z") == "unchanged"
    record = get_record(store.conn, KEY)
    assert record is not None
    assert (record.payload, record.updated_at) == ('{"v": 1}', "2026-01-02T00:00:00Z")
    assert record.mapped is not None  # its profile keeps the data
    assert record.error == "metadata: expected an object"
    assert rejected_payload(store.conn, KEY) == '{"v": "broken"}'
    assert [r.key for r in rejected(store.conn)] == [KEY]
    # A newer good version replaces both the record and the rejected payload.
    assert _upsert(store, '{"v": 3}', "2026-01-04T00:00:00Z") == "updated"
    record = get_record(store.conn, KEY)
    assert record is not None
    assert (record.payload, record.error) == ('{"v": 3}', None)
    assert rejected_payload(store.conn, KEY) is None


def test_an_older_unmappable_payload_is_stale(store: Store) -> None:
    _upsert(store, '{"v": 2}', "2026-01-02T00:00:00Z")
    assert _reject(store, '{"v": "broken"}', "2026-01-01T00:00:00Z") == "stale"
    record = get_record(store.conn, KEY)
    assert record is not None
    assert (record.payload, record.error) == ('{"v": 2}', None)
    assert rejected_payload(store.conn, KEY) is None


def test_an_unmappable_payload_of_a_new_key_is_stored_raw(store: Store) -> None:
    assert _reject(store, '{"v": "broken"}', None) == "inserted"
    record = get_record(store.conn, KEY)
    assert record is not None
    assert (record.payload, record.mapped, record.error) == (
        '{"v": "broken"}',
        None,
        "metadata: expected an object",
    )


def test_same_payload_twice_is_unchanged(store: Store) -> None:
    _upsert(store, '{"v": 1}', "2026-01-01T00:00:00Z")
    assert _upsert(store, '{"v": 1}', "2026-01-01T00:00:00Z") == "unchanged"
    assert store.conn.execute("SELECT count(*) FROM records").fetchone()[0] == 1


def test_tombstone_sets_deleted_flag(store: Store) -> None:
    _upsert(store, '{"v": 1}', "2026-01-01T00:00:00Z")
    assert _upsert(store, '{"id": 42}', "2026-01-03T00:00:00Z", deleted=True) == "updated"
    record = get_record(store.conn, KEY)
    assert record is not None
    assert record.deleted


def test_failed_transaction_leaves_nothing(store: Store) -> None:
    try:
        with store.transaction() as conn:
            upsert_record(conn, KEY, "{}", _mapped(None), fetched_at="2026-01-01T00:00:00Z")
            raise RuntimeError("crash mid-batch")
    except RuntimeError:
        pass
    assert get_record(store.conn, KEY) is None


def test_migrations_are_recorded_once_and_wal_is_on(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    first = Store(path)
    assert applied(first.db) == [name for name, _ in MIGRATIONS]
    assert migrate(first.db) == []
    assert first.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    first.close()
    second = Store(path)
    assert applied(second.db) == [name for name, _ in MIGRATIONS]
    second.close()
