"""A date column holding a spreadsheet date serial (45231) is rejected with what it looks like
and how to fix it; it is never read as a date silently. An XLSX cell formatted as a date
arrives as a date."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from context_service.errors import MappingError
from context_service.sheets.mapping import iso_utc
from context_service.store import Store
from tests.sheets.helpers import Importer, snapshot_for

Write = Callable[[str, str | bytes], Path]

HEADER = "Email,Name,Order Number,Order Date,Total,Currency\n"


def test_a_csv_date_serial_is_rejected_with_a_hint(write: Write, import_sheet: Importer) -> None:
    text = HEADER + "ann@example.com,Ann Lee,S-1,45231,10.00,USD\n"
    report = import_sheet(write("orders.csv", text))
    assert (report.rows_imported, report.rows_rejected) == (0, 1)
    reason = report.rejections[0].reason
    assert "ordered_at" in reason
    assert "date serial" in reason
    assert "format the column as a date" in reason
    assert "2023-11-01" in reason  # what it would be, said, never imported as such


@pytest.mark.parametrize("value", ["45231", "45231.5", " 45231 "])
def test_the_hint_names_serials_with_a_time_too(value: str) -> None:
    with pytest.raises(MappingError, match="date serial"):
        iso_utc("ordered_at", value)


@pytest.mark.parametrize("value", ["2023-13-01", "next week", "0", "-5"])
def test_other_bad_dates_get_no_serial_hint(value: str) -> None:
    with pytest.raises(MappingError) as caught:
        iso_utc("ordered_at", value)
    assert "serial" not in str(caught.value)
    assert "not an ISO-8601 date" in str(caught.value)


def _orders(path: Path, cell: object, number_format: str) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER.strip().split(","))
    sheet.append(["ann@example.com", "Ann Lee", "S-1", cell, 10, "USD"])
    sheet["D2"].number_format = number_format
    book.save(path)
    return path


def test_an_xlsx_number_cell_not_formatted_as_a_date_is_rejected_with_the_hint(
    tmp_path: Path, import_sheet: Importer
) -> None:
    report = import_sheet(_orders(tmp_path / "orders.xlsx", 45231, "General"))
    assert report.rows_rejected == 1
    assert "date serial" in report.rejections[0].reason


@pytest.mark.parametrize("number_format", ["yyyy-mm-dd", "mm/dd/yyyy", "d-mmm-yy"])
def test_an_xlsx_cell_formatted_as_a_date_imports_as_that_date(
    number_format: str, tmp_path: Path, import_sheet: Importer, store: Store
) -> None:
    report = import_sheet(_orders(tmp_path / "orders.xlsx", 45231, number_format))
    assert (report.rows_imported, report.rows_rejected) == (1, 0)
    [order] = snapshot_for(store, "ann@example.com").commerce.orders
    assert order.created_at is not None
    assert str(order.created_at).startswith("2023-11-01")


def test_an_xlsx_datetime_cell_imports(
    tmp_path: Path, import_sheet: Importer, store: Store
) -> None:
    path = _orders(tmp_path / "orders.xlsx", datetime(2023, 11, 1, 9, 30), "yyyy-mm-dd hh:mm")
    assert import_sheet(path).rows_imported == 1
    [order] = snapshot_for(store, "ann@example.com").commerce.orders
    assert str(order.created_at).startswith("2023-11-01")
