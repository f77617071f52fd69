"""A secret given as the answer to a question.

``secrets`` removes a value that follows its label (``the code is 482913``). In a chat the
label is often the bot's question and the secret the customer's whole next message: "please
type the one-time code we just texted you" / "482913", "what is your password?" /
"Tr0ub4dor&3x", "the CVV on the back of your card?" / "737". ``secret_asked`` reads what a
question asks for; ``without_answered_secret`` removes it from the answer:

- a code (one-time code, PIN, card security code): an answer that is one token with a digit
  goes whole; in a longer answer each run of 3 to 10 digits goes (``sure, 482 913``), except a
  ``#`` reference (``#1004``);
- a password: an answer that is one token looking like one (a digit, a symbol or mixed case,
  as ``secrets`` judges ``password is x``) goes whole, and so does the value of ``it's x``;
  ``ok`` and ``I forgot it`` stay;
- a card number: card-shaped digits go, a group of four to six alone or joined to more by one
  to three separators, or a run of 7 to 19 digits (``4111 1111`` now and ``1111 1111`` in the
  next message, or ``4111`` a message: a number typed in pieces is never whole in one turn, so
  no Luhn check can find it), and an expiry date (``12/30``); an amount (``1,249.99``), a date
  (``2025-11-03``), the last four (``ending 4242``) and a number a word names (``order
  100234``, ``#1004``) stay. A customer who names
  the card number themselves (``my card number is 4111 1111``) asks the same of their own next
  messages (``card_number_named``); "did you pay by credit card?" asks for nothing.
"""

from __future__ import annotations

import re
from typing import Literal

from context_service.snapshot.secrets import SECRET_REMOVED

SecretKind = Literal["code", "password", "card"]

_ASKS_FOR_CODE = re.compile(
    r"(?i)\b(?:otp|one[- ]time\s+(?:pass)?code|(?:verification|security|login|log-in|sign[- ]?in"
    r"|2fa|mfa|sms|auth(?:entication)?|confirmation|access)\s+code"
    r"|code\s+(?:we|I)\s+(?:just\s+)?(?:sent|texted|emailed)|cvv2?|cvc2?|csc|pin"
    r"|(?:3|4|three|four)[ -]digits?\s+on\s+the\s+back)\b"
)
_ASKS_FOR_PASSWORD = re.compile(
    r"(?i)\b(?:pass(?:word|phrase|wd)|passwort|kennwort|mot\s+de\s+passe|contrase(?:ñ|n)a"
    r"|senha|wachtwoord)\b"
)
# Asking for the number itself (not "did you pay by credit card?").
_CARD_NUMBER_LABEL = r"card(?:'s)?\s*(?:number|no\b\.?|num\b|#)"
_ASKS_FOR_CARD = re.compile(
    rf"(?i)\b(?:{_CARD_NUMBER_LABEL}|card(?:'s)?\s+(?:details|digits)"
    r"|(?:long|1[3-9][- ]digit)\s+number|\d\d\s+digits\s+on\s+(?:your|the|my)\s+card"
    r"|number\s+on\s+(?:the\s+front\s+of\s+)?(?:your|the|my)\s+card"
    r"|expir(?:y|ation)\s+date)"
)
_NAMES_CARD_NUMBER = re.compile(rf"(?i)\b{_CARD_NUMBER_LABEL}")
# Card-shaped digits: a group of four to six digits, alone (a number typed in pieces, four
# digits a message) or joined to more by one to three separators, or a run of 7 to 19; never an
# amount (1,249.99, $1500), a date (2025-11-03), or a number after a word naming what it is
# (order 100234, invoice 20251103) or the last four, which every receipt shows (ending 4242).
_CARD_DIGITS = re.compile(
    r"(?<![\w#$\u20ac\u00a3.,/-])(?:\d{4,6}(?:[^\w\n]{1,3}\d{4,6}){0,4}|\d{7,19})"
    r"(?![\w.,/-]?\d)"
)
_REFERENCE_BEFORE = re.compile(
    r"(?i)(?:\b(?:order|invoice|ticket|tracking|ref(?:erence)?|po|confirmation|case)s?"
    r"\s*(?:numbers?|no\.?|#|ids?)?\s*[:#]?"
    r"|\b(?:ending|ends\s+(?:in|with)|last\s+(?:four|4)(?:\s+digits)?)\s*(?:in|with|is|:)?)\s*$"
)
_EXPIRY = re.compile(r"(?<![\w/.-])(?:0?[1-9]|1[0-2])\s*/\s*(?:\d{4}|\d{2})(?![\w/])")
_ONE_TOKEN = re.compile(r"\s*[\"'(]?(\S+?)[\"')]?[.,!]?\s*")
_CODE_DIGITS = re.compile(r"(?<![\w#])\d(?:[ -]?\d){2,9}(?![\w])")
_GIVEN_AS = re.compile(r"(?i)\b(?:it'?s|it\s+is|here(?:\s+it\s+is)?|sure)[:,]?\s+(\S+?)[.!]?\s*$")


def secret_asked(question: str) -> SecretKind | None:
    """What secret a bot's (or agent's) message asks the customer for, if any."""
    if _ASKS_FOR_PASSWORD.search(question):
        return "password"
    if _ASKS_FOR_CODE.search(question):
        return "code"
    if _ASKS_FOR_CARD.search(question):
        return "card"
    return None


def card_number_named(text: str) -> int | None:
    """Where a customer's own message names their card number (``my card number is``): the
    end of the label, after which (and in their next messages) card digits are removed."""
    found = _NAMES_CARD_NUMBER.search(text)
    return found.end() if found else None


def without_answered_secret(answer: str, kind: SecretKind) -> str:
    """The customer's answer to a question that asked for a ``kind`` secret, without it."""
    if kind == "card":
        return _EXPIRY.sub(SECRET_REMOVED, _CARD_DIGITS.sub(_card_digits_removed, answer))
    one = _ONE_TOKEN.fullmatch(answer)
    if kind == "code":
        if one and any(c.isdigit() for c in one.group(1)):
            return SECRET_REMOVED
        return _CODE_DIGITS.sub(SECRET_REMOVED, answer)
    if one and _looks_like_password(one.group(1)):
        return SECRET_REMOVED
    given = _GIVEN_AS.search(answer)
    if given and _looks_like_password(given.group(1)):
        return answer[: given.start(1)] + SECRET_REMOVED + answer[given.end(1) :]
    return answer


def _card_digits_removed(found: re.Match[str]) -> str:
    """A card-shaped run goes, unless a word before it says what else it is (``order``)."""
    before = found.string[max(0, found.start() - 24) : found.start()]
    return found.group() if _REFERENCE_BEFORE.search(before) else SECRET_REMOVED


def _looks_like_password(value: str) -> bool:
    """A digit, a symbol or mixed case: ``wrong`` or ``Thanks`` is a word, not a password."""
    return not (value.isalpha() and (value.islower() or value.istitle()))
