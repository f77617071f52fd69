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
    "fourth time",
    "fifth time",
    # Complaints and a customer about to leave.
    "terrible",
    "horrible",
    "awful",
    "appalling",
    "disappoint",
    "disgust",
    "dissatisfied",
    "unhappy",
    "not happy",
    "not satisfied",
    "useless",
    "pathetic",
    "a joke",
    "wasted",
    "waste of",
    "competitor",
    "switching to",
    "going elsewhere",
    "take my business",
    # Nobody answered them.
    "nobody answer",
    "no one answer",
    "nobody repl",
    "no one repl",
    "nobody respond",
    "no one respond",
    "no response",
    "no reply",
    "ignoring me",
)
# Repeated contact counted in times or as an ordinal: "contacted you 3 times", "I've called
# three times", "the 4th time"; not "I reset it three times".
_CONTACTED_AGAIN = re.compile(
    r"(?<!\w)(?:contact|call|phon|e-?mail|writ|wrote|messag|text|reach|ask|chas)\w*"
    r"(?:\s+[\w'\u2019]+){0,3}?\s+(?:\d+|two|three|four|five|six|seven|eight|nine|ten|a few|"
    r"multiple|numerous|countless|so many|too many)\s+times\b"
    r"|(?<!\w)\d+(?:st|nd|rd|th)\s+time\b",
    re.IGNORECASE,
)
# A keyword that a negation just before it takes back: "it's not fraud", "no fraud concern",
# "no sign of fraud", "I'm not angry", "I don't think it's a scam". At most three such small
# words may stand between the negation and the keyword, and no punctuation: "not fixed, I will
# call my bank" and "I will not hesitate to dispute it" stay. "No" negates only a noun right
# after it ("no this is fraud" is fraud), and a question ("isn't this fraud?") negates nothing.
_NEGATION = re.compile(
    r"(?<!\w)(?:(?:not|never|without|(?:is|was|are|were|ai|do|does|did)n['\u2019]?t"
    r"(?!\s+(?:this|that|it)\b))"
    r"(?:\s+(?:a|an|the|any|at|all|really|actually|about|think|believe|saying|say|it|it's|"
    r"it\u2019s|its|this|that|is|was|be|of|kind|sort|sign|signs|evidence|concern|concerned|"
    r"worried|suspect|suspected|suspicion)){0,3}"
    r"|no(?:\s+(?:real|sign|signs|evidence|hint|suspicion|indication|of|any)){0,3})\s+$",
    re.IGNORECASE,
)
_NEGATION_REACH = 80  # characters before a keyword read for its negation
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
_UPSET_WORDS = [*(_starts_word(w) for w in _UPSET), _CONTACTED_AGAIN]


def topics(texts: list[str]) -> list[str]:
    """Topics mentioned in the texts, most mentioned first."""
    joined = " ".join(texts)
    scores = {t: sum(len(w.findall(joined)) for w in words) for t, words in _TOPIC_WORDS.items()}
    return [t for t, n in sorted(scores.items(), key=lambda kv: -kv[1]) if n]


def urgent_words(texts: list[str]) -> list[str]:
    """The words found that make a case urgent (chargebacks, fraud, legal threats), each
    unless every time it is said it is negated ("it's not fraud", "no fraud concern")."""
    return [word for word, pattern in _URGENT_WORDS if any(_said(pattern, t) for t in texts)]


def is_urgent(texts: list[str]) -> bool:
    """Words that make a case urgent: chargebacks, fraud, legal threats."""
    return bool(urgent_words(texts))


def is_upset(texts: list[str]) -> bool:
    """Words of frustration or repeated contact, not negated ("I'm not angry")."""
    return any(_said(pattern, text) for text in texts for pattern in _UPSET_WORDS)


def _said(pattern: re.Pattern[str], text: str) -> bool:
    """Whether ``pattern`` occurs in ``text`` at least once without a negation just before
    it (``_NEGATION``) that negates it: one in a question ("how is this not fraud?") or after
    "if", "how" or "no way" ("if this isn't fraud I don't know what is") affirms it."""
    return any(
        not _NEGATION.search(text, max(0, m.start() - _NEGATION_REACH), m.start())
        or _affirms(text, m.start())
        for m in pattern.finditer(text)
    )


# Where a clause ends, and the words that turn a negation in it round.
_CLAUSE_END = re.compile(r"[.!?;\n]")
_TURNED = re.compile(r"(?<!\w)(?:how|if|unless|whether|no\s+way)(?!\w)", re.IGNORECASE)


def _affirms(text: str, at: int) -> bool:
    """Whether the clause holding position ``at`` is a question, or turns a negation round
    before ``at`` ("how is this not...", "if this isn't...", "no way this isn't...")."""
    start, end = clause_at(text, at)
    if is_question(text, end):
        return True
    return _TURNED.search(text, start, at) is not None


def clause_at(text: str, at: int) -> tuple[int, int]:
    """The clause holding position ``at``: from after the last clause end (``.!?;`` or a line
    break) before it to the next one, or the text's ends."""
    ends = [m.start() for m in _CLAUSE_END.finditer(text, 0, at)]
    after = _CLAUSE_END.search(text, at)
    return (ends[-1] + 1 if ends else 0, after.start() if after else len(text))


def is_question(text: str, end: int) -> bool:
    """Whether the clause ending at ``end`` (``clause_at``) ends with a question mark."""
    return end < len(text) and text[end] == "?"


def is_promise(text: str) -> bool:
    """Whether a bot message commits to something (a refund, a call back, a deadline)."""
    return bool(_PROMISE.search(text))
