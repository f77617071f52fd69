"""Read CSV, XLSX and JSONL files row by row, lazily, with the line each row starts on.

Every reader streams: a file of any size is never loaded whole. Each yields ``RawRow``s: the
header the cells belong to, the cells as trimmed-or-not strings (``None`` for an empty cell),
or, for a row that cannot be read (bad JSON, more cells than the header), an ``error`` and the
row as read. Blank rows are counted, not yielded. ``done()`` and ``total`` measure progress in
bytes (CSV, JSONL) or rows (XLSX). An XLSX workbook is read from its first visible worksheet
(``sheet_name``; hidden sheets are skipped); one with no header row there is an error, like a
CSV file with no text.

The header (CSV, XLSX) is the first non-blank row, and it ends at its last non-blank cell: an
XLSX row runs to the sheet's used width whatever the header's, so a blank header cell after the
last named one is not a column, in either format. A row with a non-blank cell past the header
is rejected with its line; a blank header cell between named ones is a column without a name
(see ``columns``).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from context_service.sheets.csv_lines import (
    STRAY_BYTES,
    LineTap,
    quoting_error,
    stray_bytes,
    swallowed_rows,
)
from context_service.sheets.json_rows import json_row
from context_service.sheets.raw_rows import (
    Format,
    RawRow,
    Sheet,
    _csv_row,
    _header,
    cell_text,
    xlsx_cell_text,
)
from context_service.sheets.sniffing import (
    UnreadableFile,
    check_encoding,
    first_line_of,
    reading_bom,
    refuse_binary,
    refuse_misread_utf8,
    sample_of,
    separator_directive,
    sniff_delimiter,
    sniff_file_encoding,
)

__all__ = [  # RawRow, Sheet, Format and the cell conversions live in raw_rows
    "CELL_LIMIT",
    "FORMATS",
    "CsvSheet",
    "Format",
    "JsonlSheet",
    "RawRow",
    "Sheet",
    "XlsxSheet",
    "cell_text",
    "detect_format",
    "open_sheet",
    "xlsx_cell_text",
]

FORMATS: tuple[Format, ...] = ("csv", "xlsx", "jsonl")
_EXTENSIONS: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


def detect_format(path: Path, fmt: str | None = None) -> Format:
    """The format named by ``fmt``, else by the file's extension."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise UnreadableFile(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
        return fmt
    found = _EXTENSIONS.get(path.suffix.lower())
    if found is None:
        raise UnreadableFile(
            f"cannot tell the format of {path.name} from its extension; "
            f"pass --format {'|'.join(FORMATS)}"
        )
    return found


def checked_sheet_file(
    path: str | Path, fmt: str | None = None, encoding: str | None = None
) -> tuple[Path, Format]:
    """``path`` and its format, or ``UnreadableFile`` for what ``open_sheet`` refuses before
    it reads a byte of the sheet: a missing file, a folder, an unknown format or encoding.
    Nothing is opened, so a caller can check a file before it creates anything."""
    file = Path(path)
    if file.is_dir():
        raise UnreadableFile(f"{file} is a directory, not a file")
    if not file.is_file():
        raise UnreadableFile(f"no such file: {file}")
    kind = detect_format(file, fmt)
    if encoding is not None:
        check_encoding(encoding)
    return file, kind


def open_sheet(path: str | Path, fmt: str | None = None, encoding: str | None = None) -> Sheet:
    """Open ``path`` as a CSV, XLSX or JSONL sheet (``fmt`` defaults from the extension)."""
    file, kind = checked_sheet_file(path, fmt, encoding)
    try:
        if kind == "xlsx":
            return XlsxSheet(file)
        if kind == "jsonl":
            return JsonlSheet(file, encoding)
        return CsvSheet(file, encoding)
    except OSError as exc:
        raise UnreadableFile(f"cannot read {file}: {exc.strerror or exc}") from exc


class CsvSheet:
    """A delimited text file: delimiter and encoding sniffed, quoted newlines allowed."""

    format: Format = "csv"
    sheet_name: str | None = None
    other_sheets: tuple[str, ...] = ()

    def __init__(self, path: Path, encoding: str | None = None) -> None:
        self.path = path
        self.header: tuple[str, ...] | None = None
        self.total: int | None = path.stat().st_size
        self.blank_rows = 0
        sample = sample_of(path)
        refuse_binary(path, sample, encoding)
        if encoding:
            refuse_misread_utf8(path, sample, encoding)
        found = reading_bom(encoding, sample) if encoding else None
        self.encoding = found or sniff_file_encoding(path, sample)
        first_line = first_line_of(sample, self.encoding)
        self.directive = separator_directive(first_line)
        self.delimiter = self.directive or sniff_delimiter(first_line)
        # A UTF-8 file is read with its stray bytes escaped, so that a line pasted in from
        # another encoding rejects its row alone (``csv_lines.stray_bytes``).
        self._utf8 = codecs.lookup(self.encoding).name in ("utf-8", "utf-8-sig")
        errors = STRAY_BYTES if self._utf8 else "strict"
        # Opened once the sniffing above has accepted the file: a refusal leaves nothing open.
        self._raw: BinaryIO = path.open("rb")
        self._text = io.TextIOWrapper(self._raw, self.encoding, errors, newline="")

    def done(self) -> int:
        """Bytes read so far."""
        return self._raw.tell() if not self._raw.closed else self.total or 0

    def close(self) -> None:
        """Close the file."""
        self._text.close()

    def rows(self) -> Iterator[RawRow]:
        """Rows after the first non-blank one (the header).

        Quoting is read strictly: a row whose quotes do not pair up (``"Bob" Ray``, or a quote
        that is never closed and would swallow the rest of the file) is an error row that keeps
        the lines it spans as its raw text, never merged silently into its neighbour's cell.
        Excel's ``sep=;`` first line names the delimiter and is not the header.
        """
        tap = LineTap(self._text, stray_bytes=self._utf8)
        _allow_cells_up_to(CELL_LIMIT)
        reader = csv.reader(tap, delimiter=self.delimiter, strict=True)
        directive = self.directive is not None
        header: tuple[str, ...] | None = None
        start = 1
        try:
            while True:
                tap.start_row()
                try:
                    cells = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    line, start = start, reader.line_num + 1
                    if header is None or "field limit" in str(exc):
                        raise UnreadableFile(_stopped_at(self.path, line, exc)) from exc
                    yield quoting_error(line, reader.line_num, header, tap, exc)
                    continue
                line, start = start, reader.line_num + 1
                if tap.suspect():  # a quoted line break, or a byte not UTF-8
                    broken = self._broken(line, header, tap)
                    if broken is not None:
                        yield broken
                        continue
                if not any(cell.strip() for cell in cells):
                    self.blank_rows += header is not None
                    continue
                if directive:
                    directive = False
                    continue
                if header is None:
                    header = self.header = _header(cells)
                    continue
                yield _csv_row(line, header, cells)
            if header is None:
                raise UnreadableFile(f"{self.path.name}: no header row (the file has no text)")
        except UnicodeDecodeError as exc:
            raise UnreadableFile(self._not_decodable(start, exc)) from exc
        except csv.Error as exc:
            raise UnreadableFile(f"{self.path.name}: line {start}: {exc}") from exc

    def _broken(self, line: int, header: tuple[str, ...] | None, tap: LineTap) -> RawRow | None:
        """The row as an error row when it holds a byte that is not UTF-8 or swallowed whole
        rows into a quoted cell (see ``csv_lines``); a header with such a byte stops the file."""
        if header is None:
            if tap.stray:
                raise UnreadableFile(
                    f"{self.path.name}: line {line + tap.stray[0]} is not valid UTF-8; pass "
                    "--encoding with the file's encoding (for example cp1252)"
                )
            return None
        if tap.stray:
            return stray_bytes(line, header, tap)
        return swallowed_rows(line, header, tap, self.delimiter)

    def _not_decodable(self, start: int, exc: UnicodeDecodeError) -> str:
        """Where the text stops being valid in its encoding (the first line with a bad byte;
        the text is decoded in blocks, so the row being read may be earlier), and what to do."""
        line = _first_bad_line(self.path, self.encoding)
        where = f"line {line}" if line is not None else f"a line from {start} on"
        name = codecs.lookup(self.encoding).name
        others = [e for e in ("utf-8", "cp1252", "latin-1") if codecs.lookup(e).name != name]
        return (
            f"{self.path.name}: {where} is not valid {self.encoding} ({exc.reason}); pass "
            f"--encoding with the file's encoding (for example {' or '.join(others[:2])})"
        )


def _first_bad_line(path: Path, encoding: str) -> int | None:
    """The line holding the first byte that is not valid ``encoding``, or None if none is."""
    decoder = codecs.getincrementaldecoder(encoding)()
    line = 1
    with path.open("rb") as file:
        for piece in file:  # split at b"\n": a line at a time, unless the text is UTF-16
            try:
                text = decoder.decode(piece)
            except UnicodeDecodeError:
                return line
            line += text.count("\n") + text.count("\r") - text.count("\r\n")
    return None


CELL_LIMIT = 16 * 1024 * 1024
"""The most characters a CSV cell may hold: far past what a spreadsheet holds (Excel 32,767)
but not past a CRM's notes field, which can run to megabytes (``csv``'s own default, 131,072,
would stop the import at such a row). A cell over it stops the import: its quote most likely
never closes, and what it swallowed cannot be split back into rows."""


def _allow_cells_up_to(limit: int) -> None:
    """Let ``csv`` read cells of ``limit`` characters (a process-wide setting, only raised)."""
    if csv.field_size_limit() < limit:
        csv.field_size_limit(limit)


def _stopped_at(path: Path, line: int, exc: csv.Error) -> str:
    """Why the file cannot be read past ``line``; for a cell over the limit, what it likely is."""
    if "field limit" not in str(exc):
        return f"{path.name}: line {line}: {exc}"
    return (
        f"{path.name}: line {line}: field larger than field limit: a cell there runs past "
        f"{csv.field_size_limit():,} characters, most likely because a quote in it never closes"
    )


# --------------------------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------------------------


# An XLSX part that unpacks to more than this, and to more than ``_MOST_RATIO`` times its packed
# size, is a decompression bomb: openpyxl reads the shared strings whole, even read-only (a
# 211 KB file holding 5 million strings took 538 MB and 52 s). Real workbooks' parts pack some
# ten to twenty times.
_MOST_UNPACKED = 16 * 1024 * 1024
_MOST_RATIO = 100
_MOST_SHARED_STRINGS = 512 * 1024 * 1024  # unpacked, whatever the ratio


def refuse_a_bomb(path: Path) -> None:
    """``UnreadableFile`` for an XLSX whose parts unpack to far more than a workbook holds
    (``_MOST_UNPACKED`` and ``_MOST_RATIO``, or ``_MOST_SHARED_STRINGS``), told from the zip's
    directory before anything is unpacked; a file that is no zip is left to openpyxl."""
    from zipfile import BadZipFile, ZipFile

    try:
        with ZipFile(path) as archive:
            parts = archive.infolist()
    except (BadZipFile, OSError):
        return
    for part in parts:
        packed, unpacked = max(part.compress_size, 1), part.file_size
        bomb = unpacked > _MOST_UNPACKED and unpacked > _MOST_RATIO * packed
        if bomb or (
            part.filename.endswith("sharedStrings.xml") and unpacked > _MOST_SHARED_STRINGS
        ):
            raise UnreadableFile(
                f"{path.name}: its part {part.filename} unpacks from {packed:,} to {unpacked:,}"
                " bytes, far more than a workbook holds; save the sheet as CSV and import that"
            )


class XlsxSheet:
    """The first visible worksheet of an XLSX workbook (not a hidden one before it, nor the one
    that was open when it was saved), read in openpyxl's streaming read-only mode."""

    format: Format = "xlsx"

    def __init__(self, path: Path) -> None:
        from zipfile import BadZipFile

        import openpyxl
        from openpyxl.cell.read_only import EMPTY_CELL
        from openpyxl.utils.exceptions import InvalidFileException

        self.path = path
        self._empty: Any = EMPTY_CELL  # the cell of a row for one the file does not hold
        self.header: tuple[str, ...] | None = None
        self.blank_rows = 0
        self._row = 0
        refuse_a_bomb(path)
        try:
            self._book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except (BadZipFile, InvalidFileException, OSError, KeyError) as exc:
            raise UnreadableFile(f"{path.name} is not a readable XLSX workbook: {exc}") from exc
        if not self._book.worksheets:
            self._book.close()
            raise UnreadableFile(f"{path.name}: the workbook has no worksheet")
        self._sheet = _first_visible(self._book.worksheets)
        self.sheet_name: str | None = self._sheet.title
        # Visible sheets after it that hold data are not read: the report names them, so that
        # customers on a second sheet are not left out without a word.
        self.other_sheets: tuple[str, ...] = tuple(
            str(other.title)
            for other in self._book.worksheets
            if other is not self._sheet and _visible(other) and _has_data(other)
        )
        self.total: int | None = self._sheet.max_row  # declared: the progress bar's estimate
        # Read-only mode stops at the size the sheet declares (``<dimension ref=...>``), which
        # some writers get wrong: rows below it and columns right of it would be lost.
        self._sheet.reset_dimensions()
        self._formulas: _Formulas | None = None

    def done(self) -> int:
        """Rows read so far."""
        return self._row

    def close(self) -> None:
        """Close the workbook."""
        self._book.close()
        if self._formulas is not None:
            self._formulas.close()

    def rows(self) -> Iterator[RawRow]:
        """Rows after the first non-blank one (the header); a sheet without one is an error.

        A cell holding a formula that was never calculated (a workbook written by a library
        such as openpyxl and never opened in a spreadsheet program) has no value to read: it
        is ``None``, like an empty cell, and listed in the row's ``uncalculated`` with its
        formula, so that the import does not take it for an empty cell (``importer``). A row
        of such cells only is left to the import: blank when they feed no field."""
        header: tuple[str, ...] | None = None
        for line, row in enumerate(self._sheet.iter_rows(min_row=1), 1):
            self._row = line
            cells = [xlsx_cell_text(cell.value, cell.number_format) for cell in row]
            formulas = self._uncalculated(line, row, cells) if header and None in cells else ()
            if not formulas and not any(cell and cell.strip() for cell in cells):
                self.blank_rows += header is not None
                continue
            if header is None:
                header = self.header = _header(cells)
                continue
            while cells and cells[-1] is None:  # the sheet's width, not the row's
                cells.pop()
            raw = _csv_row(line, header, [cell or "" for cell in cells])
            if formulas and raw.error is None:
                raw = raw._replace(uncalculated=formulas)
            yield raw
        if header is None:
            raise UnreadableFile(self._no_header())

    def _uncalculated(
        self, line: int, row: tuple[Any, ...], cells: list[str | None]
    ) -> tuple[tuple[int, str], ...]:
        """The row's cells (index, formula) that hold a formula with no saved value.

        Read for its values (``data_only``), such a cell is a cell element with no value
        and no type, as an empty cell that keeps a format is, and unlike a formula whose
        saved result is empty text (type ``str``); only such cells are looked up in the
        formulas, read from a second view of the sheet opened for it (in step with this one),
        so a workbook without them is read once, as before."""
        width, empty = len(self.header or ()), self._empty
        suspects = [
            index
            for index, text in enumerate(cells[:width])
            if text is None and row[index] is not empty and row[index].data_type == "n"
        ]
        if not suspects:
            return ()
        if self._formulas is None:
            self._formulas = _Formulas(self.path, self._book.worksheets.index(self._sheet))
        found = self._formulas.at(line)
        return tuple((index, found[index]) for index in suspects if index in found)

    def _no_header(self) -> str:
        """Why the sheet read has no header row, naming the other sheets that hold data."""
        which = "first sheet" if self._sheet is self._book.worksheets[0] else "first visible sheet"
        message = f"{self.path.name}: no header row (the {which} {self._sheet.title!r} is empty"
        others = [
            repr(sheet.title) + ("" if _visible(sheet) else " (hidden)")
            for sheet in self._book.worksheets
            if sheet is not self._sheet and _has_data(sheet)
        ]
        if not others:
            return message + ")"
        return (
            f"{message}; the workbook's other sheets: {', '.join(others)}; the import reads "
            f"only the {which}, so move the one to import to the front)"
        )


class _Formulas:
    """A worksheet's formulas, row by row: the workbook opened a second time, read-only, with
    each formula cell read as its formula rather than its saved value."""

    def __init__(self, path: Path, index: int) -> None:
        import openpyxl

        self._book = openpyxl.load_workbook(path, read_only=True, data_only=False)
        sheet = self._book.worksheets[index]
        sheet.reset_dimensions()  # as ``XlsxSheet``: the declared size may be wrong
        self._rows = enumerate(sheet.iter_rows(min_row=1), 1)

    def at(self, line: int) -> dict[int, str]:
        """The formulas of row ``line`` by column index; rows are asked for in order."""
        for number, row in self._rows:
            if number == line:
                return {
                    index: _formula_text(cell.value)
                    for index, cell in enumerate(row)
                    if cell.data_type == "f"
                }
        return {}

    def close(self) -> None:
        self._book.close()


def _formula_text(value: object) -> str:
    """A formula as written (``=LOWER(B2)``), cut to 60 characters; an array formula's too."""
    text = value if isinstance(value, str) else getattr(value, "text", None) or "a formula"
    return text if len(text) <= 60 else text[:57] + "..."


def _visible(sheet: Any) -> bool:
    return getattr(sheet, "sheet_state", "visible") == "visible"


def _first_visible(sheets: list[Any]) -> Any:
    """The first worksheet that is not hidden (a hidden lookup sheet often comes first), or the
    first one when all are hidden, which Excel itself does not allow."""
    return next((sheet for sheet in sheets if _visible(sheet)), sheets[0])


def _has_data(sheet: Any) -> bool:
    """Whether a worksheet has a non-blank cell (read until the first one)."""
    for values in sheet.iter_rows(values_only=True):
        if any(text and text.strip() for text in map(cell_text, values)):
            return True
    return False


# --------------------------------------------------------------------------------------------
# JSONL
# --------------------------------------------------------------------------------------------


class JsonlSheet:
    """One JSON object per line; its keys are the columns. Lists of scalars join with ``;``.

    JSON Lines are UTF-8, and such a file is read as bytes; one in another encoding (UTF-16
    with a BOM, as Windows PowerShell writes, or cp1252 from an older tool) is recognised as a
    CSV file's is, or named by ``--encoding``, and read as text. In a UTF-8 file, a line that is
    not UTF-8 is rejected alone, with its number: each line stands on its own.
    """

    format: Format = "jsonl"
    sheet_name: str | None = None
    other_sheets: tuple[str, ...] = ()
    header: tuple[str, ...] | None = None  # each line has its own keys

    def __init__(self, path: Path, encoding: str | None = None) -> None:
        self.path = path
        self.total: int | None = path.stat().st_size
        self.blank_rows = 0
        self._done = 0
        sample = sample_of(path)
        refuse_binary(path, sample, encoding)
        if encoding:
            refuse_misread_utf8(path, sample, encoding)
        found = reading_bom(encoding, sample) if encoding else sniff_file_encoding(path, sample)
        self.encoding = found
        self._file: BinaryIO = path.open("rb")

    def done(self) -> int:
        """Bytes read so far."""
        if self._text_encoding() is None or self._file.closed:
            return self._done if not self._file.closed else self.total or 0
        return self._file.tell()

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    def _text_encoding(self) -> str | None:
        """The encoding to decode lines in first, or None for UTF-8 (read as bytes)."""
        name = codecs.lookup(self.encoding).name
        return None if name in ("utf-8", "utf-8-sig") else self.encoding

    def rows(self) -> Iterator[RawRow]:
        """Every non-blank line as a row."""
        encoding = self._text_encoding()
        lines = self._file if encoding is None else self._utf8_lines(encoding)
        for line, read in enumerate(lines, 1):
            self._done += len(read)
            data = read.removeprefix(codecs.BOM_UTF8) if line == 1 else read
            if not data.strip():
                self.blank_rows += 1
                continue
            yield json_row(line, data)

    def _utf8_lines(self, encoding: str) -> Iterator[bytes]:
        """The file's lines decoded from ``encoding``, as UTF-8."""
        text = io.TextIOWrapper(self._file, encoding=encoding, newline="")
        line = 0
        try:
            for read in text:
                line += 1
                yield read.encode("utf-8", errors="surrogatepass")
        except UnicodeDecodeError as exc:
            where = _first_bad_line(self.path, encoding) or line + 1
            raise UnreadableFile(
                f"{self.path.name}: line {where} is not valid {encoding} ({exc.reason}); pass "
                "--encoding with the file's encoding"
            ) from exc
        finally:
            text.detach()
