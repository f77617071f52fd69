"""Rows an earlier import of the same file stored that the file no longer holds.

A row without an ``external_id`` is keyed by its content, so a row corrected in the file (a
phone's typo fixed) is stored as a new record beside the old one, and a row removed from the
file stays stored: the old phone keeps matching whoever really holds it. So each completed
import notes which records it took from the file (``sheet_rows``: the file's absolute path
and the record), and the records an earlier import of that path took that this one did not are
**stale**: the report counts them, and ``import --prune`` deletes them through
ingest (their profiles and snapshots follow, as for a deletion in any source).

They are not deleted by default: a file that is overwritten with new rows only (a daily export
of the day's orders) would lose every earlier day. A record another file's latest import also
holds is not this file's to delete: pruning only forgets that this file held it. An import that
stops part-way notes nothing and prunes nothing, nor does one that completes while another
import of the source runs (as ``sheets.retired``). A store's first import after this was added
finds nothing stale: no earlier import was noted.
"""

from __future__ import annotations

import sqlite3

import msgspec

from context_service.sheets.admission import RecordsSeen
from context_service.sheets.retired import absolute_path, other_imports_run
from context_service.snapshot.background import BackgroundSnapshots
from context_service.store import Store
from context_service.store.keys import chunks, marks
from context_service.sync import IngestContext, IngestReport, RawPayload, ingest_batch, utc_now


class Pruned(msgspec.Struct):
    """What ``note_and_prune`` found and did: records stale, and how many it deleted (a stale
    record another file holds is forgotten, not deleted), with the deleting ingest's report."""

    stale: int = 0
    deleted: int = 0
    records: IngestReport = msgspec.field(default_factory=IngestReport)


_NOTE = (
    "INSERT OR IGNORE INTO sheet_rows (path, record_id) "
    "SELECT ?, id FROM records WHERE source = ? AND kind = ? AND external_id = ? AND deleted = 0"
)

_HELD = (
    "SELECT s.record_id, r.kind, r.external_id FROM sheet_rows s "
    "JOIN records r ON r.id = s.record_id "
    "WHERE s.path = ? AND r.source = ? AND r.deleted = 0 ORDER BY s.record_id"
)


def note_and_prune(
    store: Store,
    source: str,
    path: str,
    seen: RecordsSeen,
    ctx: IngestContext,
    *,
    prune: bool,
    background: BackgroundSnapshots | None = None,
) -> Pruned:
    """After an import of ``path`` as ``source`` read every row: note the records it took,
    then count the stale ones (see the module docstring) and, with
    ``prune``, delete them. The deleted records' snapshots are queued for the import's
    drain."""
    file = absolute_path(path)
    with store.transaction() as conn:
        if other_imports_run(conn, source):
            return Pruned()
        taken = seen.taken()
        conn.executemany(_NOTE, [(file, source, kind, key) for kind, key in sorted(taken)])
        stale = [
            row for row in conn.execute(_HELD, (file, source)) if (row[1], row[2]) not in taken
        ]
        if not prune or not stale:
            return Pruned(stale=len(stale))
        held_elsewhere = _held_by_other_files(conn, file, [int(row[0]) for row in stale])
        deletions = [
            RawPayload(source, str(kind), {"id": str(key)}, deleted=True)
            for record_id, kind, key in stale
            if int(record_id) not in held_elsewhere
        ]
        report = (
            ingest_batch(store, deletions, ctx, defer_snapshots=True, background=background)
            if deletions
            else IngestReport()
        )
        _forget(conn, file, [int(row[0]) for row in stale])
    if background is not None:
        background.release(utc_now())
    return Pruned(stale=len(stale), deleted=len(deletions), records=report)


def _held_by_other_files(conn: sqlite3.Connection, file: str, record_ids: list[int]) -> set[int]:
    """Which of these records another file's imports took too."""
    held: set[int] = set()
    for chunk in chunks(record_ids, 500):
        held.update(
            int(row[0])
            for row in conn.execute(
                f"SELECT record_id FROM sheet_rows WHERE record_id IN ({marks(chunk)}) "
                "AND path != ?",
                [*chunk, file],
            )
        )
    return held


def _forget(conn: sqlite3.Connection, file: str, record_ids: list[int]) -> None:
    """Forget that ``file`` held these records."""
    for chunk in chunks(record_ids, 500):
        conn.execute(
            f"DELETE FROM sheet_rows WHERE path = ? AND record_id IN ({marks(chunk)})",
            [file, *chunk],
        )
