"""XLSX: a formula that was never calculated (a workbook written by a library, never opened in
Excel) has no saved value; a field it feeds is not imported as if the cell were empty."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl

from context_service.sheets.readers import open_sheet
from context_service.store import Store
from tests.sheets.helpers import Importer, snapshot_for


def _workbook(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)  # openpyxl calculates nothing: a formula cell is saved without a value
    return path


def test_an_uncalculated_formula_feeding_a_field_rejects_the_row_with_the_fix(
    tmp_path: Path, import_sheet: Importer, store: Store
) -> None:
    path = _workbook(
        tmp_path / "people.xlsx",
        [
            ["email", "raw email", "name", "phone"],
            ["=LOWER(B2)", "Ann@Example.com", "Ann Lee", "+14155550123"],
            ["bob@example.com", "Bob@Example.com", "Bob Ray", "+14155550124"],
        ],
    )
    report = import_sheet(path)
    assert (report.rows_read, report.rows_imported, report.rows_rejected) == (2, 1, 1)
    [rejection] = report.rejections
    assert rejection.line == 2
    assert "'email'" in rejection.reason
    assert "=LOWER(B2)" in rejection.reason
    assert "no saved value" in rejection.reason
    assert "LibreOffice" in rejection.reason
    kept = store.conn.execute(
        "SELECT payload FROM records WHERE source = 'crm' AND payload LIKE '%LOWER%'"
    ).fetchall()
    assert len(kept) == 1  # kept raw, with the formula
    assert snapshot_for(store, "bob@example.com").identity.name == "Bob Ray"


def test_an_uncalculated_formula_in_a_column_that_feeds_nothing_keeps_the_row(
    tmp_path: Path, import_sheet: Importer, store: Store
) -> None:
    path = _workbook(
        tmp_path / "people.xlsx",
        [["email", "name", "shout"], ["ann@example.com", "Ann Lee", "=UPPER(B2)"]],
    )
    report = import_sheet(path)
    assert (report.rows_imported, report.rows_rejected) == (1, 0)
    assert report.ignored_columns == ["shout"]


def test_a_row_of_uncalculated_formulas_only_is_not_skipped_as_blank(
    tmp_path: Path, import_sheet: Importer
) -> None:
    path = _workbook(
        tmp_path / "people.xlsx",
        [["email", "name"], ["ann@example.com", "Ann Lee"], ["=LOWER(A2)", "=B2"]],
    )
    report = import_sheet(path)
    assert (report.rows_read, report.rows_rejected, report.blank_rows) == (2, 1, 0)
    assert report.rejections[0].line == 3
    assert "'email'" in report.rejections[0].reason
    assert "'name'" in report.rejections[0].reason


def test_an_empty_styled_cell_reads_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "people.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["email", "name", "company"])
    sheet.append(["ann@example.com", "Ann Lee", None])
    sheet["C2"].number_format = "0.00"  # a styled cell with no value: written, but empty
    book.save(path)
    opened = open_sheet(path)
    try:
        [row] = list(opened.rows())
    finally:
        opened.close()
    assert row.cells == ["ann@example.com", "Ann Lee", None]
    assert row.error is None
    assert row.uncalculated == ()


def _saved_by_a_calculating_program(path: Path, cell: bytes, calculated: bytes) -> None:
    """Rewrite the sheet's ``cell`` XML as a spreadsheet program saves it once calculated."""
    with zipfile.ZipFile(path) as book:
        members = {name: book.read(name) for name in book.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    assert cell in members[sheet]
    members[sheet] = members[sheet].replace(cell, calculated)
    with zipfile.ZipFile(path, "w") as book:
        for name, data in members.items():
            book.writestr(name, data)


def test_a_calculated_formula_imports_its_saved_value(
    tmp_path: Path, import_sheet: Importer, store: Store
) -> None:
    path = _workbook(
        tmp_path / "people.xlsx",
        [
            ["email", "raw email", "name", "company"],
            ["=LOWER(B2)", "Ann@Example.com", "Ann Lee", '=IF(B2="","","")'],
        ],
    )
    _saved_by_a_calculating_program(
        path,
        b'<c r="A2"><f>LOWER(B2)</f><v /></c>',
        b'<c r="A2" t="str"><f>LOWER(B2)</f><v>ann@example.com</v></c>',
    )
    _saved_by_a_calculating_program(  # a formula whose result is empty text: empty, known
        path,
        b'<c r="D2"><f>IF(B2="","","")</f><v /></c>',
        b'<c r="D2" t="str"><f>IF(B2="","","")</f><v></v></c>',
    )
    report = import_sheet(path)
    assert (report.rows_imported, report.rows_rejected) == (1, 0)
    assert snapshot_for(store, "ann@example.com").identity.name == "Ann Lee"
