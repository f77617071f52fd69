"""A mailbox that three or more clearly different people use (a firm's shared inbox) says they
are different people, not that a person should look. Two differently named records on one
mailbox stay a review item (a name changed, a couple); once the mailbox is held by records of
three or more names with no name in common, a pair whose only evidence is that mailbox is
neither linked nor reviewed, and no edge is stored for it. A name in common (Ann Lee and Ann
Zed) or other evidence (a phone) still makes the pair a review item. A hundred contacts on one
inbox asked a reviewer about 4,950 pairs."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from context_service.identity.rebuild import rebuild
from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, ingest_batch
from context_service.wiring import default_mappers
from tests.conftest import Ingest
from tests.identity.test_engine_updates_match_rebuild import (
    assert_consistent,
    assert_matches_rebuild,
    open_review_pairs,
    stamp,
)
from tests.identity.test_shared_line import PEOPLE  # ten differently named people
from tests.memory_store import memory_store
from tests.payloads import stripe_customer, zendesk_user

INBOX = "team.acme@acme.example"


def _open_reviews(store: Store) -> int:
    return int(store.conn.execute("SELECT count(*) FROM review_items").fetchone()[0])


def _edges(store: Store) -> int:
    return int(store.conn.execute("SELECT count(*) FROM identity_edges").fetchone()[0])


def _profiles(store: Store) -> int:
    return int(store.conn.execute("SELECT count(*) FROM profiles").fetchone()[0])


def _rebuild(store: Store) -> None:
    with store.transaction() as conn:
        rebuild(conn, "US", "2026-12-01T00:00:00Z")


def test_two_names_on_one_mailbox_are_a_review_item(store: Store, ingest: Ingest) -> None:
    ingest(zendesk_user(1, "Ann Lee", email=INBOX))
    ingest(zendesk_user(2, "Bo Park", email=INBOX))
    assert _open_reviews(store) == 1


def test_ten_names_on_one_mailbox_ask_nobody_and_store_no_edge(
    store: Store, ingest: Ingest
) -> None:
    for n, (first, last) in enumerate(PEOPLE, start=1):
        ingest(zendesk_user(n, f"{first} {last}", email=INBOX))
    assert _open_reviews(store) == 0
    assert _edges(store) == 0
    assert _profiles(store) == len(PEOPLE)
    _rebuild(store)
    assert (_open_reviews(store), _edges(store), _profiles(store)) == (0, 0, len(PEOPLE))


def test_ten_names_in_one_batch_ask_nobody(store: Store, ingest: Ingest) -> None:
    ingest(*[zendesk_user(n, f"{a} {b}", email=INBOX) for n, (a, b) in enumerate(PEOPLE, 1)])
    assert (_open_reviews(store), _edges(store)) == (0, 0)


def test_the_third_name_closes_the_first_two_names_review_item(
    store: Store, ingest: Ingest
) -> None:
    ingest(zendesk_user(1, "Ann Lee", email=INBOX))
    ingest(zendesk_user(2, "Bo Park", email=INBOX))
    assert _open_reviews(store) == 1
    ingest(zendesk_user(3, "Cy Diaz", email=INBOX))
    assert (_open_reviews(store), _edges(store)) == (0, 0)
    assert_matches_rebuild(store, "third name")


def test_the_same_name_again_still_links_and_a_name_in_common_still_reviews(
    store: Store, ingest: Ingest
) -> None:
    for n, (first, last) in enumerate(PEOPLE, start=1):
        ingest(zendesk_user(n, f"{first} {last}", email=INBOX))
    ingest(zendesk_user(11, "Ann Lee", email=INBOX))  # the same person again
    assert _profiles(store) == len(PEOPLE)
    assert _open_reviews(store) == 0
    ingest(zendesk_user(12, "Ann Zed", email=INBOX))  # a first name in common with Ann Lee
    assert open_review_pairs(store) == {
        frozenset(("zendesk:1", "zendesk:12")),
        frozenset(("zendesk:11", "zendesk:12")),
    }
    assert_matches_rebuild(store, "same name and a name in common")


def test_a_shared_phone_on_top_of_the_mailbox_is_still_reviewed(
    store: Store, ingest: Ingest
) -> None:
    line = "+1 415 555 0199"
    for n, (first, last) in enumerate(PEOPLE[:3], start=1):
        ingest(zendesk_user(n, f"{first} {last}", email=INBOX))
    ingest(zendesk_user(4, "Di Chen", email=INBOX, phone=line))
    ingest(zendesk_user(5, "Ed Wong", email=INBOX, phone=line))
    assert open_review_pairs(store) == {frozenset(("zendesk:4", "zendesk:5"))}
    assert_matches_rebuild(store, "phone on top")


# --- incremental and resolve --all agree, with records arriving, changing and leaving ---------

NAMES = [("Ann", "Lee"), ("Bo", "Park"), ("Cy", "Diaz"), ("Ann", "Zed"), ("Di", "Chen")]
EMAILS = [INBOX, "ann.lee@example.com", None]


def _payload(step: tuple[int, int | None, int], number: int) -> RawPayload:
    slot, name, email = step
    if name is None:
        return RawPayload(
            "zendesk", "user", {"id": slot + 1}, observed_at=stamp(number), deleted=True
        )
    first, last = NAMES[name]
    _, _, body = zendesk_user(slot + 1, f"{first} {last}", EMAILS[email], None, stamp(number))
    return RawPayload("zendesk", "user", body)


_steps = st.lists(
    st.tuples(
        st.integers(0, 5),
        st.one_of(st.none(), st.integers(0, len(NAMES) - 1)),
        st.integers(0, len(EMAILS) - 1),
    ),
    min_size=1,
    max_size=14,
)


def _run(steps: Sequence[tuple[int, int | None, int]], batch: int) -> None:
    store = memory_store()
    ctx = IngestContext(mappers=default_mappers())
    payloads = [_payload(step, n) for n, step in enumerate(steps)]
    for start in range(0, len(payloads), batch):
        ingest_batch(store, payloads[start : start + batch], ctx)
        assert_consistent(store)
        assert_matches_rebuild(store, (list(steps), batch, start))
    store.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=_steps, batch=st.sampled_from([1, 2, 3, 14]))
def test_mailbox_holders_arriving_changing_and_leaving_match_a_full_rebuild(
    steps: list[tuple[int, int | None, int]], batch: int
) -> None:
    _run(steps, batch)


def test_a_nameless_record_on_a_shared_inbox_asks_nobody(store: Store, ingest: Ingest) -> None:
    """A Stripe customer with only the firm's inbox and no name could be any of its ten people:
    nothing says which, so no reviewer could decide; it is its own profile, not ten review
    items (and not a review per holder after a rebuild either)."""
    for n, (first, last) in enumerate(PEOPLE, start=1):
        ingest(zendesk_user(n, f"{first} {last}", email=INBOX))
    ingest(stripe_customer("cus_inbox", INBOX, None))
    assert (_open_reviews(store), _edges(store), _profiles(store)) == (0, 0, len(PEOPLE) + 1)
    _rebuild(store)
    assert (_open_reviews(store), _edges(store), _profiles(store)) == (0, 0, len(PEOPLE) + 1)


def test_a_nameless_record_on_a_couples_mailbox_joins_neither(store: Store, ingest: Ingest) -> None:
    """Two names on the mailbox make it a shared identifier within their component: the
    nameless record has no evidence for either, and Ann/Bo stay one review item."""
    ingest(zendesk_user(1, "Ann Lee", email=INBOX))
    ingest(zendesk_user(2, "Bo Park", email=INBOX))
    ingest(stripe_customer("cus_inbox", INBOX, None))
    assert (_open_reviews(store), _profiles(store)) == (1, 3)


def test_a_nameless_record_with_a_holders_phone_joins_that_holder_on_a_shared_inbox(
    store: Store, ingest: Ingest
) -> None:
    """The inbox says nothing, but Ann's own phone does: the record joins Ann alone."""
    for n, (first, last) in enumerate(PEOPLE, start=1):
        ingest(zendesk_user(n, f"{first} {last}", email=INBOX, phone=f"+1 415 555 01{n:02d}"))
    ingest(stripe_customer("cus_inbox", INBOX, None, phone="+1 415 555 0101"))
    owner = store.conn.execute(
        "SELECT m.profile_id, count(*) OVER (PARTITION BY m.profile_id) FROM records r "
        "JOIN profile_members m ON m.record_id = r.id WHERE r.external_id = 'cus_inbox'"
    ).fetchone()
    ann = store.conn.execute(
        "SELECT m.profile_id FROM records r JOIN profile_members m ON m.record_id = r.id "
        "WHERE r.source = 'zendesk' AND r.external_id = '1'"
    ).fetchone()
    assert owner[0] == ann[0]
    assert (_open_reviews(store), _profiles(store)) == (0, len(PEOPLE))


def test_a_nameless_record_lets_go_when_its_inbox_turns_shared(
    store: Store, ingest: Ingest
) -> None:
    ingest(zendesk_user(1, "Ann Lee", email=INBOX))
    ingest(stripe_customer("cus_inbox", INBOX, None))
    assert _profiles(store) == 1  # one name on the mailbox: the email rule joins them
    ingest(zendesk_user(2, "Bo Park", email=INBOX))
    ingest(zendesk_user(3, "Cy Diaz", email=INBOX))
    assert (_open_reviews(store), _edges(store), _profiles(store)) == (0, 0, 4)
    _rebuild(store)
    assert (_open_reviews(store), _edges(store), _profiles(store)) == (0, 0, 4)
