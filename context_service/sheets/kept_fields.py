"""A file updates the fields it has columns for: a row whose ``external_id`` the source already
stores keeps the stored values of the person fields no column of the file feeds.

An export whose email column was renamed (``Contact mail``, reported as ignored), or a file of
phones alone keyed by ``external_id``, would otherwise store each row without the email, and
the profile would lose it (and may split). A blank cell in a column the file has still clears
its field: the column says what the row holds. Fields that belong together go together: a file
with any name column (``name``, ``first_name``, ``last_name``) keeps no stored name part, one
with any address column no stored address part. ``updated_at`` is the row's own version and is
never carried over. Rows keyed by a hash of their content (no ``external_id``) are new records
whenever their content differs, and keep nothing.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import msgspec

from context_service.errors import MappingError
from context_service.models import Mapped
from context_service.sheets.fields import ADDRESS_FIELDS, LINK_FIELDS, PERSON_KIND
from context_service.sheets.mapping import map_sheet_record
from context_service.store.keys import chunks, marks
from context_service.sync import RawPayload

# Fields kept, or not, as one: a file naming any of a group's fields has the whole group.
_GROUPS: tuple[tuple[str, ...], ...] = (
    ("email",),
    ("phone",),
    ("name", "first_name", "last_name"),
    ("company",),
    ADDRESS_FIELDS,
    ("customer_since",),
    ("birth_date",),
    *((field,) for field in LINK_FIELDS),
)


def absent_fields(fields: Iterable[str | None]) -> tuple[str, ...]:
    """The person fields a header with columns for ``fields`` leaves to the stored record."""
    present = set(fields)
    return tuple(field for group in _GROUPS if present.isdisjoint(group) for field in group)


class KeptFields:
    """The accepted rows of one batch that leave fields to the stored record, by payload."""

    def __init__(self) -> None:
        self.absent: dict[int, tuple[str, ...]] = {}

    def note(self, payload: Mapping[str, Any], absent: tuple[str, ...]) -> None:
        """Remember that ``payload`` (a person row with an ``external_id``) has no column for
        ``absent``."""
        if absent:
            self.absent[id(payload)] = absent

    def take(self) -> dict[int, tuple[str, ...]]:
        """What was noted since the last batch, forgotten here."""
        absent, self.absent = self.absent, {}
        return absent


def keep_stored(
    conn: sqlite3.Connection,
    batch: Sequence[RawPayload],
    absent: Mapping[int, tuple[str, ...]],
    remember: Callable[[dict[str, Any], Mapped], None],
) -> Counter[str]:
    """Fill each noted row of ``batch`` with the stored values of the fields its file has no
    column for, in place (in the batch's transaction, before it is ingested), and hand the
    row's new mapping to ``remember(payload, mapped)``. Returns how many rows kept each field."""
    wanted = [raw for raw in batch if id(raw.payload) in absent and raw.kind == PERSON_KIND]
    kept: Counter[str] = Counter()
    if not wanted:
        return kept
    ids = [raw.payload["external_id"] for raw in wanted]
    stored = _stored_payloads(conn, wanted[0].source, ids)
    for raw in wanted:
        old = stored.get(raw.payload["external_id"])
        if old is None:
            continue
        taken = {
            field: old[field]
            for field in absent[id(raw.payload)]
            if field in old and field not in raw.payload
        }
        if not taken:
            continue
        try:
            mapped = map_sheet_record(PERSON_KIND, {**raw.payload, **taken})
        except MappingError:  # a stored value the mapping no longer takes: left behind
            continue
        raw.payload.update(taken)
        remember(raw.payload, mapped)
        kept.update(taken.keys())
    return kept


def _stored_payloads(
    conn: sqlite3.Connection, source: str, external_ids: list[str]
) -> dict[str, dict[str, Any]]:
    """The live, mapped person rows ``source`` stores under these ids."""
    out: dict[str, dict[str, Any]] = {}
    for chunk in chunks(sorted(set(external_ids))):
        rows = conn.execute(
            "SELECT external_id, payload FROM records WHERE source = ? AND kind = ? "
            f"AND deleted = 0 AND error IS NULL AND external_id IN ({marks(chunk)})",
            [source, PERSON_KIND, *chunk],
        )
        for external_id, payload in rows:
            decoded = msgspec.json.decode(payload)
            if isinstance(decoded, dict):
                out[str(external_id)] = decoded
    return out
