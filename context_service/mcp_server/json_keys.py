"""Keys that an object of a JSON document gives more than once (``{"email": a, "email": b}``).

A JSON decoder keeps the last value of a repeated key, while a gateway, WAF or log that reads
the first sees another customer (or, for an MCP ``params.name``, another tool) than the one
served. ``POST /v1/tools/call`` (``api.problems.refuse_repeated_keys``) and the MCP envelope
(``envelope.envelope_error``) refuse such a document with this one check. It is pure, with no
framework in it, so the API and the MCP layers can both use it (the API sits above MCP).
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from typing import Any

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class RepeatedKey:
    """A key given twice, and the path from the top of the document to the object that gives
    it twice: ``()`` for the top object, ``("params", "arguments")``, ``("items", 0)``."""

    key: str
    path: Path


class _Object(dict[str, Any]):
    """A decoded object that remembers the first key its text gave twice."""

    repeated: str | None = None


def repeated_key(text: bytes | str) -> RepeatedKey | None:
    """The repeated key of the outermost object of ``text`` (valid JSON) that repeats one (its
    first), or ``None`` when no object does.

    The fast decoder cannot tell; the standard library's parser hands each object's pairs over
    in order, so it can. ``None`` too for what the fast decoder took and this parser cannot
    read (a number of 5,000 digits); ``RecursionError`` for a document nested too deeply for
    it, as for the fast decoder: the caller refuses that body already."""
    repeats = False

    def pairs(items: list[tuple[str, Any]]) -> _Object:
        nonlocal repeats
        decoded = _Object(items)
        if len(decoded) < len(items):
            decoded.repeated = _first_repeat(items)
            repeats = True
        return decoded

    try:
        value = json.loads(text, object_pairs_hook=pairs)
    except ValueError:  # never a repeat the fast decoder could have dropped
        return None
    return _outermost(value) if repeats else None


def _first_repeat(items: list[tuple[str, Any]]) -> str | None:
    seen: set[str] = set()
    for key, _ in items:
        if key in seen:
            return key
        seen.add(key)
    return None


def _outermost(value: Any) -> RepeatedKey | None:
    """The repeat nearest the top of ``value``, breadth first: a repeated envelope key is
    reported before one in the arguments. A queue, not recursion: the document may be nested
    as deeply as the parser allows."""
    pending: deque[tuple[Any, Path]] = deque([(value, ())])
    while pending:
        item, path = pending.popleft()
        if isinstance(item, _Object):
            if item.repeated is not None:
                return RepeatedKey(item.repeated, path)
            pending.extend((child, (*path, key)) for key, child in item.items())
        elif isinstance(item, list):
            pending.extend((child, (*path, index)) for index, child in enumerate(item))
    return None
