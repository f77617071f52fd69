"""A bounded memo of a pure function of one string (``Memo``), used by the normalizers."""

from __future__ import annotations

import enum
from typing import Final, Generic, TypeVar

_V = TypeVar("_V")


class _Miss(enum.Enum):
    MISS = 0


MISS: Final = _Miss.MISS  # what ``Memo.get`` answers for a string it does not hold


class Memo(Generic[_V]):
    """A bounded memo of a pure function of one string, for values that are strings, booleans
    or ``None``.

    Why not ``functools.lru_cache``: the cycle collector walks every entry of every lru cache
    on each full collection (its keys and values), and an import makes a full collection every
    few thousand rows. A plain dict holding only strings, booleans and ``None`` is never
    tracked by the collector, so a memo of per-record values (an email, a phone) costs nothing
    there. It is emptied when full (``size`` entries); a value is recomputed after that, so
    every answer is the function's own.
    """

    __slots__ = ("_size", "_values")

    def __init__(self, size: int = 65536) -> None:
        self._size = size
        self._values: dict[str, _V] = {}

    def get(self, key: str) -> _V | _Miss:
        """The remembered value, or ``MISS``."""
        return self._values.get(key, MISS)

    def put(self, key: str, value: _V) -> _V:
        """Remember ``value`` for ``key``; return it."""
        if len(self._values) >= self._size:
            self._values.clear()
        self._values[key] = value
        return value
