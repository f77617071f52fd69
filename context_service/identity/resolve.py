"""Apply identity decisions to the store, incrementally: one person-like record at a time.

``resolve_person`` is called inside the transaction that stored the record. It indexes the
record's identifiers, finds the records that share a strong one, links to the profiles whose
members all agree with it (no chaining through one weak link), merges when it links several
(the oldest id survives, the others become aliases), and returns the profiles whose snapshots
must be rebuilt.
"""

from __future__ import annotations

import json
import sqlite3

from context_service.identity.match import (
    RULE_SCORES,
    cluster_names_agree,
    link_rule,
    person_identifiers,
    xref_value,
)
from context_service.models import Mapped, RecordKey
from context_service.store import identifiers as ids
from context_service.store import profiles
from context_service.store.identifiers import Identifier
from context_service.store.records import record_ids_for_keys


class _Candidate:
    __slots__ = ("evidence", "profile_id", "record_id", "rule")

    def __init__(self, record_id: int, profile_id: str, rule: str, evidence: str) -> None:
        self.record_id = record_id
        self.profile_id = profile_id
        self.rule = rule
        self.evidence = evidence


def resolve_person(
    conn: sqlite3.Connection,
    record_id: int,
    mapped: Mapped,
    region: str,
    now: str,
    *,
    is_new: bool = False,
) -> set[str]:
    """Resolve one stored person-like record; return the ids of the profiles that changed.

    ``is_new`` says the record was just inserted: it has no profile and no identifiers yet.
    """
    current = None if is_new else profiles.profile_of(conn, record_id)
    if mapped.deleted or mapped.person is None:
        ids.replace_identifiers(conn, record_id, [], had_any=not is_new)
        return _detach(conn, record_id, current, now)
    wanted = person_identifiers(mapped.key, mapped.person, region)
    if current is not None and ids.identifiers_of(conn, record_id) == wanted:
        return {current}
    ids.replace_identifiers(conn, record_id, wanted, had_any=not is_new)
    if current is not None:
        return _recluster(conn, current, now)
    return _attach(conn, record_id, mapped.key, wanted, now)


def _detach(conn: sqlite3.Connection, record_id: int, current: str | None, now: str) -> set[str]:
    if current is None:
        return set()
    profiles.remove_member(conn, record_id)
    profiles.clear_links(conn, record_id)
    if profiles.delete_if_empty(conn, current):
        return {current}
    return _recluster(conn, current, now)


def _recluster(conn: sqlite3.Connection, profile_id: str, now: str) -> set[str]:
    """Rebuild one profile from its members: a changed identifier may split or join it."""
    member_ids = profiles.members(conn, profile_id)
    for member in member_ids:
        profiles.remove_member(conn, member)
        profiles.clear_links(conn, member)
    changed = {profile_id}
    first, *rest = member_ids
    profiles.set_member(conn, first, profile_id)
    for member in rest:
        key = _key_of(conn, member)
        changed |= _attach(conn, member, key, ids.identifiers_of(conn, member), now)
    return changed


def _key_of(conn: sqlite3.Connection, record_id: int) -> RecordKey:
    row = conn.execute(
        "SELECT source, kind, external_id FROM records WHERE id = ?", (record_id,)
    ).fetchone()
    return RecordKey(*row)


def _attach(
    conn: sqlite3.Connection, record_id: int, key: RecordKey, mine: set[Identifier], now: str
) -> set[str]:
    candidates = _candidates(conn, record_id, key, mine)
    my_name = next((i.value for i in mine if i.kind == "name"), None)
    accepted = [c for c in candidates if c.rule == "explicit_id" or _agrees(conn, c, my_name)]
    if not accepted:
        profile_id = profiles.create_profile(conn, now)
        profiles.set_member(conn, record_id, profile_id)
        _link(conn, profile_id, record_id, None, "new_profile", "{}", now)
        return {profile_id}
    survivor = profiles.oldest(conn, {c.profile_id for c in accepted})
    changed = {survivor}
    for absorbed in sorted({c.profile_id for c in accepted} - {survivor}):
        profiles.merge_into(conn, survivor, absorbed, now)
        changed.add(absorbed)
    profiles.set_member(conn, record_id, survivor)
    for cand in accepted:
        _link(conn, survivor, record_id, cand.record_id, cand.rule, cand.evidence, now)
    return changed


def _agrees(conn: sqlite3.Connection, cand: _Candidate, my_name: str | None) -> bool:
    names = [
        row[0]
        for row in conn.execute(
            # CROSS JOIN keeps profile_members as the outer loop: a few members, not all names.
            "SELECT i.value FROM profile_members m CROSS JOIN identifiers i "
            "ON i.record_id = m.record_id WHERE m.profile_id = ? AND i.kind = 'name'",
            (cand.profile_id,),
        )
    ]
    return cluster_names_agree(my_name, names)


def _candidates(
    conn: sqlite3.Connection, record_id: int, key: RecordKey, mine: set[Identifier]
) -> list[_Candidate]:
    other_ids = _sharing_records(conn, key, mine) - {record_id}
    owners = profiles.profiles_of(conn, sorted(other_ids))
    found: list[_Candidate] = []
    for other_id, profile_id in sorted(owners.items()):
        theirs = ids.identifiers_of(conn, other_id)
        rule = link_rule(mine, key, theirs, _key_of(conn, other_id))
        if rule is not None:
            evidence = json.dumps({"shared": rule[1]})
            found.append(_Candidate(other_id, profile_id, rule[0], evidence))
    return found


def _sharing_records(conn: sqlite3.Connection, key: RecordKey, mine: set[Identifier]) -> set[int]:
    found: set[int] = set()
    for ident in mine:
        if ident.strong and ident.kind in {"email", "phone"}:
            found.update(ids.records_with(conn, ident.kind, ident.value, strong_only=True))
    found.update(ids.records_with(conn, "xref", xref_value(key)))
    linked = [_key_from_xref(i.value) for i in mine if i.kind == "xref"]
    found.update(record_ids_for_keys(conn, [k for k in linked if k is not None]).values())
    return found


def _key_from_xref(value: str) -> RecordKey | None:
    parts = value.split(":", 2)
    return RecordKey(*parts) if len(parts) == 3 else None


def _link(
    conn: sqlite3.Connection,
    profile_id: str,
    record_id: int,
    other: int | None,
    rule: str,
    evidence: str,
    now: str,
) -> None:
    score = RULE_SCORES.get(rule, 1.0)
    profiles.add_link(
        conn,
        profiles.LinkRow(profile_id, record_id, other, rule, score, evidence, "auto", now),
    )
