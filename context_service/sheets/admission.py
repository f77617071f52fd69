"""Which of a spreadsheet row's records an import takes: a record an earlier row of the same
file holds for someone else refuses the row; one it repeats for the same person is not sent
again (the first row's copy is kept, import after import), and the report says when the repeat
carries other data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from context_service.models import Mapped
from context_service.sheets.fields import PERSON_KIND

_KEY_NAMES = {"row": "external_id", "order": "order_number", "ticket": "ticket_id"}
# What says who a person row is: rows under one key that disagree on these are two people.
_WHO_FIELDS = ("email", "first_name", "last_name", "name")


class _Seen(msgspec.Struct, array_like=True, gc=False):
    """A record an earlier row held: its first line, and digests of who it is and of its data."""

    line: int
    who: int
    data: int


class Admission(msgspec.Struct):
    """Which of a row's records to ingest, and what the report says about the others."""

    fresh: list[int]  # indices into the row's records, in order
    conflict: str | None = None  # why the whole row is refused
    repeats: list[str] = []  # a record repeated with other data: the earlier row's is kept


class RecordsSeen:
    """The records this import took from its rows so far (by kind and key).

    A later row that holds one of them for **someone else** (a person row under the same
    ``external_id`` with another email or name; an order, ticket or subscription number on
    another person's row) is refused: stored under one key, the two would become one record,
    and the first one's orders would be shown to the second. A row that repeats a record for
    the same person is imported without that record again, so the first row's copy is the
    one kept, import after import, and importing the file again changes nothing; when the
    repeat carries other data (a new address on a later order row), the report says so.
    """

    def __init__(self) -> None:
        self._first: dict[tuple[str, str], _Seen] = {}
        self.rejected: set[str] = set()  # the keys of the rows it rejected (``sheets.retired``)
        self.last_line = 0  # the last line it read a row at (``sheets.retired``)

    def holds(self, kind: str, key: str) -> bool:
        """Whether a row this import took holds the record of ``kind`` under ``key``."""
        return (kind, key) in self._first

    def taken(self) -> set[tuple[str, str]]:
        """The (kind, key) of every record this import took from its rows."""
        return set(self._first)

    def keys(self, kind: str) -> set[str]:
        """The keys of the records of ``kind`` that this import took from its rows."""
        return {key for seen_kind, key in self._first if seen_kind == kind}

    def admit(
        self, line: int, items: list[tuple[str, dict[str, Any]]], mapped: list[Mapped]
    ) -> Admission:
        """Sort the row's records at ``line`` into new ones (then remembered) and repeats."""
        self.last_line = max(self.last_line, line)
        first = self._first
        fresh: list[tuple[int, tuple[str, str], _Seen]] = []
        repeats: list[str] = []
        for index, ((kind, payload), record) in enumerate(zip(items, mapped, strict=True)):
            key = (record.key.kind, record.key.external_id)
            seen = first.get(key)
            if seen is None:
                fresh.append((index, key, _Seen(line, _who(kind, payload), _data(payload))))
            elif seen.who != _who(kind, payload):  # digests are pure: computed only when asked
                return Admission([], _conflict_reason(kind, payload, record, seen.line))
            elif seen.data != _data(payload):
                repeats.append(_repeat_note(kind, payload, record, seen.line))
        for _, key, now in fresh:
            first[key] = now
        return Admission([index for index, _, _ in fresh], None, repeats)


def _who(kind: str, payload: Mapping[str, Any]) -> int:
    """A digest of whose record this is, the same for values that differ only in case or
    spacing: a person's email and name, an activity's owner (the person key of its row)."""
    if kind != PERSON_KIND:
        return hash(payload.get("owner"))  # a person key, already in one form
    get = payload.get
    return hash(tuple([_folded(value) if (value := get(field)) else "" for field in _WHO_FIELDS]))


def _folded(value: Any) -> str:
    return "" if not value else " ".join(str(value).split()).casefold()


def _data(payload: Mapping[str, Any]) -> int:
    """A digest of a payload's data, ``updated_at`` aside (a row read in every import)."""
    if "updated_at" in payload:
        items = sorted((k, v) for k, v in payload.items() if k != "updated_at")
    else:  # the same list: keys are unique, so sorting never compares two values
        items = sorted(payload.items())
    try:
        return hash(tuple(items))
    except TypeError:  # a nested value (a JSONL list): compared by its text
        return hash(repr(items))


def _what(kind: str, payload: Mapping[str, Any], record: Mapped) -> str:
    key_name = _KEY_NAMES.get(kind)
    if kind == PERSON_KIND and "external_id" not in payload:
        return "the same person (every field but birth_date alike)"
    if key_name is not None:
        return f"{key_name} {record.key.external_id!r}"
    return f"{kind} {payload.get('plan', '')!r} of the same person"


def _conflict_reason(kind: str, payload: Mapping[str, Any], record: Mapped, first: int) -> str:
    """How the report says that a row holds a record an earlier row holds for someone else."""
    whose = "another email or name" if kind == PERSON_KIND else "another person"
    return (
        f"{_what(kind, payload, record)} is already on line {first} for {whose}; this row is "
        "not imported (give a different person their own id)"
    )


def _repeat_note(kind: str, payload: Mapping[str, Any], record: Mapped, first: int) -> str:
    """How the report says that a row repeats a record with other data (the first is kept)."""
    return (
        f"{_what(kind, payload, record)} is already on line {first} with other data; "
        f"line {first}'s is kept"
    )
