"""Review of rejection retirement: a completed import retires only the rejections of the very
file it read, up to the last line it read, and none while another import of the source runs."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

import msgspec

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
