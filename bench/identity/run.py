"""Identity benchmark: import labeled records like real data, then score the profiles.

    .venv/bin/python -m bench.identity.run --records 10000
    .venv/bin/python bench/identity/run.py --records 100000 --json

Records come from ``bench.identity.generate``. All but the last people's records are imported
as a backfill would (``ingest_batch`` per page with deferred snapshots, drained at the end, as
``run_sync`` does), source after source; the last ``--one-at-a-time`` records (whole people,
interleaved) then arrive one per ``ingest_batch`` call, as webhooks do, against the filled
store; the time spent rebuilding snapshots in those calls is measured too, so the figure
without them (stored, resolved, linked and committed) is printed beside it, and so is the
figure for the identity engine's step alone (candidates found, pairs decided, clusters, profiles
and links written, inside the same transaction), the part that compares with Splink's
one-at-a-time call, which only links. Both go through ``default_mappers()`` and the settings' region
into a fresh SQLite store in a temporary directory. The profiles in ``profile_members`` are
then scored against the labels: pairwise and exact-cluster (and B-cubed) precision, recall and
F1, with a breakdown of missed pairs and false merges by phenomenon. Throughputs count only
time spent in ingest calls (not generating), as wall-clock and as CPU time (steadier on a
shared machine); peak RSS is the whole process's, labels included.

With ``--resolve-all``, ``context-service resolve --all`` then runs on the filled store (every
cluster resolved again from the stored records in one transaction, the changed profiles'
snapshots built after it): its wall and CPU time are the batch resolution figure, and the
clusters it gives are compared with the incremental path's (the two must agree).

With ``--splink`` (the ``bench`` extra), Splink 5 then links the same records in a child
process (``bench.identity.splink_runner``), so both peak RSS figures are each side's own; its
figures are printed beside ours and returned under ``"splink"`` in ``--json``.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import argparse
import json
import resource
import tempfile
import time
from collections.abc import Hashable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from bench.identity.breakdown import Breakdown, Key, breakdown
from bench.identity.generate import GeneratedRecord, Label, plan, stream, tail_start
from bench.identity.metrics import PRF, evaluate
from bench.identity.report import format_text
from bench.identity.why import why_missed
from context_service.settings import load_settings
from context_service.snapshot.background import BackgroundSnapshots
from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, drain_snapshots, ingest_batch
from context_service.sync.rebuild import resolve_all
from context_service.sync.runner import BACKGROUND_AFTER_PAGES, SNAPSHOT_WINDOW, drain_due
from context_service.wiring import ingest_context
from integrations.shopify.graphql import to_rest

OBSERVED_AT = "2026-11-20T12:00:00Z"  # when the "sync" saw objects that carry no updated_at


def to_raw(record: GeneratedRecord) -> RawPayload:
    """The payload as the connector hands it to ingest (Shopify GraphQL nodes in REST shape)."""
    if record.source == "shopify":
        return RawPayload(record.source, record.kind, to_rest(record.kind, record.payload))
    observed = OBSERVED_AT if record.source == "stripe" else None
    return RawPayload(record.source, record.kind, record.payload, observed_at=observed)


def _labelled(records: Iterable[GeneratedRecord], labels: dict[Key, Label]) -> Iterator[RawPayload]:
    for record in records:
        labels[record.key] = record.label
        yield to_raw(record)


def _pages(items: Iterator[RawPayload], size: int) -> Iterator[list[RawPayload]]:
    page: list[RawPayload] = []
    for item in items:
        page.append(item)
        if len(page) >= size:
            yield page
            page = []
    if page:
        yield page


def import_batches(
    store: Store, ctx: IngestContext, items: Iterator[RawPayload], size: int
) -> tuple[int, float, float, int]:
    """Backfill ``items`` page by page, as a sync does (snapshots built by the worker process
    from the 20th page on); return (records, wall s, CPU s of this process, rejected)."""
    seen = rejected = 0
    wall = cpu = 0.0
    background: BackgroundSnapshots | None = None
    try:
        for number, page in enumerate(_pages(items, size), start=1):
            t0, c0 = time.perf_counter(), time.process_time()
            if number == BACKGROUND_AFTER_PAGES and store.path != ":memory:":
                background = BackgroundSnapshots(
                    store.path, ctx.links, ctx.region, window=SNAPSHOT_WINDOW
                )
            report = ingest_batch(store, page, ctx, defer_snapshots=True, background=background)
            if drain_due(number, background):
                drain_snapshots(store, ctx, background=background)
            wall, cpu = wall + time.perf_counter() - t0, cpu + time.process_time() - c0
            seen, rejected = seen + report.seen, rejected + report.rejected
        t0, c0 = time.perf_counter(), time.process_time()
        drain_snapshots(store, ctx, background=background)
    finally:
        if background is not None:
            background.close()
    return seen, wall + time.perf_counter() - t0, cpu + time.process_time() - c0, rejected


class OneByOne(NamedTuple):
    """What the one-at-a-time phase measured."""

    latencies: list[float]  # seconds per ingest_batch call
    cpu_seconds: float
    rejected: int
    snapshot_seconds: float  # of the latencies, rebuilding the changed profiles' snapshots
    resolve_seconds: float  # of the latencies, in the identity engine alone


def import_one_by_one(store: Store, ctx: IngestContext, items: Iterator[RawPayload]) -> OneByOne:
    """Ingest each item in its own ``ingest_batch``, as a webhook is applied (the changed
    profiles' snapshots rebuilt in the same transaction, timed apart by the report)."""
    latencies: list[float] = []
    rejected, c0, rebuilding, resolving = 0, time.process_time(), 0.0, 0.0
    for item in items:
        t0 = time.perf_counter()
        report = ingest_batch(store, [item], ctx)
        latencies.append(time.perf_counter() - t0)
        rejected += report.rejected
        rebuilding += report.snapshot_seconds
        resolving += report.resolve_seconds
    return OneByOne(latencies, time.process_time() - c0, rejected, rebuilding, resolving)


def predicted_clusters(store: Store, labels: dict[Key, Label]) -> tuple[dict[Key, Hashable], int]:
    """Each labelled record's profile id; a record in no profile is its own cluster (counted)."""
    rows = store.conn.execute(
        "SELECT r.source, r.kind, r.external_id, m.profile_id FROM records r "
        "JOIN profile_members m ON m.record_id = r.id"
    )
    found = {(s, k, e): profile for s, k, e, profile in rows}
    predicted: dict[Key, Hashable] = {}
    unassigned = 0
    for key in labels:
        if key in found:
            predicted[key] = found[key]
        else:
            predicted[key], unassigned = ("unassigned", key), unassigned + 1
    return predicted, unassigned


def _partition(assigned: Mapping[Key, Hashable]) -> set[frozenset[Key]]:
    groups: dict[Hashable, set[Key]] = {}
    for key, cluster in assigned.items():
        groups.setdefault(cluster, set()).add(key)
    return {frozenset(keys) for keys in groups.values()}


def records_in_other_clusters(before: Mapping[Key, Hashable], after: Mapping[Key, Hashable]) -> int:
    """How many records are not in the same group of records in ``after`` as in ``before``
    (cluster ids aside): 0 when the two clusterings are the same partition."""
    differ = _partition(before) ^ _partition(after)
    return len({key for group in differ for key in group})


def resolve_all_figures(
    store: Store,
    ctx: IngestContext,
    labels: dict[Key, Label],
    before: dict[Key, Hashable],
    train: bool = False,
) -> dict[str, Any]:
    """``context-service resolve --all`` on the filled store, timed (wall and CPU), and whether
    its clusters are the incremental path's: the records in clusters it did not give back.
    With ``train`` it is ``resolve --all --train`` (the model estimated from the store first),
    and the clusters are scored again under that model."""
    t0, c0 = time.perf_counter(), time.process_time()
    report = resolve_all(store, ctx, retrain=train)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    after, _ = predicted_clusters(store, labels)
    figures: dict[str, Any] = {
        "records": report.records,
        "trained": train,
        "seconds": round(seconds, 2),
        "records_per_s": round(report.records / seconds, 1) if seconds else 0.0,
        "cpu_seconds": round(cpu, 2),
        "profiles_changed": report.profiles_changed,
        "records_in_other_clusters": records_in_other_clusters(before, after),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    if train:
        figures["scores_after"] = _scores(evaluate({k: v.person for k, v in labels.items()}, after))
    return figures


def identifiers_of(store: Store, key: Key) -> str:
    """A record's indexed identifiers, for printing an example (``email=... phone=...``)."""
    rows = store.conn.execute(
        "SELECT i.kind, i.value, i.strong FROM identifiers i JOIN records r ON r.id = i.record_id"
        " WHERE r.source = ? AND r.kind = ? AND r.external_id = ? ORDER BY i.kind, i.value",
        key,
    )
    shown = [f"{kind}={value}{'' if strong else '(weak)'}" for kind, value, strong in rows]
    return f"{key[0]} {key[2]}: " + (", ".join(shown) or "(no identifiers)")


def blocking_figures(store: Store) -> dict[str, float]:
    """How much the blocking asks for: keys per record, and the candidate pairs the keys make
    (pairs sharing several keys counted once per key) and the largest block."""
    keys, records = store.conn.execute(
        "SELECT count(*), count(DISTINCT record_id) FROM identifiers WHERE kind = 'block'"
    ).fetchone()
    pairs, largest = store.conn.execute(
        "SELECT coalesce(sum(n * (n - 1) / 2), 0), coalesce(max(n), 0) FROM "
        "(SELECT count(*) AS n FROM identifiers WHERE kind = 'block' GROUP BY value)"
    ).fetchone()
    return {
        "keys_per_record": round(keys / records, 2) if records else 0.0,
        "candidate_pairs": int(pairs),
        "largest_block": int(largest),
    }


def percentile(values: list[float], q: float) -> float:
    """The ``q``-quantile (0..1) of ``values`` by nearest rank; 0.0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _scores(scores: dict[str, PRF]) -> dict[str, dict[str, float]]:
    return {name: {k: round(v, 4) for k, v in s._asdict().items()} for name, s in scores.items()}


def _breakdown_json(bd: Breakdown, store: Store) -> dict[str, Any]:
    phenomena = {
        tag: {"pairs": n, "missed": bd.missed[tag], "recall": round(1 - bd.missed[tag] / n, 4)}
        for tag, n in sorted(bd.pairs.items(), key=lambda item: -item[1])
    }
    households = {
        kind: {"households": n, "wrongly_merged": bd.merged_people[kind]}
        for kind, n in sorted(bd.households.items())
    }
    examples = {
        what: [[identifiers_of(store, a), identifiers_of(store, b)] for a, b in pairs]
        for what, pairs in sorted(bd.examples.items())
    }
    return {
        "missed_by_phenomenon": phenomena,
        "split_people": bd.split_people,
        "false_merges": {
            what: {"people_pairs": n, "record_pairs": bd.merged_records[what]}
            for what, n in bd.merged_people.most_common()
        },
        "households": households,
        "examples": examples,
    }


def run(
    records: int,
    seed: int = 1,
    page_size: int = 250,
    one_at_a_time: int = 2000,
    with_resolve_all: bool = False,
    train: bool = False,
) -> dict[str, Any]:
    """Generate, import (backfill, then one at a time), score; return every figure (with
    ``with_resolve_all``, also ``resolve --all``'s, after the peak RSS of the import is read)."""
    the_plan = plan(records, seed)
    tail = tail_start(the_plan, min(one_at_a_time, records // 5))
    labels: dict[Key, Label] = {}
    ctx = ingest_context(load_settings(environ={}))
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "identity_bench.db")
        try:
            head = _labelled(stream(seed, the_plan, 0, tail, "by_source"), labels)
            batch_n, batch_s, batch_cpu, rejected = import_batches(store, ctx, head, page_size)
            rest = _labelled(stream(seed, the_plan, tail, order="interleaved"), labels)
            one = import_one_by_one(store, ctx, rest)
            latencies, one_cpu, rejected_one = one.latencies, one.cpu_seconds, one.rejected
            predicted, unassigned = predicted_clusters(store, labels)
            scores = evaluate({k: v.person for k, v in labels.items()}, predicted)
            details = _breakdown_json(breakdown(labels, predicted), store)
            missed = why_missed(store.conn, labels, predicted, ctx.thresholds)
            details["why_missed"] = missed.reasons
            persons = len({label.person for label in labels.values()})
            details["recall_ceiling"] = {
                "split_people": missed.split,
                "completable_without_name_only": missed.completable,
                "complete_recall_ceiling": round(
                    (persons - missed.split + missed.completable) / persons, 4
                ),
            }
            blocking = blocking_figures(store)
            import_rss = peak_rss_mb()
            rebuilt = (
                resolve_all_figures(store, ctx, labels, predicted, train)
                if with_resolve_all or train
                else None
            )
        finally:
            store.close()
    one_s = sum(latencies)
    return {
        "records": len(labels),
        "seed": seed,
        "sources": sorted({key[0] for key in labels}),
        "true_persons": len({label.person for label in labels.values()}),
        "predicted_profiles": len(set(predicted.values())),
        "unassigned_records": unassigned,
        "rejected_records": rejected + rejected_one,
        "scores": _scores(scores),
        "batch": {
            "records": batch_n,
            "seconds": round(batch_s, 2),
            "page_size": page_size,
            "records_per_s": round(batch_n / batch_s, 1) if batch_s else 0.0,
            "cpu_seconds": round(batch_cpu, 2),
            "records_per_cpu_s": round(batch_n / batch_cpu, 1) if batch_cpu else 0.0,
        },
        "one_at_a_time": {
            "records": len(latencies),
            # to the tenth of a millisecond: a small run's calls add up to tens of them
            "seconds": round(one_s, 4),
            "records_per_s": round(len(latencies) / one_s, 1) if one_s else 0.0,
            "cpu_seconds": round(one_cpu, 2),
            "records_per_cpu_s": round(len(latencies) / one_cpu, 1) if one_cpu else 0.0,
            "p50_ms": round(percentile(latencies, 0.5) * 1000, 2),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
            "snapshot_seconds": round(one.snapshot_seconds, 4),
            "records_per_s_without_snapshots": (
                round(len(latencies) / (one_s - one.snapshot_seconds), 1)
                if one_s > one.snapshot_seconds
                else 0.0
            ),
            "resolve_seconds": round(one.resolve_seconds, 4),
            "records_per_s_resolution_alone": (
                round(len(latencies) / one.resolve_seconds, 1) if one.resolve_seconds else 0.0
            ),
        },
        "peak_rss_mb": round(import_rss, 1),
        "resolve_all": rebuilt,
        "blocking": blocking,
        "breakdown": details,
    }


def main(argv: list[str] | None = None) -> None:
    """Parse the options, run, print a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000, help="10000, 100000, 1000000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--page-size", type=int, default=250, help="records per backfill batch")
    parser.add_argument(
        "--one-at-a-time", type=int, default=2000, help="records ingested one per call at the end"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--no-examples", action="store_true", help="omit example errors")
    parser.add_argument(
        "--resolve-all",
        action="store_true",
        help="then time `resolve --all` on the filled store and compare its clusters",
    )
    parser.add_argument(
        "--train",
        action="store_true",
        help="with --resolve-all: retrain the model from the store first, then score again",
    )
    parser.add_argument(
        "--splink",
        action="store_true",
        help="then run Splink 5 on the same records in a child process (needs the bench extra)",
    )
    parser.add_argument(
        "--splink-calls", type=int, default=20, help="records Splink matches one per call"
    )
    args = parser.parse_args(argv)
    if args.splink:
        from bench.identity import splink_runner

        if not splink_runner.available():
            parser.exit(2, splink_runner.MISSING + "\n")
    figures = run(
        args.records, args.seed, args.page_size, args.one_at_a_time, args.resolve_all, args.train
    )
    if args.splink:
        figures["splink"] = splink_runner.run_in_child(
            args.records, args.seed, args.one_at_a_time, args.splink_calls
        )
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(format_text(figures, with_examples=not args.no_examples))


if __name__ == "__main__":
    main()
