"""Splink 5 (DuckDB) on the identity benchmark's records, scored with the same metrics.

    .venv/bin/pip install -e '.[bench]'       # Splink is a bench-only extra
    .venv/bin/python -m bench.identity.splink_runner --records 10000 --json

``bench.identity.run --splink`` starts this module in a child process, so each side's peak RSS
is its own. The records are the runner's (same seed, same order: the backfill's records, then
the last people's records interleaved), flattened to one row each by ``bench.identity.flatten``
through our mappers and normalizers.

Splink is used the standard way (its tutorials' steps): the prior from deterministic rules,
``u`` by random sampling, ``m`` by expectation maximisation on two blocking rules, then
``predict`` over blocking rules comparable to our engine's (any shared mailbox, any shared
phone, the name pair in one city, a long email local part) and connected components at a match
probability of 0.9. Cluster ids become the predicted assignment scored by
``bench.identity.metrics``.

The name rules take the city too (``block_on("name_pair", "city")`` to predict, first name,
surname and city for one EM pass), as Splink's guidance on blocking asks: rules whose
comparisons stay tractable. On the name pair alone, each of the population's common names
(thousands of John Smiths at 1M) makes a block that grows with the square of its size, and
Splink did not finish at 1M in 900 s (19.7 GB of RSS); with the city it links 1M records in
about 20 s. Its precision rises and its recall falls a little (100k: pure / complete 0.9716 /
0.8597 before, 0.9947 / 0.8401 after).

Batch wall time is training + predict + clustering (flattening into the input table is timed
apart as ``prepare``). One at a time: for the first ``--one-at-a-time`` records of the tail,
one call each of ``predict_between`` (Splink 5's incremental linkage, the successor of
``find_matches_to_new_records``) with the record as a one-row table against every record
before the tail, matches at 0.9 fetched.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import argparse
import json
import logging
import resource
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Hashable, Mapping
from typing import Any

from bench.identity.breakdown import Key, breakdown
from bench.identity.flatten import flatten
from bench.identity.generate import Label, plan, stream, tail_start
from bench.identity.metrics import evaluate
from context_service.settings import load_settings
from context_service.wiring import default_mappers

THRESHOLD = 0.9
BREAKDOWN_MAX = 2000  # people in one cluster beyond which the error breakdown is skipped
MISSING = (
    "Splink is a bench-only extra: install it with  .venv/bin/pip install -e '.[bench]'  "
    "(splink==5.0.0, duckdb, pyarrow)"
)


def available() -> bool:
    """Whether Splink and its DuckDB backend can be imported."""
    try:
        import duckdb  # noqa: F401
        import splink  # noqa: F401
    except ImportError:
        return False
    return True


def settings() -> Any:
    """The Splink model: comparisons and prediction blocking rules."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import ColumnExpression, SettingsCreator, block_on

    email = cl.CustomComparison(
        comparison_levels=[
            cll.NullLevel("email"),
            cll.ArrayIntersectLevel("emails", min_intersection=1).configure(
                label_for_charts="A mailbox in common"
            ),
            cll.ExactMatchLevel(ColumnExpression("email").regex_extract("^[^@]+")).configure(
                label_for_charts="Same local part"
            ),
            cll.JaroWinklerLevel("email", 0.88),
            cll.ElseLevel(),
        ],
        output_column_name="email",
    )
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            email,
            cl.ArrayIntersectAtSizes("phones", [1]),
            cl.ExactMatch("postcode"),
            cl.JaroWinklerAtThresholds("street", [0.9]),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("emails", arrays_to_explode=["emails"]),
            block_on("phones", arrays_to_explode=["phones"]),
            block_on("name_pair", "city"),
            block_on("email_locals", arrays_to_explode=["email_locals"]),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB. Linux's ``VmHWM`` where there is one:
    ``ru_maxrss`` survives ``exec``, so in the child that ``run_in_child`` starts it would
    report the parent's peak when that is higher (our side's, 3.5 GB after ``--resolve-all``
    at 1M, was once printed as Splink's)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class _Clock:
    """Wall and CPU seconds per named phase (CPU covers DuckDB's threads too)."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def time(self, name: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn(*args, **kwargs)
        self.wall[name] = self.wall.get(name, 0.0) + time.perf_counter() - t0
        self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - c0
        return result


def _train(linker: Any) -> None:
    from splink import block_on

    training = linker.training
    training.estimate_probability_two_random_records_match(
        [block_on("email"), block_on("first_name", "surname", "postcode")], recall=0.7
    )
    training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    training.estimate_parameters_using_expectation_maximisation(
        block_on("first_name", "surname", "city")
    )
    training.estimate_parameters_using_expectation_maximisation(block_on("email"))


def _clusters(con: Any, table: Any) -> dict[int, Hashable]:
    rows = con.execute(f"SELECT unique_id, cluster_id FROM {table.physical_name}").fetchall()
    return {int(uid): cluster for uid, cluster in rows}


def _one_at_a_time(
    linker: Any, db_api: Any, arrow: Any, head: int, count: int
) -> tuple[list[float], float, int]:
    """Match ``count`` tail rows, one ``predict_between`` call each, against rows ``< head``."""
    existing = db_api.register(arrow.slice(0, head), table_name="existing_records")
    for column in ("first_name", "surname", "city"):
        linker.table_management.compute_tf_table(column)
    latencies: list[float] = []
    found, c0 = 0, time.process_time()
    for offset in range(min(count, arrow.num_rows - head)):
        t0 = time.perf_counter()
        new = db_api.register(arrow.slice(head + offset, 1), table_name=f"new_record_{offset}")
        matches = linker.inference.predict_between(
            new, existing, threshold_match_probability=THRESHOLD, warning_mode="never"
        )
        found += len(matches.as_record_list())
        latencies.append(time.perf_counter() - t0)
        matches.drop_table_from_database_and_remove_from_cache()
    return latencies, time.process_time() - c0, found


def errors(
    labels: Mapping[Key, Label], predicted: Mapping[Key, Hashable], max_people: int = BREAKDOWN_MAX
) -> dict[str, Any]:
    """Cluster sizes, and (unless a cluster holds over ``max_people`` people, where counting
    person pairs would take too long) false merges by cause and missed pairs by phenomenon."""
    members: dict[Hashable, set[int]] = defaultdict(set)
    sizes: Counter[Hashable] = Counter(predicted.values())
    for key, cluster_id in predicted.items():
        members[cluster_id].add(labels[key].person)
    people = sorted((len(p) for p in members.values()), reverse=True)
    out: dict[str, Any] = {
        "largest_cluster_records": max(sizes.values(), default=0),
        "largest_cluster_people": people[0] if people else 0,
        "clusters_with_several_people": sum(1 for n in people if n > 1),
    }
    if out["largest_cluster_people"] > max_people:
        out["breakdown"] = f"skipped: a cluster holds over {max_people} people"
        return out
    bd = breakdown(labels, predicted)
    out["split_people"] = bd.split_people
    out["false_merges"] = {
        what: {"people_pairs": n, "record_pairs": bd.merged_records[what]}
        for what, n in bd.merged_people.most_common()
    }
    out["missed_by_phenomenon"] = {
        tag: {"pairs": n, "missed": bd.missed[tag], "recall": round(1 - bd.missed[tag] / n, 4)}
        for tag, n in sorted(bd.pairs.items(), key=lambda item: -item[1])
    }
    return out


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def run(records: int, seed: int = 1, one_at_a_time: int = 2000, calls: int = 20) -> dict[str, Any]:
    """Generate the runner's records, link them with Splink, score; return every figure.

    ``one_at_a_time`` is the runner's option (it decides which records are the tail); ``calls``
    is how many tail records Splink matches one per call.
    """
    if not available():
        raise SystemExit(MISSING)
    import pyarrow as pa
    from splink import DuckDBAPI, Linker

    logging.getLogger("splink").setLevel(logging.WARNING)
    clock = _Clock()
    the_plan = plan(records, seed)
    tail = tail_start(the_plan, min(one_at_a_time, records // 5))
    labels: dict[Key, Label] = {}

    def labelled() -> Any:
        for part in (
            stream(seed, the_plan, 0, tail),
            stream(seed, the_plan, tail, None, "interleaved"),
        ):
            for record in part:
                labels[record.key] = record.label
                yield record

    region = load_settings(environ={}).default_region
    columns, keys = clock.time("prepare", flatten, labelled(), default_mappers(), region)
    head = sum(1 for key in keys if labels[key].person < tail)
    arrow = pa.table(columns)
    del columns

    db_api = DuckDBAPI()
    records_df = db_api.register(arrow, table_name="records")
    linker = Linker(records_df, settings(), log_level=None)
    clock.time("train", _train, linker)
    pairs = clock.time(
        "predict",
        linker.inference.predict,
        threshold_match_probability=THRESHOLD,
        warning_mode="never",
    )
    pair_count = db_api.duckdb_con.execute(f"SELECT count(*) FROM {pairs.physical_name}").fetchall()
    clustered = clock.time(
        "cluster",
        linker.clustering.cluster_pairwise_predictions_at_threshold,
        pairs,
        threshold_match_probability=THRESHOLD,
    )
    by_uid = _clusters(db_api.duckdb_con, clustered)
    predicted: dict[Key, Hashable] = {
        key: by_uid.get(uid, ("unclustered", uid)) for uid, key in enumerate(keys)
    }
    scores = evaluate({k: v.person for k, v in labels.items()}, predicted)
    latencies, one_cpu, found = _one_at_a_time(linker, db_api, arrow, head, calls)

    batch_s = sum(clock.wall[p] for p in ("train", "predict", "cluster"))
    batch_cpu = sum(clock.cpu[p] for p in ("train", "predict", "cluster"))
    one_s = sum(latencies)
    return {
        "system": "splink",
        "version": _version(),
        "records": len(keys),
        "seed": seed,
        "true_persons": len({label.person for label in labels.values()}),
        "predicted_profiles": len(set(predicted.values())),
        "pairs_at_threshold": int(pair_count[0][0]),
        "scores": {
            name: {k: round(v, 4) for k, v in s._asdict().items()} for name, s in scores.items()
        },
        "prepare_seconds": round(clock.wall["prepare"], 2),
        "phases": {p: round(clock.wall[p], 2) for p in ("train", "predict", "cluster")},
        "batch": {
            "records": len(keys),
            "seconds": round(batch_s, 2),
            "records_per_s": round(len(keys) / batch_s, 1) if batch_s else 0.0,
            "cpu_seconds": round(batch_cpu, 2),
            "records_per_cpu_s": round(len(keys) / batch_cpu, 1) if batch_cpu else 0.0,
        },
        "one_at_a_time": {
            "records": len(latencies),
            "against": head,
            "matches_found": found,
            "seconds": round(one_s, 2),
            "records_per_s": round(len(latencies) / one_s, 1) if one_s else 0.0,
            "cpu_seconds": round(one_cpu, 2),
            "records_per_cpu_s": round(len(latencies) / one_cpu, 1) if one_cpu else 0.0,
            "p50_ms": round(_percentile(latencies, 0.5) * 1000, 2),
            "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
        },
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "errors": errors(labels, predicted),
    }


def _version() -> str:
    import splink

    return str(splink.__version__)


def run_in_child(
    records: int, seed: int = 1, one_at_a_time: int = 2000, calls: int = 20
) -> dict[str, Any]:
    """``run`` in a fresh Python process, so its peak RSS is Splink's alone."""
    if not available():
        raise SystemExit(MISSING)
    command = [
        sys.executable,
        "-m",
        "bench.identity.splink_runner",
        "--records",
        str(records),
        "--seed",
        str(seed),
        "--one-at-a-time",
        str(one_at_a_time),
        "--calls",
        str(calls),
        "--json",
    ]
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the Splink run failed ({done.returncode}):\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main(argv: list[str] | None = None) -> None:
    """Parse the options, run, print JSON (or a short summary)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--one-at-a-time", type=int, default=2000, help="the runner's tail size (same records)"
    )
    parser.add_argument("--calls", type=int, default=20, help="tail records matched one per call")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    figures = run(args.records, args.seed, args.one_at_a_time, args.calls)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        from bench.identity.report import format_comparison

        print(format_comparison(None, figures))


if __name__ == "__main__":
    main()
