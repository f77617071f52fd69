"""What Excel and legacy exports write that a reader must not get wrong: a cp1252 accent far
into the file, quoted header names holding the other delimiter, Excel's ``sep=`` line, formula
results stored at full double precision, and zero-padded number formats."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from context_service.sheets import import_file
from context_service.sheets.readers import RawRow, open_sheet, xlsx_cell_text
from context_service.sheets.sniffing import separator_directive, sniff_delimiter
from context_service.store import Store
from context_service.sync import IngestContext

Write = Callable[[str, str | bytes], Path]


def read(path: Path) -> list[dict[str, str | None]]:
    sheet = open_sheet(path)
    try:
        return [_cells(row) for row in sheet.rows()]
    finally:
        sheet.close()


def _cells(row: RawRow) -> dict[str, str | None]:
    assert row.error is None, row.error
    return dict(zip(row.header, row.cells, strict=True))


def _ascii_rows(count: int) -> bytes:
    return "".join(f"p{i}@example.com,Person {i}\n" for i in range(count)).encode()


def test_a_cp1252_accent_past_the_sniffed_sample_is_read_as_cp1252(
    write: Write, store: Store, ctx: IngestContext
) -> None:
    body = b"email,name\n" + _ascii_rows(4000)  # about 100 KB of ASCII first
    path = write("legacy.csv", body + "jose@example.com,José Núñez\n".encode("cp1252"))
    report = import_file(store, path, "crm", ctx)
    assert report.rows_imported == 4001
    (name,) = store.conn.execute(
        "SELECT json_extract(payload, '$.name') FROM records "
        "WHERE json_extract(payload, '$.email') = 'jose@example.com'"
    ).fetchone()
    assert name == "José Núñez"


def test_utf8_past_the_sniffed_sample_stays_utf8(write: Write) -> None:
    path = write("late.csv", b"email,name\n" + _ascii_rows(4000) + "j@x.com,José\n".encode())
    assert read(path)[-1] == {"email": "j@x.com", "name": "José"}


def test_a_file_that_mixes_utf8_and_cp1252_rejects_the_bad_line_alone(write: Write) -> None:
    early_utf8 = "a@x.com,Zoë\n".encode()
    late_cp1252 = "j@x.com,José\n".encode("cp1252")
    path = write(
        "mixed.csv", b"email,name\n" + early_utf8 + _ascii_rows(4000) + late_cp1252 + b"k@x.com,K\n"
    )
    sheet = open_sheet(path)
    rows = list(sheet.rows())
    sheet.close()
    bad = rows[-2]
    assert (bad.line, bad.raw) == (4003, "j@x.com,Jos\\xe9\n")
    assert bad.error is not None
    assert bad.error.startswith("the row is not valid UTF-8")
    assert "--encoding would misread" in bad.error
    assert (rows[0].cells, rows[-1].cells) == (["a@x.com", "Zoë"], ["k@x.com", "K"])


def test_quoted_header_names_holding_commas_do_not_outvote_the_semicolons(write: Write) -> None:
    path = write(
        "kunden.csv",
        '"Nachname, Vorname";"Strasse, Nr";E-Mail\n"Lee, Ann";"Main 1";ann@example.com\n',
    )
    assert read(path) == [
        {"Nachname, Vorname": "Lee, Ann", "Strasse, Nr": "Main 1", "E-Mail": "ann@example.com"}
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [('"a,b";c;d', ";"), ("a,b,c", ","), ('"x;y",z', ","), ("a\tb|c\td", "\t"), ("abc", ",")],
)
def test_sniff_delimiter_counts_only_outside_quotes(line: str, expected: str) -> None:
    assert sniff_delimiter(line) == expected


def test_excel_sep_line_names_the_delimiter_and_is_not_the_header(write: Write) -> None:
    path = write("people.csv", "sep=;\nemail;name\nann@example.com;Ann, Lee\n")
    sheet = open_sheet(path)
    rows = list(sheet.rows())
    sheet.close()
    assert [_cells(row) for row in rows] == [{"email": "ann@example.com", "name": "Ann, Lee"}]
    assert rows[0].line == 3  # the sep= line still counts


@pytest.mark.parametrize(
    ("line", "expected"),
    [("sep=;", ";"), ("SEP=|\r\n", "|"), ("sep=\t", "\t"), ("sep=", None), ("email;sep=;", None)],
)
def test_separator_directive(line: str, expected: str | None) -> None:
    assert separator_directive(line) == expected


def _store_doubles_like_excel(path: Path, replace: dict[str, str]) -> None:
    """Rewrite the sheet's XML with the full doubles Excel stores for formula results."""
    with zipfile.ZipFile(path) as source:
        items = {name: source.read(name) for name in source.namelist()}
    xml = items["xl/worksheets/sheet1.xml"].decode()
    for old, new in replace.items():
        assert old in xml
        xml = xml.replace(old, new)
    items["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w") as target:
        for name, data in items.items():
            target.writestr(name, data)


def test_a_computed_amount_is_read_as_excel_shows_it(
    tmp_path: Path, store: Store, ctx: IngestContext
) -> None:
    path = tmp_path / "orders.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["email", "order_number", "order_total"])
    sheet.append(["ann@example.com", "1001", 3.25])
    sheet.append(["bo@example.com", "1002", 0.25])
    book.save(path)
    _store_doubles_like_excel(
        path,
        {"<v>3.25</v>": "<v>3.3000000000000003</v>", "<v>0.25</v>": "<v>0.30000000000000004</v>"},
    )
    report = import_file(store, path, "crm", ctx)
    assert report.rejections == []
    totals = store.conn.execute(
        "SELECT json_extract(payload, '$.order_total') FROM records WHERE kind = 'order' ORDER BY 1"
    ).fetchall()
    assert [total for (total,) in totals] == ["0.3", "3.3"]


def test_zero_padded_number_formats_keep_their_leading_zeros(tmp_path: Path) -> None:
    path = tmp_path / "people.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["email", "postcode", "zip4", "phone", "count"])
    sheet.append(["ann@example.com", 2134, 21340123, 4155550123, 7])
    sheet["B2"].number_format = "00000"
    sheet["C2"].number_format = "00000\\-0000"
    sheet["D2"].number_format = "00000000000"
    book.save(path)
    assert read(path) == [
        {
            "email": "ann@example.com",
            "postcode": "02134",
            "zip4": "02134-0123",
            "phone": "04155550123",
            "count": "7",
        }
    ]


@pytest.mark.parametrize(
    ("value", "number_format", "expected"),
    [
        (2134, "00000", "02134"),
        (123456, "00000", "123456"),  # more digits than the format: Excel shows them all
        (2134, "General", "2134"),
        (2134, "#,##0", "2134"),  # not a padding format
        (-5, "000", "-5"),
        (12.5, "000", "12.5"),
        (0.1 + 0.2, "General", "0.3"),
        (1234567.891, "General", "1234567.891"),
        (3.0, "00000", "00003"),
        (True, "00000", "true"),
        ("007", "00000", "007"),
    ],
)
def test_xlsx_cell_text(value: object, number_format: str, expected: str) -> None:
    assert xlsx_cell_text(value, number_format) == expected
