"""Merged-away profile ids (aliases) follow the records they held.

When two profiles merge, the id that goes away becomes an alias of the survivor and remembers
the records that were its own then (``profile_alias_members``, ``taken_over``): not those it had
itself taken over from ids merged into it earlier, which those ids remember. An alias may also
follow a record it never held (``taken_over`` 0): the survivor of a vendor merge of one of its
records. It follows that record like the others, but the profile holding it did not take it
over from the alias, so it stays that profile's own (``remembered_for``). Whenever profiles
change, each alias concerned is pointed at the profile that now holds most of its records. An
alias whose records are all gone, or split evenly, names no one: it stops resolving (a 404 is
better than naming the wrong person) but goes dormant rather than being forgotten
(``dormant_alias_members``), so that when its records come back (a restore at the source, a
split undone) it names them again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from context_service.store.keys import chunks, marks


def remember(
    conn: sqlite3.Connection, alias: str, record_ids: Iterable[int], *, taken_over: bool = False
) -> None:
    """Add these records to those the alias named (what ``follow_aliases`` follows):
    ``taken_over`` when the profile the alias merged into took them over from it (its own
    records), otherwise records it only follows (a vendor merge's survivor)."""
    conn.executemany(
        "INSERT INTO profile_alias_members (alias, record_id, taken_over) VALUES (?, ?, ?) "
        "ON CONFLICT (alias, record_id) DO UPDATE SET taken_over = max(taken_over, "
        "excluded.taken_over)",
        [(alias, record_id, int(taken_over)) for record_id in sorted(set(record_ids))],
    )


def remembered_for(conn: sqlite3.Connection, profile_ids: Iterable[str]) -> dict[str, set[int]]:
    """For each profile, the records that the aliases pointing at it remember as taken over:
    those it took over when the aliases' profiles merged into it (not those an alias only
    follows, a vendor merge's survivor that was the profile's own), and those a dormant alias
    (split evenly) remembers as taken over by the profile it named when it went to sleep
    (``host``): they still count for that sleeping id, so a later split never leaves the
    profile's id naming only records it took over."""
    found: dict[str, set[int]] = {}
    for chunk in chunks(sorted(set(profile_ids))):
        rows = conn.execute(
            "SELECT a.profile_id, m.record_id FROM profile_aliases a "
            "JOIN profile_alias_members m ON m.alias = a.alias "
            f"WHERE a.profile_id IN ({marks(chunk)}) AND m.taken_over = 1 UNION "
            "SELECT d.host, d.record_id FROM dormant_alias_members d "
            f"WHERE d.host IN ({marks(chunk)}) AND d.taken_over = 1",
            chunk * 2,
        )
        for pid, rid in rows:
            found.setdefault(str(pid), set()).add(int(rid))
    return found


def counted_for(conn: sqlite3.Connection, profile_id: str, record_id: int) -> str:
    """The id a member record of ``profile_id`` counts for: the alias pointing at the profile
    that remembers it as taken over (the innermost, merged away first, where several do), else
    the profile's own id. A split moves that alias with the person's records."""
    row = conn.execute(
        "SELECT a.alias FROM profile_aliases a JOIN profile_alias_members m ON m.alias = a.alias "
        "WHERE a.profile_id = ? AND m.record_id = ? AND m.taken_over = 1 "
        "ORDER BY a.created_at, a.rowid LIMIT 1",
        (profile_id, record_id),
    ).fetchone()
    return profile_id if row is None else str(row[0])


def carry_remembered(conn: sqlite3.Connection, merged: int, survivor: int) -> None:
    """The vendor merged record ``merged`` into ``survivor``: every alias that remembered the
    merged-away record, live or dormant, remembers the survivor instead, so it follows the
    same person. It follows the survivor without having held it: the survivor stays its
    profile's own record (unless the alias remembered it as taken over already)."""
    for table in ("profile_alias_members", "dormant_alias_members"):
        extra = ", alias_created_at, host" if table == "dormant_alias_members" else ""
        conn.execute(
            f"INSERT OR IGNORE INTO {table} (alias, record_id, taken_over{extra}) "
            f"SELECT alias, ?, 0{extra} FROM {table} WHERE record_id = ?",
            (survivor, merged),
        )
        conn.execute(f"DELETE FROM {table} WHERE record_id = ?", (merged,))


def follow_aliases(
    conn: sqlite3.Connection, profile_ids: Iterable[str], dead: Iterable[int] = ()
) -> dict[str, str | None]:
    """Point each alias concerned at the profile that now holds most of the records it held
    when it was merged away; return the aliases moved (``None``: gone dormant).

    The aliases concerned point at one of ``profile_ids``, remember a record that one of them
    holds, or remember one of the ``dead`` records (just deleted). An alias whose records are
    all gone, or split evenly between profiles, goes dormant: it no longer names one person,
    and resolving to nothing (404) is better than naming the wrong one. A dormant alias that
    remembers a record one of ``profile_ids`` holds is revived when one profile holds most of
    its records again. Aliases that remember no records (made before migration 0014) stay
    where they point.

    Without this, an id merged into another customer's profile and then split off again would
    go on resolving to the other customer: their context, their erasure.
    """
    ids = sorted(set(profile_ids))
    moved: dict[str, str | None] = {}
    last: dict[str, tuple[str, bool]] = {}
    for alias, (target, counts) in _alias_holders(conn, ids, dead).items():
        heir = _heir(counts)
        if heir != target:
            moved[alias] = heir
            last[alias] = (target, not counts)
    conn.executemany(
        "UPDATE profile_aliases SET profile_id = ? WHERE alias = ?",
        [(heir, alias) for alias, heir in moved.items() if heir is not None],
    )
    _put_to_sleep(conn, [alias for alias, heir in moved.items() if heir is None], last)
    for alias, heir in _revivable(conn, ids).items():
        _wake(conn, alias, heir)
        moved[alias] = heir
    return moved


def _heir(counts: dict[str, int]) -> str | None:
    """The one profile holding most of an alias's records, or ``None`` (none, or a tie)."""
    best = max(counts.values(), default=0)
    leaders = sorted(pid for pid, n in counts.items() if n == best)
    return leaders[0] if best and len(leaders) == 1 else None


def _put_to_sleep(
    conn: sqlite3.Connection, aliases: list[str], last: dict[str, tuple[str, bool]]
) -> None:
    """Stop these aliases resolving, keeping the records each remembers (when it was made, and
    the profile it named: ``remembered_for``) for a revival.

    ``last``: where each pointed, and whether all its records are gone (none held by anyone).
    The deleted records that counted for such an alias (``profiles.remove_member``) count for
    that profile from now on: nothing split them from it, so a later erasure request for them
    still reaches it. An alias split evenly names no one, and its deleted records neither."""
    for alias in aliases:
        target, all_gone = last.get(alias, ("", False))
        if all_gone and target:
            conn.execute(
                "UPDATE departed_members SET profile_id = ? WHERE profile_id = ?", (target, alias)
            )
        conn.execute(
            "INSERT OR IGNORE INTO dormant_alias_members "
            "(alias, record_id, alias_created_at, taken_over, host) "
            "SELECT am.alias, am.record_id, a.created_at, am.taken_over, a.profile_id "
            "FROM profile_alias_members am "
            "JOIN profile_aliases a ON a.alias = am.alias WHERE am.alias = ?",
            (alias,),
        )
        conn.execute("DELETE FROM profile_aliases WHERE alias = ?", (alias,))


def _revivable(conn: sqlite3.Connection, profile_ids: list[str]) -> dict[str, str]:
    """Dormant aliases remembering a record that one of these profiles holds, and that one
    profile now holds most of their records: each with that profile."""
    concerned: set[str] = set()
    for chunk in chunks(profile_ids):
        rows = conn.execute(
            "SELECT DISTINCT d.alias FROM dormant_alias_members d JOIN profile_members m "
            f"ON m.record_id = d.record_id WHERE m.profile_id IN ({marks(chunk)})",
            chunk,
        )
        concerned.update(str(row[0]) for row in rows)
    counts: dict[str, dict[str, int]] = {}
    for chunk in chunks(sorted(concerned)):
        rows = conn.execute(
            "SELECT d.alias, m.profile_id, count(*) FROM dormant_alias_members d "
            "JOIN profile_members m ON m.record_id = d.record_id "
            f"WHERE d.alias IN ({marks(chunk)}) GROUP BY d.alias, m.profile_id",
            chunk,
        )
        for alias, holder, count in rows:
            counts.setdefault(str(alias), {})[str(holder)] = int(count)
    found = {alias: _heir(held) for alias, held in counts.items()}
    return {alias: heir for alias, heir in found.items() if heir is not None}


def _wake(conn: sqlite3.Connection, alias: str, heir: str) -> None:
    """Make a dormant alias resolve to ``heir`` again, remembering the same records."""
    conn.execute(
        "INSERT OR IGNORE INTO profile_aliases (alias, profile_id, created_at) "
        "SELECT alias, ?, min(alias_created_at) FROM dormant_alias_members WHERE alias = ? "
        "GROUP BY alias",
        (heir, alias),
    )
    conn.execute(
        "INSERT OR IGNORE INTO profile_alias_members (alias, record_id, taken_over) "
        "SELECT alias, record_id, taken_over FROM dormant_alias_members WHERE alias = ?",
        (alias,),
    )
    conn.execute("DELETE FROM dormant_alias_members WHERE alias = ?", (alias,))


def _alias_holders(
    conn: sqlite3.Connection, profile_ids: list[str], dead: Iterable[int]
) -> dict[str, tuple[str, dict[str, int]]]:
    """For each alias concerned (see ``follow_aliases``) that remembers records: where it
    points, and how many of its records each profile holds now."""
    found: dict[str, tuple[str, dict[str, int]]] = {}
    for chunk in chunks(sorted(_aliases_concerned(conn, profile_ids, dead))):
        rows = conn.execute(
            "SELECT a.alias, a.profile_id, m.profile_id, count(m.record_id) "
            "FROM profile_aliases a JOIN profile_alias_members am ON am.alias = a.alias "
            "LEFT JOIN profile_members m ON m.record_id = am.record_id "
            f"WHERE a.alias IN ({marks(chunk)}) GROUP BY a.alias, m.profile_id",
            chunk,
        )
        for alias, target, holder, count in rows:
            counts = found.setdefault(str(alias), (str(target), {}))[1]
            if holder is not None:
                counts[str(holder)] = int(count)
    return found


def _aliases_concerned(
    conn: sqlite3.Connection, profile_ids: list[str], dead: Iterable[int]
) -> set[str]:
    found: set[str] = set()
    for chunk in chunks(profile_ids):
        rows = conn.execute(
            f"SELECT alias FROM profile_aliases WHERE profile_id IN ({marks(chunk)}) UNION "
            "SELECT am.alias FROM profile_alias_members am JOIN profile_members m "
            f"ON m.record_id = am.record_id WHERE m.profile_id IN ({marks(chunk)})",
            chunk * 2,
        )
        found.update(str(row[0]) for row in rows)
    for ids in chunks(sorted(set(dead))):
        rows = conn.execute(
            f"SELECT alias FROM profile_alias_members WHERE record_id IN ({marks(ids)})",
            ids,
        )
        found.update(str(row[0]) for row in rows)
    return found
