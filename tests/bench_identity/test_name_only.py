"""The name-only diagnostic counts only records a name could join, and judges each link once."""

from __future__ import annotations

from bench.identity.name_only import name_only_links


def test_links_are_a_subset_of_the_records_only_a_name_could_join() -> None:
    alone, right, wrong = name_only_links(3_000)
    assert alone > 0
    assert right > 0  # most such records carry their person's name, held by nobody else yet
    assert right + wrong <= alone


def test_it_is_the_same_for_the_same_seed_and_changes_with_it() -> None:
    assert name_only_links(2_000, seed=3) == name_only_links(2_000, seed=3)
    assert name_only_links(2_000, seed=3) != name_only_links(2_000, seed=4)
