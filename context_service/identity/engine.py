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
decisions, so resolving one record at a time and ``rebuild`` (everything at once) agree.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping

import msgspec

from context_service.identity.cluster import (
    ComponentResult,
    Decisions,
    Pair,
    Review,
    cluster_component,
    pair_of,
)
from context_service.identity.features import (
    INDEX_VERSION,
    Features,
    blocking_keys,
    features_of,
    name_keys,
)
from context_service.identity.match import person_identifiers
from context_service.identity.model import DEFAULT_MODEL, MatchModel
from context_service.identity.pairs import Thresholds, decide
from context_service.models import PersonFacet, RecordKey
from context_service.store import profiles
from context_service.store.records import decode_mapped

_CHUNK = 400
_encode_features = msgspec.msgpack.Encoder().encode
_decode_features = msgspec.msgpack.Decoder(Features).decode


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
        if (
            index_version(conn) is None
            and conn.execute("SELECT 1 FROM identifiers LIMIT 1").fetchone() is None
        ):
            mark_index_current(conn)  # an empty index: everything will be indexed as now

    # --- the incremental path -----------------------------------------------------------

    def resolve(self, changes: list[PersonChange]) -> set[str]:
        """Apply a batch of changes; return every profile id whose members changed."""
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
            for chunk in _chunks(sorted(unchanged)):
                self.conn.execute(
                    f"DELETE FROM identifiers WHERE record_id IN ({_marks(chunk)})", chunk
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
        keys = self._index(moving, live)
        self._add_edges({rid: f for rid, f in live.items() if f is not None}, keys)
        seeds |= {rid for rid, f in live.items() if f is not None}
        dead = {rid for rid, f in live.items() if f is None}
        changed = touched | self._recluster(seeds - dead, dead)
        # A changed record's profile needs a new snapshot even when its members stay the same.
        alive = sorted(rid for rid, f in live.items() if f is not None)
        return changed | set(profiles.profiles_of(self.conn, alive).values())

    def _features(self, change: PersonChange) -> Features | None:
        if change.facet is None:
            return None
        return features_of(change.key, change.facet, self.region)

    # --- the index: identifiers, blocking keys, features -----------------------------------

    def _index(
        self, changes: list[PersonChange], live: Mapping[int, Features | None]
    ) -> dict[int, set[str]]:
        """Store identifiers, blocking keys and features; return each live record's keys."""
        rows: list[tuple[str, str, int, int]] = []
        feature_rows: list[tuple[int, bytes]] = []
        keys: dict[int, set[str]] = {}
        for change in changes:
            features = live[change.record_id]
            if features is None or change.facet is None:
                continue
            for ident in person_identifiers(change.key, change.facet, self.region):
                rows.append((ident.kind, ident.value, change.record_id, int(ident.strong)))
            keys[change.record_id] = blocking_keys(features)
            for block in keys[change.record_id]:
                rows.append(("block", block, change.record_id, 0))
            # For lookups by name, never for blocking: each form of the name (an ambiguous
            # nickname stands for several formal names), so "Sam" finds Samuel and back.
            rows.extend(("pname", names, change.record_id, 0) for names in name_keys(features))
            feature_rows.append((change.record_id, _encode_features(features)))
        rows.sort()  # neighbouring keys land on the same index pages
        self.conn.executemany(
            "INSERT OR IGNORE INTO identifiers (kind, value, record_id, strong) "
            "VALUES (?, ?, ?, ?)",
            rows,
        )
        self.conn.executemany(
            "INSERT OR REPLACE INTO identity_features (record_id, features) VALUES (?, ?)",
            feature_rows,
        )
        return keys

    def _forget(self, record_ids: list[int]) -> None:
        for chunk in _chunks(record_ids):
            marks = _marks(chunk)
            self.conn.execute(f"DELETE FROM identifiers WHERE record_id IN ({marks})", chunk)
            self.conn.execute(f"DELETE FROM identity_features WHERE record_id IN ({marks})", chunk)
            self.conn.execute(f"DELETE FROM identity_edges WHERE a IN ({marks})", chunk)
            self.conn.execute(f"DELETE FROM identity_edges WHERE b IN ({marks})", chunk)

    def _stored_features(self, record_ids: Iterable[int]) -> dict[int, Features]:
        found: dict[int, Features] = {}
        for chunk in _chunks(sorted(set(record_ids))):
            rows = self.conn.execute(
                "SELECT record_id, features FROM identity_features "
                f"WHERE record_id IN ({_marks(chunk)})",
                chunk,
            )
            found.update((int(rid), _decode_features(blob)) for rid, blob in rows)
        return found

    # --- candidates and edges ------------------------------------------------------------

    def _add_edges(self, live: Mapping[int, Features], keys: Mapping[int, set[str]]) -> None:
        holders = self._block_holders({k for ks in keys.values() for k in ks})
        pairs = {
            pair_of(rid, other)
            for rid, ks in keys.items()
            for key in ks
            for other in holders.get(key, ())
            if other != rid
        }
        known = dict(live)
        known.update(self._stored_features({x for p in pairs for x in p} - set(live)))
        rows = []
        for a, b in sorted(pairs):
            if a not in known or b not in known:
                continue
            result = decide(known[a], known[b], self.model, self.thresholds)
            if result.link or result.review:
                rows.append((a, b, int(result.link), result.probability))
        self.conn.executemany(
            "INSERT OR REPLACE INTO identity_edges (a, b, link, probability) VALUES (?, ?, ?, ?)",
            rows,
        )

    def _block_holders(self, keys: set[str]) -> dict[str, list[int]]:
        holders: dict[str, list[int]] = {}
        for chunk in _chunks(sorted(keys)):
            rows = self.conn.execute(
                "SELECT value, record_id FROM identifiers WHERE kind = 'block' "
                f"AND value IN ({_marks(chunk)})",
                chunk,
            )
            for value, record_id in rows:
                holders.setdefault(str(value), []).append(int(record_id))
        return holders

    def _neighbours(self, record_ids: list[int]) -> set[int]:
        found: set[int] = set()
        for chunk in _chunks(record_ids):
            marks = _marks(chunk)
            for a, b in self.conn.execute(
                f"SELECT a, b FROM identity_edges WHERE a IN ({marks}) "
                f"UNION ALL SELECT a, b FROM identity_edges WHERE b IN ({marks})",
                chunk + chunk,
            ):
                found.update((int(a), int(b)))
        return found - set(record_ids)

    # --- components and clusters ---------------------------------------------------------

    def recluster(self, record_ids: Iterable[int]) -> set[str]:
        """Cluster the components holding these records again (after a person's decision)."""
        return self._recluster(set(record_ids), set())

    def detach(self, record_ids: list[int]) -> set[str]:
        """Take records out of their profiles (their neighbours are re-clustered)."""
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
        self._write_links([r for r, _ in results], assignment.profile_of, members)
        reviews = [review for result, _ in results for review in result.reviews]
        reviews += self._cross_reviews(members, assignment.profile_of, features, decisions)
        self._write_reviews(reviews, members)
        changed |= assignment.changed
        profiles.delete_empty(self.conn, changed)
        return changed

    def _components(self, seeds: set[int]) -> list[set[int]]:
        """The connected components (link edges and 'together' decisions) holding the seeds."""
        nodes, frontier = set(seeds), sorted(seeds)
        edges: set[Pair] = set()
        while frontier:
            found: set[Pair] = set()
            for chunk in _chunks(frontier):
                marks = _marks(chunk)
                rows = self.conn.execute(
                    f"SELECT a, b FROM identity_edges WHERE link = 1 AND a IN ({marks}) "
                    f"UNION ALL SELECT a, b FROM identity_edges WHERE link = 1 AND b IN ({marks}) "
                    f"UNION ALL SELECT a, b FROM identity_decisions "
                    f"WHERE decision = 'together' AND (a IN ({marks}) OR b IN ({marks}))",
                    chunk * 4,
                )
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

    def _decisions(self, members: Iterable[int]) -> Decisions:
        ids = sorted(members)
        together: set[Pair] = set()
        apart: set[Pair] = set()
        for chunk in _chunks(ids):
            marks = _marks(chunk)
            for a, b, decision in self.conn.execute(
                f"SELECT a, b, decision FROM identity_decisions WHERE a IN ({marks}) "
                f"OR b IN ({marks})",
                chunk * 2,
            ):
                (together if decision == "together" else apart).add(pair_of(int(a), int(b)))
        return Decisions(together=frozenset(together), apart=frozenset(apart))

    def _write_links(
        self, results: list[ComponentResult], profile_of: Mapping[int, str], members: list[int]
    ) -> None:
        for chunk in _chunks(members):
            self.conn.execute(
                f"DELETE FROM identity_links WHERE record_id IN ({_marks(chunk)})", chunk
            )
        rows = [
            (
                profile_of[link.a],
                link.b,
                link.a,
                link.rule,
                round(link.probability, 6),
                json.dumps(link.evidence, sort_keys=True),
                "person" if link.rule == "manual" else "auto",
                self.now,
            )
            for result in results
            for link in result.links
        ]
        self.conn.executemany(
            "INSERT INTO identity_links (profile_id, record_id, other_record_id, rule, score, "
            "evidence, decided_by, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

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
        for chunk in _chunks(members):
            marks = _marks(chunk)
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
            if a in known and b in known:
                result = decide(known[a], known[b], self.model, self.thresholds)
                evidence = self.model.evidence(result.levels)
            found.append(Review(a, b, probability, "uncertain", evidence))
        return found

    def _write_reviews(self, reviews: list[Review], members: list[int]) -> None:
        """Keep the open review items of these records in step, ids stable for the same pair."""
        produced: dict[Pair, Review] = {}
        for review in reviews:
            produced.setdefault((review.a, review.b), review)
        stale: list[int] = []
        for chunk in _chunks(members):
            marks = _marks(chunk)
            for item_id, a, b in self.conn.execute(
                f"SELECT id, a, b FROM review_items WHERE +status = 'open' AND (a IN ({marks}) "
                f"OR b IN ({marks}))",
                chunk * 2,
            ):
                if (int(a), int(b)) not in produced:
                    stale.append(int(item_id))
        self.conn.executemany("DELETE FROM review_items WHERE id = ?", [(i,) for i in stale])
        self.conn.executemany(
            "INSERT INTO review_items (a, b, probability, reason, evidence, status, created_at) "
            "VALUES (?, ?, ?, ?, ?, 'open', ?) ON CONFLICT (a, b) DO UPDATE SET "
            "probability = excluded.probability, reason = excluded.reason, "
            "evidence = excluded.evidence WHERE review_items.status = 'open'",
            [
                (
                    r.a,
                    r.b,
                    round(r.probability, 6),
                    r.reason,
                    json.dumps(r.evidence, sort_keys=True),
                    self.now,
                )
                for r in produced.values()
            ],
        )


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


class RebuildReport(msgspec.Struct):
    """What ``rebuild`` did."""

    records: int
    profiles_before: int
    profiles_after: int
    changed: set[str]
    open_reviews: int


def rebuild(
    conn: sqlite3.Connection,
    region: str,
    now: str,
    thresholds: Thresholds | None = None,
    chunk: int = 5_000,
) -> RebuildReport:
    """Resolve every stored person record again from scratch (``context-service resolve --all``).

    The identity index, edges, automatic links and open review items are rebuilt; people's
    decisions and profile ids are kept (a cluster keeps the id most of its members had). The
    result is the clustering the incremental path would have reached.
    """
    before = profiles.count_profiles(conn)
    members_before = _memberships(conn)
    people = list(person_records(conn))
    for table in ("identity_edges", "identity_features", "identifiers"):
        conn.execute(f"DELETE FROM {table}")
    conn.execute("DELETE FROM identity_links WHERE decided_by = 'auto'")
    live = {change.record_id for change in people}
    stale = [
        int(rid)
        for (rid,) in conn.execute("SELECT record_id FROM profile_members")
        if int(rid) not in live
    ]
    engine = Engine(conn, region, now, thresholds)
    if stale:
        engine.detach(stale)
    for start in range(0, len(people), chunk):
        engine.resolve(people[start : start + chunk])
    mark_index_current(conn)
    changed = _changed_profiles(members_before, _memberships(conn))
    open_reviews = conn.execute("SELECT count(*) FROM review_items WHERE status = 'open'")
    return RebuildReport(
        records=len(people),
        profiles_before=before,
        profiles_after=profiles.count_profiles(conn),
        changed=changed,
        open_reviews=int(open_reviews.fetchone()[0]),
    )


def _memberships(conn: sqlite3.Connection) -> dict[str, frozenset[int]]:
    groups: dict[str, set[int]] = {}
    for record_id, profile_id in conn.execute("SELECT record_id, profile_id FROM profile_members"):
        groups.setdefault(str(profile_id), set()).add(int(record_id))
    return {pid: frozenset(ids) for pid, ids in groups.items()}


def _changed_profiles(
    before: Mapping[str, frozenset[int]], after: Mapping[str, frozenset[int]]
) -> set[str]:
    """Profiles whose members differ (including profiles that appeared or went away)."""
    return {pid for pid in set(before) | set(after) if before.get(pid) != after.get(pid)}


def person_records(conn: sqlite3.Connection) -> Iterator[PersonChange]:
    """Every live person-like record in the store, as changes to resolve."""
    rows = conn.execute(
        "SELECT id, mapped FROM records WHERE mapped IS NOT NULL AND deleted = 0 ORDER BY id"
    )
    for rid, blob in rows:
        mapped = decode_mapped(blob)
        if mapped is not None and mapped.person is not None:
            yield PersonChange(int(rid), mapped.key, mapped.person, is_new=True)


class Assignment(msgspec.Struct):
    """Which profile each record of a component belongs to, and the profiles that changed."""

    profile_of: dict[int, str]
    changed: set[str]


def assign_profiles(conn: sqlite3.Connection, clusters: list[list[int]], now: str) -> Assignment:
    """Give each cluster a profile id, keeping ids stable (see the module docstring)."""
    members = [rid for cluster in clusters for rid in cluster]
    current = profiles.profiles_of(conn, members)
    age = _profile_age(conn, set(current.values()))
    claimed: dict[str, int] = {}  # profile id -> index of the cluster that keeps it
    order = sorted(range(len(clusters)), key=lambda i: (-len(clusters[i]), clusters[i][0]))
    chosen: dict[int, str] = {}
    homeless: list[int] = []  # clusters that get a new profile, in creation order
    for index in order:
        counts: dict[str, int] = {}
        for rid in clusters[index]:
            if rid in current:
                counts[current[rid]] = counts.get(current[rid], 0) + 1
        options = sorted(counts, key=lambda pid: (-counts[pid], age.get(pid, 0), pid))
        keep = next((pid for pid in options if pid not in claimed), None)
        if keep is None:
            homeless.append(index)
            continue
        claimed[keep] = index
        chosen[index] = keep
    for index, new_id in zip(
        homeless, profiles.create_profiles(conn, len(homeless), now), strict=True
    ):
        claimed[new_id] = index
        chosen[index] = new_id
    profile_of = {rid: chosen[i] for i, cluster in enumerate(clusters) for rid in cluster}
    changed = _move_members(conn, current, profile_of)
    for old in sorted(set(current.values()) - set(claimed)):
        heirs = [profile_of[rid] for rid, pid in current.items() if pid == old]
        survivor = max(sorted(set(heirs)), key=heirs.count)
        profiles.merge_into(conn, survivor, old, now)
        changed |= {old, survivor}
    return Assignment(profile_of=profile_of, changed=changed)


def _move_members(
    conn: sqlite3.Connection, current: Mapping[int, str], wanted: Mapping[int, str]
) -> set[str]:
    moves = [(rid, pid) for rid, pid in wanted.items() if current.get(rid) != pid]
    conn.executemany(
        "INSERT INTO profile_members (record_id, profile_id) VALUES (?, ?) "
        "ON CONFLICT (record_id) DO UPDATE SET profile_id = excluded.profile_id",
        moves,
    )
    changed = {pid for _, pid in moves}
    changed |= {current[rid] for rid, _ in moves if rid in current}
    return changed


def _profile_age(conn: sqlite3.Connection, profile_ids: set[str]) -> dict[str, int]:
    ids = sorted(profile_ids)
    found: dict[str, int] = {}
    for chunk in _chunks(ids):
        rows = conn.execute(f"SELECT id, rowid FROM profiles WHERE id IN ({_marks(chunk)})", chunk)
        found.update((str(pid), int(rowid)) for pid, rowid in rows)
    return found


def index_version(conn: sqlite3.Connection) -> str | None:
    """The ``INDEX_VERSION`` the identity index was built with (``None``: before versions)."""
    row = conn.execute("SELECT value FROM identity_meta WHERE key = 'index_version'").fetchone()
    return None if row is None else str(row[0])


def mark_index_current(conn: sqlite3.Connection) -> None:
    """Record that the whole identity index follows the current ``INDEX_VERSION``."""
    conn.execute(
        "INSERT OR REPLACE INTO identity_meta (key, value) VALUES ('index_version', ?)",
        (INDEX_VERSION,),
    )


def load_model(conn: sqlite3.Connection) -> MatchModel:
    """The store's trained model, or ``DEFAULT_MODEL`` before the first training."""
    row = conn.execute("SELECT model FROM identity_model WHERE id = 1").fetchone()
    if row is None:
        return DEFAULT_MODEL
    return msgspec.json.decode(row[0], type=MatchModel)


def save_model(conn: sqlite3.Connection, model: MatchModel, now: str) -> None:
    """Store a trained model (it applies to every later decision)."""
    conn.execute(
        "INSERT OR REPLACE INTO identity_model (id, model, trained_at) VALUES (1, ?, ?)",
        (msgspec.json.encode(model).decode(), now),
    )


def _chunks(items: Iterable[int] | Iterable[str]) -> Iterator[list]:  # type: ignore[type-arg]
    batch: list = []  # type: ignore[type-arg]
    for item in items:
        batch.append(item)
        if len(batch) >= _CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _marks(chunk: list) -> str:  # type: ignore[type-arg]
    return ",".join("?" * len(chunk))


__all__ = [
    "Assignment",
    "Engine",
    "PersonChange",
    "RebuildReport",
    "assign_profiles",
    "load_model",
    "rebuild",
    "save_model",
]
