"""Earlier rejections an import retires, so ``context-service rejected`` lists what is still
wrong.

Every rejected row is kept raw under a key hashed from its line and content
(``rejected_row_key``): a fixed row is stored under its own key and does not replace the
rejection. So each rejection is stamped with the name of its file and, when it has one, the
row's ``external_id`` (``note_rejection``), and an import that completes (``retire_fixed``)
deletes the source's earlier rejections

* of the same file (its absolute path: a file of the same name in another folder is another
  file) that it did not reject again, at a line it read (the row was fixed, or removed; a
  shorter file, such as one cut short, retires nothing past its last line), and
* whose ``external_id`` it stored as a live record of the source (from whichever file).

A rejection it made again keeps its one record (the same key); an import that stops part-way
retires nothing, nor does one that completes while another import of the source runs (that
one's fresh rejections are not this file's to judge); other sources and other files are
untouched. Rejections stamped with a file name but no path (the first stamps) match by name.
Retiring deletes the raw record, as ``context-service rejected --clear`` does: one that was
only ever kept raw, which nothing indexes or resolves. Rejections kept before they were
stamped name no file: only ``--clear`` (or the same row rejected again, which stamps it)
moves them.
"""

from __future__ import annotations

import math
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from context_service.models import RecordKey
from context_service.sheets.admission import RecordsSeen
from context_service.sheets.conversion import RowConverter
from context_service.sheets.fields import PERSON_KIND
from context_service.sheets.mapping import canonical_row
from context_service.sheets.readers import RawRow
from context_service.store import Store
from context_service.store.cursors import RunRow
from context_service.store.keys import chunks, marks
from context_service.store.records import rejected, stored_states
from context_service.sync import RawPayload
from context_service.sync.status import run_view


def note_rejection(converter: RowConverter, raw: RawRow, kept_as: RawPayload, path: str) -> None:
    """Stamp the payload that keeps ``raw`` (a rejected row) with the file's name and the row's
    ``external_id``, and remember its key as rejected by this import. The id is left out when
    a row this import took already holds it: that row is the record of the id, so storing the
    id does not fix this one (a second person under one id)."""
    payload = kept_as.payload
    payload["file"] = Path(path).name
    payload["path"] = absolute_path(path)
    converter.seen.rejected.add(str(payload["id"]))
    converter.seen.last_line = max(converter.seen.last_line, raw.line)
    plan = converter.plans.get(raw.header)
    if plan is None or raw.error is not None:
        return
    external_id = canonical_row(plan.fields, raw.cells).get("external_id")
    if external_id and not converter.seen.holds(PERSON_KIND, external_id):
        payload["external_id"] = external_id


def retire_fixed(store: Store, source: str, path: str, seen: RecordsSeen) -> int:
    """After an import of ``path`` as ``source`` completed: delete the earlier rejections it
    fixed (see the module docstring); return how many."""
    name, where = Path(path).name, absolute_path(path)
    taken = seen.keys(PERSON_KIND)
    with store.transaction() as conn:
        if other_imports_run(conn, source):
            return 0
        retire: list[int] = []
        by_id: dict[str, list[int]] = {}  # external_id -> rejections that carry it
        for record in rejected(conn, source):
            if record.mapped is not None or record.key.kind != PERSON_KIND:
                continue
            if record.key.external_id in seen.rejected:
                continue
            payload = _decoded(record.payload)
            if payload is None:
                continue
            if _same_file(payload, name, where) and _line(payload) <= seen.last_line:
                retire.append(record.id)
                continue
            external_id = payload.get("external_id")
            if isinstance(external_id, str) and external_id in taken:
                by_id.setdefault(external_id, []).append(record.id)
        keys = [RecordKey(source, PERSON_KIND, external_id) for external_id in by_id]
        for key, state in stored_states(conn, keys).items():
            if state.mapped is not None and not state.deleted:
                retire.extend(by_id[key.external_id])
        deleted = 0
        for chunk in chunks(sorted(retire), 500):
            cursor = conn.execute(
                f"DELETE FROM records WHERE id IN ({marks(chunk)}) "
                "AND mapped IS NULL AND error IS NOT NULL",
                chunk,
            )
            deleted += cursor.rowcount
    return deleted


def absolute_path(path: str) -> str:
    """The file's absolute path (``os.path.abspath``: no symlink resolved, no disk touched)."""
    return os.path.abspath(path)


def _same_file(payload: dict[str, Any], name: str, where: str) -> bool:
    stamped = payload.get("path")
    return stamped == where if stamped is not None else payload.get("file") == name


def _line(payload: dict[str, Any]) -> int | float:
    line = payload.get("line")
    return line if isinstance(line, int) and not isinstance(line, bool) else math.inf


def other_imports_run(conn: sqlite3.Connection, source: str) -> bool:
    """Whether an import of ``source`` other than this one is running (its process alive)."""
    rows = conn.execute(
        f"SELECT {_RUN_COLUMNS} FROM sync_runs "
        "WHERE source = ? AND mode = 'import' AND status = 'running' ORDER BY id",
        (source,),
    ).fetchall()
    now = datetime.now(UTC)
    live = [row for row in rows if run_view(RunRow(*row), now)["status"] == "running"]
    return len(live) > 1  # this import's own run is one of them


_RUN_COLUMNS = (
    "id, source, mode, started_at, finished_at, status, records_seen, records_rejected, "
    "pages, note, error, pid, host, heartbeat_at, process_instance"
)


def _decoded(text: str) -> dict[str, Any] | None:
    """A stored payload that keeps a rejected spreadsheet row, decoded; else None."""
    try:
        payload = msgspec.json.decode(text)
    except msgspec.DecodeError:
        return None
    return payload if isinstance(payload, dict) and "rejected" in payload else None
