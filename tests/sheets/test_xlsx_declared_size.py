"""An XLSX sheet is read to its last row and column whatever size it declares.

A worksheet declares its used range (``<dimension ref="A1:C6"/>``); some writers leave a wrong
one, and openpyxl's read-only mode stops there: rows below it and cells right of it were lost
without a word, the import reporting fewer rows and exiting 0.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from context_service.sheets.readers import open_sheet

ROWS = [[f"user{i}@example.com", f"User {i}", f"City{i}"] for i in range(1, 6)]


def _workbook(tmp_path: Path, declared: str, formula: bool = False) -> Path:
    """A 5-row, 3-column sheet whose declared size is rewritten to ``declared``."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["email", "name", "city"])
    for row in ROWS:
        sheet.append(row)
    if formula:
        sheet["C6"] = '=CONCAT("City", "5")'
    saved = tmp_path / "saved.xlsx"
    book.save(saved)
    path = tmp_path / f"declared-{declared.replace(':', '-')}.xlsx"
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data, count = re.subn(
                    rb'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{declared}"/>'.encode(), data
                )
                assert count == 1
            target.writestr(item, data)
    return path


@pytest.mark.parametrize("declared", ["A1:B3", "A1", "A1:C2"])
def test_every_row_and_column_is_read_whatever_size_the_sheet_declares(
    tmp_path: Path, declared: str
) -> None:
    sheet = open_sheet(_workbook(tmp_path, declared))
    try:
        rows = list(sheet.rows())
    finally:
        sheet.close()
    assert [row.line for row in rows] == [2, 3, 4, 5, 6]
    assert [list(row.cells) for row in rows] == ROWS
    assert all(row.header == ("email", "name", "city") for row in rows)


def test_a_formula_beyond_the_declared_size_is_still_read_as_one(tmp_path: Path) -> None:
    """Formulas are read from a second pass over the sheet (an uncalculated formula's saved
    value is empty): that pass must not stop at the declared size either."""
    sheet = open_sheet(_workbook(tmp_path, "A1:B3", formula=True))
    try:
        rows = list(sheet.rows())
    finally:
        sheet.close()
    assert len(rows) == 5
    assert rows[-1].uncalculated == ((2, '=CONCAT("City", "5")'),)
