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
