"""The events stream's slices of ``created``: what they cost and what they must keep.

A quiet window costs one request per type group however long it is (it cost one per group per
hour); a busy one still gives every event once, oldest first, never pages through a slice wider
than one second, and a crash after any page resumes with nothing lost and nothing doubled.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from integrations._connector import Page
from integrations.stripe.connector import EVENTS_SETTLE_SECONDS
from integrations.stripe.webhooks import EVENT_TYPES
from tests.integrations.contract import pages
from tests.integrations.stripe.fake import START, FakeStripe

DAY = 86_400
GROUPS = math.ceil(len(EVENT_TYPES) / 20)  # one request lists at most 20 types
# One type from each request's group: customers are in the first twenty, disputes in the last.
TYPES = {"customer": "customer.updated", "dispute": "charge.dispute.updated"}
FROM_START = json.dumps({"created": START})


def _fake() -> FakeStripe:
    fake = FakeStripe()
    fake.add_customers(5)  # the fifth customer has a dispute
    return fake


def _emit(fake: FakeStripe, kind: str, created: int) -> str:
    """An event of ``kind`` at ``created`` whose object is tagged with the event's id."""
    tag = f"e{len(fake.events) + 1}"
    obj = {**fake.objects[kind][0], "description": tag}
    fake.emit_event(TYPES[kind], obj, created=created)
    return tag


def _listings(fake: FakeStripe) -> list[tuple[int, int, bool]]:
    """Each events request's ``[created[gte], created[lt])`` and whether it paged on."""
    return [
        (
            int(r.url.params["created[gte]"]),
            int(r.url.params["created[lt]"]),
            "starting_after" in r.url.params,
        )
        for r in fake.requests
        if r.url.path == "/v1/events"
    ]


def _tags(found: list[Page]) -> list[str]:
    return [str(obj.payload["description"]) for page in found for obj in page.objects]


def _check_order_and_cursors(fake: FakeStripe, found: list[Page], page_size: int) -> None:
    created = {e["data"]["object"]["description"]: e["created"] for e in fake.events}
    times = [created[tag] for tag in _tags(found)]
    assert times == sorted(times)
    assert all(len(page.objects) <= page_size for page in found)
    positions = [json.loads(page.cursor or "") for page in found]
    moves = [(p["created"], len(p.get("ids", []))) for p in positions]
    assert moves == sorted(set(moves))  # strictly forward, page after page


def test_a_quiet_day_costs_one_request_per_type_group() -> None:
    fake = _fake()
    fake.advance(DAY)
    fake.requests.clear()
    assert pages(fake.connector(), "events", FROM_START) == []
    horizon = START + DAY - EVENTS_SETTLE_SECONDS
    assert _listings(fake) == [(START, horizon, False)] * GROUPS  # it was 24 * GROUPS


def test_a_quiet_29_days_costs_one_request_per_type_group() -> None:
    fake = _fake()
    fake.advance(29 * DAY)
    fake.requests.clear()
    [page] = pages(fake.connector(), "events", FROM_START)
    assert page.objects == []  # the idle cursor moves up
    assert len(_listings(fake)) == GROUPS  # it was 29 * 24 * GROUPS


def test_a_day_with_a_few_events_costs_no_more_than_a_quiet_one() -> None:
    fake = _fake()
    expected = [_emit(fake, "customer", START + 1 + i * 2_000) for i in range(30)]
    expected.append(_emit(fake, "dispute", START + 50_000))
    fake.advance(DAY)
    fake.requests.clear()
    found = pages(fake.connector(page_size=100), "events", FROM_START)
    assert sorted(_tags(found)) == sorted(expected)
    assert len(_listings(fake)) == GROUPS
    _check_order_and_cursors(fake, found, 100)


def _busy(fake: FakeStripe) -> list[str]:
    """Three days: scattered customer and dispute events, a burst of 40 in two minutes and 12
    in one second (over a page of 10), and nothing in the last hour."""
    rng = random.Random(7)
    spread = [("customer", START + rng.randrange(3 * DAY - 3_600)) for _ in range(120)]
    spread += [("dispute", START + rng.randrange(3 * DAY - 3_600)) for _ in range(20)]
    burst = [(rng.choice(list(TYPES)), START + DAY + rng.randrange(120)) for _ in range(40)]
    second = [("customer", START + 2 * DAY + 7) for _ in range(12)]
    tags = [_emit(fake, kind, created) for kind, created in [*spread, *burst, *second]]
    fake.advance(3 * DAY)
    return tags


def test_a_busy_window_gives_every_event_once_oldest_first_one_page_a_slice() -> None:
    fake = _fake()
    expected = _busy(fake)
    fake.requests.clear()
    found = pages(fake.connector(page_size=10), "events", FROM_START)
    tags = _tags(found)
    assert Counter(tags) == Counter(expected)
    assert len(set(tags)) == len(tags) == 192
    _check_order_and_cursors(fake, found, 10)
    listings = _listings(fake)
    # Only a single second is paged through; any wider slice fits in one page or is narrowed.
    assert all(high - low == 1 for low, high, paged in listings if paged)
    assert any(paged for *_, paged in listings)  # the busy second
    assert len(listings) < 3 * 24 * GROUPS  # hourly slices cost more (147 here)
    assert pages(fake.connector(page_size=10), "events", found[-1].cursor) == []


def test_a_crash_after_any_page_of_a_busy_window_resumes_without_loss_or_duplicates() -> None:
    fake = _fake()
    _busy(fake)
    found = pages(fake.connector(page_size=10), "events", FROM_START)
    everything = _tags(found)
    for n, page in enumerate(found):
        rest = pages(fake.connector(page_size=10), "events", page.cursor)
        assert _tags(found[: n + 1]) + _tags(rest) == everything, f"after page {n}"


def test_a_burst_after_a_long_quiet_spell_costs_a_few_requests_per_narrowing() -> None:
    fake = _fake()
    end = START + 29 * DAY
    expected = [_emit(fake, "customer", end - 3_600 + 60 * i) for i in range(30)]
    fake.advance(29 * DAY + EVENTS_SETTLE_SECONDS)
    fake.requests.clear()
    found = pages(fake.connector(page_size=10), "events", FROM_START)
    assert _tags(found) == expected
    halvings = math.ceil(math.log2(29 * DAY / 600))  # halving down to ten minutes at worst
    assert len(_listings(fake)) <= 3 * halvings + 2 * len(expected) // 10  # it was 1392


@settings(max_examples=40, deadline=None)
@given(
    events=st.lists(
        st.tuples(
            st.sampled_from(sorted(TYPES)),
            st.integers(0, 2 * DAY) | st.integers(DAY, DAY + 3),  # scattered, or crowded
        ),
        max_size=40,
    ),
    page_size=st.integers(1, 7),
    crash=st.integers(0, 50),
)
def test_any_window_gives_each_event_once_in_order_and_resumes_after_any_page(
    events: list[tuple[str, int]], page_size: int, crash: int
) -> None:
    fake = _fake()
    expected = [_emit(fake, kind, START + offset) for kind, offset in events]
    fake.advance(2 * DAY + EVENTS_SETTLE_SECONDS + 1)
    found = pages(fake.connector(page_size=page_size), "events", FROM_START)
    tags = _tags(found)
    assert Counter(tags) == Counter(expected)
    _check_order_and_cursors(fake, found, page_size)
    assert all(high - low == 1 for low, high, paged in _listings(fake) if paged)
    if found and found[0].objects:
        n = crash % len(found)
        rest = pages(fake.connector(page_size=page_size), "events", found[n].cursor)
        assert _tags(found[: n + 1]) + _tags(rest) == tags
