"""Incremental resolution and a fresh resolution of the same records agree when mailboxes
turn crowded and back: records with several mailboxes, a phone, names that differ by a slip,
a nickname or nothing at all (no name, one name), arriving, changing and leaving in batches.
Driven through ``Engine`` directly, since a vendor record carries one mailbox."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from context_service.identity.engine import Engine, PersonChange
from context_service.models import PersonFacet, RecordKey
from context_service.store import Store
from tests.memory_store import memory_store

NOW = "2026-12-01T00:00:00Z"
MAILBOXES = ["team.acme@acme.example", "seline.owens1471@example.com", "ops.desk@acme.example"]
NAMES: list[tuple[str | None, str | None]] = [
    ("Ann", "Lee"),
    ("Bo", "Park"),
    ("Cy", "Diaz"),
    ("Slin", "Ownes"),
    ("Seiln", "Oens"),
    ("Bob", "Park"),
    ("Robert", "Park"),
    ("Ann", "Zed"),
    ("Maya", None),
    (None, None),
]
PHONES = [None, "+1 415 555 0199"]
SLOTS = 7

Step = tuple[int, int | None, int, int]  # slot, name (None: delete), mailbox bits, phone


def _change(slot: int, name: int | None, boxes: int, phone: int, known: set[int]) -> PersonChange:
    key = RecordKey("zendesk", "user", str(slot + 1))
    rid = slot + 1
    if name is None:
        return PersonChange(rid, key, None)
    first, last = NAMES[name]
    phone_number = PHONES[phone]
    facet = PersonFacet(
        emails=[m for i, m in enumerate(MAILBOXES) if boxes >> i & 1],
        phones=[phone_number] if phone_number else [],
        first_name=first,
        last_name=last,
    )
    return PersonChange(rid, key, facet, is_new=rid not in known)


def _new_store() -> Store:
    store = memory_store()
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO records (id, source, kind, external_id, payload, payload_hash, "
            "fetched_at) VALUES (?, 'zendesk', 'user', ?, '{}', '', ?)",
            [(slot + 1, str(slot + 1), NOW) for slot in range(SLOTS)],
        )
    return store


def _state(store: Store) -> tuple[set[frozenset[int]], set[tuple[int, int]]]:
    groups: dict[str, set[int]] = {}
    for rid, pid in store.conn.execute("SELECT record_id, profile_id FROM profile_members"):
        groups.setdefault(str(pid), set()).add(int(rid))
    reviews = {
        (int(a), int(b))
        for a, b in store.conn.execute("SELECT a, b FROM review_items WHERE status = 'open'")
    }
    return {frozenset(g) for g in groups.values()}, reviews


def _fresh(live: dict[int, PersonChange]) -> tuple[set[frozenset[int]], set[tuple[int, int]]]:
    store = _new_store()
    with store.transaction() as conn:
        Engine(conn, "US", NOW).resolve(
            [PersonChange(c.record_id, c.key, c.facet, is_new=True) for c in live.values()]
        )
    found = _state(store)
    store.close()
    return found


def _run(steps: list[Step], batch: int) -> None:
    store = _new_store()
    known: set[int] = set()
    live: dict[int, PersonChange] = {}
    for start in range(0, len(steps), batch):
        changes = []
        for slot, name, boxes, phone in steps[start : start + batch]:
            if name is None and slot + 1 not in known:
                continue
            change = _change(slot, name, boxes, phone, known)
            changes.append(change)
            known.add(change.record_id)
            if change.facet is None:
                known.discard(change.record_id)
                live.pop(change.record_id, None)
            else:
                live[change.record_id] = change
        with store.transaction() as conn:
            Engine(conn, "US", NOW).resolve(changes)
        assert _state(store) == _fresh(live), (steps, batch, start)
    store.close()


_steps = st.lists(
    st.tuples(
        st.integers(0, SLOTS - 1),
        st.one_of(st.none(), st.integers(0, len(NAMES) - 1)),
        st.integers(1, (1 << len(MAILBOXES)) - 1),
        st.integers(0, len(PHONES) - 1),
    ),
    min_size=1,
    max_size=16,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=_steps, batch=st.sampled_from([1, 2, 3, 16]))
def test_crowded_mailboxes_incremental_matches_a_fresh_resolution(
    steps: list[Step], batch: int
) -> None:
    _run(steps, batch)
