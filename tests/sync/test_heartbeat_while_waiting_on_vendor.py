"""A run that waits on its vendor keeps its heartbeat, however long the vendor makes it wait.

A sync waits out a ``Retry-After`` of up to ``SYNC_MAX_WAIT`` per call, and one Zendesk ticket
page makes one comments call per ticket: twelve tickets each answered 429 with five minutes'
``Retry-After`` kept the page, and so the heartbeat, away for an hour (``SILENT_AFTER``), and
a ``status`` that cannot see the run's process (another container) showed it "interrupted",
so a second run could start beside it. The runner now beats every ``BEAT_WHILE_WAITING``
seconds while it waits for the fetching thread's next page, and before each look-up it makes
itself (retiring what a listing no longer brings, settling ties).

Nothing sleeps for real: the vendor's waits move a fake clock (the pulse's ``_clock`` and the
runner's ``utc_now``, so the heartbeats written are on it), and a wait on the fetching thread
holds until the runner's thread has shown a sign of life at its end (a few milliseconds; the
old runner, which never beat there, is given up on after a few seconds in all).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from context_service.models import Delivery, Page, VendorObject
from context_service.models import Stream as StreamContract
from context_service.store import Store
from context_service.store import cursors as cursor_store
from context_service.sync import IngestContext, run_sync, runner
from context_service.sync.status import SILENT_AFTER
from tests.integrations.zendesk.fake import FakeZendesk, iso
from tests.payloads import zendesk_user

# Where each write of a sign of life takes its time (``now``) among its arguments.
NOW_AT = {"start_run": 3, "heartbeat": 2, "add_progress": 4, "finish_run": 3}
RETRY_AFTER = 300.0  # what the vendor asks for on each call: five minutes
LOUD = 60.0  # a wait this long is a vendor's, not the fake's pacing


class Signs:
    """The fake-clock times of every sign of life the runner writes (start, heartbeats, page
    commits), as they are stored (``utc_now`` is the fake clock's)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, clock: list[float]) -> None:
        self.clock = clock
        self.times: list[float] = []
        self.changed = threading.Condition()
        self.gave_up_at = time.monotonic() + 5.0  # the old runner never beats: stop waiting
        # ``raising=False``: the runner before the fix had no pulse, and fails on the silence.
        monkeypatch.setattr(runner, "_clock", lambda: clock[0], raising=False)
        monkeypatch.setattr(runner, "utc_now", lambda: iso(clock[0]))
        for name, at in NOW_AT.items():
            monkeypatch.setattr(cursor_store, name, self._noting(getattr(cursor_store, name), at))

    def _noting(self, write: Callable[..., Any], at: int) -> Callable[..., Any]:
        def noted(*args: Any, **kwargs: Any) -> Any:
            with self.changed:
                self.times.append(_seconds(args[at]))
                self.changed.notify_all()
            return write(*args, **kwargs)

        return noted

    def wait_for_one_at(self, when: float) -> None:
        """Hold (the fetching thread) until a sign of life is written at ``when`` or later."""
        with self.changed:
            self.changed.wait_for(
                lambda: bool(self.times) and self.times[-1] >= when,
                timeout=max(0.0, self.gave_up_at - time.monotonic()),
            )

    def longest_silence(self) -> float:
        return max(
            later - earlier for earlier, later in zip(self.times, self.times[1:], strict=False)
        )


def _seconds(stamp: str) -> float:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def _count(store: Store, kind: str) -> int:
    row = store.conn.execute("SELECT count(*) FROM records WHERE kind = ?", (kind,)).fetchone()
    return int(row[0])


def test_a_page_of_tickets_each_rate_limited_keeps_the_heartbeat_and_completes(
    store: Store, ctx: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reviewer's case: one ticket page, twelve comments calls each answered 429 with
    ``Retry-After: 300`` (an hour in all). The run waits them out and completes, and no
    silence between two signs of life is longer than one wait."""
    fake = FakeZendesk()
    fake.populate(organizations=1, users=2, tickets=12)
    clock = [fake.clock]
    signs = Signs(monkeypatch, clock)
    # Real seconds between two looks at the fake clock while no page is ready.
    monkeypatch.setattr(runner, "BEAT_WHILE_WAITING", 0.01, raising=False)
    limited: set[str] = set()

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/comments.json") and path not in limited:
            limited.add(path)
            return httpx.Response(429, text="rate limited", headers={"retry-after": "300"})
        return fake.handler(request)

    def sleep(seconds: float) -> None:
        fake.sleep(seconds)
        clock[0] = fake.clock
        if seconds >= LOUD:
            signs.wait_for_one_at(fake.clock)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    outcome = run_sync(store, fake.connector(client=client, sleep=sleep), ctx)

    assert outcome.status == "ok", outcome.error
    assert _count(store, "ticket") == 12
    assert [s for s in fake.sleeps if s >= LOUD] == [RETRY_AFTER] * 12  # an hour of waits
    silence = signs.longest_silence()
    assert silence < SILENT_AFTER.total_seconds() / 4, f"{silence:.0f} s without a heartbeat"
    assert silence <= 2 * RETRY_AFTER


class Listing:
    """One page of users, listing the whole kind (``lists_kind``: what it does not bring is
    looked up by the runner and retired)."""

    lists_kind = completed_listing = "user"

    def __init__(self, name: str, users: list[VendorObject]) -> None:
        self.name = name
        self.users = users

    def pages(self, cursor: str | None) -> Iterator[Page]:
        yield Page(objects=self.users, cursor=json.dumps({"next": 1}))


class SlowLookups:
    """A connector whose every look-up makes the runner's own thread wait ``RETRY_AFTER`` on
    the fake clock (a 429 waited out), then answers with ``answer``."""

    source = "zendesk"

    def __init__(self, clock: list[float], stream: StreamContract, answer: dict[str, Any]) -> None:
        self.clock, self.stream, self.answer = clock, stream, answer
        self.looked_up: list[str] = []

    def streams(self) -> list[StreamContract]:
        return [self.stream]

    def verify_webhook(
        self, headers: Mapping[str, str], raw_body: bytes, url: str, now: float
    ) -> None:
        raise NotImplementedError

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> Delivery:
        raise NotImplementedError

    def fetch_one(self, kind: str, external_id: str) -> VendorObject | None:
        self.clock[0] += RETRY_AFTER
        self.looked_up.append(external_id)
        return self.answer.get(external_id)


def _users(
    ids: range, name: str = "Person", updated_at: str = "2024-01-01T00:00:00Z"
) -> list[VendorObject]:
    out = []
    for uid in ids:
        _, kind, payload = zendesk_user(uid, f"{name}{uid} Test", f"p{uid}@example.com")
        out.append(VendorObject(kind, {**payload, "updated_at": updated_at}))
    return out


def test_looking_up_what_a_listing_no_longer_brings_keeps_the_heartbeat(
    store: Store, ctx: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thirteen stored users the full listing no longer brings, each look-up waiting five
    minutes on the runner's own thread (over an hour in all): a beat before each."""
    clock = [time.time()]
    signs = Signs(monkeypatch, clock)
    kept, gone = range(1, 3), range(100, 113)
    everyone = Listing("users", _users(kept) + _users(gone))
    assert run_sync(store, SlowLookups(clock, everyone, {}), ctx).status == "ok"
    assert _count(store, "user") == 15
    with store.transaction() as conn:  # fetched before the next listing starts
        conn.execute("UPDATE records SET fetched_at = '2020-01-01T00:00:00Z'")
    signs.times.clear()
    connector = SlowLookups(clock, Listing("users", _users(kept)), {})
    outcome = run_sync(store, connector, ctx, full=True)

    assert outcome.status == "ok", outcome.error
    assert sorted(connector.looked_up, key=int) == [str(n) for n in gone]
    assert any("retired" in note for note in outcome.notes)
    silence = signs.longest_silence()
    assert silence < SILENT_AFTER.total_seconds() / 4, f"{silence:.0f} s without a heartbeat"


def test_settling_a_page_of_ties_keeps_the_heartbeat(
    store: Store, ctx: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page of thirteen users that each tie with the stored copy (same second, other
    content): each is looked up, five minutes each, with a beat before each look-up."""
    clock = [time.time()]
    signs = Signs(monkeypatch, clock)
    ids = range(1, 14)
    stored = SlowLookups(clock, Listing("users", _users(ids)), {})
    assert run_sync(store, stored, ctx).status == "ok"
    current = {str(u.payload["id"]): u for u in _users(ids, name="Current")}
    signs.times.clear()
    tied = SlowLookups(clock, Listing("users", _users(ids, name="Other")), current)
    outcome = run_sync(store, tied, ctx)

    assert outcome.status == "ok", outcome.error
    assert sorted(tied.looked_up, key=int) == [str(n) for n in ids]
    silence = signs.longest_silence()
    assert silence < SILENT_AFTER.total_seconds() / 4, f"{silence:.0f} s without a heartbeat"


def test_prefetched_calls_while_waiting_in_the_callers_thread_until_the_page_comes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runner, "BEAT_WHILE_WAITING", 0.001)
    beats: list[threading.Thread] = []
    enough = threading.Event()

    def beat() -> None:
        beats.append(threading.current_thread())
        if len(beats) >= 3:
            enough.set()

    def pages() -> Iterator[Page]:
        yield Page(objects=[], cursor="1")
        assert enough.wait(timeout=10)  # a vendor's long wait, until the caller has beaten
        yield Page(objects=[], cursor="2")

    got = [page.cursor for page in runner.prefetched(pages(), while_waiting=beat)]
    assert got == ["1", "2"]
    assert len(beats) >= 3
    assert set(beats) == {threading.current_thread()}


def test_a_beat_the_store_is_too_busy_for_is_skipped_and_tried_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer holds the lock: the waiting run's beat gives up after ``_BEAT_LOCK_WAIT``
    without failing the run, and the next call writes it."""
    clock = [0.0]
    monkeypatch.setattr(runner, "_clock", lambda: clock[0])
    monkeypatch.setattr(runner, "_BEAT_LOCK_WAIT", 0.01)
    with store.transaction() as conn:
        run_id = cursor_store.start_run(conn, "zendesk", "full", "2026-01-01T00:00:00Z")
    pulse = runner._Pulse(store, run_id)
    clock[0] = runner.BEAT_WHILE_WAITING
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with store.transaction():
            holding.set()
            release.wait(timeout=10)

    other = threading.Thread(target=hold)
    other.start()
    try:
        assert holding.wait(timeout=10)
        pulse()  # busy: skipped, no error
    finally:
        release.set()
        other.join()

    def heartbeat_at() -> str | None:
        return cursor_store.last_runs(store.conn)["zendesk"].heartbeat_at

    assert heartbeat_at() in (None, "2026-01-01T00:00:00Z")
    pulse()
    assert heartbeat_at() not in (None, "2026-01-01T00:00:00Z")


def test_a_store_error_other_than_busy_is_not_swallowed(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [0.0]
    monkeypatch.setattr(runner, "_clock", lambda: clock[0])
    pulse = runner._Pulse(store, 1)
    clock[0] = runner.BEAT_WHILE_WAITING

    def broken(*args: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(cursor_store, "heartbeat", broken)
    with pytest.raises(sqlite3.OperationalError, match="disk"):
        pulse()
