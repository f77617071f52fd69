"""Small deterministic helpers: integer mixing, vendor-style ids, timestamps, accent folding."""

from __future__ import annotations

import time
import unicodedata
from datetime import UTC, datetime
from functools import lru_cache

MASK64 = (1 << 64) - 1
DAY = 86_400
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_FOLD_EXTRA = str.maketrans(
    {
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "\u0131": "i",
        "đ": "d",
    }
)


def words(text: str) -> tuple[str, ...]:
    """The whitespace-separated words of ``text``, first occurrence kept, in order."""
    return tuple(dict.fromkeys(text.split()))


def mix64(value: int) -> int:
    """SplitMix64's finalizer: a bijection on 64-bit integers that scatters the bits."""
    value = (value + 0x9E3779B97F4A7C15) & MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & MASK64
    return value ^ (value >> 31)


@lru_cache(maxsize=256)
def _salted(seed: int, salt: int) -> int:
    return mix64(mix64(seed & MASK64) ^ salt)


def stream_key(seed: int, salt: int, index: int = 0) -> int:
    """A 64-bit key for (seed, salt, index), e.g. to seed one person's random stream.

    For a fixed (seed, salt) it is a bijection of ``index``: distinct indexes, distinct keys.
    """
    return mix64(_salted(seed, salt) ^ (index & MASK64))


_PAIRS = tuple(_B62[rest % 62] + _B62[rest // 62] for rest in range(62 * 62))


def base62(value: int, width: int) -> str:
    """``width`` base-62 digits of ``value``, least significant first (11 hold 64 bits)."""
    digits = []
    for _ in range(width // 2):
        value, rest = divmod(value, 3844)
        digits.append(_PAIRS[rest])
    if width % 2:
        digits.append(_B62[value % 62])
    return "".join(digits)


class StripeIds:
    """Stripe-looking ids: ``cus_`` + 14 characters, ``sub_1…`` / ``in_1…`` + 24 characters.

    Real object ids of one account share a middle segment; so do these (derived from the seed).
    """

    __slots__ = ("_account", "_seed")

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._account = base62(stream_key(seed, 0x5A1), 10)

    def short(self, prefix: str, salt: int, n: int) -> str:
        """``prefix`` + 14 characters, unique per (salt, n)."""
        unique = stream_key(self._seed, salt, n)
        return f"{prefix}{base62(unique, 11)}{base62(mix64(unique), 3)}"

    def long(self, prefix: str, salt: int, n: int) -> str:
        """``prefix`` + ``1`` + 23 characters, unique per (salt, n)."""
        body = base62(stream_key(self._seed, salt, n), 11)
        return f"{prefix}1{body[:4]}{self._account}{body[4:]}{body[1:3]}"


def iso_z(moment: int) -> str:
    """``2026-03-01T10:00:00Z`` (Zendesk)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


def iso_ms(moment: int) -> str:
    """``2026-03-01T10:00:00.123Z`` (HubSpot); the milliseconds are derived from the value."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment)) + f".{moment * 7919 % 1000:03d}Z"


@lru_cache(maxsize=64)
def _us_eastern_dst(year: int) -> tuple[int, int]:
    """UTC seconds when US Eastern daylight time starts and ends in ``year``."""
    march_first = datetime(year, 3, 1, tzinfo=UTC)
    second_sunday = 1 + (6 - march_first.weekday()) % 7 + 7
    november_first = datetime(year, 11, 1, tzinfo=UTC)
    first_sunday = 1 + (6 - november_first.weekday()) % 7
    start = datetime(year, 3, second_sunday, 7, tzinfo=UTC)  # 02:00 EST
    end = datetime(year, 11, first_sunday, 6, tzinfo=UTC)  # 02:00 EDT
    return int(start.timestamp()), int(end.timestamp())


def iso_shop(moment: int) -> str:
    """``2026-03-01T10:00:00-05:00``: the shop's local time (US Eastern), as Shopify writes it."""
    start, end = _us_eastern_dst(time.gmtime(moment).tm_year)
    offset = -4 if start <= moment < end else -5
    local = time.gmtime(moment + offset * 3600)
    return time.strftime("%Y-%m-%dT%H:%M:%S", local) + f"-0{-offset}:00"


def ymd(moment: int) -> str:
    """``2026-03-01`` (dates without time)."""
    return time.strftime("%Y-%m-%d", time.gmtime(moment))


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """``Tomás García`` -> ``Tomas Garcia``: accents and special letters to plain ASCII."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD_EXTRA))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@lru_cache(maxsize=4096)
def slug(text: str) -> str:
    """``O'Brien`` -> ``obrien``; ``De Luca`` -> ``deluca``: a name as an email local part."""
    return "".join(char for char in fold(text).lower() if char.isalnum())
