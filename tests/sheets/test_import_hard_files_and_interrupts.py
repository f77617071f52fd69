"""Spreadsheet import as a demanding user runs it: real files, real stores."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

import context_service.sheets.importer as importer
from context_service.cli import main
from context_service.cli_runs import Terminated
from context_service.sheets import parse_map_options
from context_service.sheets.importer import BATCH_ROWS
from context_service.snapshot import lookup
from context_service.store import Store
from context_service.sync.ingest import ingest_batch
from context_service.sync.status import sync_status
from tests.sheets.helpers import Importer

Write = Callable[[str, str | bytes], Path]


def _stored_rows(store: Store) -> list[str]:
    """The external ids of the person rows the import stored as good records."""
    rows = store.conn.execute(
        "SELECT external_id FROM records WHERE source = 'crm' AND kind = 'row' "
        "AND payload NOT LIKE '%\"rejected\"%' ORDER BY external_id"
    ).fetchall()
    return [external_id for (external_id,) in rows]


def test_a_header_row_repeated_mid_file_is_rejected_not_imported_as_a_person(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    """Two exports joined with ``cat`` repeat the header: it names no one, so it must not
    become a person ``Customer ID`` (and it is still listed, with its line)."""
    text = "Customer ID,Name\n1,Ann\ncustomer id , NAME\n2,Bob\n"
    report = import_sheet(write("joined.csv", text))
    assert _stored_rows(store) == ["1", "2"]
    assert (report.rows_imported, report.rows_rejected) == (2, 1)
    assert report.rejections[0].line == 3
    assert "repeats the header" in report.rejections[0].reason


def test_a_header_row_repeated_in_a_workbook_is_rejected_too(
    tmp_path: Path, import_sheet: Importer, store: Store
) -> None:
    book = openpyxl.Workbook()
    for row in (["Name", "Company"], ["Ann", "Acme"], ["Name", "Company"], ["Bob", "Foo"]):
        book.active.append(row)
    path = tmp_path / "joined.xlsx"
    book.save(path)
    report = import_sheet(path)
    assert report.rows_imported == 2
    assert [(r.line, "repeats the header" in r.reason) for r in report.rejections] == [(3, True)]


def test_a_one_megabyte_cell_does_not_stop_the_import(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    """A CRM's notes field can run to megabytes; the import must not stop at its row."""
    text = f'external_id,name,notes\n1,Ann,short\n2,Bob,"{"x" * 1_000_000}"\n3,Cy,short\n'
    report = import_sheet(write("notes.csv", text), mapping=parse_map_options(["notes=-"]))
    assert (report.rows_read, report.rows_imported) == (3, 3)
    assert _stored_rows(store) == ["1", "2", "3"]


def test_the_report_is_the_only_thing_on_stdout_when_it_is_not_a_terminal(
    write: Write,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Piped to a file or a script, stdout holds the report alone: no progress bar debris
    (a blank first line) before it."""
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(tmp_path / "cli.db"))
    path = write("people.csv", "email,name\nann@example.com,Ann\n")
    assert main(["import", str(path), "--source", "crm"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("imported ")


def test_a_map_entry_that_no_jsonl_line_has_is_reported(
    write: Write,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A CSV header is checked against ``--map`` before anything is read; a JSONL file's keys
    vary by line, so a mistyped entry can only be told at the end, but it must be told."""
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(tmp_path / "cli.db"))
    text = '{"E-Mail-Adresse": "ann@example.com", "Kunde": "Ann"}\n'
    path = write("people.jsonl", text)
    args = ["--map", "E-Mail Adresse=email", "--map", "Kunde=name"]
    assert main(["import", str(path), "--source", "crm", *args]) == 0
    out = capsys.readouterr().out
    assert "no line of the file has: E-Mail Adresse" in out
    assert "Kunde" not in out.split("no line of the file has:")[1]


def _stop_at_second_batch(monkeypatch: pytest.MonkeyPatch, stop: BaseException) -> None:
    """Make the second batch's ingest raise ``stop``, as Ctrl-C or SIGTERM arriving then."""
    real = ingest_batch  # the function importer.py imports
    calls = {"n": 0}

    def ingest_then_stop(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise stop
        return real(*args, **kwargs)

    monkeypatch.setattr(importer, "ingest_batch", ingest_then_stop)


def _people(count: int, bad_lines: tuple[int, ...] = ()) -> str:
    """A CSV of ``count`` people whose rows at ``bad_lines`` (file lines) have a bad email."""
    rows = [
        f"p{line}-at-example.com,Bad {line}\n"
        if line in bad_lines
        else f"p{line}@example.com,Person {line}\n"
        for line in range(2, count + 2)
    ]
    return "email,name\n" + "".join(rows)


def test_sigterm_part_way_builds_the_committed_rows_snapshots_like_ctrl_c(
    write: Write, import_sheet: Importer, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stop_at_second_batch(monkeypatch, Terminated("stopped by SIGTERM"))
    with pytest.raises(Terminated):
        import_sheet(write("people.csv", _people(1500)), batch_rows=500)
    assert _stored_rows(store)  # the first batch stays
    queued = store.conn.execute("SELECT count(*) FROM snapshot_queue").fetchone()[0]
    assert queued == 0
    assert lookup.by_email(store.conn, "p2@example.com") is not None


def test_ctrl_c_says_what_was_kept_and_the_run_counts_only_kept_rejections(
    write: Write,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Ctrl-C in the second batch: the first batch (one bad row in it) is kept; the bad row
    read in the second batch was never stored, so neither the message nor the run may count
    it as kept raw; and a Ctrl-C is no crash, so no traceback."""
    db = tmp_path / "cli.db"
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(db))
    _stop_at_second_batch(monkeypatch, KeyboardInterrupt())
    path = write("people.csv", _people(BATCH_ROWS + 500, bad_lines=(100, BATCH_ROWS + 200)))
    assert main(["import", str(path), "--source", "crm"]) == 130
    err = capsys.readouterr().err
    assert f"{BATCH_ROWS - 1} imported, 1 rejected" in err
    assert "again" in err  # what to do next
    store = Store(db)
    try:
        kept = store.conn.execute(
            "SELECT count(*) FROM records WHERE payload LIKE '%\"rejected\"%'"
        ).fetchone()[0]
        note = sync_status(store, [])["crm"]["last_run"]["note"]
    finally:
        store.close()
    assert kept == 1
    assert f"{BATCH_ROWS - 1} imported, {kept} rejected" in note


JSONL_PEOPLE = (
    '{"email": "ann@example.com", "name": "Ren\u00e9e"}\r\n{"email": "bob@example.com"}\r\n'
)


def _names(store: Store) -> set[str]:
    rows = store.conn.execute(
        "SELECT json_extract(payload, '$.name') FROM records WHERE source = 'crm'"
    ).fetchall()
    return {name for (name,) in rows if name}


@pytest.mark.parametrize(
    ("encoding", "option"),
    [("utf-16", None), ("cp1252", None), ("cp1252", "cp1252"), ("utf-8-sig", None)],
)
def test_jsonl_in_a_windows_encoding_imports_its_rows(
    write: Write, import_sheet: Importer, store: Store, encoding: str, option: str | None
) -> None:
    """Windows PowerShell writes UTF-16 with a BOM, older tools cp1252: the rows are read,
    not each rejected as bad JSON, and not a crash; ``--encoding`` is honoured."""
    path = write("people.jsonl", JSONL_PEOPLE.encode(encoding))
    report = import_sheet(path, encoding=option)
    assert (report.rows_imported, report.rows_rejected) == (2, 0)
    assert _names(store) == {"Ren\u00e9e"}


def test_a_jsonl_line_that_is_not_utf8_is_rejected_alone(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    """Far into a UTF-8 file, one line in cp1252: that line is rejected with its number and
    what to do; the import goes on (a line of JSON Lines stands alone)."""
    good = "".join(f'{{"email": "p{i}@example.com", "name": "Zo\u00eb"}}\n' for i in range(3000))
    bad = '{"email": "jose@example.com", "name": "Jos\u00e9"}\n'.encode("cp1252")
    path = write("people.jsonl", good.encode() + bad + b'{"email": "last@example.com"}\n')
    report = import_sheet(path)
    assert (report.rows_imported, report.rows_rejected) == (3001, 1)
    (rejection,) = report.rejections
    assert rejection.line == 3001
    assert "UTF-8 (a byte 0xe9)" in rejection.reason
    assert "--encoding" in rejection.reason


def test_an_erased_persons_rejected_row_is_counted_as_suppressed_not_as_kept_raw(
    write: Write,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Her row with a bad date is not kept raw (ingest blocks it by her email), so the report
    must not list it among the rows "kept raw in the store", but count it as suppressed."""
    db = tmp_path / "cli.db"
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(db))
    first = write("first.csv", "email,name\nann@example.com,Ann Lee\n")
    assert main(["import", str(first), "--source", "crm"]) == 0
    store = Store(db)
    profile_id = lookup.by_email(store.conn, "ann@example.com").profile_id
    store.close()
    assert main(["erase", profile_id, "--no-vacuum"]) == 0
    capsys.readouterr()
    text = "email,name,birth_date\nann@example.com,Ann Lee,someday\nbob@example.com,Bob,never\n"
    assert main(["import", str(write("again.csv", text)), "--source", "crm"]) == 0
    out = capsys.readouterr().out
    assert "0 imported, 1 rejected, 1 suppressed as erased" in out
    assert "line 2" not in out
    assert "line 3: birth_date" in out
