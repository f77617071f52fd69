"""What every sheet reader (``readers``) yields, and the cell and row conversions they share.

``RawRow`` is one row as read and ``Sheet`` the open file that yields them; ``cell_text`` and
``xlsx_cell_text`` write a spreadsheet or JSON cell as text; ``_header`` and ``_csv_row`` turn
a row of cells into a ``RawRow`` checked against the header (CSV and XLSX). See ``readers``
for the readers themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from typing import Any, Literal, NamedTuple, Protocol

Format = Literal["csv", "xlsx", "jsonl"]


class RawRow(NamedTuple):
    """One row as read: ``cells[i]`` belongs to column ``header[i]``."""

    line: int
    header: tuple[str, ...]
    cells: list[str | None]
    error: str | None = None
    raw: Any = None
    nested: tuple[str, ...] = ()  # JSONL columns whose value is a list of objects (cell None)
    # XLSX cells (column index, formula) holding a formula that was never calculated (cell None)
    uncalculated: tuple[tuple[int, str], ...] = ()


class Sheet(Protocol):
    """An open spreadsheet file."""

    format: Format
    total: int | None
    blank_rows: int
    sheet_name: str | None  # the worksheet read (XLSX); None for a text file
    other_sheets: tuple[str, ...]  # the workbook's other visible sheets holding data: not read
    header: tuple[str, ...] | None  # once ``rows`` read it (CSV, XLSX); JSONL: None

    def rows(self) -> Iterator[RawRow]:
        """The rows after the header, in file order."""
        ...

    def done(self) -> int:
        """Progress so far, in the unit of ``total``."""
        ...

    def close(self) -> None:
        """Release the file."""
        ...


def cell_text(value: object) -> str | None:
    """A spreadsheet or JSON cell as text: dates in ISO-8601, whole floats without ``.0``."""
    if value is None or isinstance(value, str):
        return value or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


_EXCEL_DIGITS = ".15g"  # Excel shows and computes with 15 significant digits
_PADDING_LITERALS = frozenset("-/() ")


def xlsx_cell_text(value: object, number_format: str | None) -> str | None:
    """A worksheet cell as the text Excel shows for it, where that differs from ``cell_text``:
    a computed number at Excel's 15 significant digits (``=3*1.1`` is stored as
    ``3.3000000000000003`` and shown as ``3.3``), and a whole number under a zero-padded format
    with its leading zeros (a ZIP code ``02134`` under ``00000``, ``02134-0123`` under
    ``00000-0000``)."""
    if isinstance(value, float) and not value.is_integer() and 1e-4 <= abs(value) < 1e15:
        return format(value, _EXCEL_DIGITS)
    if isinstance(value, int | float) and not isinstance(value, bool) and number_format:
        padded = _zero_padded(value, number_format)
        if padded is not None:
            return padded
    return cell_text(value)


def _zero_padded(value: float, number_format: str) -> str | None:
    """``value`` written into a format made of ``0`` digits and separators, or None for any
    other format (or a value that is not a whole, non-negative number)."""
    pattern = number_format.replace("\\", "").replace('"', "")
    slots = pattern.count("0")
    if not slots or any(c != "0" and c not in _PADDING_LITERALS for c in pattern):
        return None
    if value < 0 or not float(value).is_integer():
        return None
    digits = str(int(value)).zfill(slots)
    extra, rest = digits[: len(digits) - slots], iter(digits[len(digits) - slots :])
    return extra + "".join(next(rest) if c == "0" else c for c in pattern)


def _header(cells: list[str] | list[str | None]) -> tuple[str, ...]:
    """The header row's names, up to its last non-blank one (see ``readers``' docstring)."""
    names = [cell or "" for cell in cells]
    while names and not names[-1].strip():
        names.pop()
    return tuple(names)


def _csv_row(line: int, header: tuple[str, ...], cells: list[str]) -> RawRow:
    width = len(header)
    if _repeats_header(header, cells):
        return RawRow(line, header, [], _HEADER_AGAIN, cells)
    if len(cells) > width and any(cell.strip() for cell in cells[width:]):
        return RawRow(
            line,
            header,
            [],
            f"the row has {len(cells)} cells but the header has {width} columns",
            cells,
        )
    # Each cell without NUL characters (debris of a broken export, never part of a value), and
    # None when empty; written inline, as it runs for every cell of the file.
    padded: list[str | None] = [
        (cell.replace("\x00", "") if "\x00" in cell else cell) or None for cell in cells[:width]
    ]
    if len(padded) < width:
        padded.extend([None] * (width - len(padded)))
    return RawRow(line, header, padded)


_HEADER_AGAIN = (
    "this row repeats the header row (files joined together?): it names no one, so it is "
    "not imported"
)


def _folded(name: str) -> str:
    return name.strip().casefold()


def _repeats_header(header: tuple[str, ...], cells: list[str]) -> bool:
    """Whether the row is the header again (case and spacing aside), as where two exports were
    joined into one file: read as data, it would be a person named after the columns."""
    if not cells or not header or _folded(cells[0]) != _folded(header[0]):
        return False  # most rows: their first cell alone tells
    width = len(header)
    padded = [*cells[:width], *[""] * (width - len(cells))]
    return [_folded(cell) for cell in padded] == [_folded(name) for name in header] and not any(
        cell.strip() for cell in cells[width:]
    )
