"""``resolve --all`` in chunks gives the ids, links and review items of a rebuild in one.

A large store is rebuilt a chunk of records at a time. Every record is indexed before any is
clustered: clustering a component while part of it was still to come could merge profiles that
the whole keeps apart, and the merged-away id would not come back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

import pytest

from context_service.identity.rebuild import _sharing_profiles, rebuild
from context_service.store import Store, profiles
from context_service.store.profiles import delete_empty
from context_service.sync import IngestContext, ingest_batch
from context_service.wiring import default_mappers
from tests.identity.test_engine_updates_match_rebuild import (
    Put,
    assert_consistent,
    open_review_pairs,
    payload_of,
    profiles_by_id,
    stamp,
)
from tests.memory_store import memory_store


def _store(steps: list[Put]) -> Store:
    store = memory_store()
    ctx = IngestContext(mappers=default_mappers())
    for n, step in enumerate(steps):
        ingest_batch(store, [payload_of(step, stamp(n))], ctx)
    return store


def _rows(store: Store, sql: str) -> list[tuple[Any, ...]]:
    return sorted(tuple(row) for row in store.conn.execute(sql))


def _rebuilt(store: Store, chunk: int) -> tuple[Any, ...]:
    copy = memory_store(copy_of=store)
    with copy.transaction() as conn:
        rebuild(conn, "US", "2026-12-01T00:00:00Z", chunk=chunk)
    assert_consistent(copy)
    found = (
        profiles_by_id(copy),
        open_review_pairs(copy),
        _rows(copy, "SELECT id, a, b FROM review_items WHERE status = 'open'"),
        _rows(copy, "SELECT profile_id, record_id, other_record_id, rule FROM identity_links"),
        _rows(copy, "SELECT alias, profile_id FROM profile_aliases"),
    )
    copy.close()
    return found


def test_a_record_linked_to_two_kept_apart_keeps_its_id_in_any_chunk_size() -> None:
    """Shopify customer 1 links to both Stripe customers, which are kept apart: three
    profiles with three open review items. Chunks of two once clustered shopify:1 with
    stripe:cus_5 alone (stripe:cus_6 not yet indexed), merging cus_5's profile away, and the
    split that followed gave cus_5 a new id."""
    store = _store([Put(0, 0, 0, 0, 0), Put(0, 0, 0, 0, 0), Put(4, 1, 0, 0, 1), Put(5, 0, 0, 0, 1)])
    before = profiles_by_id(store)
    assert len(before) == 3
    assert len(open_review_pairs(store)) == 3
    whole = _rebuilt(store, 5_000)
    assert whole[0] == before
    assert whole[4] == []  # no alias: no id was merged away
    for chunk in (1, 2, 3):
        assert _rebuilt(store, chunk) == whole, chunk
    store.close()


def test_a_profile_spanning_two_components_is_split_alike_in_any_chunk_size() -> None:
    """A profile whose records no longer link (a model that changed) is split the same way
    whether its records fall into one chunk or several: the older record keeps the id, and
    the other does not keep it too."""
    store = _store([Put(0, 0, 0, 0, 0), Put(2, 3, 4, 1, 0), Put(6, 4, 3, 2, 0)])
    (keep, _), (gone, second), _ = sorted(
        store.conn.execute("SELECT profile_id, record_id FROM profile_members"),
        key=lambda row: int(row[1]),
    )
    with store.transaction() as conn:
        conn.execute(
            "UPDATE profile_members SET profile_id = ? WHERE record_id = ?", (keep, second)
        )
        assert delete_empty(conn, {gone}) == {gone}
    whole = _rebuilt(store, 5_000)
    assert len(whole[0]) == 3
    assert whole[0][keep] == {"shopify:1"}
    for chunk in (1, 2):
        found = _rebuilt(store, chunk)
        assert set(found[0].values()) == set(whole[0].values()), chunk
        assert found[0][keep] == {"shopify:1"}, chunk
    store.close()


class _PairsEngine:
    """Stands in for ``Engine.reach``: records 2i and 2i+1 form one component."""

    def reach(self, record_ids: Iterable[int]) -> set[int]:
        ids = set(record_ids)
        return ids | {rid ^ 1 for rid in ids}


def test_a_long_chain_of_shared_profiles_is_gathered_with_linear_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Profile i holds a record of component i-1 and one of component i (a chain a retrained
    model can leave): gathering it asks about each record once, not once per round."""
    store = memory_store()
    conn = store.conn
    conn.execute("PRAGMA foreign_keys=OFF")
    components = 2_000
    ids = profiles.create_profiles(conn, components + 1, "2026-12-01T00:00:00Z")
    rows = [(2 * i + k, ids[i + k]) for i in range(components) for k in (0, 1)]
    conn.executemany("INSERT INTO profile_members (record_id, profile_id) VALUES (?, ?)", rows)
    asked: list[int] = []
    real = profiles.profiles_of

    def counting(c: sqlite3.Connection, record_ids: list[int]) -> dict[int, str]:
        asked.append(len(record_ids))
        return real(c, record_ids)

    monkeypatch.setattr(profiles, "profiles_of", counting)
    found = _sharing_profiles(conn, _PairsEngine(), [0])  # type: ignore[arg-type]
    assert found == set(range(2 * components))
    assert sum(asked) <= 2 * len(found)  # every record asked about once (quadratic: ~4M)
    store.close()
