"""Readers: formats, encodings, delimiters, line numbers, blank and malformed rows."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from context_service.sheets import readers
from context_service.sheets.readers import RawRow, detect_format, open_sheet
from context_service.sheets.sniffing import UnreadableFile, sniff_delimiter

Write = Callable[[str, str | bytes], Path]


def read(path: Path, fmt: str | None = None) -> list[RawRow]:
    sheet = open_sheet(path, fmt)
    try:
        return list(sheet.rows())
    finally:
        sheet.close()


def cells_by_header(row: RawRow) -> dict[str, str | None]:
    return dict(zip(row.header, row.cells, strict=True))


def test_csv_with_bom_semicolons_quoted_newlines_and_blank_lines(write: Write) -> None:
    text = 'Email;Name;Note\n\na@example.com;"Ann\nLee";x\n;;\nb@example.com;"B; C";\n'
    path = write("people.csv", b"\xef\xbb\xbf" + text.encode())
    sheet = open_sheet(path)
    rows = list(sheet.rows())
    assert [r.line for r in rows] == [3, 6]
    assert rows[0].header == ("Email", "Name", "Note")  # no BOM glued to the first header
    assert cells_by_header(rows[0]) == {"Email": "a@example.com", "Name": "Ann\nLee", "Note": "x"}
    assert cells_by_header(rows[1])["Name"] == "B; C"
    assert cells_by_header(rows[1])["Note"] is None
    assert sheet.blank_rows == 2
    assert sheet.done() == sheet.total
    sheet.close()


def test_csv_in_cp1252_is_read_without_an_encoding_option(write: Write) -> None:
    path = write("legacy.csv", "name,city\nJosé,Málaga\n".encode("cp1252"))
    assert cells_by_header(read(path)[0]) == {"name": "José", "city": "Málaga"}


def test_tab_separated_and_short_rows(write: Write) -> None:
    path = write("people.tsv", "email\tname\tcity\na@example.com\tAnn\n")
    assert cells_by_header(read(path)[0]) == {"email": "a@example.com", "name": "Ann", "city": None}


def test_a_row_with_more_cells_than_the_header_is_an_error_row(write: Write) -> None:
    path = write("people.csv", "email,name\na@example.com,Ann,surplus\nb@example.com,Bo,\n")
    first, second = read(path)
    assert first.error == "the row has 3 cells but the header has 2 columns"
    assert first.raw == ["a@example.com", "Ann", "surplus"]
    assert second.error is None  # a trailing empty cell is fine


@pytest.mark.parametrize(
    ("line", "expected"),
    [("a,b,c", ","), ("a;b;c", ";"), ("a\tb\tc", "\t"), ("a|b", "|"), ("email", ",")],
)
def test_sniff_delimiter(line: str, expected: str) -> None:
    assert sniff_delimiter(line) == expected


def test_xlsx_rows_keep_their_sheet_line_numbers_and_typed_cells(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Email", "Phone", "Total", "Ordered"])
    sheet.append(["a@example.com", 4155550134, 160.5, dt.date(2026, 11, 18)])
    sheet.append([None, None, None, None])
    sheet.append(["b@example.com", None, 12.0, dt.datetime(2026, 11, 18, 9, 30)])
    path = tmp_path / "people.xlsx"
    book.save(path)
    opened = open_sheet(path)
    rows = list(opened.rows())
    assert [r.line for r in rows] == [2, 4]
    assert cells_by_header(rows[0]) == {
        "Email": "a@example.com",
        "Phone": "4155550134",
        "Total": "160.5",
        "Ordered": "2026-11-18T00:00:00",
    }
    assert cells_by_header(rows[1])["Total"] == "12"
    assert opened.blank_rows == 1
    opened.close()


def test_jsonl_rows_errors_and_lists(write: Write) -> None:
    text = (
        '{"email": "a@example.com", "phone": 4155550134, "vip": true, "emails": ["x@e.com", '
        '"y@e.com"]}\n\n{not json\n[1, 2]\n{"email": "b@example.com", "address": {"city": "X"}}\n'
    )
    path = write("people.jsonl", b"\xef\xbb\xbf" + text.encode())
    rows = read(path)
    assert [r.line for r in rows] == [1, 3, 4, 5]
    assert cells_by_header(rows[0]) == {
        "email": "a@example.com",
        "phone": "4155550134",
        "vip": "true",
        "emails": "x@e.com; y@e.com",
    }
    assert rows[1].error is not None
    assert rows[1].error.startswith("not valid JSON")
    assert rows[1].raw == "{not json"
    assert rows[2].error == "expected a JSON object, got list"
    assert rows[3].error is None  # an object's fields become dotted columns
    assert cells_by_header(rows[3]) == {"email": "b@example.com", "address.city": "X"}


@pytest.mark.parametrize("depth", [600, 1000, 100_000])
def test_a_jsonl_line_nested_too_deeply_is_a_rejected_row(write: Write, depth: int) -> None:
    """It ended the whole import with a RecursionError traceback (a review, session 28)."""
    deep = '{"email": "c@example.com", "x": ' + "[" * depth + "]" * depth + "}"
    path = write("people.jsonl", f'{{"email": "a@example.com"}}\n{deep}\n{{"email": "b@x.co"}}\n')
    rows = read(path)
    assert [r.line for r in rows] == [1, 2, 3]
    assert rows[1].error == "nested too deeply to read as a row"
    assert rows[0].error is None
    assert rows[2].error is None


def test_jsonl_lists_of_objects_are_empty_cells_named_as_nested(write: Write) -> None:
    path = write("people.jsonl", '{"email": "a@example.com", "items": [{"sku": "A"}], "n": 1}\n')
    (row,) = read(path)
    assert row.error is None
    assert cells_by_header(row) == {"email": "a@example.com", "items": None, "n": "1"}
    assert row.nested == ("items",)


def test_format_comes_from_the_extension_or_the_option(tmp_path: Path) -> None:
    assert detect_format(tmp_path / "a.CSV") == "csv"
    assert detect_format(tmp_path / "a.ndjson") == "jsonl"
    assert detect_format(tmp_path / "a.dat", "csv") == "csv"
    with pytest.raises(UnreadableFile, match="--format"):
        detect_format(tmp_path / "a.dat")


def test_unreadable_files_fail_clearly(write: Write, tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="no such file"):
        open_sheet(tmp_path / "missing.csv")
    with pytest.raises(UnreadableFile, match="not a readable XLSX"):
        open_sheet(write("fake.xlsx", "email\na@example.com\n"))


def test_a_directory_a_missing_file_and_an_unknown_encoding_fail_clearly(
    write: Write, tmp_path: Path
) -> None:
    with pytest.raises(UnreadableFile, match="is a directory"):
        open_sheet(tmp_path)
    with pytest.raises(UnreadableFile, match="no such file"):
        open_sheet(tmp_path / "export")  # no extension: the missing file is the news
    path = write("people.csv", "email\na@example.com\n")
    with pytest.raises(UnreadableFile, match="unknown encoding 'latin-9000'"):
        open_sheet(path, encoding="latin-9000")


def test_a_file_that_cannot_be_opened_fails_clearly(
    write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write("people.csv", "email\na@example.com\n")

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(UnreadableFile, match="Permission denied"):
        open_sheet(path)


def test_a_quote_never_closed_is_an_error_row_not_a_merged_cell(write: Write) -> None:
    path = write("people.csv", 'email,name\na@example.com,"Ann\nb@example.com,Bob\nc@x.com,Cy\n')
    (row,) = read(path)
    assert row.line == 2
    assert row.error is not None
    assert "never closed" in row.error
    assert "lines 2-4" in row.error
    assert "b@example.com,Bob" in row.raw


def test_quotes_that_do_not_pair_up_reject_only_their_row(write: Write) -> None:
    text = 'email,name\na@example.com,"Ann\nb@example.com,Bob\nc@x.com,"Cy"\nd@x.com,Di\n'
    path = write("people.csv", text)
    broken, after = read(path)
    assert broken.line == 2
    assert broken.error is not None
    assert "lines 2-4" in broken.error
    assert broken.raw == 'a@example.com,"Ann\nb@example.com,Bob\nc@x.com,"Cy"\n'
    assert (after.line, after.error) == (5, None)
    assert cells_by_header(after) == {"email": "d@x.com", "name": "Di"}


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_recognised(write: Write, encoding: str) -> None:
    path = write("people.csv", "email,name\nann@example.com,Zoë\n".encode(encoding))
    (row,) = read(path)
    assert cells_by_header(row) == {"email": "ann@example.com", "name": "Zoë"}


def test_a_file_with_no_text_has_no_header_and_is_an_error(write: Write) -> None:
    for name, content in [("empty.csv", b""), ("blank.csv", b"\n \n\r\n")]:
        with pytest.raises(UnreadableFile, match="no header row"):
            read(write(name, content))
    assert read(write("header.csv", b"email,name\n")) == []  # a header alone is fine


def test_nul_characters_are_removed_from_cells(write: Write) -> None:
    path = write("people.csv", b"email,name,note\na@example.com,An\x00n,\x00\n")
    (row,) = read(path)
    assert cells_by_header(row) == {"email": "a@example.com", "name": "Ann", "note": None}


def test_a_cell_over_the_csv_field_limit_names_the_line_it_starts_on(
    write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "CELL_LIMIT", 150_000)
    before = csv.field_size_limit(131_072)  # the reader only ever raises the process's limit
    try:
        path = write(
            "people.csv", "email,note\na@example.com,ok\nb@example.com," + "x" * 200_000 + "\n"
        )
        with pytest.raises(UnreadableFile, match=r"line 3: field larger than field limit.*quote"):
            read(path)
    finally:
        csv.field_size_limit(before)


def test_xlsx_cells_past_the_header_reject_their_row_like_csv(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["email", "name"])
    sheet.append(["a@example.com", "Ann", "call back Monday"])
    sheet.append(["b@example.com", "Bo"])
    path = tmp_path / "people.xlsx"
    book.save(path)
    wide, fine = read(path)
    assert (wide.line, wide.error) == (2, "the row has 3 cells but the header has 2 columns")
    assert wide.raw == ["a@example.com", "Ann", "call back Monday"]
    assert fine.header == ("email", "name")  # the sheet is 3 wide, the header is not
    assert cells_by_header(fine) == {"email": "b@example.com", "name": "Bo"}


def test_a_blank_header_cell_after_the_last_named_one_is_not_a_column(write: Write) -> None:
    path = write("people.csv", "email,name,\na@example.com,Ann,note\nb@example.com,Bo,\n")
    wide, fine = read(path)
    assert wide.error == "the row has 3 cells but the header has 2 columns"
    assert fine.header == ("email", "name")


def test_xlsx_is_read_from_its_first_sheet_not_the_active_one(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["email"])
    book.active.append(["first@example.com"])
    other = book.create_sheet("Other")
    other.append(["email"])
    other.append(["active@example.com"])
    book.active = 1
    path = tmp_path / "people.xlsx"
    book.save(path)
    (row,) = read(path)
    assert cells_by_header(row) == {"email": "first@example.com"}


def test_an_xlsx_first_sheet_with_no_header_is_an_error_naming_the_other_sheets(
    tmp_path: Path,
) -> None:
    book = openpyxl.Workbook()
    book.active.title = "Sheet1"
    book.create_sheet("Notes")
    book.create_sheet("Customers").append(["email"])
    path = tmp_path / "people.xlsx"
    book.save(path)
    with pytest.raises(UnreadableFile) as caught:
        read(path)
    assert caught.value.detail == (
        "people.xlsx: no header row (the first sheet 'Sheet1' is empty; the workbook's other "
        "sheets: 'Customers'; the import reads only the first sheet, so move the one to import "
        "to the front)"
    )
    openpyxl.Workbook().save(path)
    with pytest.raises(
        UnreadableFile, match=r"no header row \(the first sheet 'Sheet' is empty\)$"
    ):
        read(path)


def test_an_xlsx_workbook_named_csv_says_to_pass_format_xlsx(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["email"])
    for name in ("people.csv", "people.jsonl"):
        book.save(tmp_path / name)
        with pytest.raises(UnreadableFile) as caught:
            read(tmp_path / name)
        assert caught.value.detail == (
            f"{name} is an XLSX workbook, not a text file; pass --format xlsx"
        )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"".join(n.to_bytes(4, "little") for n in range(500)), "this is not a text file"),
        (bytes(range(256)) * 20, "this is not a text file"),
        (b"PK\x03\x04" + b"\x00" * 60, "is a ZIP archive, not a text file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 60, "Excel 97-2003 workbook"),
    ],
    ids=["nul-heavy", "random", "zip", "xls"],
)
def test_a_binary_file_is_refused_before_it_is_decoded(
    write: Write, content: bytes, message: str
) -> None:
    with pytest.raises(UnreadableFile, match=message):
        read(write("people.csv", content))


def test_utf16_declared_by_the_option_is_not_taken_for_binary(write: Write) -> None:
    path = write("people.csv", "email\n\u4e00@example.com\n".encode("utf-16-le"))
    (row,) = list(open_sheet(path, encoding="utf-16-le").rows())
    assert cells_by_header(row) == {"email": "\u4e00@example.com"}


def test_a_byte_the_encoding_cannot_read_is_reported_on_its_own_line(write: Write) -> None:
    text = b"email,name\na@example.com,Ann\nb@example.com,B\xffb\nc@example.com,Cy\n"
    path = write("people.csv", text)
    rows = list(open_sheet(path, encoding="utf-8").rows())  # UTF-8: the row alone is rejected
    assert [(row.line, row.error is None) for row in rows] == [(2, True), (3, False), (4, True)]
    assert rows[1].raw == "b@example.com,B\\xffb\n"
    legacy = write("people.csv", text.replace(b"\xff", b"\x81"))  # not a cp1252 byte
    with pytest.raises(UnreadableFile) as caught:
        list(open_sheet(legacy, encoding="cp1252").rows())
    assert caught.value.detail == (
        "people.csv: line 3 is not valid cp1252 (character maps to <undefined>); pass "
        "--encoding with the file's encoding (for example utf-8 or latin-1)"
    )
    with pytest.raises(UnreadableFile, match=r"line 1 is not valid cp1252 .*utf-8 or latin-1"):
        read(write("legacy.csv", b"email,na\x81me\na@example.com,Ann\n"))


def test_a_jsonl_object_holding_a_key_twice_is_an_error_row(write: Write) -> None:
    """The decoder keeps a repeated key's last value: the other would be dropped silently."""
    path = write(
        "people.jsonl",
        '{"email": "d@x.com", "name": "Dee", "email": "e@x.com"}\n'
        '{"email": "f@x.com", "address": {"city": "Oslo", "city": "Bergen"}}\n'
        '{"email": "g@x.com", "note": "\\"a\\": b", "tags": [{"k": 1}, {"k": 2}]}\n',
    )
    first, second, third = read(path)
    assert first.error == "the key 'email' appears twice: which value is meant?"
    assert first.cells == []
    assert second.error == "the key 'city' appears twice: which value is meant?"
    assert third.error is None  # more ":" than keys, but none of them repeated
    assert cells_by_header(third)["email"] == "g@x.com"


def test_an_xlsx_that_unpacks_to_far_more_than_a_workbook_is_refused(tmp_path: Path) -> None:
    """openpyxl reads the shared strings whole, even read-only: a 211 KB file holding 5 million
    strings took 538 MB and 52 s (a review, session 28). Told from the zip's directory."""
    import zipfile

    path = tmp_path / "bomb.xlsx"
    strings = b"<sst>" + b"<si><t>a</t></si>" * 1_200_000 + b"</sst>"  # 20 MB, packs ~1,000x
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", strings)
    with pytest.raises(UnreadableFile, match=r"xl/sharedStrings.xml unpacks from .* save the"):
        readers.XlsxSheet(path)


def test_a_large_ordinary_workbook_is_no_bomb(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["email", "name"])
    for i in range(20_000):
        sheet.append([f"customer{i}@example.com", f"Customer Number {i}"])
    path = tmp_path / "big.xlsx"
    book.save(path)
    readers.refuse_a_bomb(path)  # no error
