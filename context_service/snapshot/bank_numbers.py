"""Bank account and routing numbers a customer names as such, removed from free text.

US and other domestic accounts have no IBAN (``redaction`` finds those by their shape), so a
number is taken for one only where the customer says it is: after a banking word
(``routing number is 021000021``), or after ``account`` with a banking word near it.
"""

from __future__ import annotations

import re

IBAN_REMOVED = "[bank account removed]"

# A bank account or routing number a customer names as one (US and other domestic accounts have
# no IBAN): 6 to 17 digits (a single space or dash between groups: ``021-000-021``, a sort code
# ``12-34-56``), right
# after a banking word and a few words of filler (``routing number is 021000021``, ``checking
# account: 000123456789``, ``A/C No. 123456789012``). ``account`` alone names a shop's account
# as often (``my account 88231977``), so ``account (number)`` counts only with a banking word
# near it (``_BANK_NEARBY``).
_FILLER = r"(?:\s*(?:number|num|no|nr|is|was|[#:=.]))*\s*"
_ACCOUNT_DIGITS = r"(\d(?:[ -]?\d){5,16})(?!\d|[-.,]\d)"
_NAMED_ACCOUNT = re.compile(
    r"\b(?:bank\s+account|(?:checking|savings)\s+(?:account|acct)|a/c|routing|aba|bsb"
    rf"|sort\s+code){_FILLER}{_ACCOUNT_DIGITS}",
    re.IGNORECASE,
)
_ACCOUNT_NUMBER = re.compile(rf"\b(?:account|acct)\.?{_FILLER}{_ACCOUNT_DIGITS}", re.IGNORECASE)
_BANK_NEARBY = re.compile(
    r"\b(?:bank|banking|routing|aba|checking|savings|sort\s+code|bsb|wire|ach|iban|swift)\b",
    re.IGNORECASE,
)
_BANK_WINDOW = 120  # characters around ``account number`` a banking word is looked for in


def without_named_accounts(text: str) -> str:
    """``text`` with each number it names as a bank account or routing number removed (the
    word stays: ``routing [bank account removed]``)."""
    if not any(char.isdigit() for char in text):
        return text
    text = _NAMED_ACCOUNT.sub(_account_removed, text)
    return _ACCOUNT_NUMBER.sub(_bank_account_removed, text)


def _bank_account_removed(match: re.Match[str]) -> str:
    """``_account_removed`` for an ``account number`` with a banking word near it."""
    start, end = max(0, match.start() - _BANK_WINDOW), match.end() + _BANK_WINDOW
    if _BANK_NEARBY.search(match.string[start:end]) is None:
        return match.group()
    return _account_removed(match)


def _account_removed(match: re.Match[str]) -> str:
    whole, offset = match.group(), match.start()
    return whole[: match.start(1) - offset] + IBAN_REMOVED + whole[match.end(1) - offset :]
