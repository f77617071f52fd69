"""Rows an earlier import of the same file stored that the file no longer holds.

A row without an ``external_id`` is keyed by its content, so a row corrected in the file (a
phone's typo fixed) is stored as a new record beside the old one, and a row removed from the
file stays stored: the old phone keeps matching whoever really holds it. So each import that
reads a file to its end notes which records it took from it (``sheet_rows``: the file, its real
path with symlinks resolved and, for a workbook, the sheet read; the record; and whether this
file's import first stored it, ``owned``), and the records an earlier import of that file took
that this one did not are **stale**: the report counts them, and ``import --prune`` deletes them
through ingest (their profiles and snapshots follow, as for a deletion in any source).

They are not deleted by default: a file that is overwritten with new rows only (a daily export
of the day's orders) would lose every earlier day. ``--prune`` deletes only a stale record that
an import of this file first stored and no other noted file holds; the others are forgotten by
this file and kept (a record stored before, by another file or by an import before this was
added, may be held by a file whose rows were never noted). It deletes nothing when the import
took no record of a kind it stored before (an order column renamed or ignored), or rejected a
row (a row still in the file, rejected for a typo, is neither corrected nor
removed), or when another import of the source runs (its rows are not noted yet): the report
says why. An import that stops part-way notes nothing and prunes nothing.
"""

from __future__ import annotations

import os
import sqlite3

import msgspec

from context_service.sheets.admission import RecordsSeen
from context_service.sheets.fields import PERSON_KIND
from context_service.sheets.retired import other_imports_run
from context_service.snapshot.background import BackgroundSnapshots
from context_service.store import Store
from context_service.store.keys import chunks, marks
from context_service.sync import IngestContext, IngestReport, RawPayload, ingest_batch, utc_now


class Pruned(msgspec.Struct):
    """What ``note_and_prune`` found and did: records stale, how many it deleted (the others
    are kept: see the module docstring), with the deleting ingest's report, and why it
    deleted none when asked to (``refused``)."""

    stale: int = 0
    deleted: int = 0
    records: IngestReport = msgspec.field(default_factory=IngestReport)
    refused: str | None = None


_NOTE = (
    "INSERT OR IGNORE INTO sheet_rows (path, record_id, owned) "
    "SELECT ?, id, id > ? FROM records "
    "WHERE source = ? AND kind = ? AND external_id = ? AND deleted = 0"
)

_HELD = (
    "SELECT s.record_id, r.kind, r.external_id, s.owned FROM sheet_rows s "
    "JOIN records r ON r.id = s.record_id "
    "WHERE s.path = ? AND r.source = ? AND r.deleted = 0 ORDER BY s.record_id"
)


def file_key(path: str, sheet: str | None) -> str:
    """How ``sheet_rows`` names a file: its real path (a symlink resolved, so ``latest.csv``
    and the file it points at are one file) and, for a workbook, the sheet read."""
    real = os.path.realpath(path)
    return f"{real}#{sheet}" if sheet else real


def newest_record_id(store: Store) -> int:
    """The largest record id now: a record an import stores gets a larger one (``owned``)."""
    row = store.conn.execute("SELECT max(id) FROM records").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def note_and_prune(
    store: Store,
    source: str,
    file: str,
    seen: RecordsSeen,
    ctx: IngestContext,
    *,
    newest_before: int,
    prune: bool,
    background: BackgroundSnapshots | None = None,
) -> Pruned:
    """After an import of ``file`` (``file_key``) as ``source`` read every row: note the
    records it took (those with an id above ``newest_before`` it stored first), then count the
    stale ones and, with ``prune``, delete those it may (see the module docstring). The deleted
    records' snapshots are queued for the import's drain."""
    with store.transaction() as conn:
        taken = seen.taken()
        conn.executemany(
            _NOTE, [(file, newest_before, source, kind, key) for kind, key in sorted(taken)]
        )
        if other_imports_run(conn, source):
            refused = "another import of the source is running; nothing was compared or pruned"
            return Pruned(refused=refused if prune else None)
        stale = [
            row for row in conn.execute(_HELD, (file, source)) if (row[1], row[2]) not in taken
        ]
        if not prune or not stale:
            return Pruned(stale=len(stale))
        missing = _kinds_gone(stale, taken)
        if missing:
            refused = (
                f"this import took no {', '.join(missing)} record from the file, where an earlier "
                "one did: a column may be renamed, missing or ignored, so nothing was pruned"
            )
            return Pruned(stale=len(stale), refused=refused)
        if seen.rejected:
            refused = (
                f"{len(seen.rejected)} rows of the file were rejected: a rejected row is still "
                "in the file, so nothing was pruned; fix them and import it again"
            )
            return Pruned(stale=len(stale), refused=refused)
        ids = [int(row[0]) for row in stale]
        held_elsewhere = _held_by_other_files(conn, file, ids)
        deletions = [
            RawPayload(source, str(kind), {"id": str(key)}, deleted=True)
            for record_id, kind, key, owned in stale
            if owned and int(record_id) not in held_elsewhere
        ]
        report = (
            ingest_batch(store, deletions, ctx, defer_snapshots=True, background=background)
            if deletions
            else IngestReport()
        )
        _forget(conn, file, ids)
    if background is not None:
        background.release(utc_now())
    return Pruned(stale=len(stale), deleted=len(deletions), records=report)


def _kinds_gone(stale: list[tuple[int, str, str, int]], taken: set[tuple[str, str]]) -> list[str]:
    """The kinds of record (``order``, ``ticket``) stale here of which this import took none
    at all: the file still has those rows most likely, under a column renamed or ignored
    since (an ``Order Ref`` column where ``order_number`` was)."""
    kinds_taken = {kind for kind, _ in taken}
    gone = sorted({str(row[1]) for row in stale} - kinds_taken)
    return ["person" if kind == PERSON_KIND else kind for kind in gone]


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
