"""Compact dates and money: fewer tokens, same facts."""

from __future__ import annotations

from context_service.audience import count_tokens
from context_service.audience.wording import Wording, amount, money, plural


def test_a_date_in_the_snapshot_year_drops_the_year_and_others_keep_it() -> None:
    w = Wording("2026-11-29T15:36:17Z")
    assert w.day("2026-11-18T07:04:17Z") == "Nov 18"
    assert w.day("2025-12-30") == "Dec 30 2025"
    assert w.day("2026-01-05") == "Jan 5"
    assert w.month("2024-10-22T00:27:42Z") == "Oct 2024"
    assert count_tokens(w.day("2026-11-18")) < count_tokens("2026-11-18")


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
