"""Plain-text tables of the figures ``run.run`` returns."""

from __future__ import annotations

from typing import Any

_SHOWN_TAGS = 30


def _row(label: str, value: object) -> str:
    return f"  {label:<34} {value}"


def _prf(name: str, scores: dict[str, float]) -> str:
    p, r, f = scores["precision"], scores["recall"], scores["f1"]
    return _row(f"{name} P / R / F1", f"{p:.4f} / {r:.4f} / {f:.4f}")


def summary(fig: dict[str, Any]) -> list[str]:
    """The headline table: sizes, scores, throughput, memory."""
    batch, one = fig["batch"], fig["one_at_a_time"]
    return [
        "identity benchmark",
        _row("records", f"{fig['records']:,} (seed {fig['seed']})"),
        _row("sources", ", ".join(fig["sources"])),
        _row("true persons", f"{fig['true_persons']:,}"),
        _row("predicted profiles", f"{fig['predicted_profiles']:,}"),
        _row("unassigned / rejected", f"{fig['unassigned_records']} / {fig['rejected_records']}"),
        _prf("pairwise", fig["scores"]["pairwise"]),
        _prf("cluster (exact)", fig["scores"]["cluster"]),
        _prf("cluster (pure / complete)", fig["scores"]["pure_complete"]),
        _prf("B-cubed", fig["scores"]["bcubed"]),
        _row(
            "batch records/s",
            f"{batch['records_per_s']:,.0f} ({batch['records']:,} in {batch['seconds']} s, "
            f"pages of {batch['page_size']}; {batch['records_per_cpu_s']:,.0f} per CPU-s)",
        ),
        _row(
            "one-at-a-time records/s",
            f"{one['records_per_s']:,.0f} ({one['records']:,} in {one['seconds']:.2f} s; "
            f"p50 {one['p50_ms']} ms, p99 {one['p99_ms']} ms; "
            f"{one['records_per_cpu_s']:,.0f} per CPU-s)",
        ),
        _row(
            "  without snapshot rebuilds",
            f"{one['records_per_s_without_snapshots']:,.0f} (the rebuilds took "
            f"{one['snapshot_seconds']:.2f} s of the {one['seconds']:.2f} s)",
        ),
        _row(
            "  the identity engine alone",
            f"{one['records_per_s_resolution_alone']:,.0f} ({one['resolve_seconds']:.2f} s of the "
            f"{one['seconds']:.2f} s)",
        ),
        _row("peak RSS", f"{fig['peak_rss_mb']:,.0f} MB"),
        *_resolve_all(fig.get("resolve_all")),
        _row(
            "blocking",
            "{keys_per_record} keys per record, {candidate_pairs:,} candidate pairs, "
            "largest block {largest_block}".format(**fig["blocking"]),
        ),
    ]


def _resolve_all(rebuilt: dict[str, Any] | None) -> list[str]:
    """``resolve --all`` on the filled store: batch resolution, and whether it agreed."""
    if not rebuilt:
        return []
    agreed = rebuilt["records_in_other_clusters"]
    return [
        _row(
            "resolve --all records/s",
            f"{rebuilt['records_per_s']:,.0f} ({rebuilt['records']:,} in {rebuilt['seconds']} s, "
            f"{rebuilt['cpu_seconds']} CPU-s; {rebuilt['profiles_changed']:,} profiles changed; "
            f"peak RSS then {rebuilt['peak_rss_mb']:,.0f} MB)",
        ),
        _row(
            "  records moved by the trained model"
            if rebuilt.get("trained")
            else "  clusters as the incremental path's",
            f"{agreed:,}"
            if rebuilt.get("trained")
            else "the same"
            if not agreed
            else f"no: {agreed:,} records in other clusters",
        ),
        *(
            [_prf("  after --train: pure / complete", rebuilt["scores_after"]["pure_complete"])]
            if rebuilt.get("scores_after")
            else []
        ),
    ]


def missed(details: dict[str, Any]) -> list[str]:
    """Same-person pairs by phenomenon: how many, how many split, pair recall."""
    lines = [
        "",
        f"missed pairs by phenomenon (people split over several profiles: "
        f"{details['split_people']:,})",
        f"  {'phenomenon':<22} {'pairs':>9} {'missed':>8} {'recall':>7}",
    ]
    for tag, row in list(details["missed_by_phenomenon"].items())[:_SHOWN_TAGS]:
        lines.append(f"  {tag:<22} {row['pairs']:>9,} {row['missed']:>8,} {row['recall']:>7.3f}")
    return lines


def why(details: dict[str, Any]) -> list[str]:
    """Missed same-person pairs by what their own evidence shows (``bench.identity.why``)."""
    lines = ["", "why missed pairs were missed (their own evidence, decided again)"]
    lines += [f"  {reason:<24} {n:>9,}" for reason, n in details.get("why_missed", {}).items()]
    ceiling = details.get("recall_ceiling")
    if ceiling:
        lines.append(
            f"  if every missed pair with more than a name in common linked, "
            f"{ceiling['completable_without_name_only']:,} of the {ceiling['split_people']:,} "
            f"split people would be whole: complete recall "
            f"{ceiling['complete_recall_ceiling']:.4f} at most"
        )
    return lines


def merges(details: dict[str, Any]) -> list[str]:
    """False merges by cause, and households kept apart or not."""
    lines = ["", "false merges (different people in one profile)"]
    if not details["false_merges"]:
        lines.append("  none")
    for what, row in details["false_merges"].items():
        lines.append(
            f"  {what:<22} {row['people_pairs']:>6,} people pairs, "
            f"{row['record_pairs']:>6,} record pairs"
        )
    lines.append("households (hard negatives): wrongly merged / present")
    for kind, row in details["households"].items():
        lines.append(f"  {kind:<22} {row['wrongly_merged']:>6,} / {row['households']:,}")
    return lines


def examples(details: dict[str, Any]) -> list[str]:
    """A few examples of each kind of error, with the identifiers the store indexed."""
    lines = ["", "examples"]
    for what, pairs in details["examples"].items():
        lines.append(f"  {what}:")
        for a, b in pairs:
            lines.extend((f"    - {a}", f"      {b}"))
    return lines


def _side(fig: dict[str, Any] | None, cell: Any) -> str:
    return "-" if fig is None else str(cell(fig))


def _prf_cell(name: str) -> Any:
    def cell(fig: dict[str, Any]) -> str:
        s = fig["scores"][name]
        return f"{s['precision']:.4f} / {s['recall']:.4f} / {s['f1']:.4f}"

    return cell


_COMPARED: tuple[tuple[str, Any], ...] = (
    ("records", lambda f: f"{f['records']:,}"),
    ("predicted profiles", lambda f: f"{f['predicted_profiles']:,}"),
    ("pairwise P / R / F1", _prf_cell("pairwise")),
    ("cluster (exact) P / R / F1", _prf_cell("cluster")),
    ("cluster (pure/complete) P/R/F1", _prf_cell("pure_complete")),
    ("B-cubed P / R / F1", _prf_cell("bcubed")),
    ("batch records", lambda f: f"{f['batch']['records']:,}"),
    ("batch wall s", lambda f: f"{f['batch']['seconds']:,.1f}"),
    ("batch records/s", lambda f: f"{f['batch']['records_per_s']:,.0f}"),
    ("batch records/CPU-s", lambda f: f"{f['batch']['records_per_cpu_s']:,.0f}"),
    ("one-at-a-time records", lambda f: f"{f['one_at_a_time']['records']:,}"),
    ("one-at-a-time records/s", lambda f: f"{f['one_at_a_time']['records_per_s']:,.1f}"),
    ("one-at-a-time p50 / p99 ms", lambda f: "{p50_ms} / {p99_ms}".format(**f["one_at_a_time"])),
    ("peak RSS MB", lambda f: f"{f['peak_rss_mb']:,.0f}"),
)


def format_comparison(ours: dict[str, Any] | None, splink: dict[str, Any]) -> str:
    """Our figures and Splink's side by side (``-`` where a side was not run)."""
    width = 30
    lines = [
        "",
        f"ours vs Splink {splink.get('version', '')} (DuckDB; connected components at 0.9)",
        f"  {'':<34} {'ours':<{width}} splink",
    ]
    for label, cell in _COMPARED:
        lines.append(f"  {label:<34} {_side(ours, cell):<{width}} {_side(splink, cell)}")
    phases = splink.get("phases", {})
    lines.append(
        "  splink batch = train {train} s + predict {predict} s + cluster {cluster} s".format(
            **{"train": "?", "predict": "?", "cluster": "?", **phases}
        )
        + f"; flattening {splink.get('prepare_seconds', '?')} s not counted"
    )
    lines += splink_errors(splink.get("errors", {}))
    return "\n".join(lines)


def splink_errors(errors: dict[str, Any]) -> list[str]:
    """Splink's cluster sizes and false merges by cause (as ``merges`` shows ours)."""
    if not errors:
        return []
    lines = [
        f"  splink largest cluster: {errors['largest_cluster_records']:,} records of "
        f"{errors['largest_cluster_people']:,} people; clusters holding several people: "
        f"{errors['clusters_with_several_people']:,}"
    ]
    if isinstance(errors.get("breakdown"), str):
        return [*lines, f"  splink error breakdown {errors['breakdown']}"]
    lines.append(f"  splink people split over several clusters: {errors['split_people']:,}")
    for what, row in errors["false_merges"].items():
        lines.append(
            f"  splink false merges {what:<18} {row['people_pairs']:>8,} people pairs, "
            f"{row['record_pairs']:>8,} record pairs"
        )
    return lines


def format_text(fig: dict[str, Any], with_examples: bool = True) -> str:
    """Everything as aligned plain text (with Splink's figures beside ours when present)."""
    details = fig["breakdown"]
    lines = summary(fig) + missed(details) + why(details) + merges(details)
    if with_examples:
        lines += examples(details)
    if fig.get("splink"):
        lines.append(format_comparison(fig, fig["splink"]))
    return "\n".join(lines)
