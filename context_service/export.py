"""Export every resolved profile as JSONL or CSV.

One line (or row) per live profile: its id, its member records (``source``, ``kind``,
``external_id``) and the identity section of its materialized snapshot. Profiles are read in
chunks, so an export of a million profiles holds only one chunk in memory, all of them in one
read transaction: the export is the store as at one moment, even while a sync writes (WAL lets
it read without holding the writer off). Given the ``Store``, an export reads through a
connection of its own (``Store.reader``), never the shared reader ``store.conn``, which the
API uses from several threads at once: another thread's statements would interleave with the
export's, and its ``BEGIN``/``COMMIT`` would start or end theirs. ``subject_document`` does the
same for the export of everything held about one person (an access request).

A CSV cell that a spreadsheet would run as a formula (a customer named ``=HYPERLINK(...)``)
starts with ``'`` instead (``inert_cell``); JSONL keeps every value exactly as stored. A CSV
list cell (emails, phones, addresses, members) joins its items with ``"; "`` and writes a
``;`` or ``\\`` inside an item as ``\\;`` or ``\\\\`` (``list_cell``), so one address whose
street holds ``"; "`` is not read as two.

    context-service export --format jsonl > profiles.jsonl
    context-service export --format csv --output profiles.csv
"""

from __future__ import annotations

import contextlib
import csv
import re
import sqlite3
from collections.abc import Generator, Iterable, Iterator
from typing import Any, Literal, TextIO

import msgspec

from context_service.models import Address, IdentitySection
from context_service.snapshot.lookup import current_snapshot
from context_service.store import Store, profiles
from context_service.store.keys import chunks, marks
from context_service.trust import subject

Format = Literal["jsonl", "csv"]
FORMATS: tuple[Format, ...] = ("jsonl", "csv")
CSV_COLUMNS = (
    "profile_id",
    "name",
    "emails",
    "phones",
    "company",
    "addresses",
    "customer_since",
    "members",
)
_CHUNK = 500
LIST_SEPARATOR = "; "  # between the items of a CSV list cell (``list_cell``)
# A cell a spreadsheet runs as a formula (OWASP "CSV injection"): one that starts with ``=``,
# ``+``, ``-`` or ``@``, or with a tab or carriage return (Excel skips them, then reads on).
_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
# ... except a plain number such as an E.164 phone list (``+14155550134; +442071838750``),
# which a spreadsheet can only read as a number, never as a call.
# Numbers a spreadsheet shows as they are: phones in E.164 (one, or several joined with "; ")
# and plain decimals. Arithmetic such as ``-2+3`` is not one: it would be computed.
_PLAIN_NUMBERS = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?(?:; \+?[0-9]+)*")


class ExportMember(msgspec.Struct):
    """One record that belongs to the profile."""

    source: str
    kind: str
    external_id: str


class ExportedProfile(msgspec.Struct):
    """What an export line holds for one profile."""

    profile_id: str
    members: list[ExportMember]
    identity: IdentitySection


class _IdentityOnly(msgspec.Struct):
    identity: IdentitySection = msgspec.field(default_factory=IdentitySection)


_decode_identity = msgspec.json.Decoder(_IdentityOnly).decode
_encode = msgspec.json.Encoder().encode


@contextlib.contextmanager
def read_transaction(source: Store | sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Every read of the block through the connection it yields sees the store as at one
    moment. Given the store, that is a connection of the block's own (``Store.reader``), safe
    whichever threads use the store meanwhile. Given a connection (an autocommit reader that
    only the calling thread uses: never a ``store.conn`` that other threads share), one
    ``BEGIN`` on it; inside a transaction already, the block joins it."""
    if isinstance(source, Store):
        with source.reader() as own:
            yield own
        return
    conn = source
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")  # it only read: ending it any way releases the snapshot


def exported_profiles(
    source: Store | sqlite3.Connection,
) -> Generator[ExportedProfile, None, None]:
    """Every live profile in creation order, with its members and snapshot identity, all read
    in one read transaction (``read_transaction``; see the module docstring); closing the
    generator early ends that transaction."""
    with read_transaction(source) as conn:
        yield from _chunked_profiles(conn)


def _chunked_profiles(conn: sqlite3.Connection) -> Iterator[ExportedProfile]:
    last_rowid = 0
    while True:
        rows = conn.execute(
            "SELECT rowid, id FROM profiles WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (last_rowid, _CHUNK),
        ).fetchall()
        if not rows:
            return
        last_rowid = int(rows[-1][0])
        ids = [str(row[1]) for row in rows]
        members = _members(conn, ids)
        identities = _identities(conn, ids)
        for profile_id in ids:
            yield ExportedProfile(
                profile_id=profile_id,
                members=members.get(profile_id, []),
                identity=identities.get(profile_id, IdentitySection()),
            )


def write_export(source: Store | sqlite3.Connection, out: TextIO, fmt: Format) -> int:
    """Write every profile to ``out`` in ``fmt``, as at one moment (``read_transaction``);
    return how many were written."""
    with read_transaction(source) as conn:  # ended here, also when the writing stops early
        if fmt == "jsonl":
            return _write_jsonl(conn, out)
        return _write_csv(conn, out)


def _write_jsonl(conn: sqlite3.Connection, out: TextIO) -> int:
    count = 0
    for profile in exported_profiles(conn):
        out.write(_encode(profile).decode())
        out.write("\n")
        count += 1
    return count


def _write_csv(conn: sqlite3.Connection, out: TextIO) -> int:
    # RFC 4180's CRLF: Python's writer quotes a field holding a character of the line
    # terminator, so a lone carriage return inside a value (which spreadsheets take for a row
    # break) is quoted too; with "\n" it went out bare and split its row.
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for profile in exported_profiles(conn):
        writer.writerow(csv_row(profile))
        count += 1
    return count


def subject_document(store: Store, profile_id: str) -> dict[str, Any]:
    """Everything held about the person ``profile_id`` names (``trust.subject``), read in one
    read transaction on a connection of its own (``Store.reader``): the store as at one moment,
    whichever threads use the store meanwhile.

    A snapshot queued for a rebuild is built first, through the store's shared reader, whose
    rebuilder (``build_queued_on_read``) builds it; the export's own connection has none, and
    its read transaction would not see a row built after it began."""
    live = profiles.canonical_id(store.conn, profile_id)
    if live is not None:
        current_snapshot(store.conn, live)
    with store.reader() as conn:
        return subject.subject_export(conn, profile_id)


def csv_row(profile: ExportedProfile) -> list[str]:
    """One CSV row: lists as ``list_cell``, members as ``source:kind:external_id``, every cell
    made inert for spreadsheets (``inert_cell``)."""
    identity = profile.identity
    cells = [
        profile.profile_id,
        identity.name or "",
        list_cell(identity.emails),
        list_cell(identity.phones),
        identity.company or "",
        list_cell(_address_line(a) for a in identity.addresses),
        identity.customer_since or "",
        list_cell(f"{m.source}:{m.kind}:{m.external_id}" for m in profile.members),
    ]
    return [inert_cell(cell) for cell in cells]


def list_cell(items: Iterable[str]) -> str:
    """A list as one CSV cell a person reads as it is: the items joined with ``"; "``, and
    each item's own ``\\`` and ``;`` written ``\\\\`` and ``\\;`` (an address ``Unit 4\\;
    Building B, Springfield``), so that every ``"; "`` not escaped separates two items."""
    return LIST_SEPARATOR.join(_escaped(item) for item in items)


def _escaped(item: str) -> str:
    return item.replace("\\", "\\\\").replace(";", "\\;")


def inert_cell(value: str) -> str:
    """``value`` as a spreadsheet shows it but never runs it: a cell that would start a formula
    (``=HYPERLINK(...)``, ``+cmd|...``, ``@SUM(...)``, customer-written names and companies) gets
    a leading ``'``, as OWASP advises; plain numbers (phones) are kept as they are."""
    if value.startswith(_FORMULA_LEADS) and not _PLAIN_NUMBERS.fullmatch(value):
        return "'" + value
    return value


def _address_line(address: Address) -> str:
    parts = (
        address.street,
        address.city,
        address.region,
        address.postcode,
        address.country,
    )
    return ", ".join(part for part in parts if part)


def _members(conn: sqlite3.Connection, profile_ids: list[str]) -> dict[str, list[ExportMember]]:
    record_ids = profiles.members_of(conn, profile_ids)
    wanted = sorted({rid for ids in record_ids.values() for rid in ids})
    keys: dict[int, ExportMember] = {}
    for chunk in chunks(wanted, _CHUNK):
        for rid, source, kind, external_id in conn.execute(
            f"SELECT id, source, kind, external_id FROM records WHERE id IN ({marks(chunk)})",
            chunk,
        ):
            keys[int(rid)] = ExportMember(str(source), str(kind), str(external_id))
    return {pid: [keys[rid] for rid in ids if rid in keys] for pid, ids in record_ids.items()}


def _identities(conn: sqlite3.Connection, profile_ids: list[str]) -> dict[str, IdentitySection]:
    rows = conn.execute(
        f"SELECT profile_id, json FROM snapshots WHERE profile_id IN ({marks(profile_ids)})",
        profile_ids,
    )
    return {str(pid): _decode_identity(blob).identity for pid, blob in rows}
