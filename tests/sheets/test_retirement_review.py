"""Review of rejection retirement: a completed import retires only the rejections of the very
file it read, up to the last line it read, and none while another import of the source runs."""

from __future__ import annotations

import os
import socket
import sqlite3
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from context_service.sheets import importer
from context_service.store import Store
from context_service.store import cursors as cursor_store
from context_service.store.records import rejected
from tests.sheets.helpers import Importer

Write = Callable[[str, str | bytes], Path]

BAD = "email,name\nann@example.com,Ann\nnot-an-email,Bob\n"
GOOD = "email,name\nann@example.com,Ann\n"
FIXED = "email,name\nann@example.com,Ann\nbob@example.com,Bob\n"
LONG_BAD = "email,name\nann@example.com,Ann\ncy@example.com,Cy\nnot-an-email,Bob\n"


def _lines(store: Store, source: str = "crm") -> list[int]:
    payloads = [msgspec.json.decode(r.payload) for r in rejected(store.conn, source)]
    return sorted(int(p["line"]) for p in payloads)


def test_a_file_of_the_same_name_in_another_folder_retires_nothing(
    store: Store, import_sheet: Importer, write: Write, tmp_path: Path
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    import_sheet(write("a/people.csv", BAD))
    report = import_sheet(write("b/people.csv", GOOD))
    assert report.rejections_retired == 0
    assert _lines(store) == [3]
    again = import_sheet(write("a/people.csv", FIXED))  # the file itself, fixed
    assert again.rejections_retired == 1
    assert _lines(store) == []


def test_a_shorter_file_retires_no_rejection_past_its_last_line(
    store: Store, import_sheet: Importer, write: Write
) -> None:
    import_sheet(write("people.csv", LONG_BAD))
    assert _lines(store) == [4]
    partial = import_sheet(write("people.csv", GOOD))  # line 4 never read: not fixed
    assert partial.rejections_retired == 0
    assert _lines(store) == [4]
    full = import_sheet(write("people.csv", LONG_BAD.replace("not-an-email", "bob@example.com")))
    assert full.rejections_retired == 1
    assert _lines(store) == []


def test_nothing_is_retired_while_another_import_of_the_source_runs(
    store: Store, import_sheet: Importer, write: Write
) -> None:
    import_sheet(write("people.csv", BAD))
    with store.transaction() as conn:  # a second process importing the same source now
        other = cursor_store.start_run(conn, "crm", "import", "2099-01-01T00:00:00Z")
        conn.execute(
            "UPDATE sync_runs SET pid = ?, host = ?, process_instance = ? WHERE id = ?",
            (
                os.getppid(),
                socket.gethostname(),
                cursor_store.process_instance(os.getppid()),
                other,
            ),
        )
    report = import_sheet(write("people.csv", GOOD))
    assert report.rejections_retired == 0
    assert _lines(store) == [3]
    with store.transaction() as conn:
        cursor_store.finish_run(conn, other, "ok", "2099-01-01T00:00:01Z")
    assert import_sheet(write("people.csv", FIXED)).rejections_retired == 1


def test_a_failure_while_retiring_leaves_a_completed_import_ok(
    write: Write, import_sheet: Importer, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every row is stored by then: a locked store while retiring keeps the old rejections
    listed, and the run is still recorded as the success it was."""

    def locked(*_: object, **__: object) -> int:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(importer, "retire_fixed", locked)
    report = import_sheet(write("people.csv", "email,name\nann@example.com,Ann Lee\n"))
    assert (report.rows_imported, report.rejections_retired) == (1, 0)
    run = store.conn.execute("SELECT status, error FROM sync_runs ORDER BY id DESC").fetchone()
    assert tuple(run) == ("ok", None)


def test_the_run_note_counts_the_rejections_fixed(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    import_sheet(write("people.csv", "email,name\nnot-an-email,Bob Ray\n"))
    import_sheet(write("people.csv", "email,name\nbob@example.com,Bob Ray\n"))
    note = store.conn.execute("SELECT note FROM sync_runs ORDER BY id DESC").fetchone()[0]
    assert note == "people.csv: 1 rows, 1 imported, 0 rejected, 1 earlier rejections fixed"
