"""What a conversation is about and what the bot said it would do, by plain keyword rules."""

from __future__ import annotations

import re

TOPICS: dict[str, tuple[str, ...]] = {
    "billing": (
        "charge",
        "charged",
        "payment",
        "invoice",
        "card",
        "billing",
        "bill",
        "subscription",
        "plan",
        "past due",
        "declined",
        "refund",
        "money back",
        "twice",
        "double",
    ),
    "shipping": (
        "order",
        "delivery",
        "deliver",
        "shipped",
        "shipping",
        "tracking",
        "parcel",
        "package",
        "arrive",
        "where is",
    ),
    "cancellation": ("cancel", "unsubscribe", "close my account", "terminate"),
    "account": ("password", "login", "log in", "sign in", "locked", "email address", "2fa"),
}
_URGENT = (
    "chargeback",
    "dispute",
    "lawyer",
    "legal",
    "fraud",
    "stolen",
    "unauthorized",
    "unauthorised",
    "bank",
    "scam",
)
_UPSET = ("angry", "ridiculous", "unacceptable", "furious", "worst", "again", "still", "third time")
_PROMISE = re.compile(
    r"\b(i will|i'll|we will|we'll|i have (?:issued|refunded|escalated)|i've (?:issued|refunded|"
    r"escalated)|you will (?:receive|get)|someone will|guarantee|within \d+)\b",
    re.IGNORECASE,
)


def topics(texts: list[str]) -> list[str]:
    """Topics mentioned in the texts, most mentioned first."""
    joined = " ".join(texts).lower()
    scores = {t: sum(joined.count(word) for word in words) for t, words in TOPICS.items()}
    return [t for t, n in sorted(scores.items(), key=lambda kv: -kv[1]) if n]


def is_urgent(texts: list[str]) -> bool:
    """Words that make a case urgent: chargebacks, fraud, legal threats."""
    joined = " ".join(texts).lower()
    return any(word in joined for word in _URGENT)


def is_upset(texts: list[str]) -> bool:
    """Words of frustration or repeated contact."""
    joined = " ".join(texts).lower()
    return any(word in joined for word in _UPSET)


def is_promise(text: str) -> bool:
    """Whether a bot message commits to something (a refund, a call back, a deadline)."""
    return bool(_PROMISE.search(text))
