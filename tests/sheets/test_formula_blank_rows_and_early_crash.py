"""Formulas filled down past the data are still blank rows, and a crash reading
the first rows is still recorded as a failed run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from context_service.sheets import importer
from context_service.sheets.readers import RawRow, open_sheet
from context_service.store import Store
from tests.sheets.helpers import Importer


def test_rows_holding_only_an_uncalculated_formula_in_a_column_feeding_nothing_are_blank(
    tmp_path: Path, import_sheet: Importer
) -> None:
    """A helper column filled down past the data (``=ROW()`` in rows 3 to 5) is no row."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["email", "name", "helper"])
    sheet.append(["ann@example.com", "Ann Lee", "=ROW()"])
    for line in range(3, 6):
        sheet.cell(row=line, column=3, value="=ROW()")
    book.save(tmp_path / "people.xlsx")
    report = import_sheet(tmp_path / "people.xlsx")
    assert (report.rows_read, report.rows_imported, report.rows_rejected) == (1, 1, 0)
    assert report.blank_rows == 3


def test_a_row_holding_only_an_uncalculated_formula_in_a_mapped_column_is_rejected(
    tmp_path: Path, import_sheet: Importer
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["email", "name"])
    sheet.append(["ann@example.com", "Ann Lee"])
    sheet.cell(row=3, column=1, value="=LOWER(B3)")
    book.save(tmp_path / "people.xlsx")
    report = import_sheet(tmp_path / "people.xlsx")
    assert (report.rows_read, report.rows_imported, report.rows_rejected) == (2, 1, 1)
    assert "=LOWER(B3)" in report.rejections[0].reason


def test_a_crash_reading_the_first_row_is_recorded_as_a_failed_run(
    tmp_path: Path, import_sheet: Importer, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "people.csv"
    path.write_text("email,name\nann@example.com,Ann Lee\n", encoding="utf-8")
    real = open_sheet

    def crashing_open(*args: object, **kwargs: object) -> object:
        sheet = real(*args, **kwargs)  # type: ignore[arg-type]

        def rows() -> Iterator[RawRow]:
            raise RuntimeError("disk went away")
            yield  # pragma: no cover

        sheet.rows = rows  # type: ignore[method-assign]
        return sheet

    monkeypatch.setattr(importer, "open_sheet", crashing_open)
    with pytest.raises(RuntimeError):
        import_sheet(path)
    runs = store.conn.execute("SELECT status, error FROM sync_runs").fetchall()
    assert [status for status, _ in runs] == ["failed"]
    assert "disk went away" in runs[0][1]
