"""One line of a JSON Lines file as a row (``json_row``), for ``readers.JsonlSheet``."""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec

from context_service.sheets.raw_rows import RawRow, cell_text

_decode_json = msgspec.json.Decoder().decode


def _not_utf8(line: int, data: bytes, exc: UnicodeDecodeError) -> RawRow:
    text = data.decode("utf-8", errors="replace").strip()
    reason = (
        f"not valid UTF-8 (a byte 0x{exc.object[exc.start]:02x}); JSON Lines are UTF-8: if the "
        "whole file is in another encoding, pass --encoding (for example cp1252)"
    )
    return RawRow(line, (), [], reason, text)


def json_row(line: int, data: bytes) -> RawRow:
    """One JSON Lines line as a row: its object's keys are the columns (nested objects dotted,
    lists of scalars joined with ``;``), or an error row saying why it is none."""
    text = data.decode("utf-8", errors="replace").strip()
    try:
        return _object_row(line, data, text)
    except RecursionError:  # msgspec's decoder, or the walks below, on a line nested too deeply
        return RawRow(line, (), [], "nested too deeply to read as a row", text)


def _object_row(line: int, data: bytes, text: str) -> RawRow:
    try:
        obj = _decode_json(data)
    except msgspec.DecodeError as exc:
        return RawRow(line, (), [], f"not valid JSON: {exc}", text)
    except UnicodeDecodeError as exc:  # a string holding bytes that are not UTF-8
        return _not_utf8(line, data, exc)
    if not isinstance(obj, dict):
        return RawRow(line, (), [], f"expected a JSON object, got {type(obj).__name__}", text)
    if (twice := _repeated_key(text, obj)) is not None:
        return RawRow(line, (), [], f"the key {twice!r} appears twice: which value is meant?", text)
    columns: dict[str, str | None] = {}
    nested: list[str] = []
    _flatten(obj, "", columns, nested)
    raw = text if nested else None  # kept for the rejection when a nested column is mapped
    return RawRow(line, tuple(columns), list(columns.values()), None, raw, tuple(nested))


_KEY = re.compile(r'"\s*:')


def _repeated_key(text: str, obj: dict[str, Any]) -> str | None:
    """A key that an object of the line holds twice (``{"email": "a@x", "email": "b@x"}``:
    the decoder keeps the last value and would drop the other silently), or ``None``. The
    line is parsed again only when it has more ``":`` than the decoded objects have keys."""
    if len(_KEY.findall(text)) <= _keys_in(obj):
        return None
    twice: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in items:
            if key in seen:
                twice.append(key)
            seen.add(key)
        return dict(items)

    try:
        json.loads(text, object_pairs_hook=pairs)
    except (ValueError, RecursionError):  # what the decoder read, this one may not: no answer
        return None
    return twice[0] if twice else None


def _keys_in(value: Any) -> int:
    if isinstance(value, dict):
        return len(value) + sum(_keys_in(v) for v in value.values())
    if isinstance(value, list):
        return sum(_keys_in(v) for v in value)
    return 0


def _flatten(
    obj: dict[str, Any], prefix: str, columns: dict[str, str | None], nested: list[str]
) -> None:
    """``{"a": {"b": 1}}`` -> column ``a.b``; a list of scalars joins with ``;``; a list that
    holds objects or lists becomes an empty cell whose column is listed in ``nested``."""
    for key, value in obj.items():
        column = f"{prefix}{key}"
        if isinstance(value, dict):
            _flatten(value, f"{column}.", columns, nested)
        elif not isinstance(value, list):
            columns[column] = cell_text(value)
        elif all(not isinstance(v, dict | list) for v in value):
            columns[column] = "; ".join(filter(None, (cell_text(v) for v in value))) or None
        else:
            columns[column] = None
            nested.append(column)
