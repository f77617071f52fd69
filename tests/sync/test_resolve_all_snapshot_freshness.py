"""``resolve --all`` and identity decisions probed for what readers see: snapshots that match
their profiles' versions once a rebuild commits, and a failed rebuild that changes nothing.
Real SQLite files; the reader is a separate connection, as another process would be."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from context_service.identity.decisions import merge_profiles
from context_service.models import RecordKey
from context_service.snapshot import materialize as materialize_module
from context_service.store import Store
from context_service.sync import rebuild as rebuild_module
from context_service.sync.decide import apply_decision
from context_service.sync.ingest import IngestContext, drain_snapshots
from context_service.sync.rebuild import resolve_all
from tests.conftest import Ingest
from tests.identity_helpers import pid
from tests.payloads import hubspot_contact, shopify_customer

SHOP1 = RecordKey("shopify", "customer", "1")
HUB2 = RecordKey("hubspot", "contact", "2")


def _stale_snapshots(path: str) -> list[tuple[str, int, int | None]]:
    """Profiles whose stored snapshot is missing or of another version, read as a separate
    connection sees them (committed state only)."""
    reader = sqlite3.connect(path)
    try:
        rows = reader.execute(
            "SELECT p.id, p.version, s.version FROM profiles p "
            "LEFT JOIN snapshots s ON s.profile_id = p.id "
            "WHERE s.version IS NULL OR s.version != p.version"
        ).fetchall()
    finally:
        reader.close()
    return [(str(pid), int(v), None if s is None else int(s)) for pid, v, s in rows]


def _memberships(path: str) -> list[tuple[int, str]]:
    reader = sqlite3.connect(path)
    try:
        rows = reader.execute("SELECT record_id, profile_id FROM profile_members ORDER BY 1")
        return [(int(rid), str(pid)) for rid, pid in rows]
    finally:
        reader.close()


def _drifted_store(store: Store, ingest: Ingest) -> None:
    """Two records on one mailbox (one profile) and a third person; then one of the pair is
    marked deleted behind the index's back, so ``resolve --all`` has a profile to change."""
    ingest(shopify_customer(1, "ann@example.com", "Ann", "Lee"))
    ingest(hubspot_contact("2", "ann@example.com", "Ann", "Lee"))
    ingest(hubspot_contact("3", "bo@example.com", "Bo", "Park"))
    assert _stale_snapshots(store.path) == []
    with store.transaction() as conn:
        conn.execute(
            "UPDATE records SET deleted = 1 WHERE source = 'hubspot' AND external_id = '2'"
        )


def _queued(path: str) -> set[str]:
    reader = sqlite3.connect(path)
    try:
        return {str(row[0]) for row in reader.execute("SELECT profile_id FROM snapshot_queue")}
    finally:
        reader.close()


def test_readers_after_resolve_all_commits_find_every_stale_snapshot_queued(
    store: Store, ingest: Ingest, ctx: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The rebuild commits its clusters with the changed profiles queued, then builds their
    # snapshots in short transactions (the write lock is not held for all of it); a reader in
    # between never serves a queued row (``snapshot.lookup`` builds it first).
    _drifted_store(store, ingest)
    before = _memberships(store.path)
    seen: list[tuple[list[tuple[str, int, int | None]], set[str]]] = []
    real_drain = drain_snapshots  # the function rebuild.py imports

    def drain_after_looking(*args: object, **kwargs: object) -> int:
        # The rebuild has committed by now: this is what any reader sees at this moment.
        seen.append((_stale_snapshots(store.path), _queued(store.path)))
        return real_drain(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(rebuild_module, "drain_snapshots", drain_after_looking)
    report = resolve_all(store, ctx)

    assert report.profiles_changed >= 1
    assert _memberships(store.path) != before
    [(stale, queued)] = seen
    assert stale, "the rebuild changed profiles whose snapshots it had not built yet"
    assert {profile_id for profile_id, _, _ in stale} <= queued
    assert _stale_snapshots(store.path) == []
    assert _queued(store.path) == set()


def test_a_resolve_all_that_fails_building_snapshots_keeps_the_clusters_and_the_queue(
    store: Store, ingest: Ingest, ctx: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    _drifted_store(store, ingest)
    before = _memberships(store.path)

    def broken_save(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk trouble while saving snapshots")

    monkeypatch.setattr(materialize_module, "save_snapshots", broken_save)
    with pytest.raises(RuntimeError):
        resolve_all(store, ctx)

    assert _memberships(store.path) != before  # the clusters committed
    stale = _stale_snapshots(store.path)
    assert stale
    assert {profile_id for profile_id, _, _ in stale} <= _queued(store.path)


def test_a_merge_racing_sync_batches_on_the_same_people_leaves_no_stale_snapshot(
    store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    ingest(shopify_customer(1, "ann@example.com", "Ann", "Lee"))
    ingest(hubspot_contact("2", "bo@example.com", "Bo", "Park"))
    first, second = pid(store, SHOP1), pid(store, HUB2)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def merge() -> None:
        start.wait()
        try:
            apply_decision(
                store,
                ctx,
                lambda conn, now: merge_profiles(conn, [first, second], "lead", now, ctx.region),
            )
        except BaseException as error:  # reported below, on the test's thread
            errors.append(error)

    def sync() -> None:
        start.wait()
        try:
            for round_ in range(5):
                ingest(
                    shopify_customer(1, "ann@example.com", "Ann", f"Lee{round_}"),
                    hubspot_contact("2", "bo@example.com", "Bo", f"Park{round_}"),
                )
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=merge), threading.Thread(target=sync)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert pid(store, SHOP1) == pid(store, HUB2)
    assert _stale_snapshots(store.path) == []
