"""A UTF-8 file with one line pasted in cp1252: that line is rejected alone, with its number,
and the rest imports; ``--encoding cp1252`` on a UTF-8 file is refused rather than garbling
every accented name it would store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from context_service.sheets.readers import open_sheet
from context_service.sheets.sniffing import UnreadableFile
from context_service.store import Store
from tests.sheets.helpers import Importer

Write = Callable[[str, str | bytes], Path]


def _mixed(rows: int) -> bytes:
    lines = ["external_id,email,name"]
    lines += [f"{i},u{i}@example.com,Zoë Müller {i}" for i in range(rows)]
    good = ("\r\n".join(lines) + "\r\n").encode("utf-8")
    return good + f"{rows},late@example.com,Renée Late\r\n".encode("cp1252")


@pytest.mark.parametrize("rows", [5, 5000])  # within the sniffed sample, and far past it
def test_a_line_pasted_in_cp1252_rejects_only_its_row(
    write: Write, import_sheet: Importer, store: Store, rows: int
) -> None:
    report = import_sheet(write("mixed.csv", _mixed(rows)))

    assert (report.rows_imported, report.rows_rejected) == (rows, 1)
    rejection = report.rejections[0]
    assert rejection.line == rows + 2
    assert "not valid UTF-8 (a byte 0xe9)" in rejection.reason
    names = store.conn.execute("SELECT payload FROM records WHERE external_id = '1'").fetchone()[0]
    assert "Zoë Müller 1" in names
    raw = store.conn.execute(
        "SELECT payload FROM records WHERE external_id LIKE 'rejected:%'"
    ).fetchone()[0]
    assert "Ren\\\\xe9e Late" in raw  # the byte kept, written as an escape


def test_encoding_cp1252_for_a_utf8_file_is_refused(write: Write, import_sheet: Importer) -> None:
    path = write("mixed.csv", _mixed(5000))
    with pytest.raises(UnreadableFile, match=r"UTF-8 text, not cp1252.*'ë'.*'Ã«'"):
        import_sheet(path, encoding="cp1252")


def test_encoding_cp1252_for_a_cp1252_file_is_read(write: Write, import_sheet: Importer) -> None:
    path = write("legacy.csv", "email,name\nr@example.com,Renée\n".encode("cp1252"))
    report = import_sheet(path, encoding="cp1252")
    assert (report.rows_imported, report.rows_rejected) == (1, 0)


def test_encoding_cp1252_for_a_utf8_jsonl_file_is_refused(write: Write) -> None:
    path = write("people.jsonl", '{"email": "z@example.com", "name": "Zoë"}\n'.encode())
    with pytest.raises(UnreadableFile, match="UTF-8 text, not latin-1"):
        open_sheet(path, encoding="latin-1")


def _legacy(pad: int) -> bytes:
    """A cp1252 export of 100 accented rows whose second line, pasted in, is UTF-8, with
    ``pad`` ASCII rows between that line and the cp1252 ones."""
    head = "email,name,city\r\nzoe@example.com,Zoë Adams,Paris\r\n".encode()
    ascii_rows = "".join(f"p{i}@example.com,Pat Lee {i},Leeds\r\n" for i in range(pad))
    names = ["José García", "François Müller", "Renée Dupré", "Søren Ærø", "Ana Muñoz"] * 20
    legacy = "".join(f"c{i}@example.com,{n},Köln\r\n" for i, n in enumerate(names))
    return head + ascii_rows.encode() + legacy.encode("cp1252")


# within the sniffed sample, and the cp1252 rows past it (only one UTF-8 name in the sample)
@pytest.mark.parametrize("pad", [0, 3000])
@pytest.mark.parametrize("encoding", [None, "cp1252"])
def test_a_cp1252_file_with_one_utf8_line_is_read_as_cp1252(
    write: Write, pad: int, encoding: str | None
) -> None:
    sheet = open_sheet(write("legacy.csv", _legacy(pad)), encoding=encoding)
    try:
        rows = list(sheet.rows())
    finally:
        sheet.close()
    assert (len(rows), [r.error for r in rows if r.error]) == (101 + pad, [])
    assert rows[1 + pad].cells[1] == "José García"
    assert rows[0].cells[1] == "ZoÃ« Adams"  # the pasted line garbled, as before 83b4114


def test_encoding_cp1252_for_a_mostly_utf8_file_with_a_cp1252_line_is_read(
    write: Write,
) -> None:
    """Not one byte of a refused file may be invalid in UTF-8: here one is, so the encoding
    the user names is trusted (the file is mostly UTF-8, so without it the line is rejected)."""
    sheet = open_sheet(write("mixed.csv", _mixed(5)), encoding="cp1252")
    try:
        rows = list(sheet.rows())
    finally:
        sheet.close()
    assert [r.error for r in rows] == [None] * 6
    assert rows[-1].cells[2] == "Renée Late"
