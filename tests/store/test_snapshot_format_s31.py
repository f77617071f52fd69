"""Snapshots an older release writes on an upgraded file (an old ``serve`` left running while
the new code migrated it drains the queue with its own code, a card number kept) are found
and built again by the current code, whoever took them off the queue (migration 0044,
``snapshots.requeue_stale``), and never served meanwhile by a running server of this release;
a store that another process migrates past what this code knows is refused on opening."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from context_service.errors import MigrationError
from context_service.snapshot import lookup
from context_service.store import Store, snapshots
from context_service.sync import IngestContext, drain_snapshots
from context_service.sync.snapshot_queue import build_queued_on_read
from tests.conftest import Ingest
from tests.payloads import zendesk_ticket, zendesk_user

CARD = "4111.1111.1111.1111"
EMAIL = "card.person@example.org"
# How releases before 0044 stored a snapshot: an upsert that names only the columns they knew
# (263f1df on), and before it ``INSERT OR REPLACE``; then the profile left the queue.
OLD_UPSERT = (
    "INSERT INTO snapshots (profile_id, version, generated_at, json, text, refresh_at) "
    "VALUES (?, ?, ?, ?, ?, NULL) ON CONFLICT (profile_id) DO UPDATE SET "
    "version = excluded.version, generated_at = excluded.generated_at, "
    "json = excluded.json, text = excluded.text, refresh_at = excluded.refresh_at"
)
OLDEST_REPLACE = (
    "INSERT OR REPLACE INTO snapshots (profile_id, version, generated_at, json, text) "
    "VALUES (?, ?, ?, ?, ?)"
)


def _customer_with_card(store: Store, ingest: Ingest, ctx: IngestContext) -> str:
    """A customer whose ticket subject holds a card number; its snapshot built by this code."""
    ingest(zendesk_user(3, "Card Person", email=EMAIL), zendesk_ticket(10, 3, f"My card {CARD}"))
    drain_snapshots(store, ctx)
    stored = lookup.by_email(store.conn, EMAIL)
    assert CARD not in stored.text
    return stored.profile_id


def _old_release_writes(path: str, profile_id: str, sql: str) -> None:
    """What an older release's rebuild does: the card number kept, the profile unqueued."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        version, generated_at, json, text = conn.execute(
            "SELECT version, generated_at, json, text FROM snapshots WHERE profile_id = ?",
            (profile_id,),
        ).fetchone()
        old_json = bytes(json).replace(b"[card number removed]", CARD.encode())
        old_text = f"{text}\n- ticket: My card {CARD}"
        values = (profile_id, version, generated_at, old_json, old_text)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(sql, values)
        conn.execute("DELETE FROM snapshot_queue WHERE profile_id = ?", (profile_id,))
        conn.execute("COMMIT")
    finally:
        conn.close()


@pytest.mark.parametrize("sql", [OLD_UPSERT, OLDEST_REPLACE], ids=["upsert", "replace"])
def test_a_snapshot_an_older_release_wrote_is_built_again_on_the_next_open(
    store: Store, ingest: Ingest, ctx: IngestContext, sql: str
) -> None:
    profile_id = _customer_with_card(store, ingest, ctx)
    version = store.conn.execute(
        "SELECT version FROM profiles WHERE id = ?", (profile_id,)
    ).fetchone()[0]
    store.close()
    _old_release_writes(store.path, profile_id, sql)
    again = Store(store.path)
    try:
        assert snapshots.is_queued(again.conn, profile_id)
        assert again.stale_snapshots == 1
        drain_snapshots(again, ctx)
        rebuilt = lookup.by_email(again.conn, EMAIL)
        assert CARD not in rebuilt.text
        assert CARD.encode() not in rebuilt.json
        assert rebuilt.version == version + 1  # what was cached by version came from the old row
        assert snapshots.older_format(again.conn) == []
    finally:
        again.close()


def test_a_running_store_catches_up_at_its_next_write(
    store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    """A long-lived process (``serve``) notices another process's commit at its next write
    transaction (``PRAGMA data_version``), not only at start."""
    profile_id = _customer_with_card(store, ingest, ctx)
    _old_release_writes(store.path, profile_id, OLD_UPSERT)
    with store.transaction():
        pass
    assert snapshots.is_queued(store.conn, profile_id)
    drain_snapshots(store, ctx)
    assert CARD not in lookup.by_email(store.conn, EMAIL).text


def test_this_release_s_own_rebuilds_are_not_taken_for_an_older_one(
    store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    """Rebuilding with the same or new content leaves the row current: nothing queued again."""
    profile_id = _customer_with_card(store, ingest, ctx)
    for subject in ("My card again", "My card again", "Another subject"):
        ingest(zendesk_ticket(10, 3, subject))
        drain_snapshots(store, ctx)
        with store.transaction() as conn:
            snapshots.enqueue(conn, {profile_id}, "2026-12-01T00:00:00Z")
        drain_snapshots(store, ctx)
        assert snapshots.older_format(store.conn) == []
    Store(store.path).close()
    assert not snapshots.is_queued(store.conn, profile_id)


def test_a_migration_a_newer_release_applies_leaves_a_running_store_working(
    store: Store, tmp_path: Path
) -> None:
    """A running process goes on writing (its reads audited) when a newer release migrates
    the file under it (review s31e: refusing its writes then failed some answers and left its
    reads unaudited); opening the file again is what refuses."""
    conn = sqlite3.connect(store.path, isolation_level=None)
    conn.execute(
        "INSERT INTO _migrations (name, applied_at) VALUES ('9999_from_the_future', 'now')"
    )
    conn.close()
    with store.transaction() as conn:
        conn.execute("DELETE FROM snapshot_queue")
    with pytest.raises(MigrationError, match="9999_from_the_future"):
        Store(store.path)


def test_an_older_release_rewriting_a_migrated_row_as_it_was_is_found(
    store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    """Right after 0044 every row is queued and marked -1; an old server that builds one
    again writes the bytes it wrote before (its own format), so only the missing stamp
    tells: the row is found and queued again."""
    profile_id = _customer_with_card(store, ingest, ctx)
    _old_release_writes(store.path, profile_id, OLD_UPSERT)
    with store.transaction() as conn:  # as 0044 leaves an old row: queued, -1, no stamp
        conn.execute("UPDATE snapshots SET format = -1, stamp = NULL")
        conn.execute("INSERT OR IGNORE INTO snapshot_queue SELECT profile_id, 'now' FROM snapshots")
    _old_release_writes(store.path, profile_id, OLD_UPSERT)  # the same bytes again
    store.close()
    again = Store(store.path)
    try:
        assert snapshots.is_queued(again.conn, profile_id)
        drain_snapshots(again, ctx)
        assert CARD not in lookup.by_email(again.conn, EMAIL).text
    finally:
        again.close()


def test_this_release_writing_its_earlier_content_after_an_older_one_is_current(
    store: Store,
) -> None:
    """This code's stamp of the same content is the stamp it wrote before the older release's
    write; the row is still this release's, or it would be queued again without end."""
    row = snapshots.StoredSnapshot("prof_x", 1, "2026-12-01T00:00:00Z", b'{"a":1}', "a")
    with store.transaction() as conn:
        conn.execute("INSERT INTO profiles VALUES ('prof_x', 1, 't', 't')")
        snapshots.save_snapshots(conn, [row])
        conn.execute(OLD_UPSERT, ("prof_x", 1, "t", b'{"a":2}', "b"))
        assert snapshots.older_format(conn) == ["prof_x"]
        snapshots.save_snapshots(conn, [row])
        assert snapshots.older_format(conn) == []
        assert conn.execute("SELECT format FROM snapshots").fetchone()[0] >= 1


@pytest.mark.parametrize("sql", [OLD_UPSERT, OLDEST_REPLACE], ids=["upsert", "replace"])
def test_a_running_server_never_serves_what_an_older_release_just_wrote(
    store: Store, ingest: Ingest, ctx: IngestContext, sql: str
) -> None:
    """Review s31e: a read before this process's next write served the old release's row, card
    number and all, under the current version's ETag. It is built first, with a new version."""
    profile_id = _customer_with_card(store, ingest, ctx)
    before = lookup.by_email(store.conn, EMAIL)
    build_queued_on_read(store, ctx)
    _old_release_writes(store.path, profile_id, sql)
    served = lookup.by_email(store.conn, EMAIL)
    assert CARD not in served.text
    assert CARD.encode() not in served.json
    assert served.version > before.version
    assert lookup.by_profile_id(store.conn, profile_id).version == served.version
