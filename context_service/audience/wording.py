"""Compact wording for dates and money: the same facts in fewer tokens.

Measured with ``o200k_base``: ``2026-11-18`` is 6 tokens, ``Nov 18`` is 3; ``49.00 USD`` is 4,
``49 USD`` is 2. A date in the snapshot's own year drops the year when that is also the
current year (a reader who knows today's date reads ``Nov 18`` unambiguously); any other year
keeps it (``Dec 30 2025``). Cents are kept
unless they are zero. JSON renderings keep the stored ISO timestamps and decimal strings.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class Wording:
    """Formats relative to one snapshot: ``year`` is the year it was generated in, if that is
    also the reader's year (``today``, UTC, by default now); a snapshot built last year and read
    this year keeps every year, since the reader's "Nov 18" would be this year's."""

    __slots__ = ("year",)

    def __init__(self, generated_at: str | None, today: str | None = None) -> None:
        generated = (generated_at or "")[:4]
        current = (today or datetime.now(UTC).strftime("%Y"))[:4]
        self.year = generated if generated == current else ""

    def day(self, iso: str | None) -> str:
        """``2026-11-18T07:04:17Z`` -> ``Nov 18`` (or ``Nov 18 2025`` in another year)."""
        text = (iso or "")[:10]
        parts = text.split("-")
        if len(parts) != 3 or not all(p.isdigit() for p in parts) or not 1 <= int(parts[1]) <= 12:
            return text
        year, month, dom = parts
        short = f"{_MONTHS[int(month) - 1]} {int(dom)}"
        return short if year == self.year else f"{short} {year}"

    def day_and_time(self, iso: str | None) -> str:
        """``2025-11-17T09:01:00Z`` -> ``Nov 17 2025 09:01 UTC``: for two records of one day
        (a charge made twice), which ``day`` alone would render alike."""
        clock = (iso or "")[11:16]
        ok = len(clock) == 5 and clock[2] == ":" and clock.replace(":", "").isdigit()
        return f"{self.day(iso)} {clock} UTC" if ok else self.day(iso)

    def month(self, iso: str | None) -> str:
        """``2024-10-22T...`` -> ``Oct 2024``."""
        text = (iso or "")[:7]
        year, _, month = text.partition("-")
        if not (year.isdigit() and month.isdigit() and 1 <= int(month) <= 12):
            return text
        return f"{_MONTHS[int(month) - 1]} {year}"


def amount(value: str | None) -> str:
    """``49.00`` -> ``49``; ``160.92`` stays; ``None`` -> ``?``."""
    if not value:
        return "?"
    whole, dot, cents = value.partition(".")
    return whole if dot and cents.strip("0") == "" else value


def nonzero(value: str | None) -> bool:
    """Whether a decimal amount is given and is not zero, in any number of decimals (``0.000``
    is a three-decimal currency's zero)."""
    if not value:
        return False
    try:
        return Decimal(value) != 0
    except InvalidOperation:
        return True  # not a number: something is stated, so say it


def money(value: str | None, currency: str | None) -> str:
    """``49.00``, ``USD`` -> ``49 USD``."""
    return f"{amount(value)} {currency}" if currency else amount(value)


def plural(count: int, noun: str) -> str:
    """``1 attempt``, ``2 attempts``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
