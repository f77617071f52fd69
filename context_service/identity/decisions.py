"""People's decisions: merge profiles, split a profile, accept or reject a review item.

Each writes pair decisions (``identity_decisions``, keyed by record ids) and re-clusters the
records through the engine, inside the caller's transaction. Because the engine treats these
decisions as binding on every later run, the incremental path and ``resolve --all`` both keep
respecting them. The caller bumps versions and rebuilds the snapshots of ``changed``, which
names live profiles only: an id a decision merged away (its records joined another profile) is
reported in ``merged_away`` with the profile it resolves to now, so a caller that refreshes
every id in ``changed`` never meets an alias or a 404.

What each decision records, and why that is enough for ``cluster.cluster_component``:

* **merge** of profiles P1..Pn: ``together`` for *every* pair of records across two of them, and
  any ``apart`` among their records dropped. Two clusters join unless a pair across them
  conflicts; a ``together`` pair never conflicts, and records inside one profile were already
  consistent with each other, so the union holds even when a member of P1 conflicts with a
  member of P2 by name, or a mailbox they share now counts as shared. The oldest profile id
  survives; the others become aliases of it.
* **split** of records S out of profile P: ``apart`` for every pair across S and the rest (that
  is what keeps any later record that resembles both sides from pulling them back together),
  ``together`` across the split removed, and nothing recorded among S: a split says only that
  S is not the rest, never that S is one person. S clusters by its own evidence (and earlier
  people's decisions), exactly as ``resolve --all`` would cluster it, so it usually leaves as
  one new profile, but records nothing links leave as several (``split_off`` names each; merge
  them to hold them together). Refusing instead would push the person undoing a mistaken merge
  of two profiles to record that those two are one person. The part with more of P's own
  records (on a tie, the one with the oldest record) keeps P's id. The rest is re-clustered as
  the evidence says.
* **review** of a pair (a, b): accept records ``together``, reject records ``apart``, for that
  pair only; the engine then places the other records as the evidence allows, and a record
  carrying either name of an accepted pair is no second person beside the other
  (``cluster._Excused``). (To force two whole profiles together, merge them.)

A refused decision (``DecisionConflict``) names the records it is about by vendor key and, for
a caller that may see them, by display name (the person's name, else their first email). A
caller that may not (``with_names=False``) gets the keys alone: the refusal is read by the same
person who is shown no names in the queue.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Annotated, Literal

import msgspec

from context_service.errors import ContextServiceError, shown
from context_service.identity.audit import (
    RecordRef,
    ReviewView,
    live_profile,
    record_refs,
    review_item,
)
from context_service.identity.binding import PairDecision, Watch, decisions_touching
from context_service.identity.cluster import Pair, pair_of
from context_service.identity.decision_log import log_decisions
from context_service.identity.engine import Engine
from context_service.identity.pairs import Thresholds
from context_service.models import RecordKey
from context_service.store import profiles

MAX_PAIRS = 50_000  # pair decisions one merge or split may write
MAX_MERGE = 50  # profiles one merge may name, from the API or the command line alike
Decision = Literal["together", "apart"]


class DecisionRejected(ContextServiceError):
    """A merge, split or review decision that cannot be applied as asked."""

    status_code = 400
    title = "Invalid decision"


class DecisionConflict(DecisionRejected):
    """The decision contradicts the current state (a record not in the profile, an item
    already decided)."""

    status_code = 409
    title = "Conflicts with the current profiles"


class DecisionTooLarge(DecisionRejected):
    """The decision is valid but would leave nothing or write too much."""

    status_code = 422
    title = "Decision cannot be applied"


class ReviewItemNotFound(DecisionRejected):
    """No review item has this id."""

    status_code = 404
    title = "Review item not found"


Changed = Annotated[
    list[str],
    msgspec.Meta(
        description="The live profiles whose members changed: each has a new version and a "
        "fresh snapshot, and can be read by its id. Never an id that stopped being a profile "
        "(those are in merged_away)."
    ),
]


class MergedAway(msgspec.Struct):
    """A profile id that stopped being a profile in this decision: its records joined
    another profile. ``resolves_to`` is the live profile the id now resolves to as an alias,
    or ``null`` when it names no one any more (its records went to several profiles evenly)."""

    id: str
    resolves_to: str | None


MergedAwayList = Annotated[
    list[MergedAway],
    msgspec.Meta(
        description="Ids that were profiles before this decision and are not now, each with "
        "the profile it resolves to (refresh that one instead)."
    ),
]


class MergeResult(msgspec.Struct):
    """The surviving profile, the ids that became its aliases (``merged``), the live profiles
    changed, and every id that stopped being a profile with where it now resolves."""

    profile_id: str
    merged: list[str]
    changed: Changed
    merged_away: MergedAwayList


class SplitResult(msgspec.Struct):
    """Where the records went: ``split_off`` holds the records named (several profiles when
    nothing links them to each other), ``remaining`` the rest;
    a split can let the rest join another profile, so ``merged_away`` may name ids too."""

    profile_id: str
    split_off: list[str]
    remaining: list[str]
    changed: Changed
    merged_away: MergedAwayList


class ReviewResult(msgspec.Struct):
    """The decided item and the profiles now holding its two records."""

    item: ReviewView
    profile_ids: list[str]
    changed: Changed
    merged_away: MergedAwayList


def merge_profiles(
    conn: sqlite3.Connection,
    profile_ids: Sequence[str],
    decided_by: str,
    now: str,
    region: str,
    thresholds: Thresholds | None = None,
    note: str | None = None,
    *,
    with_names: bool = True,
) -> MergeResult:
    """Make these profiles (ids or aliases) one; the oldest id survives. At most
    ``MAX_MERGE`` ids: a longer list is far likelier a script's mistake than one customer.
    ``with_names=False`` leaves records' display names out of a refusal's text."""
    if len(profile_ids) > MAX_MERGE:
        raise DecisionTooLarge(
            f"a merge names at most {MAX_MERGE} profiles, not {len(profile_ids)}; "
            "merge fewer at a time"
        )
    live = sorted({live_profile(conn, pid) for pid in profile_ids})
    if len(live) < 2:
        raise DecisionRejected("a merge needs at least two different profiles")
    groups = profiles.members_of(conn, live)
    together = [
        pair_of(x, y)
        for i, first in enumerate(live)
        for second in live[i + 1 :]
        for x in groups[first]
        for y in groups[second]
    ]
    _check_size(len(together))
    records = [rid for pid in live for rid in groups[pid]]
    _drop_within(conn, records, "apart")
    _record(conn, together, "together", decided_by, now, note)
    engine = Engine(conn, region, now, thresholds)
    watch = Watch(conn, engine.reach(records))
    survivor = profiles.oldest(conn, set(live))
    for other in live:
        if other != survivor:
            profiles.merge_into(conn, survivor, other, now)
    touched = engine.recluster(records) | set(live)
    _check_binding(conn, watch, together, "this merge", "Split the profiles first.", with_names)
    changed, merged_away = _outcome(conn, touched)
    return MergeResult(
        profile_id=survivor,
        merged=[pid for pid in live if pid != survivor],
        changed=changed,
        merged_away=merged_away,
    )


def split_profile(
    conn: sqlite3.Connection,
    profile_id: str,
    records: Sequence[RecordKey],
    decided_by: str,
    now: str,
    region: str,
    thresholds: Thresholds | None = None,
    note: str | None = None,
    *,
    with_names: bool = True,
) -> SplitResult:
    """Take these member records out of the profile: they leave as the evidence clusters them
    (one profile of their own, several where nothing links them, or the profile of records the
    evidence links them to), kept apart from the rest. ``with_names=False`` leaves records'
    display names out of a refusal's text."""
    live = live_profile(conn, profile_id)
    members = set(profiles.members(conn, live))
    leaving = _member_ids(conn, records, members, live)
    rest = sorted(members - set(leaving))
    if not leaving:
        raise DecisionRejected("name at least one record to split off")
    if not rest:
        raise DecisionTooLarge(
            f"splitting off every record of {live} would leave it empty; split off fewer"
        )
    apart = [pair_of(x, y) for x in leaving for y in rest]
    _check_size(len(apart))
    _record(conn, apart, "apart", decided_by, now, note)
    # Nothing is recorded or forgotten among the leaving records (an earlier ``apart`` between
    # two of them stands): they cluster by their own evidence.
    engine = Engine(conn, region, now, thresholds)
    watch = Watch(conn, engine.reach(members))
    touched = engine.recluster(sorted(members)) | {live}
    _check_binding(conn, watch, apart, "this split", "Merge the profiles first.", with_names)
    after = profiles.profiles_of(conn, sorted(members))
    changed, merged_away = _outcome(conn, touched)
    return SplitResult(
        profile_id=live,
        split_off=sorted({after[rid] for rid in leaving if rid in after}),
        remaining=sorted({after[rid] for rid in rest if rid in after}),
        changed=changed,
        merged_away=merged_away,
    )


def decide_review(
    conn: sqlite3.Connection,
    item_id: int,
    accept: bool,
    decided_by: str,
    now: str,
    region: str,
    thresholds: Thresholds | None = None,
    note: str | None = None,
    revision: str | None = None,
    *,
    with_names: bool = True,
) -> ReviewResult:
    """Accept (the two records are one person) or reject (they are not) an open review item.

    ``revision``, when given, is the item's ``revision`` as its reviewer read it: an item that
    asks another question since (a record changed, a profile moved) is refused (409).
    ``with_names=False`` leaves records' display names out of a refusal's text."""
    row = conn.execute("SELECT a, b, status FROM review_items WHERE id = ?", (item_id,)).fetchone()
    if row is None:
        raise ReviewItemNotFound(_missing_item(conn, item_id))
    a, b, status = int(row[0]), int(row[1]), str(row[2])
    if status != "open":
        raise DecisionConflict(f"review item {item_id} is already {status}")
    if revision is not None:
        _check_revision(conn, item_id, revision, with_names)
    # Marked before re-clustering: the engine replaces the open items of the records it touches.
    conn.execute(
        "UPDATE review_items SET status = ?, decided_by = ?, decided_at = ? WHERE id = ?",
        ("accepted" if accept else "rejected", decided_by, now, item_id),
    )
    _record(conn, [pair_of(a, b)], "together" if accept else "apart", decided_by, now, note)
    engine = Engine(conn, region, now, thresholds)
    watch = Watch(conn, engine.reach([a, b]))
    touched = engine.recluster([a, b])
    verb = "accepting" if accept else "rejecting"
    _check_binding(
        conn,
        watch,
        [pair_of(a, b)],
        f"{verb} review item {item_id}",
        "Merge or split their profiles to decide about them as wholes, or decide the item "
        "the other way.",
        with_names,
    )
    item = review_item(conn, item_id)
    assert item is not None  # updated above, in this transaction
    changed, merged_away = _outcome(conn, touched)
    return ReviewResult(
        item=item,
        profile_ids=sorted(set(profiles.profiles_of(conn, [a, b]).values())),
        changed=changed,
        merged_away=merged_away,
    )


def _check_revision(
    conn: sqlite3.Connection, item_id: int, revision: str, with_names: bool
) -> None:
    """Refuse (409) to decide an item whose question is no longer the one its reviewer read."""
    item = review_item(conn, item_id)
    if item is None or item.revision == revision:
        return
    raise DecisionConflict(
        f"review item {item_id} changed since it was read (revision {shown(revision)}, now "
        f"{item.revision}): it now asks about {_label(item.a, with_names)} and "
        f"{_label(item.b, with_names)}, "
        f"p={item.probability:.3f}, {item.reason}. Read it again and decide that question",
        item=item_id,
        revision=item.revision,
    )


def _outcome(conn: sqlite3.Connection, touched: set[str]) -> tuple[list[str], list[MergedAway]]:
    """Split the profiles a decision touched into the live ones (``changed``: a caller can
    refresh each) and the ids that are profiles no more, with what each resolves to now."""
    live = profiles.versions_of(conn, touched)
    gone = sorted(touched - set(live))
    return sorted(live), [MergedAway(pid, profiles.canonical_id(conn, pid)) for pid in gone]


def _missing_item(conn: sqlite3.Connection, item_id: int) -> str:
    """Why there is no item ``item_id``: never created, or taken off the queue since."""
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'review_items'").fetchone()
    if row is None or item_id > int(row[0]):
        return f"no review item {item_id}"
    return (
        f"review item {item_id} is no longer in the queue: its records have since been merged, "
        "split, changed or deleted, so the question it asked no longer stands; list the queue "
        "again"
    )


def _member_ids(
    conn: sqlite3.Connection, keys: Sequence[RecordKey], members: set[int], profile_id: str
) -> list[int]:
    found: list[int] = []
    for key in dict.fromkeys(keys):
        row = conn.execute(
            "SELECT id FROM records WHERE source = ? AND kind = ? AND external_id = ?",
            (key.source, key.kind, key.external_id),
        ).fetchone()
        if row is None or int(row[0]) not in members:
            raise DecisionConflict(
                f"{key.source}:{key.kind}:{key.external_id} is not a member of {profile_id}",
                record={"source": key.source, "kind": key.kind, "external_id": key.external_id},
            )
        found.append(int(row[0]))
    return sorted(found)


def _check_binding(
    conn: sqlite3.Connection,
    watch: Watch,
    own: Sequence[Pair],
    what: str,
    hint: str,
    with_names: bool,
) -> None:
    """Refuse (409, rolling the decision back) a decision that the re-clustering did not
    honour, or that made it drop an earlier decision: two people's decisions contradict."""
    broken = watch.broken(own)
    if not broken:
        return
    (x, y), decision = broken[0]
    refs = record_refs(conn, [x, y])
    first, second = _label(refs[x], with_names), _label(refs[y], with_names)
    if (x, y) not in set(own):
        cause = (
            f"would undo an earlier decision: {first} and {second} were put "
            f"{decision.decision} by {decision.decided_by} at {decision.decided_at}"
        )
    elif decision.decision == "together":
        blocker = _blocker(conn, refs[x], refs[y], with_names)
        cause = f"cannot put {first} with {second}: {blocker}"
    else:
        cause = f"cannot keep {first} apart from {second}: people's decisions hold them together"
    raise DecisionConflict(
        f"{what} {cause}. {hint}",
        records=[_key_of(refs[x]), _key_of(refs[y])],
    )


def _blocker(conn: sqlite3.Connection, one: RecordRef, other: RecordRef, with_names: bool) -> str:
    """Why two records could not join: a person's ``apart`` across their profiles, else a
    conflict between their members."""
    mine = set(profiles.members(conn, one.profile_id)) if one.profile_id else {one.record_id}
    theirs = set(profiles.members(conn, other.profile_id)) if other.profile_id else set()
    for (a, b), decision in sorted(decisions_touching(conn, mine).items()):
        if decision.decision == "apart" and (a in theirs or b in theirs):
            return _kept_apart(conn, a, b, decision, with_names)
    held = _held_with(conn, [(one.record_id, mine), (other.record_id, theirs)], with_names)
    if held is not None:
        return held
    return (
        "their profiles hold records whose names or dates of birth conflict, and people's "
        "decisions hold those records with them"
    )


def _held_with(
    conn: sqlite3.Connection, sides: Sequence[tuple[int, set[int]]], with_names: bool
) -> str | None:
    """The earlier ``together`` decision that holds one of the two records in its profile,
    described, so a reviewer knows which decision stands in the way (``None``: there is
    none). Each side is a record and the members of its profile."""
    for record_id, side in sides:
        for (a, b), decision in sorted(decisions_touching(conn, [record_id]).items()):
            partner = b if a == record_id else a
            if decision.decision == "together" and partner in side:
                refs = record_refs(conn, [record_id, partner])
                return (
                    f"{_label(refs[record_id], with_names)} was put together with "
                    f"{_label(refs[partner], with_names)} by {decision.decided_by} at "
                    f"{decision.decided_at}, and names or dates of birth conflict across them"
                )
    return None


def _kept_apart(
    conn: sqlite3.Connection, a: int, b: int, decision: PairDecision, with_names: bool
) -> str:
    refs = record_refs(conn, [a, b])
    return (
        f"{_label(refs[a], with_names)} and {_label(refs[b], with_names)} were kept apart by "
        f"{decision.decided_by} at {decision.decided_at}"
    )


def _label(ref: RecordRef, with_names: bool) -> str:
    """A record as a refusal names it: ``source:kind:id``, with its display name only when
    the caller may see names (the key alone is enough to find the record again)."""
    name = f" ({ref.name})" if with_names and ref.name else ""
    return f"{ref.source}:{ref.kind}:{ref.external_id}{name}"


def _key_of(ref: RecordRef) -> dict[str, str]:
    return {"source": ref.source, "kind": ref.kind, "external_id": ref.external_id}


def _check_size(pairs: int) -> None:
    if pairs > MAX_PAIRS:
        raise DecisionTooLarge(
            f"this decision would record {pairs} pair decisions (at most {MAX_PAIRS}); "
            "decide about fewer records at a time"
        )


def _record(
    conn: sqlite3.Connection,
    pairs: Iterable[Pair],
    decision: Decision,
    decided_by: str,
    now: str,
    note: str | None,
) -> None:
    """Record a decision about each pair, replacing any earlier one about it; the log keeps
    every decision as taken (``identity_decision_log``: the audit's history)."""
    rows = [(a, b, decision, decided_by, now, note) for a, b in sorted(set(pairs))]
    conn.executemany(
        "INSERT INTO identity_decisions (a, b, decision, decided_by, decided_at, note) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (a, b) DO UPDATE SET "
        "decision = excluded.decision, decided_by = excluded.decided_by, "
        "decided_at = excluded.decided_at, note = excluded.note",
        rows,
    )
    log_decisions(conn, rows)


def _drop_within(conn: sqlite3.Connection, record_ids: Sequence[int], decision: Decision) -> None:
    """Forget every ``decision`` between two of these records."""
    ids = sorted(set(record_ids))
    for start in range(0, len(ids), 400):
        chunk = ids[start : start + 400]
        marks = ",".join("?" * len(chunk))
        conn.execute(
            f"DELETE FROM identity_decisions WHERE decision = ? AND a IN ({marks}) "
            f"AND b IN (SELECT value FROM json_each(?))",
            [decision, *chunk, msgspec.json.encode(ids).decode()],
        )


__all__ = [
    "MAX_MERGE",
    "MAX_PAIRS",
    "DecisionConflict",
    "DecisionRejected",
    "DecisionTooLarge",
    "MergeResult",
    "MergedAway",
    "ReviewItemNotFound",
    "ReviewResult",
    "SplitResult",
    "decide_review",
    "merge_profiles",
    "split_profile",
]
