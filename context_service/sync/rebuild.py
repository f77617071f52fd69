"""``context-service resolve --all``: train the match model and re-resolve every person record."""

from __future__ import annotations

import msgspec

from context_service.identity.features import features_of
from context_service.identity.rebuild import person_records, rebuild
from context_service.identity.state import save_model
from context_service.identity.train import TrainingReport, train
from context_service.snapshot.materialize import materialize
from context_service.store import Store, snapshots
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
    """Optionally retrain the model, then rebuild every cluster in one transaction.

    The changed profiles' snapshots are rebuilt in the same transaction: readers see the
    previous profiles and snapshots until it commits, then the new ones together, and a
    failure anywhere leaves the store as it was. Snapshots other writers queued (a deferred
    backfill) are drained afterwards.
    """
    now = utc_now()
    training = None
    with store.transaction() as conn:
        if retrain:
            features = {
                c.record_id: features_of(c.key, c.facet, ctx.region)
                for c in person_records(conn)
                if c.facet is not None
            }
            training = train(features, now)
            save_model(conn, training.model, now)
        report = rebuild(conn, ctx.region, now, ctx.thresholds)
        bump_versions(conn, report.changed, now)
        materialize(conn, report.changed, ctx.links, now, ctx.region)
        snapshots.unqueue(conn, sorted(report.changed))
    drain_snapshots(store, ctx)
    return ResolveAllReport(
        records=report.records,
        profiles_before=report.profiles_before,
        profiles_after=report.profiles_after,
        profiles_changed=len(report.changed),
        open_reviews=report.open_reviews,
        training=training,
    )
