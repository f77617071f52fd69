"""A CSV or XLSX header that maps no column to a field saying who a row is about (a title row
above the header, headers in another language) is refused before any row is read: exit 2 with
the header's columns and the fix, no run recorded, nothing stored. Before, every row was kept
as a rejection with a misleading reason ("the row has 2 cells but the header has 1 columns")
and the import exited 0. A report lists at most ``--show-rejections`` ignored columns."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from context_service.cli import main
from context_service.sheets import ColumnMapping, ColumnMappingError
from context_service.store import Store
from tests.sheets.helpers import Importer

Write = Callable[[str, str | bytes], Path]

GERMAN = "Kunde E-Post,Vollständiger Name\nann@example.com,Ann Lee\nbob@example.com,Bob Ray\n"


def _titled_workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (["Customer list Q3"], [], ["email", "name"], ["ann@example.com", "Ann Lee"]):
        sheet.append(row)
    book.save(path)
    return path


def _stored(store: Store) -> tuple[int, int]:
    records = store.conn.execute("SELECT count(*) FROM records").fetchone()[0]
    runs = store.conn.execute("SELECT count(*) FROM sync_runs").fetchone()[0]
    return int(records), int(runs)


def test_a_header_in_another_language_is_refused_naming_its_columns(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    with pytest.raises(ColumnMappingError) as refused:
        import_sheet(write("kunden.csv", GERMAN))
    assert "Kunde E-Post, Vollständiger Name" in refused.value.detail
    assert "--map COLUMN=FIELD" in refused.value.detail
    assert _stored(store) == (0, 0)


def test_a_title_row_above_the_header_is_refused(
    tmp_path: Path, import_sheet: Importer, store: Store
) -> None:
    with pytest.raises(ColumnMappingError) as refused:
        import_sheet(_titled_workbook(tmp_path / "customers.xlsx"))
    assert "header row is: Customer list Q3" in refused.value.detail
    assert "title rows" in refused.value.detail
    assert _stored(store) == (0, 0)


def test_mapping_the_columns_imports_the_same_file(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    mapping: dict[str, str | None] = {"Kunde E-Post": "email", "Vollständiger Name": "name"}
    report = import_sheet(write("kunden.csv", GERMAN), mapping=ColumnMapping(explicit=mapping))
    assert (report.rows_imported, report.rows_rejected) == (2, 0)


def test_a_header_of_activity_columns_only_is_refused(write: Write, import_sheet: Importer) -> None:
    with pytest.raises(ColumnMappingError, match="says who a row is about"):
        import_sheet(write("orders.csv", "Order Number,Total\n1001,20.00\n"))


def test_the_command_exits_2_before_any_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "context.db"
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(db))
    sheet = _titled_workbook(tmp_path / "customers.xlsx")

    assert main(["import", str(sheet), "--source", "crm"]) == 2

    assert "no column maps to a field" in capsys.readouterr().err
    store = Store(db)
    try:
        assert _stored(store) == (0, 0)
    finally:
        store.close()


def test_the_report_lists_at_most_show_rejections_ignored_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(tmp_path / "context.db"))
    extra = [f"note {i}" for i in range(500)]
    sheet = tmp_path / "wide.csv"
    sheet.write_text(
        ",".join(["email", *extra]) + "\n" + ",".join(["ann@example.com", *"x" * 500]) + "\n",
        encoding="utf-8",
    )

    assert main(["import", str(sheet), "--source", "crm", "--show-rejections", "5"]) == 0

    [line] = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("ignored")]
    assert line.endswith(
        "note 0, note 1, note 2, note 3, note 4 ... and 495 more (--show-rejections 0 lists all)"
    )
