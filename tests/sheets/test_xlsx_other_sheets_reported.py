"""A workbook's other sheets holding data are named in the import's report, not left out
without a word: the import reads the first visible sheet only."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from context_service.cli import main
from context_service.sheets.readers import open_sheet


def _workbook(path: Path, *, second_has_data: bool) -> Path:
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.title = "Customers"
    first.append(["email", "name"])
    first.append(["ann@example.com", "Ann Lee"])
    second = book.create_sheet("More customers")
    if second_has_data:
        second.append(["email", "name"])
        second.append(["zed@example.com", "Zed Roe"])
    lookup = book.create_sheet("Lookup")
    lookup.append(["code", "meaning"])
    lookup.sheet_state = "hidden"  # a helper sheet, not customers
    book.create_sheet("Empty")
    book.save(path)
    return path


def test_the_other_visible_sheets_with_data_are_named(tmp_path: Path) -> None:
    sheet = open_sheet(_workbook(tmp_path / "people.xlsx", second_has_data=True))
    try:
        assert sheet.sheet_name == "Customers"
        assert sheet.other_sheets == ("More customers",)
    finally:
        sheet.close()


def test_the_import_report_says_which_sheets_were_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(tmp_path / "store.db"))
    book = _workbook(tmp_path / "people.xlsx", second_has_data=True)
    assert main(["import", str(book), "--source", "crm-sheet"]) == 0
    out = capsys.readouterr().out
    assert "(sheet 'Customers')" in out
    assert "other sheets holding data ('More customers')" in out
    assert "Lookup" not in out  # hidden
    assert "Empty" not in out


def test_a_workbook_whose_other_sheets_are_empty_reports_nothing_more(tmp_path: Path) -> None:
    sheet = open_sheet(_workbook(tmp_path / "people.xlsx", second_has_data=False))
    try:
        assert sheet.other_sheets == ()
    finally:
        sheet.close()
