"""Resolve changed person-like records against the store, a batch at a time.

For a batch of changes (new, updated or deleted person records) the engine:

1. normalizes each record once (``features_of``) and indexes its identifiers and blocking keys;
2. finds candidates in one query per few hundred keys, and decides each new pair
   (``pairs.decide``); link- and review-strength pairs are kept as edges;
3. re-clusters every connected component the batch touched (``cluster.cluster_component``),
   with the people's decisions (``identity_decisions``) binding;
4. maps clusters to profiles so ids stay stable: a cluster keeps the oldest profile most of its
   members had, profiles that lose every member to another cluster become aliases of it, and
   only a cluster with no profile of its own gets a new id;
5. records the links that justify each profile (``identity_links``) and the review items.

Everything runs inside the caller's transaction. The clusters depend only on the records and
decisions, so resolving one record at a time and ``rebuild`` (every record indexed, then
clustered, in ``identity.rebuild``) agree. Step 4 is ``identity.assign``.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping

import msgspec

from context_service.identity.assign import assign_profiles
from context_service.identity.candidates import candidate_pairs, value_holders
from context_service.identity.cluster import (
    NO_DECISIONS,
    ComponentResult,
    Decisions,
    Pair,
    Review,
    cluster_component,
    pair_of,
    review_reason,
)
from context_service.identity.features import Features, features_of
from context_service.identity.index_rows import (
    IndexRows,
    decode_features,
    decoded_features,
    index_rows,
)
from context_service.identity.links_and_reviews import write_links, write_reviews
from context_service.identity.model import MatchModel
from context_service.identity.pairs import Thresholds, crowded_value, decide
from context_service.identity.sql import chunks, placeholders
from context_service.identity.state import index_version, load_model, mark_index_current
from context_service.models import PersonFacet, RecordKey
from context_service.store import aliases, profiles


class PersonChange(msgspec.Struct, frozen=True):
    """A person-like record that was stored, changed or deleted (``facet`` is ``None``)."""

    record_id: int
    key: RecordKey
    facet: PersonFacet | None
    is_new: bool = False


class Engine:
    """The identity engine bound to one connection, model and thresholds."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        region: str,
        now: str,
        thresholds: Thresholds | None = None,
        model: MatchModel | None = None,
    ) -> None:
        self.conn = conn
        self.region = region
        self.now = now
        self.thresholds = thresholds or Thresholds()
        self.model = model or load_model(conn)
        # Features read or written by this engine, by record id: one resolve reads the same
        # candidates' features for deciding pairs, clustering and reviews.
        self._seen: dict[int, Features] = {}
        self._decided_any: bool | None = None  # see _any_decisions
        if (
            index_version(conn) is None
            and conn.execute("SELECT 1 FROM identifiers LIMIT 1").fetchone() is None
        ):
            mark_index_current(conn)  # an empty index: everything will be indexed as now

    # --- the incremental path -----------------------------------------------------------

    def resolve(self, changes: list[PersonChange]) -> set[str]:
        """Apply a batch of changes; return every profile id whose members changed."""
        self._decided_any = None
        if not changes:
            return set()
        changes = _last_per_record(changes)
        new_features = {c.record_id: self._features(c) for c in changes}
        old_features = self._stored_features([c.record_id for c in changes if not c.is_new])
        unchanged = {
            rid
            for rid, f in new_features.items()
            if f is not None and rid in old_features and old_features[rid] == f
        }
        touched: set[str] = set()
        if unchanged:
            # Same features, so the same clusters; the lookup identifiers (a generic mailbox,
            # a name spelling) may still differ, so they are indexed again.
            kept = [c for c in changes if c.record_id in unchanged]
            for chunk in chunks(sorted(unchanged)):
                self.conn.execute(
                    f"DELETE FROM identifiers WHERE record_id IN ({placeholders(chunk)})", chunk
                )
            self._index(kept, {c.record_id: new_features[c.record_id] for c in kept})
            touched = set(profiles.profiles_of(self.conn, sorted(unchanged)).values())
        moving = [c for c in changes if c.record_id not in unchanged]
        if not moving:
            return touched
        old_ids = [c.record_id for c in moving if not c.is_new]
        seeds = set(self._neighbours(old_ids))
        self._forget(old_ids)
        live = {c.record_id: new_features[c.record_id] for c in moving}
        linked, settled = self._link(moving, live, old_features)
        seeds |= settled
        lone = self._lone(
            [c.record_id for c in moving if c.is_new and live[c.record_id] is not None], linked
        )
        touched |= self._new_profiles(lone)
        seeds |= {rid for rid, f in live.items() if f is not None} - set(lone)
        dead = {rid for rid, f in live.items() if f is None}
        changed = touched | self._recluster(seeds - dead, dead)
        # A changed record's profile needs a new snapshot even when its members stay the same.
        alive = sorted(rid for rid, f in live.items() if f is not None)
        return changed | set(profiles.profiles_of(self.conn, alive).values())

    def index_new(self, rows: IndexRows) -> None:
        """Index new records and decide their pairs (edges), clustering nothing; ``rows`` are
        their index rows (``index_rows``, worked out in this process or in ``resolve --all``'s
        worker process).

        ``resolve --all`` indexes every record this way, a chunk at a time, before it clusters
        any (``recluster``): a component clustered while some of its records were not yet
        indexed may merge profiles that the full component keeps apart, and the merged-away
        id would not come back when the rest arrives (a profile id would change)."""
        self._decided_any = None
        live = decoded_features(rows)
        self._write_index(rows)
        self._seen.update(live)
        self._link_keys(rows.keys, live, {})

    def _link(
        self,
        changes: list[PersonChange],
        live: Mapping[int, Features | None],
        old: Mapping[int, Features],
    ) -> tuple[set[int], set[int]]:
        """Index the changed records and store the edges of their new pairs; return the
        records of a stored pair and those whose edges a turned mailbox changed."""
        return self._link_keys(self._index(changes, live), live, old)

    def _link_keys(
        self,
        keys: Mapping[int, set[str]],
        live: Mapping[int, Features | None],
        old: Mapping[int, Features],
    ) -> tuple[set[int], set[int]]:
        """``_link`` once the records are indexed, with their blocking keys."""
        pairs, holders = candidate_pairs(self.conn, keys)
        crowded, turned = self._crowded(live, old, pairs, holders)
        linked = self._add_edges(
            {rid: f for rid, f in live.items() if f is not None}, pairs, crowded
        )
        settled = self._settle(turned, crowded) if turned else set()
        return linked | settled, settled

    def forget_features(self) -> None:
        """Drop the features this engine holds from earlier calls (they stay in the store):
        ``resolve --all`` calls it after each chunk, so memory does not grow with the store."""
        self._seen.clear()

    def _features(self, change: PersonChange) -> Features | None:
        if change.facet is None:
            return None
        return features_of(change.key, change.facet, self.region)

    # --- the index: identifiers, blocking keys, features -----------------------------------

    def _index(
        self, changes: list[PersonChange], live: Mapping[int, Features | None]
    ) -> dict[int, set[str]]:
        """Store identifiers, blocking keys and features; return each live record's keys."""
        people = [
            (change.record_id, change.key, change.facet, features)
            for change in changes
            if change.facet is not None and (features := live[change.record_id]) is not None
        ]
        rows = index_rows(people, self.region)
        self._write_index(rows)
        self._seen.update((rid, features) for rid, _, _, features in people)
        return rows.keys

    def _write_index(self, rows: IndexRows) -> None:
        self.conn.executemany(
            "INSERT OR IGNORE INTO identifiers (kind, value, record_id, strong) "
            "VALUES (?, ?, ?, ?)",
            rows.identifiers,
        )
        self.conn.executemany(
            "INSERT OR REPLACE INTO identity_features (record_id, features) VALUES (?, ?)",
            rows.features,
        )

    def _forget(self, record_ids: list[int]) -> None:
        for record_id in record_ids:
            self._seen.pop(record_id, None)
        for chunk in chunks(record_ids):
            marks = placeholders(chunk)
            self.conn.execute(f"DELETE FROM identifiers WHERE record_id IN ({marks})", chunk)
            self.conn.execute(f"DELETE FROM identity_features WHERE record_id IN ({marks})", chunk)
            self.conn.execute(f"DELETE FROM identity_edges WHERE a IN ({marks})", chunk)
            self.conn.execute(f"DELETE FROM identity_edges WHERE b IN ({marks})", chunk)

    def _stored_features(self, record_ids: Iterable[int]) -> dict[int, Features]:
        wanted = set(record_ids)
        found = {rid: self._seen[rid] for rid in wanted if rid in self._seen}
        for chunk in chunks(sorted(wanted - found.keys())):
            rows = self.conn.execute(
                "SELECT record_id, features FROM identity_features "
                f"WHERE record_id IN ({placeholders(chunk)})",
                chunk,
            )
            read = {int(rid): decode_features(blob) for rid, blob in rows}
            found.update(read)
            self._seen.update(read)
        return found

    # --- candidates and edges ------------------------------------------------------------

    def _lone(self, fresh: list[int], linked: set[int]) -> list[int]:
        """The freshly indexed records that are a profile of their own: no pair with another
        record, no profile yet and no person's decision (``resolve --all`` indexes records
        that have both), so there is nothing to cluster, link or review."""
        alone = sorted(set(fresh) - linked)
        if not alone:
            return []
        taken = set(profiles.profiles_of(self.conn, alone)) | self._decided(alone)
        return [rid for rid in alone if rid not in taken]

    def _decided(self, record_ids: list[int]) -> set[int]:
        decisions = self._decisions(record_ids)
        return {x for pair in decisions.together | decisions.apart for x in pair}

    def _new_profiles(self, record_ids: list[int]) -> set[str]:
        """Give each of these records a new profile of its own; return the profile ids."""
        ids = profiles.create_profiles(self.conn, len(record_ids), self.now)
        self.conn.executemany(
            "INSERT INTO profile_members (record_id, profile_id) VALUES (?, ?)",
            list(zip(record_ids, ids, strict=True)),
        )
        return set(ids)

    def _crowded(
        self,
        live: Mapping[int, Features | None],
        old: Mapping[int, Features],
        pairs: set[Pair],
        known: Mapping[str, list[int]],
    ) -> tuple[frozenset[str], dict[str, list[int]]]:
        """The crowded mailboxes and phones (``pairs.crowded_value``) among those the changed
        records hold or held, as the index now stands; and those that turned crowded or
        uncrowded with this batch, with their holders, whose pairs must be decided again.
        ``known``: the holders the candidate query read (every mailbox a live record holds);
        a phone is looked up only if its record has two candidates or more (``_values``)."""
        was: dict[str, list[Features]] = {}  # the batch's records' old versions, by value
        for rid in live.keys() & old.keys():
            for value in _values(old[rid]):
                was.setdefault(value, []).append(old[rid])
        partners = Counter(x for pair in pairs for x in pair)
        values = {v for rid, f in live.items() if f is not None for v in _values(f, partners[rid])}
        if not (values := values | was.keys()):
            return frozenset(), {}
        holders = {value: known[value] for value in values if value in known}
        holders.update(value_holders(self.conn, values - holders.keys()))
        features = self._stored_features({rid for ids in holders.values() for rid in ids})
        crowded: set[str] = set()
        turned: dict[str, list[int]] = {}
        for value, ids in holders.items():
            now = crowded_value(value, (features[rid] for rid in ids if rid in features))
            # No old version: the holders before are some of now's, a crowd only if now's is.
            before = (now or value in was) and crowded_value(
                value,
                [features[rid] for rid in ids if rid not in live and rid in features]
                + was.get(value, []),
            )
            if now:
                crowded.add(value)
            if now != before:
                turned[value] = ids
        return frozenset(crowded), turned

    def _settle(self, turned: Mapping[str, list[int]], crowded: frozenset[str]) -> set[int]:
        """Decide again the pairs of the holders of mailboxes and phones that turned crowded
        (review edges go, a link on a line turns a review) or uncrowded (back again); return
        the records whose edges changed, to be clustered again (their review items follow)."""
        ids = sorted({rid for holders in turned.values() for rid in holders})
        features = self._stored_features(ids)
        pairs = {
            pair_of(a, b)
            for holders in turned.values()
            for i, a in enumerate(holders)
            for b in holders[i + 1 :]
            if a != b
        }
        common = {v for a, b in pairs for v in _values(features[a]) & _values(features[b])}
        others = common - set(turned) - crowded
        extra = value_holders(self.conn, others)
        held = self._stored_features({rid for rs in extra.values() for rid in rs})
        crowded = crowded | {
            value
            for value, holders in extra.items()
            if crowded_value(value, (held[rid] for rid in holders if rid in held))
        }
        stored: dict[Pair, tuple[int, float]] = {}
        for chunk in chunks(ids):
            rows = self.conn.execute(
                "SELECT a, b, link, probability FROM identity_edges "
                f"WHERE a IN ({placeholders(chunk)})",
                chunk,
            )
            stored.update(((a, b), (link, p)) for a, b, link, p in rows if (a, b) in pairs)
        drop: list[Pair] = []
        new: list[tuple[int, int, int, float]] = []
        for a, b in sorted(pairs):
            result = decide(features[a], features[b], self.model, self.thresholds, crowded=crowded)
            edge = (int(result.link), result.probability)
            if (result.link or result.review) and stored.get((a, b)) != edge:
                new.append((a, b, *edge))
            elif not (result.link or result.review) and (a, b) in stored:
                drop.append((a, b))
        self.conn.executemany("DELETE FROM identity_edges WHERE a = ? AND b = ?", drop)
        self.conn.executemany(
            "INSERT OR REPLACE INTO identity_edges (a, b, link, probability) VALUES (?, ?, ?, ?)",
            new,
        )
        return {x for pair in drop for x in pair} | {x for a, b, _, _ in new for x in (a, b)}

    def _add_edges(
        self,
        live: Mapping[int, Features],
        pairs: set[Pair],
        crowded: frozenset[str] = frozenset(),
    ) -> set[int]:
        """Decide each new candidate pair (``candidate_pairs``) and store the link- and
        review-strength ones as edges; return every record of a pair that was stored."""
        known = dict(live)
        known.update(self._stored_features({x for p in pairs for x in p} - set(live)))
        rows = []
        for a, b in sorted(pairs):
            if a not in known or b not in known:
                continue
            result = decide(known[a], known[b], self.model, self.thresholds, crowded=crowded)
            if result.link or result.review:
                rows.append((a, b, int(result.link), result.probability))
        self.conn.executemany(
            "INSERT OR REPLACE INTO identity_edges (a, b, link, probability) VALUES (?, ?, ?, ?)",
            rows,
        )
        return {x for a, b, _, _ in rows for x in (a, b)}

    def _neighbours(self, record_ids: list[int]) -> set[int]:
        """The records an edge or a person's decision ties to these: what must be clustered
        again when these change or go (a record a merge tied in may hold the rest together)."""
        found: set[int] = set()
        sql = (
            "SELECT a, b FROM identity_edges WHERE a IN ({marks}) "
            "UNION ALL SELECT a, b FROM identity_edges WHERE b IN ({marks})"
        )
        if self._any_decisions():
            sql += (
                " UNION ALL SELECT a, b FROM identity_decisions WHERE a IN ({marks}) "
                "UNION ALL SELECT a, b FROM identity_decisions WHERE b IN ({marks})"
            )
        for chunk in chunks(record_ids):
            query = sql.format(marks=placeholders(chunk))
            for a, b in self.conn.execute(query, chunk * query.count("IN (")):
                found.update((int(a), int(b)))
        return found - set(record_ids)

    # --- components and clusters ---------------------------------------------------------

    def reach(self, record_ids: Iterable[int]) -> set[int]:
        """These records and every record in their components: what ``recluster`` may move."""
        self._decided_any = None
        found = set(record_ids)
        for component in self._components(set(found)):
            found |= component
        return found

    def recluster(self, record_ids: Iterable[int]) -> set[str]:
        """Cluster the components holding these records again (after a person's decision)."""
        self._decided_any = None
        return self._recluster(set(record_ids), set())

    def detach(self, record_ids: list[int]) -> set[str]:
        """Take records out of their profiles (their neighbours are re-clustered)."""
        self._decided_any = None
        seeds = self._neighbours(record_ids)
        self._forget(record_ids)
        return self._recluster(seeds - set(record_ids), set(record_ids))

    def _recluster(self, seeds: set[int], dead: set[int]) -> set[str]:
        before = profiles.profiles_of(self.conn, sorted(dead))
        changed = {before[rid] for rid in dead if rid in before}
        for rid in sorted(dead):
            profiles.remove_member(self.conn, rid)
            self.conn.execute("DELETE FROM identity_links WHERE record_id = ?", (rid,))
        components = self._components(seeds)
        features = self._stored_features(set().union(*components) if components else set())
        decisions = self._decisions(features)
        results = [self._cluster(c, features, decisions) for c in components]
        clusters = [cluster for result, _ in results for cluster in result.clusters]
        assignment = assign_profiles(self.conn, clusters, self.now)
        members = sorted(rid for _, ids in results for rid in ids)
        write_links(self.conn, self.now, [r for r, _ in results], assignment.profile_of, members)
        reviews = [review for result, _ in results for review in result.reviews]
        reviews += self._cross_reviews(members, assignment.profile_of, features, decisions)
        # The dead records' open items go too, even when no live record is left to cluster.
        write_reviews(self.conn, self.now, reviews, sorted(set(members) | dead))
        changed |= assignment.changed
        # Merged-away ids follow the records they named, or name no one once those are gone.
        aliases.follow_aliases(self.conn, changed, dead)
        profiles.delete_empty(self.conn, changed)
        return changed

    def _components(self, seeds: set[int]) -> list[set[int]]:
        """The connected components (link edges and 'together' decisions) holding the seeds."""
        nodes, frontier = set(seeds), sorted(seeds)
        edges: set[Pair] = set()
        decided = self._any_decisions()
        while frontier:
            found: set[Pair] = set()
            for chunk in chunks(frontier):
                marks = placeholders(chunk)
                sql = (
                    f"SELECT a, b FROM identity_edges WHERE link = 1 AND a IN ({marks}) "
                    f"UNION ALL SELECT a, b FROM identity_edges WHERE link = 1 AND b IN ({marks})"
                )
                if decided:
                    sql += (
                        " UNION ALL SELECT a, b FROM identity_decisions "
                        f"WHERE decision = 'together' AND (a IN ({marks}) OR b IN ({marks}))"
                    )
                rows = self.conn.execute(sql, chunk * (4 if decided else 2))
                found.update((int(a), int(b)) for a, b in rows)
            edges |= found
            reached = {x for pair in found for x in pair}
            frontier = sorted(reached - nodes)
            nodes |= reached
        return _connected(nodes, edges)

    def _cluster(
        self, component: set[int], features: Mapping[int, Features], decisions: Decisions
    ) -> tuple[ComponentResult, list[int]]:
        mine = {rid: features[rid] for rid in component if rid in features}
        if len(mine) == 1:  # a record alone: nothing to compare, decide or review
            return ComponentResult(clusters=[list(mine)], links=[], reviews=[]), list(mine)
        local = Decisions(
            together=frozenset(p for p in decisions.together if p[0] in mine and p[1] in mine),
            apart=frozenset(p for p in decisions.apart if p[0] in mine and p[1] in mine),
        )
        result = cluster_component(mine, self.model, self.thresholds, local)
        return result, sorted(mine)

    def _any_decisions(self) -> bool:
        """Whether a person has decided any pair (most stores: none, so the engine's
        queries for decisions can be skipped). Asked once per public call: decisions are
        written between calls (a person's merge, decisions carried over a vendor's merge),
        never during one."""
        if self._decided_any is None:
            row = self.conn.execute("SELECT 1 FROM identity_decisions LIMIT 1").fetchone()
            self._decided_any = row is not None
        return self._decided_any

    def _decisions(self, members: Iterable[int]) -> Decisions:
        if not self._any_decisions():
            return NO_DECISIONS
        ids = sorted(members)
        together: set[Pair] = set()
        apart: set[Pair] = set()
        for chunk in chunks(ids):
            marks = placeholders(chunk)
            for a, b, decision in self.conn.execute(
                f"SELECT a, b, decision FROM identity_decisions WHERE a IN ({marks}) "
                f"OR b IN ({marks})",
                chunk * 2,
            ):
                (together if decision == "together" else apart).add(pair_of(int(a), int(b)))
        return Decisions(together=frozenset(together), apart=frozenset(apart))

    def _cross_reviews(
        self,
        members: list[int],
        profile_of: Mapping[int, str],
        features: Mapping[int, Features],
        decisions: Decisions,
    ) -> list[Review]:
        """Review-strength pairs between records that ended in different profiles.

        Components follow only link-strength pairs, so a pair that is merely uncertain (two
        people with one name and one company) joins nothing and is asked about here.
        """
        mine = set(members)
        pairs: dict[Pair, float] = {}
        for chunk in chunks(members):
            marks = placeholders(chunk)
            for a, b, p in self.conn.execute(
                f"SELECT a, b, probability FROM identity_edges WHERE link = 0 AND a IN ({marks}) "
                f"UNION ALL SELECT a, b, probability FROM identity_edges "
                f"WHERE link = 0 AND b IN ({marks})",
                chunk * 2,
            ):
                pairs[(int(a), int(b))] = float(p)
        others = {x for pair in pairs for x in pair} - mine
        owner = {**profiles.profiles_of(self.conn, sorted(others)), **profile_of}
        known = {**self._stored_features(others), **features}
        found = []
        for (a, b), probability in sorted(pairs.items()):
            if (a, b) in decisions.apart or owner.get(a) is None or owner.get(a) == owner.get(b):
                continue
            evidence: dict[str, dict[str, float | str]] = {}
            reason = "uncertain"
            if a in known and b in known:
                result = decide(known[a], known[b], self.model, self.thresholds)
                evidence = self.model.evidence(result.levels)
                reason = review_reason(result.rule)
            found.append(Review(a, b, probability, reason, evidence))
        return found


def _values(features: Features, partners: int = 2) -> set[str]:
    """A record's mailboxes and phones; its mailboxes alone when it has fewer than two
    candidates (``partners``): a phone it holds then has two holders at most, never a crowd."""
    return {*features.emails, *features.phones} if partners >= 2 else set(features.emails)


def _last_per_record(changes: list[PersonChange]) -> list[PersonChange]:
    """One change per record: a record written twice in a batch (two webhooks, a page and its
    retry) is resolved as its last version, and is new if its first write inserted it. The
    earlier version's identifiers must not stay findable."""
    first_new: dict[int, bool] = {}
    last: dict[int, PersonChange] = {}
    for change in changes:
        first_new.setdefault(change.record_id, change.is_new)
        last[change.record_id] = change
    return [
        msgspec.structs.replace(change, is_new=first_new[rid])
        if change.is_new != first_new[rid]
        else change
        for rid, change in last.items()
    ]


def _connected(nodes: set[int], edges: set[Pair]) -> list[set[int]]:
    parent = {n: n for n in nodes}

    def find(n: int) -> int:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for a, b in sorted(edges):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, set[int]] = {}
    for n in nodes:
        groups.setdefault(find(n), set()).add(n)
    return [groups[root] for root in sorted(groups)]


__all__ = [
    "Engine",
    "PersonChange",
]
