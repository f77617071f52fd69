"""The sync runner under stress: several streams interrupted anywhere, two runs of one source at
once, a stream whose cursor never advances, and a run's counts against the store."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator, Mapping

import pytest

from context_service.errors import RetriableError
from context_service.models import Delivery, Page, VendorObject
from context_service.models import Stream as StreamContract
from context_service.store import Store
from context_service.store import cursors as cursor_store
from context_service.sync import IngestContext, run_sync
from tests.payloads import zendesk_user


def _users(first: int, count: int) -> list[VendorObject]:
    made = [zendesk_user(n, f"Person{n} Test", email=f"p{n}@example.com") for n in range(count)]
    return [
        VendorObject(kind, {**payload, "id": first + n})
        for n, (_, kind, payload) in enumerate(made)
    ]


class Stream:
    """Pages from a list (cursor: the next page's index); ``interrupt`` raises once at a page."""

    def __init__(self, name: str, pages: list[list[VendorObject]]) -> None:
        self.name = name
        self.data = pages
        self.interrupt: tuple[int, BaseException] | None = None
        self.gate: threading.Event | None = None  # the first page waits for it
        self.started = threading.Event()
        self.started_from: list[int] = []

    def pages(self, cursor: str | None) -> Iterator[Page]:
        start = json.loads(cursor)["next"] if cursor else 0
        self.started_from.append(start)
        self.started.set()
        if self.gate is not None:
            self.gate.wait(timeout=60)
        for index in range(start, len(self.data)):
            if self.interrupt is not None and self.interrupt[0] == index:
                error, self.interrupt = self.interrupt[1], None
                raise error
            yield Page(objects=self.data[index], cursor=json.dumps({"next": index + 1}))


class Connector:
    source = "zendesk"

    def __init__(self, *streams: StreamContract) -> None:
        self._streams = list(streams)

    def streams(self) -> list[StreamContract]:
        return self._streams

    def verify_webhook(
        self, headers: Mapping[str, str], raw_body: bytes, url: str, now: float
    ) -> None:
        raise NotImplementedError

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> Delivery:
        raise NotImplementedError

    def fetch_one(self, kind: str, external_id: str) -> VendorObject | None:
        return None


def _two_streams() -> tuple[Stream, Stream]:
    first = Stream("users", [_users(100 * p, 3) for p in range(4)])
    second = Stream("more_users", [_users(1000 + 100 * p, 2) for p in range(3)])
    return first, second


def _records(store: Store) -> int:
    return int(store.conn.execute("SELECT count(*) FROM records").fetchone()[0])


@pytest.mark.parametrize(
    "where", [("users", 0), ("users", 2), ("more_users", 0), ("more_users", 2)]
)
@pytest.mark.parametrize("how", [KeyboardInterrupt(), RetriableError("vendor kept failing")])
def test_an_interruption_anywhere_resumes_there_with_nothing_lost_or_doubled(
    store: Store, ctx: IngestContext, where: tuple[str, int], how: BaseException
) -> None:
    users, more = _two_streams()
    {"users": users, "more_users": more}[where[0]].interrupt = (where[1], how)
    inserted = 0
    try:
        inserted += run_sync(store, Connector(users, more), ctx).report.inserted
    except KeyboardInterrupt:
        inserted = _records(store)
    cursors = cursor_store.cursors_of(store.conn, "zendesk")
    if where[0] == "users":  # a later stream never starts before an earlier one ends
        assert "more_users" not in cursors
    again = run_sync(store, Connector(users, more), ctx)
    assert again.status == "ok"
    assert users.started_from[-1] == (where[1] if where[0] == "users" else 4)
    assert inserted + again.report.inserted == _records(store) == 4 * 3 + 3 * 2


def test_full_while_an_incremental_cursor_exists_replays_everything_from_the_top(
    store: Store, ctx: IngestContext
) -> None:
    users, more = _two_streams()
    run_sync(store, Connector(users, more), ctx)
    full = run_sync(store, Connector(users, more), ctx, full=True)
    assert full.mode == "full"
    assert users.started_from == [0, 0]
    assert more.started_from == [0, 0]
    assert full.report.seen == full.report.unchanged == _records(store)


def test_a_second_run_of_a_source_while_one_runs_is_refused_clearly(
    store: Store, ctx: IngestContext
) -> None:
    users, _ = _two_streams()
    users.gate = threading.Event()
    outcomes: list[object] = []
    first_store = Store(store.path)
    running = threading.Thread(
        target=lambda: outcomes.append(run_sync(first_store, Connector(users), ctx))
    )
    running.start()
    try:
        assert users.started.wait(timeout=60)
        other = Stream("users", users.data)
        second = run_sync(store, Connector(other), ctx)
    finally:
        users.gate.set()
        running.join(timeout=120)
        first_store.close()
    assert second.status == "failed"
    assert "already running" in (second.error or "")
    assert other.started_from == []  # it fetched nothing
    assert len(outcomes) == 1
    runs = store.conn.execute("SELECT status FROM sync_runs ORDER BY id").fetchall()
    assert runs == [("ok",)]  # the refused one is not recorded over the live one
    assert _records(store) == 12


def _record_run_of(store: Store, process: subprocess.Popen[bytes]) -> None:
    """A run recorded as ``running`` by ``process`` (as ``start_run`` there would), alive now."""
    instance = cursor_store.process_instance(process.pid)
    with store.transaction() as conn:
        run_id = cursor_store.start_run(conn, "zendesk", "full", "2026-01-01T00:00:00Z")
        conn.execute(
            "UPDATE sync_runs SET pid = ?, process_instance = ?, heartbeat_at = "
            "strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?",
            (process.pid, instance, run_id),
        )


def test_a_run_of_another_live_process_refuses_and_once_it_is_killed_does_not(
    store: Store, ctx: IngestContext
) -> None:
    other = subprocess.Popen(["sleep", "60"])
    try:
        _record_run_of(store, other)
        users, _ = _two_streams()
        refused = run_sync(store, Connector(users), ctx)
        assert refused.status == "failed"
        assert f"process {other.pid}" in (refused.error or "")
        assert users.started_from == []
    finally:
        other.kill()  # as SIGKILL leaves it: recorded ``running``
        other.wait()
    outcome = run_sync(store, Connector(users), ctx)
    assert outcome.status == "ok", outcome.error
    assert _records(store) == 12


def test_force_starts_a_run_while_another_one_still_looks_alive(
    store: Store, ctx: IngestContext
) -> None:
    # A run killed in another container keeps looking alive here for up to an hour (only its
    # heartbeat can be read); the operator who knows it is gone starts the next one anyway.
    other = subprocess.Popen(["sleep", "60"])
    try:
        _record_run_of(store, other)
        users, _ = _two_streams()
        refused = run_sync(store, Connector(users), ctx)
        assert "--force" in (refused.error or "")
        forced = run_sync(store, Connector(users), ctx, force=True)
        assert forced.status == "ok", forced.error
        assert _records(store) == 12
    finally:
        other.kill()
        other.wait()


class Stuck:
    """A stream whose vendor answers the same page, with the same cursor, again and again."""

    name = "users"

    def __init__(self) -> None:
        self.served = 0

    def pages(self, cursor: str | None) -> Iterator[Page]:
        page = _users(1, 2)
        yield Page(objects=_users(500, 2), cursor=json.dumps({"after": "a"}))
        while self.served < 50:  # a runner without a guard would spin here for ever
            self.served += 1
            yield Page(objects=page, cursor=json.dumps({"after": "b"}))
        raise AssertionError("the runner kept following a cursor that does not advance")


def test_a_cursor_that_does_not_advance_stops_the_run_with_a_clear_error(
    store: Store, ctx: IngestContext
) -> None:
    stuck = Stuck()
    outcome = run_sync(store, Connector(stuck), ctx)
    assert outcome.status == "failed"
    assert "does not advance" in (outcome.error or "")
    assert stuck.served < 10
    assert _records(store) == 4


def test_an_empty_page_with_a_next_cursor_is_followed(store: Store, ctx: IngestContext) -> None:
    users = Stream("users", [_users(1, 2), [], [], _users(10, 2)])
    outcome = run_sync(store, Connector(users), ctx)
    assert outcome.status == "ok"
    assert outcome.pages == 4
    assert _records(store) == 4


class Listing(Stream):
    lists_kind = completed_listing = "user"


def test_the_recorded_run_counts_what_the_run_reports(store: Store, ctx: IngestContext) -> None:
    listing = Listing("users", [_users(1, 3), _users(10, 3)])
    run_sync(store, Connector(listing), ctx)
    with store.transaction() as conn:  # fetched before the next listing starts
        conn.execute("UPDATE records SET fetched_at = '2020-01-01T00:00:00Z'")
    shorter = Listing("users", [_users(1, 3)])  # the second page's people are gone
    outcome = run_sync(store, Connector(shorter), ctx, full=True)
    recorded = cursor_store.last_runs(store.conn)["zendesk"]
    assert outcome.report.seen > 3  # the gone ones were looked up
    assert recorded.records_seen == outcome.report.seen
    assert recorded.records_rejected == outcome.report.rejected
