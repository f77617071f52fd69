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
    "scam",
    # Going to the bank over a charge; "my bank card details" is no threat.
    "call my bank",
    "calling my bank",
    "called my bank",
    "contact my bank",
    "contacting my bank",
    "contacted my bank",
    "tell my bank",
    "told my bank",
    "to my bank",
    "my bank will",
)
# Frustration and repeated contact. "Again" and "still" alone are no complaint ("thanks
# again", "is my plan still active?"); these phrases are.
_UPSET = (
    "angry",
    "ridiculous",
    "unacceptable",
    "furious",
    "worst",
    "frustrat",
    "fed up",
    "second time",
    "third time",
    "many times",
    "several times",
    "once again",
    "yet again",
    "again and again",
    "not again",
    "happened again",
    "charged again",
    "writing again",
    "asking again",
    "you again",
    "still not",
    "still no ",
    "still nothing",
    "still waiting",
    "still haven't",
    "still hasn't",
    "still don't",
    "still doesn't",
    "still can't",
    "still broken",
)
_PROMISE = re.compile(
    r"\b(i will|i'll|we will|we'll|i have (?:issued|refunded|escalated)|i've (?:issued|refunded|"
    r"escalated)|you will (?:receive|get)|someone will|guarantee|within \d+)\b",
    re.IGNORECASE,
)


def _starts_word(word: str) -> re.Pattern[str]:
    """``word`` at the start of a word, with any ending: ``refund`` finds ``refunded``, while
    ``card`` does not find ``discard`` nor ``legal`` ``illegally``."""
    return re.compile(r"(?<!\w)" + re.escape(word), re.IGNORECASE)


_TOPIC_WORDS = {t: [_starts_word(w) for w in words] for t, words in TOPICS.items()}
_URGENT_WORDS = [(w, _starts_word(w)) for w in _URGENT]
_UPSET_WORDS = [_starts_word(w) for w in _UPSET]


def topics(texts: list[str]) -> list[str]:
    """Topics mentioned in the texts, most mentioned first."""
    joined = " ".join(texts)
    scores = {t: sum(len(w.findall(joined)) for w in words) for t, words in _TOPIC_WORDS.items()}
    return [t for t, n in sorted(scores.items(), key=lambda kv: -kv[1]) if n]


def urgent_words(texts: list[str]) -> list[str]:
    """The words found that make a case urgent (chargebacks, fraud, legal threats)."""
    joined = " ".join(texts)
    return [word for word, pattern in _URGENT_WORDS if pattern.search(joined)]


def is_urgent(texts: list[str]) -> bool:
    """Words that make a case urgent: chargebacks, fraud, legal threats."""
    return bool(urgent_words(texts))


def is_upset(texts: list[str]) -> bool:
    """Words of frustration or repeated contact."""
    joined = " ".join(texts)
    return any(pattern.search(joined) for pattern in _UPSET_WORDS)


def is_promise(text: str) -> bool:
    """Whether a bot message commits to something (a refund, a call back, a deadline)."""
    return bool(_PROMISE.search(text))
