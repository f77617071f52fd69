"""Small conversions every mapper needs: timestamps to ISO-8601 UTC, money to decimal strings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import msgspec

from context_service.errors import MappingError

T = TypeVar("T")

# Stripe's zero-decimal and three-decimal currencies (docs.stripe.com/currencies).
_ZERO_DECIMAL = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split(),
)
_THREE_DECIMAL = frozenset("bhd jod kwd omr tnd".split())


def iso_utc(value: str | int | float | None) -> str | None:
    """Normalize a vendor timestamp (ISO-8601 with any offset, or unix seconds) to ``...Z`` UTC.

    Epoch milliseconds (HubSpot) are recognized by their size. Returns ``None`` for ``None`` or
    an empty string; raises ``MappingError`` for anything unparseable.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str) and _is_canonical(value):
        return value
    try:
        if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
            seconds = float(value)
            if seconds > 1e11:  # epoch milliseconds
                seconds /= 1000
            moment = datetime.fromtimestamp(seconds, tz=UTC)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise MappingError(f"unparseable timestamp {value!r}") from exc
    return moment.replace(tzinfo=None, microsecond=0).isoformat() + "Z"


def _is_canonical(value: str) -> bool:
    """``YYYY-MM-DDTHH:MM:SSZ`` that denotes a real moment: already in the form we return."""
    if len(value) != 20 or value[10] != "T" or value[19] != "Z":
        return False
    try:
        datetime.fromisoformat(value)  # validates the date and time; the Z means UTC
    except ValueError:
        return False
    return True


def minor_to_major(amount: int | None, currency: str | None) -> str | None:
    """Convert an amount in minor units (Stripe) to a decimal string in major units."""
    if amount is None:
        return None
    code = (currency or "").lower()
    if code in _ZERO_DECIMAL:
        return str(amount)
    places = 3 if code in _THREE_DECIMAL else 2
    if abs(amount) >= 10**17:
        raise MappingError(f"not a plausible amount: {amount!r}")
    return str((Decimal(amount) / (Decimal(10) ** places)).quantize(Decimal(1).scaleb(-places)))


def decimal_string(value: str | int | float | None) -> str | None:
    """Validate and canonicalize a decimal amount given as a string (Shopify, HubSpot): two
    places (``"12.5"`` is ``"12.50"``), or the amount's own places when rounding to two would
    change it (the Kuwaiti dinar and the other three-decimal currencies: ``"12.345"``)."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise MappingError(f"not a decimal amount: {value!r}") from exc
    if not number.is_finite() or abs(number) >= Decimal("1e15"):
        raise MappingError(f"not a plausible amount: {value!r}")
    cents = number.quantize(Decimal("0.01"))
    return str(cents if cents == number else number)


def currency_code(value: str | None) -> str | None:
    """Upper-case ISO currency code, or ``None``."""
    return value.upper() if value else None


def clean(value: str | None) -> str | None:
    """Strip whitespace; empty strings become ``None``."""
    if value is None:
        return None
    stripped = value.strip()
    return stripped or None


def decode(payload: Any, into: type[T], source: str, what: str, **extra: Any) -> T:
    """Decode a vendor payload into a Struct; anything malformed becomes a ``MappingError``.

    ``what`` names the object in the message (``"order 1001"``); ``extra`` is attached to the
    error (``kind=...``) for reports.
    """
    if not isinstance(payload, Mapping):
        raise MappingError(
            f"{source} {what}: payload must be a JSON object, got {type(payload).__name__}",
            source=source,
            **extra,
        )
    try:
        return msgspec.convert(dict(payload), into)
    except msgspec.ValidationError as exc:
        raise MappingError(f"{source} {what}: {exc}", source=source, **extra) from exc
