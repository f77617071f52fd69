"""``context-service resolve --all``: train the match model and re-resolve every person record."""

from __future__ import annotations

import contextlib
import sqlite3

import msgspec

from context_service.identity.features import features_of
from context_service.identity.rebuild import person_records, rebuild
from context_service.identity.state import save_model
from context_service.identity.train import TrainingReport, train
from context_service.snapshot.materialize import collector_paused
from context_service.store import Store, snapshots
from context_service.sync.index_worker import IndexWorker
from context_service.sync.ingest import IngestContext, bump_versions, drain_snapshots, utc_now


class ResolveAllReport(msgspec.Struct):
    """What a full re-resolution did."""

    records: int
    profiles_before: int
    profiles_after: int
    profiles_changed: int
    open_reviews: int
    training: TrainingReport | None = None


def resolve_all(store: Store, ctx: IngestContext, *, retrain: bool = False) -> ResolveAllReport:
    """Optionally retrain the model, then rebuild every cluster in one transaction, which
    also queues the changed profiles' snapshots; then build the queue (those and whatever
    other writers queued) in chunks of short transactions (``drain_snapshots``).

    The write lock is held for the identity rebuild only, not while every changed snapshot is
    built as well, so another process's writer (the webhook receiver, a sync) waits less than
    SQLite's busy timeout. Between the two, a read of a changed profile builds its snapshot
    first (``snapshot.lookup``), so no queued snapshot is served; a crash in between leaves
    the profiles queued, for the next drain or read.
    """
    now = utc_now()
    training = None
    # The collector is paused: a million records' ids, memberships and features pile up as
    # the rebuild goes, hold no cycles, and each pass of the collector walked them all again
    # (a tenth of a 100k rebuild; a third in a process that holds more, as the benchmark does).
    with (
        collector_paused(),
        _index_worker(store, ctx.region) as worker,
        store.transaction() as conn,
    ):
        if retrain:
            training = _retrain(conn, ctx.region, now)
        prepare = worker.rows_of if worker is not None else None
        report = rebuild(conn, ctx.region, now, ctx.thresholds, prepare=prepare)
        bump_versions(conn, report.changed, now)
        snapshots.enqueue(conn, report.changed, now)
    drain_snapshots(store, ctx)
    return ResolveAllReport(
        records=report.records,
        profiles_before=report.profiles_before,
        profiles_after=report.profiles_after,
        profiles_changed=len(report.changed),
        open_reviews=report.open_reviews,
        training=training,
    )


def _index_worker(
    store: Store, region: str
) -> contextlib.AbstractContextManager[IndexWorker | None]:
    """A worker process for the rebuild's index rows; none for an in-memory store, which
    another process cannot read (the worker starts only if the rebuild hands it work)."""
    if store.path == ":memory:":
        return contextlib.nullcontext()
    return IndexWorker(store.path, region)


def _retrain(conn: sqlite3.Connection, region: str, now: str) -> TrainingReport:
    """Estimate the match model from every person record's features and save it. Training
    needs them all at once; they are let go before the rebuild, which reads records a chunk
    at a time, so the two peaks do not add up."""
    features = {
        c.record_id: features_of(c.key, c.facet, region)
        for c in person_records(conn)
        if c.facet is not None
    }
    training = train(features, now)
    save_model(conn, training.model, now)
    return training
