"""Snapshots of a sync run: built once per profile, by the worker and this process together."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from context_service.models import VendorObject
from context_service.snapshot import background
from context_service.snapshot import materialize as materialize_module
from context_service.snapshot.links import DashboardLinks
from context_service.store import Store
from context_service.sync import IngestContext, ingest, run_sync
from context_service.sync.ingest import RawPayload, drain_snapshots, ingest_batch
from context_service.sync.runner import BACKGROUND_AFTER_PAGES, DRAIN_EVERY_PAGES, drain_due
from tests.payloads import zendesk_user
from tests.sync.test_runner import ListConnector, ListStream

PEOPLE = 4
PAGES = 30  # past BACKGROUND_AFTER_PAGES, so the worker takes part


class Builds:
    """Every profile id built, by the worker (handed over) or by this process."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count: Counter[str] = Counter()
        self.by_worker: set[str] = set()
        self.here: set[str] = set()
        submit = background.BackgroundSnapshots.submit
        materialize = materialize_module.materialize  # the function ingest.py imports

        def spy_submit(bg: background.BackgroundSnapshots, ids: list[str], now: str) -> None:
            self.count.update(ids)
            self.by_worker.update(ids)
            submit(bg, ids, now)

        def spy_materialize(conn: Any, ids: Iterable[str], *args: Any) -> int:
            wanted = sorted(set(ids))
            self.count.update(wanted)
            self.here.update(wanted)
            return materialize(conn, wanted, *args)

        monkeypatch.setattr(background.BackgroundSnapshots, "submit", spy_submit)
        monkeypatch.setattr(ingest, "materialize", spy_materialize)


def _same_people_on_every_page() -> list[list[VendorObject]]:
    """Each page brings the same people again with a new phone, a minute later: every page
    changes them."""
    pages = []
    for p in range(PAGES):
        later = f"2026-01-01T00:{p:02d}:00Z"
        users = [
            zendesk_user(
                i, f"Person{i} Test", f"p{i}@example.com", f"+1415555{p:02d}{i:02d}", later
            )
            for i in range(PEOPLE)
        ]
        pages.append([VendorObject(kind, payload) for _, kind, payload in users])
    return pages


def _current(store: Store) -> None:
    """Every profile has the snapshot of its current version, and nothing is left queued."""
    versions = dict(store.conn.execute("SELECT id, version FROM profiles").fetchall())
    built = dict(store.conn.execute("SELECT profile_id, version FROM snapshots").fetchall())
    assert built == versions
    assert store.conn.execute("SELECT count(*) FROM snapshot_queue").fetchone()[0] == 0


@pytest.mark.parametrize("window", [30.0, 0.0])
def test_a_run_builds_each_changed_profile_once_within_the_window(
    store: Store, ctx: IngestContext, monkeypatch: pytest.MonkeyPatch, window: float
) -> None:
    monkeypatch.setattr("context_service.sync.runner.SNAPSHOT_WINDOW", window)
    builds = Builds(monkeypatch)
    outcome = run_sync(store, ListConnector(ListStream(_same_people_on_every_page())), ctx)
    assert outcome.status == "ok"
    assert outcome.pages == PAGES
    _current(store)
    assert len(builds.count) == PEOPLE
    if window:
        # Thirty pages changed each person thirty times, within one window: one build each.
        assert set(builds.count.values()) == {1}
    else:
        # Without a window every committed page hands the same people to the worker again.
        assert min(builds.count.values()) >= PAGES - BACKGROUND_AFTER_PAGES


def _queue(store: Store, ctx: IngestContext, people: int) -> None:
    items = [
        RawPayload(source, kind, payload)
        for source, kind, payload in (
            zendesk_user(i, f"Person{i} Test", f"q{i}@example.com") for i in range(people)
        )
    ]
    ingest_batch(store, items, ctx, defer_snapshots=True)
    assert store.conn.execute("SELECT count(*) FROM snapshot_queue").fetchone()[0] == people


def test_the_drain_shares_the_queue_between_the_worker_and_this_process(
    store: Store, ctx: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    _queue(store, ctx, 1200)
    builds = Builds(monkeypatch)
    with background.BackgroundSnapshots(store.path, ctx.links, ctx.region) as worker:
        built = drain_snapshots(store, ctx, background=worker)
    assert built == 1200
    _current(store)
    assert builds.by_worker  # both built some
    assert builds.here
    assert set(builds.count.values()) == {1}  # and none twice


def test_a_worker_failing_in_the_drain_leaves_its_share_queued_for_this_process(
    store: Store, ctx: IngestContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _queue(store, ctx, 700)
    builds = Builds(monkeypatch)
    # The worker cannot open its database, so every chunk it is given fails.
    broken = background.BackgroundSnapshots(str(tmp_path / "missing.db"), DashboardLinks(), "US")
    with broken:
        built = drain_snapshots(store, ctx, background=broken)
    assert broken.error is not None
    assert builds.by_worker  # it was given chunks before it was found broken
    assert built == 700  # and this process built them after all
    _current(store)


def test_a_long_backfill_drains_by_itself_only_without_a_working_worker(store: Store) -> None:
    assert drain_due(DRAIN_EVERY_PAGES, None)
    assert not drain_due(DRAIN_EVERY_PAGES - 1, None)
    with background.BackgroundSnapshots(store.path, DashboardLinks(), "US") as worker:
        # It gets the queue every SNAPSHOT_WINDOW seconds; a drain here would have this
        # process build half of it instead of ingesting.
        assert not drain_due(DRAIN_EVERY_PAGES, worker)
        worker.error = "BrokenProcessPool: gone"
        assert drain_due(DRAIN_EVERY_PAGES, worker)
