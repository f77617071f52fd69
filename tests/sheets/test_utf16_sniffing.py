"""BOM-less UTF-16 of mostly non-Latin text is read as text; binary files are still refused."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from context_service.sheets import parse_map_options
from context_service.sheets.readers import open_sheet
from context_service.sheets.sniffing import UnreadableFile
from context_service.store import Store
from tests.sheets.helpers import Importer, snapshot_for

Write = Callable[[str, str | bytes], Path]

JAPANESE = (
    "名前,住所,会社\n"
    "山田太郎,東京都渋谷区神南一丁目,株式会社山田商事\n"
    "佐藤花子,大阪府大阪市北区梅田三丁目,佐藤工業株式会社\n"
)
GREEK = "όνομα,πόλη\nΓιώργος Παπαδόπουλος,Αθήνα\nΜαρία Κωνσταντίνου,Θεσσαλονίκη\n"  # noqa: RUF001


def read_cells(path: Path, encoding: str | None = None) -> list[list[str | None]]:
    sheet = open_sheet(path, encoding=encoding)
    try:
        return [row.cells for row in sheet.rows()]
    finally:
        sheet.close()


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("text", [JAPANESE, GREEK, JAPANESE * 200], ids=["ja", "el", "ja-long"])
def test_mostly_non_latin_utf16_without_a_bom_is_read_as_text(
    write: Write, encoding: str, text: str
) -> None:
    path = write("people.csv", text.encode(encoding))
    rows = read_cells(path)
    first_data_line = text.splitlines()[1]
    assert rows[0] == first_data_line.split(",")
    assert read_cells(path, encoding=encoding) == rows  # --encoding still works


def test_a_japanese_utf16_file_imports_end_to_end(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    text = (
        "名前,メール,住所\n"
        "山田太郎,taro@example.jp,東京都渋谷区神南一丁目二十三番地\n"
        "佐藤花子,hanako@example.jp,大阪府大阪市北区梅田三丁目四番地\n"
    )
    data = text.encode("utf-16-le")
    assert data[1::2].count(0) * 2 < len(data) // 2  # under half the characters are ASCII
    mapping = parse_map_options(["名前=name", "メール=email", "住所=street"])
    report = import_sheet(write("people.csv", data), mapping=mapping)
    assert (report.rows_imported, report.rows_rejected) == (2, 0)
    taro = snapshot_for(store, "taro@example.jp").identity
    assert (taro.name, taro.addresses[0].street) == ("山田太郎", "東京都渋谷区神南一丁目二十三番地")


def png_image() -> bytes:
    """A real 64x64 RGB PNG, built by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    pixels = b"".join(
        b"\x00" + bytes((x * 4, y * 4, (x * y) % 256)) for y in range(64) for x in range(64)
    )
    header = struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )


def zip_of_utf16_text() -> bytes:
    """A ZIP archive (not a workbook) whose one member is UTF-16 text."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("people.csv", JAPANESE.encode("utf-16-le") * 20)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (png_image(), "is a PNG image, not a text file"),
        (png_image()[8:], "this is not a text file"),  # no signature: judged by its bytes
        (zip_of_utf16_text(), "is a ZIP archive, not a text file"),
        (zip_of_utf16_text()[4:], "this is not a text file"),
        # 16-bit integers, most under 256: NULs at one parity, as in ASCII-heavy UTF-16 text,
        # but they decode to control characters
        (struct.pack("<400H", *range(400)), "this is not a text file"),
        (struct.pack(">400H", *range(400)), "this is not a text file"),
    ],
    ids=["png", "png-body", "zip", "zip-body", "int16-le", "int16-be"],
)
def test_binary_files_are_still_refused(write: Write, content: bytes, message: str) -> None:
    with pytest.raises(UnreadableFile, match=message):
        read_cells(write("people.csv", content))


def test_ascii_text_with_stray_nul_bytes_stays_utf8(write: Write) -> None:
    path = write("people.csv", b"email,name\na@example.com,An\x00n\nb@example.com,Bo\x00\n")
    assert read_cells(path) == [["a@example.com", "Ann"], ["b@example.com", "Bo"]]
