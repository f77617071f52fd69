"""Whether a mailbox or phone is crowded (``pairs.crowded_mailbox``) is decided without
comparing its holders pair by pair where that cannot change the answer (a performance review,
session 28): a phone 1,000 records share took 8 to 20 s for each new record, 500,500 name
comparisons, and anyone can open storefront accounts with a victim's phone. The work is
counted here, never timed."""

from __future__ import annotations

import pytest

from context_service.identity import pairs
from context_service.identity.features import Features

SURNAMES = ["smith", "brown", "lee", "wong"]


def _holders(firsts: list[str], lasts: list[str], count: int) -> list[Features]:
    return [
        Features(
            emails=(f"holder{i}@example.com",),
            first=firsts[i % len(firsts)],
            last=lasts[i % len(lasts)],
        )
        for i in range(count)
    ]


@pytest.fixture
def comparisons(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    counted = [0]
    real = pairs._clearly_different

    def counting(x: pairs._Name, y: pairs._Name) -> bool:
        counted[0] += 1
        return real(x, y)

    monkeypatch.setattr(pairs, "_clearly_different", counting)
    return counted


def test_a_thousand_johns_on_four_surnames_are_no_crowd_told_at_once(
    comparisons: list[int],
) -> None:
    holders = _holders(["john"], SURNAMES, 1000)
    assert not pairs.crowded_value("+14155550100", holders)
    assert comparisons == [0]


def test_many_different_full_names_are_a_crowd_told_at_once(comparisons: list[int]) -> None:
    firsts = [f"given{chr(97 + i)}" for i in range(26)]
    lasts = [f"family{chr(97 + i)}" for i in range(26)]
    holders = [Features(first=f, last=s) for f, s in zip(firsts, lasts, strict=True)]
    assert pairs.crowded_value("+14155550100", holders[: pairs.MANY_NAMES])
    assert comparisons == [0]
    assert not pairs.crowded_value("+14155550100", holders[:2])  # fewer than four names


def test_a_household_is_still_decided_by_its_names() -> None:
    """Three surnames (a couple and a grandparent) on a home line: no crowd; four clearly
    different names are one, as before."""
    household = [
        Features(first="ann", last="lee"),
        Features(first="bo", last="lee"),
        Features(first="carl", last="park"),
        Features(first="dana", last="kim"),
    ]
    assert not pairs.crowded_value("+14155550100", household)
    office = [*household, Features(first="ezra", last="moss")]
    assert pairs.crowded_value("+14155550100", office)
