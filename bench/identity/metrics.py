"""Pure clustering metrics: pairwise, exact-cluster and B-cubed precision, recall and F1.

Inputs are two assignments over the same items: ``truth`` (item -> true person) and
``predicted`` (item -> predicted cluster, e.g. a profile id). Everything is computed from the
contingency table (how many items each (predicted, true) cluster pair shares) and cluster sizes,
never by enumerating pairs, so a million items cost a few dictionary passes.

Definitions (n_ij = items in predicted cluster i and true cluster j, a_i and b_j the sizes):

* pairwise: a pair of items is predicted-positive when both sit in one predicted cluster and
  truly positive when both belong to one person. TP = sum C(n_ij, 2), precision = TP / sum
  C(a_i, 2), recall = TP / sum C(b_j, 2). With no predicted pairs precision is 1.0 (nothing
  claimed, nothing wrong); with no true pairs recall is 1.0 (nothing to find).
* cluster (exact match): a predicted cluster is correct when its item set equals one true
  cluster's item set (n_ij = a_i = b_j). precision = correct / predicted clusters, recall =
  correct / true clusters. Singletons count: a correctly lone record is a correct cluster.
* cluster (pure / complete): a predicted cluster is **pure** when all its items belong to one
  person (it merges nobody with anybody), and a true cluster is **complete** when all its items
  sit in one predicted cluster (the person is not split). precision = pure / predicted
  clusters, recall = complete / true clusters. This separates the two errors: a false merge
  costs precision only, a split costs recall only. Under exact match one split person makes
  two wrong predicted clusters, so exact precision can never stay far above exact recall.
* B-cubed: per item, precision = |its predicted cluster and its true cluster in common| /
  |its predicted cluster|, recall the same over its true cluster; averaged over items.

F1 is the harmonic mean of precision and recall (0.0 when both are 0).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping
from typing import NamedTuple, TypeVar

# The items both assignments cover: any hashable type, the same one on both sides.
_Item = TypeVar("_Item", bound=Hashable)


class PRF(NamedTuple):
    """Precision, recall and F1."""

    precision: float
    recall: float
    f1: float


class Contingency(NamedTuple):
    """Shared-item counts of (predicted, true) cluster pairs, and each side's cluster sizes."""

    cells: Counter[tuple[Hashable, Hashable]]
    predicted_sizes: Counter[Hashable]
    true_sizes: Counter[Hashable]

    @property
    def items(self) -> int:
        return sum(self.true_sizes.values())


def comb2(n: int) -> int:
    """The number of unordered pairs among ``n`` items."""
    return n * (n - 1) // 2


def f1(precision: float, recall: float) -> float:
    """The harmonic mean of ``precision`` and ``recall``; 0.0 when both are 0."""
    total = precision + recall
    return 0.0 if total == 0 else 2 * precision * recall / total


def _ratio(part: int | float, whole: int | float) -> float:
    """``part / whole``, or 1.0 when there is nothing to measure (``whole`` is 0)."""
    return 1.0 if whole == 0 else part / whole


def prf(precision: float, recall: float) -> PRF:
    """Bundle ``precision`` and ``recall`` with their F1."""
    return PRF(precision, recall, f1(precision, recall))


def contingency(
    truth: Mapping[_Item, Hashable], predicted: Mapping[_Item, Hashable]
) -> Contingency:
    """The contingency table of two assignments; they must cover exactly the same items."""
    if truth.keys() != predicted.keys():
        missing = len(truth.keys() - predicted.keys())
        extra = len(predicted.keys() - truth.keys())
        raise ValueError(f"assignments differ: {missing} items unpredicted, {extra} unlabeled")
    cells: Counter[tuple[Hashable, Hashable]] = Counter(
        (predicted[item], person) for item, person in truth.items()
    )
    return Contingency(cells, Counter(predicted.values()), Counter(truth.values()))


def pair_counts(table: Contingency) -> tuple[int, int, int]:
    """(true-positive pairs, predicted pairs, true pairs)."""
    tp = sum(comb2(n) for n in table.cells.values())
    predicted = sum(comb2(n) for n in table.predicted_sizes.values())
    actual = sum(comb2(n) for n in table.true_sizes.values())
    return tp, predicted, actual


def pairwise(table: Contingency) -> PRF:
    """Pairwise precision, recall and F1 (see the module docstring)."""
    tp, predicted, actual = pair_counts(table)
    return prf(_ratio(tp, predicted), _ratio(tp, actual))


def exact_clusters(table: Contingency) -> int:
    """How many predicted clusters equal a true cluster exactly."""
    return sum(
        1
        for (pred, true), n in table.cells.items()
        if n == table.predicted_sizes[pred] == table.true_sizes[true]
    )


def cluster(table: Contingency) -> PRF:
    """Exact-match cluster precision, recall and F1 (see the module docstring)."""
    correct = exact_clusters(table)
    return prf(_ratio(correct, len(table.predicted_sizes)), _ratio(correct, len(table.true_sizes)))


def pure_complete(table: Contingency) -> PRF:
    """Cluster precision as the share of pure predicted clusters, recall as the share of
    complete true clusters (see the module docstring)."""
    pure = sum(1 for (pred, _), n in table.cells.items() if n == table.predicted_sizes[pred])
    complete = sum(1 for (_, true), n in table.cells.items() if n == table.true_sizes[true])
    return prf(_ratio(pure, len(table.predicted_sizes)), _ratio(complete, len(table.true_sizes)))


def bcubed(table: Contingency) -> PRF:
    """B-cubed precision, recall and F1, averaged over items."""
    items = table.items
    if items == 0:
        return prf(1.0, 1.0)
    precision = sum(n * n / table.predicted_sizes[p] for (p, _), n in table.cells.items())
    recall = sum(n * n / table.true_sizes[t] for (_, t), n in table.cells.items())
    return prf(precision / items, recall / items)


def evaluate(
    truth: Mapping[_Item, Hashable], predicted: Mapping[_Item, Hashable]
) -> dict[str, PRF]:
    """Pairwise, cluster (exact, and pure / complete) and B-cubed scores of ``predicted``
    against ``truth``."""
    table = contingency(truth, predicted)
    return {
        "pairwise": pairwise(table),
        "cluster": cluster(table),
        "pure_complete": pure_complete(table),
        "bcubed": bcubed(table),
    }
