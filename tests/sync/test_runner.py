"""The sync runner: pages and cursors commit together, so a crash resumes exactly."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from context_service.errors import RetriableError
from context_service.models import Delivery, Page, VendorObject
from context_service.snapshot import background
from context_service.snapshot.materialize import materialize
from context_service.store import Store
from context_service.store.cursors import cursors_of, last_runs
from context_service.sync import IngestContext, run_sync
from tests.payloads import zendesk_user


class ListStream:
    """Pages of Zendesk users from a list; the cursor is the index of the next page."""

    name = "users"

    def __init__(self, pages: list[list[VendorObject]], fail_at: int | None = None) -> None:
        self.data = pages
        self.fail_at = fail_at
        self.started_from: list[int] = []

    def pages(self, cursor: str | None) -> Iterator[Page]:
        start = json.loads(cursor)["next"] if cursor else 0
        self.started_from.append(start)
        for index in range(start, len(self.data)):
            if index == self.fail_at:
                self.fail_at = None
                raise RetriableError("vendor kept answering 503")
            yield Page(objects=self.data[index], cursor=json.dumps({"next": index + 1}))


class ListConnector:
    source = "zendesk"

    def __init__(self, stream: ListStream) -> None:
        self.stream = stream

    def streams(self) -> list[ListStream]:
        return [self.stream]

    def verify_webhook(
        self, headers: Mapping[str, str], raw_body: bytes, url: str, now: float
    ) -> None:
        raise NotImplementedError

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> Delivery:
        raise NotImplementedError

    def fetch_one(self, kind: str, external_id: str) -> VendorObject | None:
        return None


def _pages(count: int, per_page: int = 3) -> list[list[VendorObject]]:
    pages = []
    for p in range(count):
        users = [
            zendesk_user(p * 100 + i, f"Person{p}x{i} Test", email=f"p{p}x{i}@example.com")
            for i in range(per_page)
        ]
        pages.append([VendorObject(kind, payload) for _, kind, payload in users])
    return pages


def _records(store: Store) -> int:
    return int(store.conn.execute("SELECT count(*) FROM records").fetchone()[0])


def test_full_run_pages_to_the_end_and_stores_the_cursor(store: Store, ctx: IngestContext) -> None:
    stream = ListStream(_pages(4))
    outcome = run_sync(store, ListConnector(stream), ctx)
    assert outcome.status == "ok"
    assert outcome.pages == 4
    assert _records(store) == 12
    assert json.loads(cursors_of(store.conn, "zendesk")["users"] or "{}") == {"next": 4}
    assert last_runs(store.conn)["zendesk"].records_seen == 12


def test_crash_after_page_n_resumes_at_n_with_nothing_lost_or_doubled(
    store: Store, ctx: IngestContext
) -> None:
    stream = ListStream(_pages(5), fail_at=3)
    first = run_sync(store, ListConnector(stream), ctx)
    assert first.status == "failed"
    assert "503" in (first.error or "")
    assert _records(store) == 9
    second = run_sync(store, ListConnector(stream), ctx)
    assert second.status == "ok"
    assert stream.started_from == [0, 3]
    assert second.report.inserted == 6
    assert _records(store) == 15
    assert store.conn.execute("SELECT count(*) FROM profiles").fetchone()[0] == 15


def test_second_run_is_a_no_op(store: Store, ctx: IngestContext) -> None:
    stream = ListStream(_pages(2))
    run_sync(store, ListConnector(stream), ctx)
    versions = store.conn.execute("SELECT id, version FROM profiles ORDER BY id").fetchall()
    again = run_sync(store, ListConnector(stream), ctx)
    assert again.report.seen == 0
    assert store.conn.execute("SELECT id, version FROM profiles ORDER BY id").fetchall() == versions


def test_full_flag_resets_cursors_and_replays_without_changes(
    store: Store, ctx: IngestContext
) -> None:
    stream = ListStream(_pages(2))
    run_sync(store, ListConnector(stream), ctx)
    again = run_sync(store, ListConnector(stream), ctx, full=True)
    assert again.mode == "full"
    assert again.report.seen == 6
    assert again.report.unchanged == 6
    assert again.report.profiles_changed == 0


def test_an_unexpected_exception_is_recorded_and_raised(store: Store, ctx: IngestContext) -> None:
    class Broken(ListStream):
        def pages(self, cursor: str | None) -> Iterator[Page]:
            raise KeyError("bug")

    with pytest.raises(KeyError):
        run_sync(store, ListConnector(Broken([])), ctx)
    run = last_runs(store.conn)["zendesk"]
    assert run.status == "failed"
    assert "KeyError" in (run.error or "")


def _snapshots(store: Store) -> dict[str, tuple[int, dict[str, object]]]:
    found = {}
    for pid, version, blob in store.conn.execute("SELECT profile_id, version, json FROM snapshots"):
        snapshot = json.loads(blob)
        snapshot.pop("generated_at")
        found[pid] = (version, snapshot)
    return found


def test_a_big_queue_is_built_by_worker_processes_once_per_profile(
    store: Store, ctx: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("context_service.sync.ingest.PARALLEL_DRAIN_MIN", 5)
    built: list[list[str]] = []
    real_release = background.BackgroundSnapshots.release

    def counting(self: background.BackgroundSnapshots, now: str) -> None:
        built.append(sorted(self._held))
        real_release(self, now)

    monkeypatch.setattr(background.BackgroundSnapshots, "release", counting)
    # Two streams over the same people (as Stripe lists customers, then their invoices): a
    # profile changed by both is built once, when the run ends.
    changed = [
        [
            VendorObject(o.kind, {**o.payload, "phone": f"+1415555{n:02d}{i:02d}"})
            for i, o in enumerate(page)
        ]
        for n, page in enumerate(_pages(4))
    ]
    stream, again = ListStream(_pages(4)), ListStream(changed)
    again.name = "users_again"
    connector = ListConnector(stream)
    monkeypatch.setattr(connector, "streams", lambda: [stream, again])
    outcome = run_sync(store, connector, ctx)
    assert outcome.status == "ok"
    assert outcome.report.updated == 12  # the second stream changed every profile
    profiles = {row[0]: row[1] for row in store.conn.execute("SELECT id, version FROM profiles")}
    assert len(built) == 1
    assert built[0] == sorted(profiles)  # every profile, once, by the workers
    assert store.conn.execute("SELECT count(*) FROM snapshot_queue").fetchone()[0] == 0
    stored = _snapshots(store)
    assert {pid: version for pid, (version, _) in stored.items()} == profiles
    # What the workers built is exactly what building here gives.
    with store.transaction() as conn:
        materialize(conn, profiles, ctx.links, "2026-11-29T00:00:00Z", ctx.region)
    assert _snapshots(store) == stored


def test_workers_that_cannot_build_leave_the_queue_to_this_process(
    store: Store, ctx: IngestContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("context_service.sync.ingest.PARALLEL_DRAIN_MIN", 5)
    real = background.BackgroundSnapshots
    started: list[background.BackgroundSnapshots] = []

    def broken(db_path: str, *args: Any, **kw: Any) -> background.BackgroundSnapshots:
        started.append(real(str(tmp_path / "missing.db"), *args, **kw))  # no such database
        return started[-1]

    monkeypatch.setattr("context_service.sync.ingest.BackgroundSnapshots", broken)
    outcome = run_sync(store, ListConnector(ListStream(_pages(4))), ctx)
    assert outcome.status == "ok"
    assert started
    assert started[0].error is not None
    profiles = {row[0]: row[1] for row in store.conn.execute("SELECT id, version FROM profiles")}
    assert len(profiles) == 12
    assert {pid: version for pid, (version, _) in _snapshots(store).items()} == profiles
    assert store.conn.execute("SELECT count(*) FROM snapshot_queue").fetchone()[0] == 0
