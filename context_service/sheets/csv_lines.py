"""The physical lines of a CSV file behind each row ``csv.reader`` reads, and the rows they show
to be broken (for ``readers.CsvSheet``).

``LineTap`` feeds ``csv.reader`` and keeps the lines of the row being read, so that a row
that is rejected keeps them raw, with the span of lines it was read from:

* a row whose quotes do not pair up, or whose quote never closes (``quoting_error``);
* a row whose quoted cell runs over lines that read alone as whole rows, starting with a
  value like the row's own first cell (``swallowed_rows``): a quote opened by mistake
  (``"VIP - call first``) and closed by another stray one lines later (an inch mark,
  ``Monitor 27"``) would otherwise turn the rows between into one cell's text, silently;
* a row holding bytes that are not UTF-8 in a file read as UTF-8 (``stray_bytes``), as where a
  line was pasted from a cp1252 export: the file is decoded with ``surrogateescape``, so such
  a byte is a lone surrogate in the text, and only its row is rejected.
"""

from __future__ import annotations

import codecs
import csv
import io
import re

from context_service.sheets.raw_rows import RawRow

# What ``surrogateescape`` makes of a byte that is not valid in the file's encoding.
_ESCAPED = re.compile("[\udc80-\udcff]")

STRAY_BYTES = "context_service-stray-bytes"
"""The error handler to decode a UTF-8 file with: ``surrogateescape``, counting the bytes it
escaped, so that ``LineTap`` looks for them only in a file where there are some (the text is
decoded in blocks, before the lines in them are read)."""
_escaped = [0]  # bytes escaped so far, by any file


def _escape_counted(exc: UnicodeError) -> tuple[str | bytes, int]:
    _escaped[0] += 1
    return _surrogateescape(exc)


_surrogateescape = codecs.lookup_error("surrogateescape")
codecs.register_error(STRAY_BYTES, _escape_counted)


class LineTap:
    """The text file's lines for ``csv.reader``, keeping those the current row was read from
    (``taken``) and, when ``stray_bytes`` is set, the positions among them (from 0) of the
    lines holding an undecodable byte (``stray``)."""

    def __init__(self, text: io.TextIOWrapper, stray_bytes: bool = False) -> None:
        self._lines = iter(text)
        self.taken: list[str] = []
        self.stray: list[int] = []
        self.exhausted = False
        self._look = stray_bytes
        self._escaped = _escaped[0]  # as many as other files had: only more are this one's

    def start_row(self) -> None:
        self.taken.clear()
        self.stray.clear()

    def __iter__(self) -> LineTap:
        return self

    def __next__(self) -> str:
        try:
            line = next(self._lines)
        except StopIteration:
            self.exhausted = True
            raise
        self.taken.append(line)
        return line

    def suspect(self) -> bool:
        """Whether the row just read may be broken: it was read from several lines (a quoted
        line break), or holds an undecodable byte (then set in ``stray``). Looked for once per
        row, not per line, and only once a byte was escaped, in lines with characters past
        ASCII (a flag of the str, not a scan)."""
        if self._look and _escaped[0] != self._escaped:
            self.stray = [
                i
                for i, line in enumerate(self.taken)
                if not line.isascii() and _ESCAPED.search(line) is not None
            ]
        return len(self.taken) > 1 or bool(self.stray)

    def raw(self) -> str:
        """The current row's lines as read, an undecodable byte written as ``\\xe9``."""
        text = "".join(self.taken)
        if not self.suspect() or not self.stray:
            return text
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def quoting_error(
    line: int, last: int, header: tuple[str, ...], tap: LineTap, exc: csv.Error
) -> RawRow:
    """The row read from lines ``line``-``last`` whose quotes do not pair up, as an error row."""
    if tap.exhausted:
        reason = (
            f"a quoted cell is never closed: lines {line}-{last} (the rest of the file) "
            "were read as this one row"
        )
    else:
        spans = f"; lines {line}-{last}" if last > line else ""
        reason = f"the quotes in this row do not pair up ({exc}{spans})"
    return RawRow(line, header, [], reason, tap.raw())


def swallowed_rows(
    line: int, header: tuple[str, ...], tap: LineTap, delimiter: str
) -> RawRow | None:
    """The row read from several lines as an error row when lines after its first look like
    whole rows of their own: then the quoted cell that runs over them most likely swallowed
    them (its quote opened by mistake, and a stray quote further on closed it). None for a row
    read from one line (most), and for a cell that really holds line breaks (an address, a
    note), whose lines may well split into the header's width (``red, blue, green, black``)
    but hardly ever start with a value like the row's own first cell.

    A line counts as a row start when, read alone, it splits into exactly the header's columns
    and its first cell is of the kind of the row's first cell (``_kind``). When that kind is
    distinctive (an email, a number: ids, phones, dates), one such line rejects the row, or two
    in a two-column file (where any note line with one comma splits into its width); for other
    text, two such lines before the closing one."""
    width = len(header)
    taken = tap.taken
    if len(taken) < 2 or width < 2:
        return None
    wide = [
        (i, cells)
        for i, text in enumerate(taken)
        if i and text.count(delimiter) >= width - 1  # cheap: fewer delimiters, fewer cells
        for cells in (_cells_alone(text, delimiter),)
        if len(cells) == width
    ]
    if not wide:  # (most multi-line cells: their lines are too narrow to be rows)
        return None
    first = _cells_alone(taken[0], delimiter)
    kind = _kind(first[0]) if first else _TEXT
    whole = [line + i for i, cells in wide if _kind(cells[0]) == kind]
    last = line + len(taken) - 1
    if kind in (_EMAIL, _NUMBER):
        enough = len(whole) >= (1 if width > 2 else 2)
    else:
        enough = len([n for n in whole if n != last]) >= 2
    if not enough:
        return None
    many = len(whole) > 1
    shown = ", ".join(map(str, whole[:5])) + (
        f" and {len(whole) - 5} more" if len(whole) > 5 else ""
    )
    reason = (
        f"a quoted cell runs from line {line} to line {last}, and "
        f"{'lines' if many else 'line'} {shown} in it {'read' if many else 'reads'} alone as a "
        f"whole row of {width} cells: most likely a quote opened on line {line} is not closed "
        f"there and swallowed the rows after it, up to a stray quote on line {last}; lines "
        f"{line}-{last} are not imported: correct the quotes in the file and import it again"
    )
    return RawRow(line, header, [], reason, tap.raw())


_EMAIL, _NUMBER, _TEXT, _EMPTY = "email", "number", "text", "empty"
_EMAIL_LIKE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_NUMBER_LIKE = re.compile(r"[+(]?\d[\d\s()./:-]*")


def _kind(cell: str) -> str:
    """What a first cell holds, to compare with another line's: an email, a number (an id, a
    phone, a date), other text, or nothing."""
    cell = cell.strip()
    if not cell:
        return _EMPTY
    if _EMAIL_LIKE.fullmatch(cell):
        return _EMAIL
    if _NUMBER_LIKE.fullmatch(cell):
        return _NUMBER
    return _TEXT


def _cells_alone(text: str, delimiter: str) -> list[str]:
    """The cells one physical line splits into, read as a row of its own ([] when it does not
    read)."""
    try:
        return next(csv.reader([text.rstrip("\r\n")], delimiter=delimiter), [])
    except csv.Error:
        return []


def stray_bytes(line: int, header: tuple[str, ...], tap: LineTap) -> RawRow:
    """The row holding a byte that is not UTF-8, in a file read as UTF-8, as an error row."""
    where = line + tap.stray[0]
    found = _ESCAPED.search(tap.taken[tap.stray[0]])
    byte = ord(found.group()) - 0xDC00 if found is not None else 0
    which = "the row" if where == line else f"line {where}"
    reason = (
        f"{which} is not valid UTF-8 (a byte 0x{byte:02x}) in a file read as UTF-8: most "
        "likely it was pasted from a file in another encoding (such as cp1252); correct "
        "it in the file (save the file as UTF-8) and import it again. Passing --encoding "
        "would misread the file's other lines"
    )
    return RawRow(line, header, [], reason, tap.raw())
