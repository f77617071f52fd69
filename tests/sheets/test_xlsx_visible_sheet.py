"""XLSX: the sheet read is the first visible one; a hidden lookup sheet before it is skipped."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from context_service.sheets.readers import open_sheet
from context_service.sheets.sniffing import UnreadableFile
from context_service.store import Store
from tests.sheets.helpers import Importer, snapshot_for


def workbook_with_hidden_lookup(path: Path, customers: list[list[object]]) -> Path:
    """A workbook whose first sheet is a hidden lookup table, then a visible customer sheet."""
    book = openpyxl.Workbook()
    lookup = book.active
    lookup.title = "Lookup"
    lookup.append(["email", "code"])
    lookup.append(["lookup@example.com", "X1"])
    lookup.sheet_state = "hidden"
    sheet = book.create_sheet("Customers")
    for row in customers:
        sheet.append(row)
    book.active = 1
    book.save(path)
    return path


def test_a_hidden_first_sheet_is_skipped_and_the_report_names_the_sheet_read(
    tmp_path: Path, import_sheet: Importer, store: Store
) -> None:
    path = workbook_with_hidden_lookup(
        tmp_path / "people.xlsx", [["email", "name"], ["ann@example.com", "Ann Lee"]]
    )
    report = import_sheet(path)
    assert report.sheet == "Customers"
    assert (report.rows_read, report.rows_imported) == (1, 1)
    assert snapshot_for(store, "ann@example.com").identity.name == "Ann Lee"
    count = store.conn.execute("SELECT count(*) FROM records WHERE payload LIKE '%lookup@%'")
    assert count.fetchone()[0] == 0


def test_a_very_hidden_first_sheet_is_skipped_too(tmp_path: Path) -> None:
    path = workbook_with_hidden_lookup(tmp_path / "people.xlsx", [["email"], ["ann@example.com"]])
    book = openpyxl.load_workbook(path)
    book["Lookup"].sheet_state = "veryHidden"
    book.save(path)
    sheet = open_sheet(path)
    try:
        assert sheet.sheet_name == "Customers"
        assert [row.cells for row in sheet.rows()] == [["ann@example.com"]]
    finally:
        sheet.close()


def test_an_empty_first_visible_sheet_names_the_hidden_one_with_data(tmp_path: Path) -> None:
    path = workbook_with_hidden_lookup(tmp_path / "people.xlsx", [])
    with pytest.raises(UnreadableFile) as caught:
        list(open_sheet(path).rows())
    assert caught.value.detail == (
        "people.xlsx: no header row (the first visible sheet 'Customers' is empty; the "
        "workbook's other sheets: 'Lookup' (hidden); the import reads only the first visible "
        "sheet, so move the one to import to the front)"
    )


def test_text_files_name_no_sheet(tmp_path: Path, import_sheet: Importer) -> None:
    path = tmp_path / "people.csv"
    path.write_text("email\nann@example.com\n", encoding="utf-8")
    assert import_sheet(path).sheet is None
