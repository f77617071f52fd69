"""Why a profile holds its records: the audit trail and the review queue, read from the store.

``profile_audit`` lists a profile's members, every link that holds it together (rule,
probability, per-field evidence, who or what decided and when), the people's decisions touching
its records and the open review items about them. ``list_review`` pages through the review
queue. Both only read; the writes (merge, split, review decisions) live in ``decisions``.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Iterable
from typing import Any, Literal

import msgspec

from context_service.errors import ContextServiceError, InvalidIdentifier, ProfileNotFound, shown
from context_service.store import profiles
from context_service.store.keys import chunks, marks
from context_service.store.records import decode_mapped

ReviewStatus = Literal["open", "accepted", "rejected"]
Evidence = dict[str, dict[str, float | str]]
_READ_ATTEMPTS = 5  # reads of a profile's audit before giving up on it settling
PROFILE_ID_FORM = re.compile(r"prof_[0-9A-Za-z]{26}")  # what ``new_profile_id`` makes


class RecordRef(msgspec.Struct):
    """One person record: its vendor key, a display name and the profile holding it now."""

    record_id: int
    source: str
    kind: str
    external_id: str
    name: str | None
    profile_id: str | None


class Member(msgspec.Struct):
    """A member record of a profile; ``linked_at`` is when its current link was decided."""

    record: RecordRef
    fetched_at: str
    linked_at: str | None


class AuditLink(msgspec.Struct):
    """A pair that holds the profile together.

    ``decided_by`` is ``auto`` for the engine, else the person's label (``api``, ``cli:alice``);
    a person's link has ``rule`` ``manual`` and carries their note.
    """

    record: RecordRef
    other: RecordRef | None
    rule: str
    probability: float
    evidence: Evidence
    decided_by: str
    decided_at: str
    note: str | None = None


class DecisionView(msgspec.Struct):
    """A person's decision about two records: ``together`` or ``apart``."""

    a: RecordRef
    b: RecordRef
    decision: str
    decided_by: str
    decided_at: str
    note: str | None


class ReviewView(msgspec.Struct):
    """A review item: two records the engine could not decide about, and its evidence.

    An open item keeps its id while its records change, but then asks another question (a
    nameless record that gained a name). ``revision`` names the question as shown: the records
    and their names, the probability, reason and evidence. A decision that sends it back is
    refused (409) when the item no longer asks what its reviewer read.
    """

    id: int
    a: RecordRef
    b: RecordRef
    probability: float
    reason: str
    evidence: Evidence
    status: str
    created_at: str
    decided_by: str | None
    decided_at: str | None
    revision: str


class ReviewPage(msgspec.Struct):
    """One page of the review queue (oldest item first): the items after item ``after``,
    skipping ``offset`` of them. ``total`` counts every item with this status. ``next_after``
    is the ``after`` of the next page (``null`` on the last one): unlike an offset, it misses
    no item while the pages before are being decided."""

    status: str
    total: int
    limit: int
    offset: int
    items: list[ReviewView]
    after: int = 0
    next_after: int | None = None


class ProfileAudit(msgspec.Struct):
    """Everything that explains one profile. ``requested_id`` differs when an alias was given."""

    profile_id: str
    requested_id: str
    aliases: list[str]
    version: int
    created_at: str
    updated_at: str
    members: list[Member]
    links: list[AuditLink]
    decisions: list[DecisionView]
    open_reviews: list[ReviewView]
    # Every decision people took about a pair with one of its records, oldest first, also
    # those a later decision replaced (``decisions`` holds the ones in force).
    history: list[DecisionView] = []


def check_profile_id(profile_id: str) -> str:
    """``profile_id`` when it has the form of a profile id (or an alias, which is one), else
    ``InvalidIdentifier`` (400), as ``GET /v1/context`` answers: a caller's typo or a hostile
    string is a bad request, not an unknown customer."""
    if PROFILE_ID_FORM.fullmatch(profile_id) is None:
        raise InvalidIdentifier(f"{shown(profile_id)} is not a profile id (prof_ + 26 characters)")
    return profile_id


def live_profile(conn: sqlite3.Connection, profile_id: str) -> str:
    """The live id of a profile id or alias; ``ProfileNotFound`` (404) when unknown."""
    live = profiles.canonical_id(conn, profile_id)
    if live is None:
        raise ProfileNotFound(f"no profile {shown(profile_id)}")
    return live


class AuditUnsettled(ContextServiceError):
    """The profile changed under every attempt to read its audit (writes kept committing)."""

    status_code = 503
    title = "Profile is changing"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": "1"}


def profile_audit(conn: sqlite3.Connection, profile_id: str) -> ProfileAudit:
    """The audit trail of a profile (an alias resolves to the profile it was merged into).

    The reader connection runs each query on its own, so a write (a merge, a sync) may commit
    between two of them. The audit is read again until the profile's row is the same before
    and after: a profile merged away meanwhile answers as its survivor, never as a mix of
    before and after.
    """
    for _ in range(_READ_ATTEMPTS):
        audit = _read_audit(conn, profile_id)
        if audit is not None:
            return audit
    raise AuditUnsettled(f"profile {shown(profile_id)} kept changing while being read; ask again")


def _read_audit(conn: sqlite3.Connection, profile_id: str) -> ProfileAudit | None:
    """One attempt at ``profile_audit``; ``None`` when the profile changed while being read."""
    live = live_profile(conn, profile_id)
    stamp = _stamp(conn, live)
    if stamp is None:  # merged away or erased since it was resolved
        return None
    version, created_at, updated_at = stamp
    aliases = [
        str(alias)
        for (alias,) in conn.execute(
            "SELECT alias FROM profile_aliases WHERE profile_id = ? ORDER BY created_at, alias",
            (live,),
        )
    ]
    member_ids = profiles.members(conn, live)
    link_rows = conn.execute(
        "SELECT record_id, other_record_id, rule, score, evidence, decided_by, decided_at "
        "FROM identity_links WHERE profile_id = ? ORDER BY id",
        (live,),
    ).fetchall()
    decision_rows = _touching(
        conn,
        "SELECT a, b, decision, decided_by, decided_at, note FROM identity_decisions "
        "WHERE a IN ({marks}) OR b IN ({marks})",
        member_ids,
    )
    review_rows = _touching(conn, OPEN_REVIEWS_TOUCHING_SQL, member_ids)
    history_rows = _touching(
        conn,
        "SELECT id, a, b, decision, decided_by, decided_at, note FROM identity_decision_log "
        "WHERE a IN ({marks}) OR b IN ({marks})",
        member_ids,
    )
    wanted = set(member_ids)
    wanted |= {int(x) for row in link_rows for x in row[:2] if x is not None}
    wanted |= {int(x) for row in decision_rows for x in row[:2]}
    wanted |= {int(x) for row in review_rows for x in row[1:3]}
    wanted |= {int(x) for row in history_rows for x in row[1:3]}
    refs = record_refs(conn, wanted)
    fetched = _fetched_at(conn, member_ids)
    if _stamp(conn, live) != stamp:
        return None
    # Another person's record named by a decision or an item may have been erased meanwhile
    # (its rows went with it): leave those rows out rather than fail.
    decision_rows = [r for r in decision_rows if int(r[0]) in refs and int(r[1]) in refs]
    review_rows = [r for r in review_rows if int(r[1]) in refs and int(r[2]) in refs]
    history_rows = sorted(r for r in history_rows if int(r[1]) in refs and int(r[2]) in refs)
    link_rows = [r for r in link_rows if int(r[0]) in refs]
    manual = {(int(r[0]), int(r[1])): r for r in decision_rows if r[2] == "together"}
    links = [_link(row, refs, manual) for row in link_rows]
    linked_at = {link.record.record_id: link.decided_at for link in links}
    return ProfileAudit(
        profile_id=live,
        requested_id=profile_id,
        aliases=aliases,
        version=int(version),
        created_at=str(created_at),
        updated_at=str(updated_at),
        members=[Member(refs[rid], fetched.get(rid, ""), linked_at.get(rid)) for rid in member_ids],
        links=links,
        decisions=sorted(
            (_decision(row, refs) for row in decision_rows),
            key=lambda d: (d.decided_at, d.a.record_id, d.b.record_id),
        ),
        open_reviews=sorted((_review(row, refs) for row in review_rows), key=lambda r: r.id),
        history=[_decision(row[1:], refs) for row in history_rows],
    )


def list_review(
    conn: sqlite3.Connection,
    status: ReviewStatus = "open",
    limit: int = 50,
    offset: int = 0,
    after: int = 0,
) -> ReviewPage:
    """A page of review items with this status, oldest first, with both records described:
    those with an id above ``after``, skipping ``offset`` of them."""
    total = conn.execute("SELECT count(*) FROM review_items WHERE status = ?", (status,))
    rows = conn.execute(
        f"SELECT {_REVIEW_COLUMNS} FROM review_items WHERE status = ? AND id > ? "
        "ORDER BY id LIMIT ? OFFSET ?",
        (status, after, limit + 1, offset),
    ).fetchall()
    more, rows = len(rows) > limit, rows[:limit]
    refs = record_refs(conn, {int(x) for row in rows for x in row[1:3]})
    return ReviewPage(
        status=status,
        total=int(total.fetchone()[0]),
        limit=limit,
        offset=offset,
        items=[_review(row, refs) for row in rows],
        after=after,
        next_after=int(rows[-1][0]) if more else None,
    )


def review_item(conn: sqlite3.Connection, item_id: int) -> ReviewView | None:
    """One review item by id, whatever its status."""
    row = conn.execute(
        f"SELECT {_REVIEW_COLUMNS} FROM review_items WHERE id = ?", (item_id,)
    ).fetchone()
    if row is None:
        return None
    return _review(row, record_refs(conn, {int(row[1]), int(row[2])}))


def record_refs(conn: sqlite3.Connection, record_ids: Iterable[int]) -> dict[int, RecordRef]:
    """Describe records by id: vendor key, display name and current profile."""
    found: dict[int, RecordRef] = {}
    for chunk in chunks(sorted(set(record_ids))):
        rows = conn.execute(
            "SELECT r.id, r.source, r.kind, r.external_id, r.mapped, m.profile_id FROM records r "
            "LEFT JOIN profile_members m ON m.record_id = r.id "
            f"WHERE r.id IN ({marks(chunk)})",
            chunk,
        )
        for rid, source, kind, external_id, mapped, profile_id in rows:
            found[int(rid)] = RecordRef(
                record_id=int(rid),
                source=str(source),
                kind=str(kind),
                external_id=str(external_id),
                name=_display_name(mapped),
                profile_id=None if profile_id is None else str(profile_id),
            )
    return found


_REVIEW_COLUMNS = (
    "id, a, b, probability, reason, evidence, status, created_at, decided_by, decided_at"
)
# The open review items naming one of some records. ``+status``: SQLite would otherwise read
# every open item of the queue through ``review_items_open`` and test each, instead of
# searching the ``a`` and ``b`` indexes (tests/store/test_query_plans.py).
OPEN_REVIEWS_TOUCHING_SQL = (
    f"SELECT {_REVIEW_COLUMNS} FROM review_items "
    "WHERE +status = 'open' AND (a IN ({marks}) OR b IN ({marks}))"
)


def _stamp(conn: sqlite3.Connection, profile_id: str) -> tuple[int, str, str] | None:
    """A profile's version, creation and update times; ``None`` once it is no profile."""
    row = conn.execute(
        "SELECT version, created_at, updated_at FROM profiles WHERE id = ?", (profile_id,)
    ).fetchone()
    return None if row is None else (int(row[0]), str(row[1]), str(row[2]))


def _display_name(blob: bytes | None) -> str | None:
    mapped = decode_mapped(blob)
    person = None if mapped is None else mapped.person
    if person is None:
        return None
    full = " ".join(p for p in (person.first_name, person.last_name) if p)
    return person.name or full or (person.emails[0] if person.emails else None)


def _fetched_at(conn: sqlite3.Connection, record_ids: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for chunk in chunks(record_ids):
        rows = conn.execute(
            f"SELECT id, fetched_at FROM records WHERE id IN ({marks(chunk)})", chunk
        )
        found.update((int(rid), str(at)) for rid, at in rows)
    return found


def _link(
    row: tuple[Any, ...], refs: dict[int, RecordRef], manual: dict[tuple[int, int], tuple[Any, ...]]
) -> AuditLink:
    record_id, other_id, rule, score, evidence, decided_by, decided_at = row
    link = AuditLink(
        record=refs[int(record_id)],
        other=None if other_id is None else refs.get(int(other_id)),
        rule=str(rule),
        probability=float(score),
        evidence=_evidence(evidence),
        decided_by=str(decided_by),
        decided_at=str(decided_at),
    )
    if other_id is not None and rule == "manual":
        pair = tuple(sorted((int(record_id), int(other_id))))
        decision = manual.get((pair[0], pair[1]))
        if decision is not None:  # the person who decided, not the engine's "person" marker
            link.decided_by, link.decided_at, link.note = decision[3], decision[4], decision[5]
    return link


def _decision(row: tuple[Any, ...], refs: dict[int, RecordRef]) -> DecisionView:
    a, b, decision, decided_by, decided_at, note = row
    return DecisionView(
        a=refs[int(a)],
        b=refs[int(b)],
        decision=str(decision),
        decided_by=str(decided_by),
        decided_at=str(decided_at),
        note=note,
    )


def _review(row: tuple[Any, ...], refs: dict[int, RecordRef]) -> ReviewView:
    item_id, a, b, probability, reason, evidence, status, created_at, by, at = row
    first, second, weights = refs[int(a)], refs[int(b)], _evidence(evidence)
    return ReviewView(
        id=int(item_id),
        a=first,
        b=second,
        probability=float(probability),
        reason=str(reason),
        evidence=weights,
        status=str(status),
        created_at=str(created_at),
        decided_by=by,
        decided_at=at,
        revision=review_revision(first, second, float(probability), str(reason), weights),
    )


def review_revision(
    a: RecordRef, b: RecordRef, probability: float, reason: str, evidence: Evidence
) -> str:
    """A short digest of the question a review item asks, as a reviewer is shown it: both
    records and their names, the probability, reason and evidence. Not the profiles holding
    the records, which every decision nearby moves without changing the question."""
    records = [(r.record_id, r.source, r.kind, r.external_id, r.name) for r in (a, b)]
    question = msgspec.json.encode([records, probability, reason, evidence], order="sorted")
    return hashlib.sha256(question).hexdigest()[:16]


def _evidence(text: str) -> Evidence:
    try:
        parsed = json.loads(text)
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _touching(conn: sqlite3.Connection, sql: str, record_ids: list[int]) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` (with ``{marks}`` twice) for every chunk of ids, without repeats."""
    seen: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for chunk in chunks(record_ids):
        for row in conn.execute(sql.format(marks=marks(chunk)), chunk * 2):
            seen[tuple(row)] = tuple(row)
    return list(seen.values())


__all__ = [
    "PROFILE_ID_FORM",
    "AuditLink",
    "AuditUnsettled",
    "DecisionView",
    "Member",
    "ProfileAudit",
    "RecordRef",
    "ReviewPage",
    "ReviewStatus",
    "ReviewView",
    "check_profile_id",
    "list_review",
    "live_profile",
    "profile_audit",
    "record_refs",
    "review_item",
    "review_revision",
]
