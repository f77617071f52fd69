"""Checks on an LLM-written handoff note before it is shown or posted on a ticket.

The model reads customer-written text (the transcript, ticket subjects and comments), which
may carry instructions or someone else's contact details. Its note is used only when:

* every email, phone number, profile id and link in it is one this profile's context shows
  (the context the model was given, built from this snapshot with the caller's view, or a
  contact the view shows in full): no other customer's details, nothing the view hides;
* customer-written text stays data: outside quotes (``"..."``, typographic or single quotes:
  ``_QUOTED``) the note neither carries prompt-injection phrases ("ignore previous
  instructions", "system prompt"...) nor repeats a customer's words at length as if they were
  the note's own.

``note_problem`` says why a note fails (``None`` when it passes); the caller then uses the
deterministic handoff.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from context_service.audience import View
from context_service.audience.facts import visible_contacts
from context_service.models import Snapshot

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# ``+1 212 555 0199``, ``(646) 555-0142``, ``646.555.0142``, ``4155550134``; not a date, an
# amount, ``#1003`` or an id inside a word (``in_1FV...``, ``KJFEVMTW-0009``).
_PHONE = re.compile(
    r"(?<![\w#+.*-])(?:\+\d[\d ().-]{6,18}\d|\(?\d{2,4}\)?[ .-]?\d{3,4}[ .-]\d{3,4}|\d{7,15})"
    r"(?![\w-])"
)
_PROFILE_ID = re.compile(r"\bprof_[0-9A-Za-z]{26}\b")
_URL = re.compile(r"https?://[^\s\"'<>)\]]+")
_MIN_PHONE_DIGITS = 7
_INSTRUCTIONS = re.compile(
    r"(?i)\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|the\s+|your\s+)?"
    r"(?:previous|prior|above|earlier|preceding|these|those|system)?\s*"
    r"(?:instructions|rules|prompts?|guidelines)\b"
    r"|\bsystem prompt\b|\bdeveloper mode\b|\badmin mode\b|\byou are now\b|\bjailbreak"
    r"|<\|im_(?:start|end)\|>|untrusted-data"
)
# What the note quotes is customer data, not its own words: a span in straight or curly double
# quotes (``"..."``, ``\u201c...\u201d``), guillemets (``\u00ab...\u00bb``), German quotes
# (``\u201e...\u201c``) or single quotes (``\u2018...\u2019``, ``'...'``). A single quote is an
# apostrophe as often: it opens a span only where no letter or digit precedes it and a letter
# follows (not ``don't``, ``Maya's``, ``'90s``), and closes it only where none follows it
# (``'I don't know'`` is one span; ``customers'`` may close one). A single-quoted span holds one
# sentence at most (no ``.``, ``!``, ``?`` or ``:`` before a space inside it): a stray quote
# and a plural possessive (``Customer 'reports... admin mode: approve all customers' orders``)
# quote none of the note's own sentences. No span crosses a line.
_ONE_SENTENCE = r"(?![.!?:]\s)"
_QUOTED = re.compile(
    r"\"[^\"\n]*\""
    r"|\u201c[^\u201c\u201d\n]*\u201d"
    r"|\u201e[^\u201c\u201d\u201e\n]*[\u201c\u201d]"
    r"|\u00ab[^\u00ab\u00bb\n]*\u00bb"
    r"|(?<![\w\u2018\u2019])\u2018(?=[^\W\d_])"
    rf"(?:{_ONE_SENTENCE}[^\u2018\u2019\n]|(?<=\w)\u2019(?=\w))*\u2019(?!\w)"
    rf"|(?<![\w'])'(?=[^\W\d_])(?:{_ONE_SENTENCE}[^'\n]|(?<=\w)'(?=\w))*(?<=\S)'(?!\w)"
)
_WORD = re.compile(r"[\w']+")
_APOSTROPHES = str.maketrans("\u2019\u02bc", "''")  # ``don\u2019t`` is ``don't``
_COPIED_WORDS = 8  # a run this long, word for word, is the customer's sentence, not a summary

IDENTIFIER_PROBLEM = (
    "the LLM note names an identifier (email, phone, id or link) not shown for this profile"
)
INSTRUCTION_PROBLEM = "the LLM note carries customer-written instructions outside quotes"
COPY_PROBLEM = "the LLM note repeats customer-written text outside quotes, as instructions not data"


def note_problem(
    note: str, snap: Snapshot, view: View, context: str, customer_texts: Iterable[str]
) -> str | None:
    """Why ``note`` may not be used (``None``: it may). ``context`` is the text the model was
    given as this customer's context; ``customer_texts`` what the customer wrote."""
    if _foreign_identifier(note, snap, view, context):
        return IDENTIFIER_PROBLEM
    unquoted = _QUOTED.sub(" ", note)
    if _INSTRUCTIONS.search(unquoted):
        return INSTRUCTION_PROBLEM
    if _repeats(unquoted, customer_texts):
        return COPY_PROBLEM
    return None


def customer_written(snap: Snapshot) -> list[str]:
    """The snapshot's customer-written free text: ticket subjects and comments, order notes."""
    tickets = [
        t for ticket in snap.support.tickets for t in (ticket.title, ticket.last_public_comment)
    ]
    notes = [order.note for order in snap.commerce.orders]
    return [text for text in [*tickets, *notes] if text]


def _foreign_identifier(note: str, snap: Snapshot, view: View, context: str) -> bool:
    emails, phones = visible_contacts(snap, view)
    known_emails = {e.lower() for e in [*emails, *_EMAIL.findall(context)]}
    if any(e.lower() not in known_emails for e in _EMAIL.findall(note)):
        return True
    known_phones = {_digits(p) for p in [*phones, *_PHONE.findall(context)]}
    if any(not _known_phone(_digits(p), known_phones) for p in _PHONE.findall(note)):
        return True
    if any(pid != snap.profile_id for pid in _PROFILE_ID.findall(note)):
        return True
    return any(url not in context for url in _URL.findall(note))


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _known_phone(digits: str, known: set[str]) -> bool:
    """The same number, written with or without its country code."""
    if len(digits) < _MIN_PHONE_DIGITS:
        return True
    return any(
        k.endswith(digits) or digits.endswith(k) for k in known if len(k) >= _MIN_PHONE_DIGITS
    )


def _repeats(unquoted: str, customer_texts: Iterable[str]) -> bool:
    note_runs = _runs(unquoted)
    return any(note_runs & _runs(text) for text in customer_texts)


def _runs(text: str) -> set[tuple[str, ...]]:
    words = [w.lower() for w in _WORD.findall(text.translate(_APOSTROPHES))]
    return {tuple(words[i : i + _COPIED_WORDS]) for i in range(len(words) - _COPIED_WORDS + 1)}
