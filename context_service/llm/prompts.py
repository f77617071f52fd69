"""Versioned prompt templates from ``prompts/``, and fences for untrusted text inside them.

A fence is the only way data enters a prompt. Secrets a customer pasted into it (API keys,
tokens, private keys) are replaced by ``[secret removed]``: the LLM endpoint is a third party.

A template file ``prompts/<name>.v<N>.md`` has a ``## system`` and a ``## user`` section;
``{{placeholder}}`` marks where the caller's (already fenced) blocks go. Its version
``<name>.v<N>`` is part of every cache key, so a released template is never edited: a change is
a new file with the next number.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from decimal import Decimal
from functools import cache
from pathlib import Path

import msgspec

from context_service.errors import ConfigurationError
from context_service.llm import currencies
from context_service.snapshot.secrets import contains_secret, redact_secrets

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"
_FILE = re.compile(r"^(?P<name>[a-z_]+)\.v(?P<number>\d+)\.md$")
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


class Prompt(msgspec.Struct, frozen=True):
    """A system and a user template, and their version."""

    version: str
    system: str
    user: str

    def render(self, **blocks: str) -> tuple[str, str]:
        """``(system, user)`` with every ``{{name}}`` replaced; a missing block is an error."""
        return self.system, _fill(self.user, blocks)


# What reads like a fence's own tag to a model, which reads tags, not hashes: ``<``, an optional
# ``/`` and ``untrusted-data``, compared on the text's skeleton (``_skeleton``), so that spaces,
# invisible characters (U+200B), full-width or other angle brackets, another dash or ``_``
# inside, or no dash, make no difference. The bracket of each becomes U+2039.
_FENCE_LOOKALIKE = re.compile(r"<(?=/?untrusted-?data)")
_ANGLES = dict.fromkeys(map(ord, "\uff1c\ufe64\u3008\u2329\u27e8\u276c\u276e\u29fc"), "<")
_SLASHES = dict.fromkeys(map(ord, "\uff0f\u2215\u2044\u29f8"), "/")


def _skeleton(text: str) -> tuple[str, list[int]]:
    """``text`` as a fence check sees it, with the index in ``text`` of each of its characters:
    spaces and format characters (zero-width, soft hyphen) dropped, compatibility forms folded
    (full-width letters), case folded, every dash and ``_`` a ``-``, look-alike brackets and
    slashes the ASCII ones."""
    chars: list[str] = []
    where: list[int] = []
    for index, char in enumerate(text):
        if char.isspace() or unicodedata.category(char) == "Cf":
            continue
        folded = unicodedata.normalize("NFKC", char.translate(_ANGLES).translate(_SLASHES))
        for part in folded.casefold():
            chars.append("-" if part == "_" or unicodedata.category(part) == "Pd" else part)
            where.append(index)
    return "".join(chars), where


# The same on ASCII text (most of it), without building a skeleton.
_ASCII_FENCE_LOOKALIKE = re.compile(r"<(?=\s*/?\s*untrusted\s*[-_]?\s*data)", re.IGNORECASE)


def _without_fence_lookalikes(text: str) -> str:
    if text.isascii():
        return _ASCII_FENCE_LOOKALIKE.sub("\u2039", text)
    folded = unicodedata.normalize("NFKC", text).casefold()
    if "untrusted" not in "".join(ch for ch in folded if ch.isalpha()):
        return text  # no tag's name in it, however spaced: the skeleton is not needed
    skeleton, where = _skeleton(text)
    brackets = {where[match.start()] for match in _FENCE_LOOKALIKE.finditer(skeleton)}
    if not brackets:
        return text
    return "".join("\u2039" if i in brackets else char for i, char in enumerate(text))


def fence(label: str, text: str) -> str:
    """Untrusted text as a labelled block whose boundary the text cannot forge.

    The boundary carries a hash of the content, which the content cannot contain, and nothing
    inside may look like a fence tag, however written (its bracket becomes U+2039). Secrets
    are removed first (``redact_secrets``).
    """
    text = _without_fence_lookalikes(redact_secrets(text))
    tag = hashlib.sha256(text.encode()).hexdigest()[:12]
    return f'<untrusted-data id="{tag}" label="{label}">\n{text}\n</untrusted-data id="{tag}">'


@cache
def latest(name: str, directory: Path = PROMPTS_DIR) -> Prompt:
    """The highest-numbered version of a template."""
    versions = [
        (int(m.group("number")), path)
        for path in directory.glob(f"{name}.v*.md")
        if (m := _FILE.match(path.name)) and m.group("name") == name
    ]
    if not versions:
        raise ConfigurationError(f"no prompt template {name}.v<N>.md in {directory}")
    number, path = max(versions)
    return parse(f"{name}.v{number}", path.read_text(encoding="utf-8"))


def parse(version: str, text: str) -> Prompt:
    """A template file's ``## system`` and ``## user`` sections."""
    parts = re.split(r"^## (system|user)\s*$", text, flags=re.MULTILINE)
    sections = {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
    if set(sections) != {"system", "user"}:
        raise ConfigurationError(f"prompt {version} needs a '## system' and a '## user' section")
    return Prompt(version=version, system=sections["system"], user=sections["user"])


def _fill(template: str, blocks: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in blocks:
            raise ConfigurationError(f"prompt placeholder {{{{{name}}}}} has no value")
        return blocks[name]

    return _PLACEHOLDER.sub(replace, template)


# What an answer may only name when its prompt did: emails, ids with digits (prof_..., cus_...,
# ch_...) and numbers of nine digits or more (phones, card and account numbers).
# A match starts only where a run of its characters starts: a run that leads nowhere is then
# read once, not once per character (a pasted run of 8,000 digits took a minute).
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_ID = re.compile(r"\b[A-Za-z]{2,6}_(?=[A-Za-z]*\d)[A-Za-z0-9]{8,}\b")
_LONG_NUMBER = re.compile(r"\d(?:[ ().-]{0,2}\d){8,}")
# A JSON escape (the handoff's transcript is JSON lines), read as the space it stands for.
_JSON_ESCAPE = re.compile(r"\\[nrtbf]")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?")
# An amount of money: a number with a currency symbol, an ISO 4217 code or a currency word
# (``currencies``) on either side: ``$98``, ``USD 98``, ``USD98``, ``98USD``, ``98.00 usd``,
# ``75 KWD``, ``98 bucks``, ``98 pounds``. Bare numbers, and numbers beside a word or a code
# that names no currency (``2 orders``, ``SKU 12``, ``ID 1234``), are not amounts.
_SYMBOL = rf"[A-Z]{{0,2}}\$|[{currencies.SYMBOL_CHARACTERS}]|{currencies.LETTER_SYMBOL}"
_CURRENCY_BEFORE = rf"(?:{_SYMBOL}|{currencies.COMMON_CODE}|{currencies.CODE_BEFORE})"
# A currency word comes after its number only: ``dollars 3 times`` is no amount of 3.
_CURRENCY_AFTER = (
    rf"(?:{_SYMBOL}|{currencies.COMMON_CODE}|{currencies.CODE_AFTER}|{currencies.WORD})"
)
_NUMBER = r"\d(?:[\d,]*\d)?(?:\.\d+)?"
# An amount's number may also be written with a decimal comma: ``1.234,50`` or ``49,00`` (one
# or two digits after the comma: a thousands group has three).
_END = r"(?![\d,]|\.\d)"  # not followed by more of a number (a full stop may follow)
_MONEY_NUMBER = rf"\d{{1,3}}(?:\.\d{{3}})+,\d{{1,2}}{_END}|\d+,\d{{1,2}}{_END}|{_NUMBER}"
_DECIMAL_COMMA = re.compile(r"\d{1,3}(?:\.\d{3})+,\d{1,2}|\d+,\d{1,2}")
_AMOUNT = re.compile(
    rf"(?P<code_before>{_CURRENCY_BEFORE})\s?(?P<before>{_MONEY_NUMBER})"
    rf"|(?<!\d)(?<!\d[,.])(?P<after>{_MONEY_NUMBER})\s?(?P<code_after>{_CURRENCY_AFTER})"
    # ``98USD``; not the end of a product code or an id (``LMP98USD``, ``X4TRY``)
    rf"|(?<![A-Za-z\d])(?<!\d[,.])(?P<glued>{_MONEY_NUMBER})"
    rf"(?P<code_glued>{currencies.CODE_GLUED})",
    re.IGNORECASE,
)
# An amount in words before a currency word: ``ninety-eight dollars``, ``a hundred euros``.
_SPELLED_AMOUNT = re.compile(
    rf"(?<![A-Za-z-])(?P<words>(?:{currencies.NUMBER_WORD})\b"
    rf"(?:(?:[ -]|\s+and\s+)(?:{currencies.NUMBER_WORD})\b)*)\s+(?P<word>{currencies.WORD})",
    re.IGNORECASE,
)
# A number in the data that could be an amount: not part of a reference (``#1003``, ``E26``,
# ``KJFEVMTW-0009``) nor of a longer number.
_ANY_NUMBER = re.compile(rf"(?<![A-Za-z#\d])(?<![A-Za-z]-){_NUMBER}")
# What holds numbers that are not amounts: a written date's day (``Nov 18``), a phone written
# with ``+`` or grouped by spaces, dashes or brackets.
_MONTH_DAY = re.compile(
    r"\b(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.? (?:[12]\d|3[01]|0?[1-9])\b"
)
_PHONE = re.compile(r"\+\d(?:[ ().-]{0,2}\d){6,}|\d{1,4}(?:[ ()-]{1,2}\d{2,4}){2,}")
_CARD_END = re.compile(r"\bending(?: in)?\s+\d{4}\b", re.IGNORECASE)  # a card's last four
_NOT_AMOUNTS = (_DATE_TIME, _MONTH_DAY, _EMAIL, _ID, _PHONE, _CARD_END)


def ungrounded(answer: str, source: str) -> bool:
    """Whether ``answer`` names a detail that ``source`` (the prompt's data) does not hold: an
    email, an id or a long number (another customer's, or one the view masked), an amount of
    money (an invented refund, a wrong total), or a secret.

    Numbers are compared by their digits (``+1 415 555 0134`` is ``+14155550134``); dates and
    times are not identifiers and are left out. Amounts are compared by value (``$49`` is
    ``49.00 USD``) and currency: a value the data gives only in other currencies (``€49`` for
    ``49.00 USD``) is not grounded; a value the data writes only without a currency grounds it
    in any. A currency word (``49 euros``) names a currency as its code does, and a decimal
    comma (``49,00 €``, ``€1.234,50``) is read as one. An amount the model worked out (a sum,
    a difference) is not in the data, so it is not served either."""
    if contains_secret(answer):
        return True
    if _emails_of(answer) - _emails_of(source):
        return True
    if any(found not in source for found in _ID.findall(answer)):
        return True
    digits = " ".join(_digits_of(source))
    if any(number not in digits for number in _digits_of(answer)):
        return True
    if not set(_REFERENCE.findall(answer)) <= set(_NAMED_NUMBER.findall(source)):
        return True
    return _ungrounded_amount(answer, source)


# An order or ticket the answer names: ``#1003``, ``order 1004``, ``order number 5015``,
# ``ticket 1002``.
_REFERENCE = re.compile(
    r"(?:#\s?|\b(?:order|ticket)(?:\s+(?:number|no\.?|id))?\s+#?)(\d+)\b", re.IGNORECASE
)
# How the data names an order, ticket or invoice: ``#1003``, ``Ticket 1001``, ``order 1003``.
_NAMED_NUMBER = re.compile(r"(?:#\s?|\b(?:ticket|order|invoice)\s+#?)(\d+)\b", re.IGNORECASE)


def _ungrounded_amount(answer: str, source: str) -> bool:
    """Whether the answer names an amount whose value the data lacks, or gives only in
    currencies the answer's cannot be."""
    values = _values_of(source)
    weights = _weights_of(source)
    source_read, answer_read = _readings(source, weights), _readings(answer, weights)
    # The currencies the data names anywhere (``1500 PHP``, written without cents, too) or the
    # answer names beyond doubt: what makes ``98 PEN``, ``12CUP`` or ``3 rand`` money.
    known = frozenset(c for _, named, _ in source_read for c in named) | frozenset(
        c for _, named, firm in answer_read if firm for c in named
    )
    currencies_of: dict[Decimal, set[str]] = {}
    for value, named in _kept(source_read, known):
        values.add(value)  # ``49,00 €`` in a customer's message is 49, not 4900
        currencies_of.setdefault(value, set()).update(named)
    for value, named in _kept(answer_read, known):
        if value not in values:
            return True
        given = currencies_of.get(value)
        if given and not given & named:
            return True
    return False


def _emails_of(text: str) -> set[str]:
    """Every whole email in ``text``, in lower case: a part of one (``patel@example.com`` of
    ``maya.patel@example.com``) is someone else's address."""
    return {email.lower() for email in _EMAIL.findall(_JSON_ESCAPE.sub(" ", text))}


# After a currency word: a coin (``a 10 franc coin``), not an amount.
_COIN = re.compile(r"[\s-]*coins?\b", re.IGNORECASE)
# After ``pound(s)``: a weight (``2 pounds of coffee``).
_OF = re.compile(r"\s+of\b", re.IGNORECASE)
# A word that makes a weight or a coin beside it money (``We refunded 30 pounds``, ``30
# pounds of credit``, ``a 30 pound coin refund``): read in the few words before the number or
# just after the currency word (its ``coin`` or ``of``), within one clause.
_MONEY_WORD = re.compile(
    r"refund(?:s|ed|ing)?|credit(?:s|ed|ing)?|charg(?:e|es|ed|ing)|paid|pay(?:s|ing|ment)?"
    r"|ow(?:e|es|ed|ing)|compensat(?:e|es|ed|ing|ion)|discount(?:s|ed)?|reimburs\w*",
    re.IGNORECASE,
)
_MONEY_WORDS_BEFORE = 3
_MONEY_WORDS_AFTER = 2
_CLAUSE_END = re.compile(r"[.!?]\s|[.!?]$|[,;()\n]")  # not the point of ``59.99``
_WORDS = re.compile(r"[A-Za-z]+|\d[\d.,]*")
# A weight in the data: ``30 lb``, ``5lbs``, ``2.5-lb``.
_WEIGHT = re.compile(rf"(?<![\d.,])({_NUMBER})\s?-?lbs?\b", re.IGNORECASE)
_CENTS = re.compile(r"\.\d{2}")

_Reading = tuple[Decimal, frozenset[str], bool]


def _amounts_of(
    text: str, known: frozenset[str] = frozenset(), weights: frozenset[Decimal] = frozenset()
) -> list[tuple[Decimal, frozenset[str]]]:
    """The value of each amount of money ``text`` names (``$1,200.00`` is 1200), with the
    currencies its symbol or code can stand for; a reading that is money only in context
    (``_readings``) counts when its currency is among ``known``."""
    return _kept(_readings(text, weights), known)


def _kept(readings: list[_Reading], known: frozenset[str]) -> list[tuple[Decimal, frozenset[str]]]:
    return [(value, named) for value, named, firm in readings if firm or named & known]


def _readings(text: str, weights: frozenset[Decimal]) -> list[_Reading]:
    """Each amount ``text`` may name: its value, its currencies, and whether it is money beyond
    doubt (``firm``). Not firm: a word-like code (``2 PEN``, ``12CUP``) unless its number has
    cents, and ``rand``. No amount at all: a currency word before ``coin`` (``a 1 yen coin``),
    ``pounds of`` or a number of pounds that ``weights`` (the data's ``lb``) holds, unless a
    money word stands beside it (``_money_word_beside``)."""
    found: list[_Reading] = []
    for m in _AMOUNT.finditer(text):
        number = m.group("before") or m.group("after") or m.group("glued")
        token = m.group("code_before") or m.group("code_after") or m.group("code_glued")
        value = currencies.scaled(_money_value(number), token)
        if _word_reading(text, m.start(), m.end(), token, value, weights):
            word_like = token in currencies.WORD_LIKE_CODES and not _CENTS.search(number)
            firm = not word_like and token.upper() not in currencies.CONTEXT_WORDS
            found.append((value, currencies.currencies(token), firm))
    for m in _SPELLED_AMOUNT.finditer(text):
        spelled = currencies.spelled_value(m.group("words"))
        token = m.group("word")
        if spelled is None or not _word_reading(text, m.start(), m.end(), token, spelled, weights):
            continue
        firm = token.upper() not in currencies.CONTEXT_WORDS
        found.append((currencies.scaled(spelled, token), currencies.currencies(token), firm))
    return found


def _word_reading(
    text: str, start: int, end: int, token: str, value: Decimal, weights: frozenset[Decimal]
) -> bool:
    """Whether a number beside ``token`` (the match from ``start`` to ``end``) may be money: not
    a coin nor, for ``pound(s)``, a weight, unless a money word stands beside it (``We
    refunded 30 pounds``, ``a 30 pound coin refund``: ``_MONEY_WORD``)."""
    upper = " ".join(token.upper().split())
    if upper not in currencies.WORDS:
        return True
    coin = _COIN.match(text, end)
    of = _OF.match(text, end) if upper in currencies.WEIGHT_WORDS else None
    waiver = coin or of
    if waiver is None and (upper not in currencies.WEIGHT_WORDS or value not in weights):
        return True
    return _money_word_beside(text, start, waiver.end() if waiver else end)


def _money_word_beside(text: str, start: int, end: int) -> bool:
    """Whether one of the few words before ``start`` or after ``end``, in the same clause, is a
    money word (``refunded``, ``credit``, ``paid``...)."""
    before = _CLAUSE_END.split(text[max(0, start - 80) : start])[-1]
    after = _CLAUSE_END.split(text[end : end + 80])[0]
    near = [
        *_WORDS.findall(before)[-_MONEY_WORDS_BEFORE:],
        *_WORDS.findall(after)[:_MONEY_WORDS_AFTER],
    ]
    return any(_MONEY_WORD.fullmatch(word) for word in near)


def _weights_of(text: str) -> frozenset[Decimal]:
    """The numbers of pounds the data gives as a weight (``30 lb``)."""
    return frozenset(_value(n) for n in _WEIGHT.findall(text))


def _values_of(text: str) -> set[Decimal]:
    """The value of every number in ``text``: an amount is grounded when the data holds its
    value anywhere (``49.00 USD``, ``49 USD/month``), however the answer writes it. Dates,
    phones, emails and references are left out: ``Nov 15`` grounds no refund of ``$15``, and
    ``300 orders`` none of ``$300``."""
    for not_amounts in _NOT_AMOUNTS:
        text = not_amounts.sub(" ", text)
    for counts in (_COUNT, _COUNTED):
        text = counts.sub(" ", text)
    return {_value(n) for n in _ANY_NUMBER.findall(text)}


# A number followed by a word is a count (``300 orders``, ``2 more``, ``1 attempt(s)``,
# ``4-pack``), unless the word is a currency code in capitals (``1500 TRY``, or one
# ``currencies`` does not list yet): it grounds no bare value; nor does the count after a
# plural label (``Orders: 300``, ``Orders (3, 352.08 USD total)``).
_COUNT = re.compile(rf"(?<![\d.,]){_NUMBER}(?= +(?![A-Z]{{3}}\b)[A-Za-z]|-[A-Za-z])")
_COUNTED = re.compile(
    r"\b(?:orders|tickets|invoices|charges|deals|subscriptions|records)\s*[:(]\s*\d+(?![\d.])",
    re.IGNORECASE,
)


def _money_value(number: str) -> Decimal:
    """An amount's value: ``1.234,50`` and ``49,00`` are written with a decimal comma."""
    if _DECIMAL_COMMA.fullmatch(number):
        return Decimal(number.replace(".", "").replace(",", "."))
    return _value(number)


def _value(number: str) -> Decimal:
    return Decimal(number.replace(",", ""))


def _digits_of(text: str) -> list[str]:
    """The digits of each long number in ``text``, dates and times left out."""
    return [re.sub(r"\D", "", n) for n in _LONG_NUMBER.findall(_DATE_TIME.sub(" ", text))]
