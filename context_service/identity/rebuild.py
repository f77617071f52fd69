"""``context-service resolve --all``: resolve every stored person record again from scratch."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping

import msgspec

from context_service.identity.engine import Engine, PersonChange
from context_service.identity.index_rows import IndexRows, index_rows_of_stored, stored_people
from context_service.identity.pairs import Thresholds
from context_service.identity.state import mark_index_current
from context_service.store import profiles

# Given the batches of record ids and a way to work out one batch's rows in this process, each
# batch's index rows in order (``sync.index_worker.IndexWorker.rows_of``).
PrepareChunks = Callable[[list[list[int]], Callable[[list[int]], IndexRows]], Iterable[IndexRows]]


_WORKER_FROM = 3  # batches: below, starting a worker process costs more than it saves


class RebuildReport(msgspec.Struct):
    """What ``rebuild`` did."""

    records: int
    profiles_before: int
    profiles_after: int
    changed: set[str]
    open_reviews: int


def rebuild(
    conn: sqlite3.Connection,
    region: str,
    now: str,
    thresholds: Thresholds | None = None,
    chunk: int = 5_000,
    prepare: PrepareChunks | None = None,
) -> RebuildReport:
    """Resolve every stored person record again from scratch (``context-service resolve --all``).

    The identity index, edges, automatic links and open review items are rebuilt; people's
    decisions and profile ids are kept (a cluster keeps the id most of its members had). The
    result is the clustering the incremental path would have reached, whatever ``chunk``:
    the records are indexed ``chunk`` at a time, then clustered a chunk at a time with whole
    components (and the components sharing a profile with them).

    With ``prepare``, each chunk's index rows come from it (a worker process working them
    out ahead, ``sync.index_worker``) rather than from the engine, with the same result.
    """
    before = profiles.count_profiles(conn)
    members_before = _memberships(conn)
    # Ids first, records a chunk at a time: a million decoded records and their features held
    # at once took resolve --all past 3 GB.
    live = [change.record_id for change in person_records(conn)]
    for table in ("identity_edges", "identity_features", "identifiers"):
        _empty(conn, table)
    conn.execute("DELETE FROM identity_links WHERE decided_by = 'auto'")
    live_set = set(live)
    stale = [
        int(rid)
        for (rid,) in conn.execute("SELECT record_id FROM profile_members")
        if int(rid) not in live_set
    ]
    open_items = _open_review_items(conn)
    engine = Engine(conn, region, now, thresholds)
    if stale:
        engine.detach(stale)
    # Every record is indexed (its edges stored) before any is clustered: a component
    # clustered while part of it was still to come could merge profiles that the whole keeps
    # apart, and the merged-away id would not come back (``Engine.index_new``).
    batches = [live[start : start + chunk] for start in range(0, len(live), chunk)]
    if prepare is None or len(batches) < _WORKER_FROM:
        prepare = _in_process

    def local(batch: list[int]) -> IndexRows:
        return index_rows_of_stored(conn, batch, region)

    for rows in prepare(batches, local):
        engine.index_new(rows)
        engine.forget_features()
    clustered: set[int] = set()
    for start in range(0, len(live), chunk):
        seeds = [rid for rid in live[start : start + chunk] if rid not in clustered]
        if seeds:
            reached = _sharing_profiles(conn, engine, seeds)
            engine.recluster(reached)
            clustered |= reached
        engine.forget_features()
    _drop_dead_reviews(conn, live_set)
    _keep_review_ids(conn, open_items)
    mark_index_current(conn)
    changed = _changed_profiles(members_before, _memberships(conn))
    open_reviews = conn.execute("SELECT count(*) FROM review_items WHERE status = 'open'")
    return RebuildReport(
        records=len(live),
        profiles_before=before,
        profiles_after=profiles.count_profiles(conn),
        changed=changed,
        open_reviews=int(open_reviews.fetchone()[0]),
    )


def _in_process(
    batches: list[list[int]], local: Callable[[list[int]], IndexRows]
) -> Iterable[IndexRows]:
    """Each batch's index rows, worked out in this process as they are asked for."""
    return map(local, batches)


def _empty(conn: sqlite3.Connection, table: str) -> None:
    """Empty one of the identity index's tables by dropping and creating it again, with its
    indexes, from the schema the store holds. A plain ``DELETE FROM`` visits every row when
    foreign keys are on (SQLite skips its truncation then): on a 100k-record store it took
    9.7 of resolve --all's 48.6 s for the identifiers alone, the drop 0.4 s. No table refers
    to these three, and every row they held is derived from the records again below."""
    schema = conn.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL "
        "ORDER BY type != 'table'",
        (table,),
    ).fetchall()
    conn.execute(f"DROP TABLE {table}")
    for (sql,) in schema:
        conn.execute(sql)


def _sharing_profiles(conn: sqlite3.Connection, engine: Engine, seeds: list[int]) -> set[int]:
    """The seeds' components, with every component that shares a profile with them
    (transitively; records not clustered yet are still in the profiles they had before the
    rebuild): a profile's home is chosen among every cluster holding its members, so those
    are clustered in one call, as when the whole store is one chunk (a profile may span
    components when the model changed). Each round asks only about the records and profiles
    it has not seen, so a long chain of profiles costs linear work, not quadratic."""
    found = engine.reach(seeds)
    fresh, asked = found, set[str]()
    while True:
        held = set(profiles.profiles_of(conn, sorted(fresh)).values()) - asked
        asked |= held
        more = {rid for ids in profiles.members_of(conn, held).values() for rid in ids} - found
        if not more:
            return found
        fresh = engine.reach(more) - found
        found |= fresh


def _open_review_items(conn: sqlite3.Connection) -> dict[tuple[int, int], tuple[int, str]]:
    """Each open review item's pair, with its id and when it was opened."""
    rows = conn.execute("SELECT a, b, id, created_at FROM review_items WHERE status = 'open'")
    return {(int(a), int(b)): (int(item), str(at)) for a, b, item, at in rows}


def _drop_dead_reviews(conn: sqlite3.Connection, live: set[int]) -> None:
    """Drop the open items that can no longer be asked: those naming a record that is no
    live person (deleted at its source). Resolving the live records keeps only their own
    items in step, so an item whose two records were both deleted would stay open for good."""
    stale = [
        (int(item),)
        for item, a, b in conn.execute("SELECT id, a, b FROM review_items WHERE status = 'open'")
        if int(a) not in live or int(b) not in live
    ]
    conn.executemany("DELETE FROM review_items WHERE id = ?", stale)


def _keep_review_ids(
    conn: sqlite3.Connection, before: Mapping[tuple[int, int], tuple[int, str]]
) -> None:
    """Give a pair that is open again after the rebuild its old item id and opening time.

    An item dropped and opened again while the records are clustered in chunks would
    otherwise come back under a new id: a reviewer's ``review accept 12`` would then find
    nothing."""
    for (a, b), (new_id, _) in _open_review_items(conn).items():
        old = before.get((a, b))
        if old is not None and old[0] != new_id:
            conn.execute(
                "UPDATE review_items SET id = ?, created_at = ? WHERE id = ?", (*old, new_id)
            )


def _memberships(conn: sqlite3.Connection) -> dict[str, frozenset[int]]:
    groups: dict[str, set[int]] = {}
    for record_id, profile_id in conn.execute("SELECT record_id, profile_id FROM profile_members"):
        groups.setdefault(str(profile_id), set()).add(int(record_id))
    return {pid: frozenset(ids) for pid, ids in groups.items()}


def _changed_profiles(
    before: Mapping[str, frozenset[int]], after: Mapping[str, frozenset[int]]
) -> set[str]:
    """Profiles whose members differ (including profiles that appeared or went away)."""
    return {pid for pid in set(before) | set(after) if before.get(pid) != after.get(pid)}


def person_records(
    conn: sqlite3.Connection, record_ids: list[int] | None = None
) -> Iterator[PersonChange]:
    """Every live person-like record in the store (or of ``record_ids``), as changes to
    resolve, in the order of ``index_rows.stored_people``."""
    for rid, key, facet in stored_people(conn, record_ids):
        yield PersonChange(rid, key, facet, is_new=True)
