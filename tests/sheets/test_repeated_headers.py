"""Columns that share a header and feed nothing are each listed in the report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import openpyxl

from context_service.sheets.columns import ColumnMapping, plan_header
from tests.sheets.helpers import Importer

Write = Callable[[str, str | bytes], Path]


def test_two_ignored_columns_with_one_header_are_listed_by_position(
    write: Write, import_sheet: Importer
) -> None:
    text = "email,note,name,note,colour\nann@example.com,call back,Ann,VIP,blue\n"
    report = import_sheet(write("people.csv", text))
    assert report.rows_imported == 1
    assert report.ignored_columns == ["note (column 2)", "note (column 4)", "colour"]


def test_repeated_headers_in_xlsx_are_listed_by_position(
    tmp_path: Path, import_sheet: Importer
) -> None:
    book = openpyxl.Workbook()
    book.active.append(["Notes", "email", " Notes "])
    book.active.append(["first", "ann@example.com", "second"])
    path = tmp_path / "people.xlsx"
    book.save(path)
    assert import_sheet(path).ignored_columns == ["Notes (column 1)", "Notes (column 3)"]


def test_a_header_used_once_is_listed_by_its_name_alone() -> None:
    plan = plan_header(["email", "note", "Note"], ColumnMapping())
    assert plan.ignored == ["note", "Note"]  # different spellings are different headers
