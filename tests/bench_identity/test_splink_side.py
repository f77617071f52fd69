"""The Splink side of the identity benchmark: flattening, error summary and the side-by-side
table are pure and run without Splink; the Splink model itself only when the extra is there."""

from __future__ import annotations

import pytest

from bench.identity import splink_runner
from bench.identity.flatten import COLUMNS, flat_row, flatten
from bench.identity.generate import Label, generate
from bench.identity.report import format_comparison
from context_service.models import Address, PersonFacet, RecordKey
from context_service.wiring import default_mappers

KEY = RecordKey("shopify", "customer", "1")


def _label(person: int, household: int = 0, kind: str = "") -> Label:
    return Label(person, household, kind, frozenset(), frozenset())


def test_flat_row_uses_the_engines_normalizers() -> None:
    facet = PersonFacet(
        emails=[
            "Maya.Patel+shop@GMAIL.com",
            "info@acme.com",
            "maya@work.io",
            "mayapatel@gmail.com",
        ],
        phones=["(415) 555-0134", "0000000000", "+1 415 555 0134"],
        first_name="Bob",
        last_name="Smith",
        addresses=[Address(street="12 Main Street, Apt 4", city="São Paulo", postcode="sw1a 1aa")],
    )
    row = flat_row(7, KEY, facet, "US")
    assert set(row) == set(COLUMNS)
    assert row["unique_id"] == 7
    assert row["first_name"] == "robert"  # nickname resolved, as our name blocking key does
    assert row["surname"] == "smith"
    assert row["name_pair"] == "robert|smith"
    assert row["email"] == "mayapatel@gmail.com"  # Gmail dots and +tag folded
    assert row["emails"] == ["mayapatel@gmail.com", "maya@work.io"]  # generic info@ dropped
    assert row["email_locals"] == ["mayapatel"]  # "maya" is too short to block on
    assert row["phone"] == "+14155550134"
    assert row["phones"] == ["+14155550134"]  # the placeholder dropped, the repeat folded
    assert row["postcode"] == "SW1A1AA"
    assert row["street"] == "12 main st"
    assert row["city"] == "sao paulo"


def test_flat_row_of_an_empty_facet_is_all_nulls() -> None:
    row = flat_row(0, KEY, PersonFacet(), "US")
    assert all(value is None for name, value in row.items() if name != "unique_id")


def test_flatten_keeps_the_generated_order_and_keys() -> None:
    records = list(generate(60, seed=3))
    columns, keys = flatten(records, default_mappers(), "US")
    assert keys == [record.key for record in records]
    assert columns["unique_id"] == list(range(60))
    assert all(len(values) == 60 for values in columns.values())
    assert sum(value is not None for value in columns["email"]) > 40


def test_errors_counts_sizes_and_false_merges() -> None:
    a, b, c, d = (("s", "k", str(n)) for n in range(4))
    labels = {a: _label(1, 9, "phone"), b: _label(2, 9, "phone"), c: _label(3), d: _label(3)}
    predicted = {a: "x", b: "x", c: "y", d: "z"}
    out = splink_runner.errors(labels, predicted)
    assert out["largest_cluster_records"] == 2
    assert out["largest_cluster_people"] == 2
    assert out["clusters_with_several_people"] == 1
    assert out["split_people"] == 1
    assert out["false_merges"] == {"household:phone": {"people_pairs": 1, "record_pairs": 1}}
    skipped = splink_runner.errors(labels, predicted, max_people=1)
    assert "skipped" in skipped["breakdown"]


def _figures(precision: float) -> dict[str, object]:
    prf = {"precision": precision, "recall": 0.9, "f1": 0.9}
    timing = {"records": 10, "seconds": 1.0, "records_per_s": 10.0, "records_per_cpu_s": 20.0}
    return {
        "records": 10,
        "predicted_profiles": 6,
        "scores": {"pairwise": prf, "cluster": prf, "pure_complete": prf, "bcubed": prf},
        "batch": timing,
        "one_at_a_time": {**timing, "p50_ms": 1.0, "p99_ms": 2.0},
        "peak_rss_mb": 100.0,
    }


def test_comparison_table_puts_splink_beside_ours() -> None:
    splink = {**_figures(0.4321), "version": "5.0.0", "phases": {"train": 1, "predict": 2}}
    text = format_comparison(_figures(0.9876), splink)
    row = next(line for line in text.splitlines() if "cluster (exact)" in line)
    assert row.index("0.9876") < row.index("0.4321")
    assert "cluster ? s" in text  # a phase it lacks shows as unknown
    alone = format_comparison(None, splink)
    assert "0.4321" in alone
    assert "0.9876" not in alone


def test_splink_model_builds_when_the_extra_is_installed() -> None:
    pytest.importorskip("splink")
    created = splink_runner.settings().get_settings("duckdb")
    names = [c.output_column_name for c in created.comparisons]
    assert names == ["first_name", "surname", "email", "phones", "postcode", "street", "city"]
