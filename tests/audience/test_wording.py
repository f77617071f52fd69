"""Compact dates and money: fewer tokens, same facts."""

from __future__ import annotations

from context_service.audience import count_tokens
from context_service.audience.wording import Wording, amount, money, nonzero, plural


def test_a_date_in_the_snapshot_year_drops_the_year_and_others_keep_it() -> None:
    w = Wording("2026-11-29T15:36:17Z", today="2026-11-30")
    assert w.day("2026-11-18T07:04:17Z") == "Nov 18"
    assert w.day("2025-12-30") == "Dec 30 2025"
    assert w.day("2026-01-05") == "Jan 5"
    assert w.month("2024-10-22T00:27:42Z") == "Oct 2024"
    assert count_tokens(w.day("2026-11-18")) < count_tokens("2026-11-18")


def test_a_snapshot_built_in_an_earlier_year_keeps_every_year() -> None:
    """Read in 2027, "Nov 18" would mean Nov 18 2027: a snapshot from 2026 says its years."""
    w = Wording("2026-11-29T15:36:17Z", today="2027-02-01")
    assert w.day("2026-11-18T07:04:17Z") == "Nov 18 2026"
    assert Wording("2027-01-31T00:00:00Z", today="2027-02-01").day("2027-01-05") == "Jan 5"


def test_odd_dates_pass_through_unchanged() -> None:
    w = Wording(None)
    assert w.day(None) == ""
    assert w.day("soon") == "soon"
    assert w.day("2026-13-01") == "2026-13-01"
    assert w.day("2026-11-18") == "Nov 18 2026"  # no reference year: always say it
    assert w.month("2024") == "2024"


def test_money_drops_zero_cents_only() -> None:
    assert amount("49.00") == "49"
    assert amount("160.92") == "160.92"
    assert amount("0.50") == "0.50"
    assert amount("120") == "120"
    assert amount(None) == "?"
    assert money("49.00", "USD") == "49 USD"
    assert money("49.10", None) == "49.10"
    assert plural(1, "attempt") == "1 attempt"
    assert plural(3, "attempt") == "3 attempts"


def test_zero_is_zero_in_any_number_of_decimals() -> None:
    assert [nonzero(v) for v in ("0", "0.00", "0.000", "", None)] == [False] * 5
    assert [nonzero(v) for v in ("0.001", "12.345", "-1.00", "n/a")] == [True] * 4
