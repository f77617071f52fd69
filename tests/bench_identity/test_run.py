"""The runner end to end on a tiny population, and the error breakdown by hand."""

from __future__ import annotations

import json

import pytest

from bench.identity import run
from bench.identity.breakdown import breakdown, merge_class, shared
from bench.identity.generate import Label


def _label(person: int, tags: str = "", keys: str = "", household: int = 0) -> Label:
    kind = "phone" if household else ""
    return Label(person, household, kind, frozenset(tags.split()), frozenset(keys.split()))


@pytest.fixture(scope="module")
def figures() -> dict[str, object]:
    return run.run(300, seed=1, one_at_a_time=60)


def test_tiny_run_scores_within_bounds(figures: dict[str, object]) -> None:
    scores = figures["scores"]
    assert isinstance(scores, dict)
    for name in ("pairwise", "cluster", "bcubed"):
        assert set(scores[name]) == {"precision", "recall", "f1"}
        assert all(0.0 <= value <= 1.0 for value in scores[name].values())


def test_tiny_run_puts_every_record_in_a_profile(figures: dict[str, object]) -> None:
    assert figures["records"] == 300
    assert figures["unassigned_records"] == 0
    assert figures["rejected_records"] == 0
    profiles, persons = figures["predicted_profiles"], figures["true_persons"]
    assert isinstance(profiles, int)
    assert isinstance(persons, int)
    assert 0 < profiles <= 300
    assert 0 < persons <= 300
    batch, one = figures["batch"], figures["one_at_a_time"]
    assert isinstance(batch, dict)
    assert isinstance(one, dict)
    assert batch["records"] + one["records"] == 300
    assert one["records"] >= 60
    # every one-at-a-time record changes a profile, whose snapshot is rebuilt in its call
    assert 0 < one["snapshot_seconds"] < one["seconds"]
    assert one["records_per_s_without_snapshots"] > one["records_per_s"]
    # the engine's step is a part of each call, apart from the snapshots
    assert 0 < one["resolve_seconds"] < one["seconds"] - one["snapshot_seconds"]
    assert one["records_per_s_resolution_alone"] > one["records_per_s_without_snapshots"]
    details, scores = figures["breakdown"], figures["scores"]
    assert isinstance(details, dict)
    assert isinstance(scores, dict)
    ceiling = details["recall_ceiling"]
    assert isinstance(ceiling, dict)
    assert 0 <= ceiling["completable_without_name_only"] <= ceiling["split_people"]
    complete = scores["pure_complete"]["recall"]
    assert complete <= ceiling["complete_recall_ceiling"] <= 1.0


def test_cli_prints_json_and_text(capsys: pytest.CaptureFixture[str]) -> None:
    run.main(["--records", "120", "--one-at-a-time", "20", "--json"])
    printed = json.loads(capsys.readouterr().out)
    assert printed["records"] == 120
    run.main(["--records", "120", "--one-at-a-time", "20", "--no-examples"])
    text = capsys.readouterr().out
    assert "pairwise P / R / F1" in text
    assert "one-at-a-time records/s" in text
    assert "the identity engine alone" in text


def test_breakdown_counts_missed_pairs_and_false_merges_by_hand() -> None:
    a, b, c = ("shopify", "customer", "1"), ("stripe", "customer", "2"), ("hubspot", "contact", "3")
    d = ("zendesk", "user", "4")
    labels = {
        a: _label(1, keys="e0"),
        b: _label(1, tags="nickname", keys="e0"),
        c: _label(1, tags="email_typo", household=9),
        d: _label(2, household=9),
    }
    predicted = {a: "P", b: "Q", c: "R", d: "R"}  # person 1 split in three; c and d merged
    out = breakdown(labels, predicted)
    assert out.pairs["all"] == 3
    assert out.missed["all"] == 3
    assert out.missed["nickname"] == 2  # (a, b) and (b, c)
    assert out.pairs["shared:email"] == 1
    assert out.missed["shared:nothing"] == 2
    assert out.split_people == 1
    assert out.merged_people == {"household:phone": 1}
    assert out.merged_records == {"household:phone": 1}
    assert out.households == {"household:phone": 1}  # both members of household 9 present
    assert merge_class(labels[c], labels[d]) == "household:phone"
    assert shared(a, labels[a], b, labels[b]) == "shared:email"


def test_records_in_other_clusters_counts_records_whose_group_changed() -> None:
    a, b, c, d = (("s", "k", str(i)) for i in range(4))
    before = {a: "P", b: "P", c: "Q", d: "R"}
    assert run.records_in_other_clusters(before, {a: "X", b: "X", c: "Y", d: "Z"}) == 0
    # c joins P's group: P's two records and c are now in a group that did not exist
    assert run.records_in_other_clusters(before, {a: "P", b: "P", c: "P", d: "R"}) == 3
    # a split: a leaves b
    assert run.records_in_other_clusters(before, {a: "S", b: "P", c: "Q", d: "R"}) == 2


def test_resolve_all_on_the_filled_store_gives_the_incremental_clusters(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run.main(["--records", "300", "--one-at-a-time", "60", "--resolve-all", "--json"])
    rebuilt = json.loads(capsys.readouterr().out)["resolve_all"]
    assert rebuilt["records"] > 0
    assert rebuilt["seconds"] > 0
    assert rebuilt["records_in_other_clusters"] == 0
    assert rebuilt["profiles_changed"] == 0
    run.main(["--records", "120", "--one-at-a-time", "20", "--resolve-all", "--no-examples"])
    text = capsys.readouterr().out
    assert "resolve --all records/s" in text
    assert "clusters as the incremental path's" in text


def test_train_scores_the_clusters_again_under_the_store_trained_model(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run.main(["--records", "300", "--one-at-a-time", "60", "--train", "--json"])
    rebuilt = json.loads(capsys.readouterr().out)["resolve_all"]
    assert rebuilt["trained"] is True
    after = rebuilt["scores_after"]["pure_complete"]
    assert set(after) == {"precision", "recall", "f1"}
    assert all(0.0 < value <= 1.0 for value in after.values())
    run.main(["--records", "120", "--one-at-a-time", "20", "--train", "--no-examples"])
    text = capsys.readouterr().out
    assert "after --train: pure / complete" in text
    assert "records moved by the trained model" in text
