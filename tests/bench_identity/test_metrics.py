"""Metrics on small clusterings checked by hand, and their edge cases."""

from __future__ import annotations

import pytest

from bench.identity.metrics import (
    bcubed,
    cluster,
    comb2,
    contingency,
    evaluate,
    f1,
    pair_counts,
    pairwise,
    pure_complete,
)

# Truth: person A has items 1, 2, 3; person B has 4, 5; person C has 6.
TRUTH = {1: "A", 2: "A", 3: "A", 4: "B", 5: "B", 6: "C"}


def test_comb2_and_f1() -> None:
    assert [comb2(n) for n in range(5)] == [0, 0, 1, 3, 6]
    assert f1(0.0, 0.0) == 0.0
    assert f1(1.0, 0.5) == pytest.approx(2 / 3)


def test_perfect_prediction_scores_one_everywhere() -> None:
    predicted = {item: f"p{person}" for item, person in TRUTH.items()}
    for scores in evaluate(TRUTH, predicted).values():
        assert scores == (1.0, 1.0, 1.0)


def test_split_and_merge_by_hand() -> None:
    # Predicted: {1, 2} {3} {4, 5, 6}: A split, B and C merged.
    predicted = {1: "x", 2: "x", 3: "y", 4: "z", 5: "z", 6: "z"}
    table = contingency(TRUTH, predicted)
    # TP pairs: (1,2) and (4,5) = 2; predicted pairs 1 + 0 + 3 = 4; true pairs 3 + 1 + 0 = 4.
    assert pair_counts(table) == (2, 4, 4)
    assert pairwise(table)[:2] == (0.5, 0.5)
    # No predicted cluster equals a true cluster.
    assert cluster(table) == (0.0, 0.0, 0.0)
    # B-cubed precision: items 1,2: 2/2; 3: 1/1; 4,5: 2/3; 6: 1/3 -> (2 + 1 + 4/3 + 1/3) / 6.
    precision, recall, _ = bcubed(table)
    assert precision == pytest.approx((2 + 1 + 4 / 3 + 1 / 3) / 6)
    # B-cubed recall: 1,2: 2/3; 3: 1/3; 4,5: 2/2; 6: 1/1 -> (4/3 + 1/3 + 2 + 1) / 6.
    assert recall == pytest.approx((4 / 3 + 1 / 3 + 2 + 1) / 6)


def test_exact_cluster_counts_correct_singletons() -> None:
    # {1, 2, 3} right, {4} {5} split, {6} right: 2 of 4 predicted, 2 of 3 true clusters.
    predicted = {1: "a", 2: "a", 3: "a", 4: "b", 5: "c", 6: "d"}
    scores = cluster(contingency(TRUTH, predicted))
    assert scores.precision == 0.5
    assert scores.recall == pytest.approx(2 / 3)


def test_pure_complete_charges_a_split_to_recall_and_a_merge_to_precision() -> None:
    # {1, 2} {3}: A split (two pure clusters, A incomplete); {4, 5, 6}: B and C merged (one
    # impure cluster; B and C each complete, since each sits whole in one cluster).
    predicted = {1: "x", 2: "x", 3: "y", 4: "z", 5: "z", 6: "z"}
    scores = pure_complete(contingency(TRUTH, predicted))
    assert scores.precision == pytest.approx(2 / 3)  # x and y pure, z not
    assert scores.recall == pytest.approx(2 / 3)  # B and C complete, A not
    # Only the split: every cluster pure, one person of three incomplete.
    split = {1: "x", 2: "x", 3: "y", 4: "z", 5: "z", 6: "w"}
    expected: tuple[float, object] = (1.0, pytest.approx(2 / 3))  # an approx equals a float
    assert pure_complete(contingency(TRUTH, split))[:2] == expected
    # Only the merge: everyone complete, one of two clusters impure.
    merged = {1: "x", 2: "x", 3: "x", 4: "z", 5: "z", 6: "z"}
    assert pure_complete(contingency(TRUTH, merged))[:2] == (0.5, 1.0)


def test_all_singletons_have_perfect_pairwise_precision_and_zero_recall() -> None:
    predicted = {item: item for item in TRUTH}
    scores = pairwise(contingency(TRUTH, predicted))
    assert scores == (1.0, 0.0, 0.0)  # nothing claimed, nothing found


def test_all_in_one_cluster_has_full_recall() -> None:
    predicted = dict.fromkeys(TRUTH, "everyone")
    table = contingency(TRUTH, predicted)
    assert pair_counts(table) == (4, 15, 4)
    expected: tuple[object, float] = (pytest.approx(4 / 15), 1.0)  # an approx equals a float
    assert pairwise(table)[:2] == expected
    assert cluster(table) == (0.0, 0.0, 0.0)


def test_truth_of_singletons_only() -> None:
    truth = {1: "A", 2: "B"}
    assert pairwise(contingency(truth, {1: "x", 2: "y"})) == (1.0, 1.0, 1.0)
    assert pairwise(contingency(truth, {1: "x", 2: "x"})) == (0.0, 1.0, 0.0)


def test_empty_input_scores_vacuously() -> None:
    assert evaluate({}, {})["pairwise"] == (1.0, 1.0, 1.0)


def test_assignments_must_cover_the_same_items() -> None:
    with pytest.raises(ValueError, match="1 items unpredicted"):
        contingency(TRUTH, dict.fromkeys(list(TRUTH)[:-1], 0))
