"""What never reaches a stored snapshot, so no rendering, export or audience (``full``
included) can show it:

- payment card and bank account numbers that customers type into free text;
- another person's email address or phone number written in free text (a ticket that names
  a friend's or a neighbour's contact details): only this profile's own contacts stay;
- characters no reader sees anywhere in the snapshot (``invisible``): bidirectional controls,
  which would make a reader see text in another order than it is stored in, tag characters,
  which spell words only a model reads, and zero-width characters.

Only free text is redacted: ticket subjects and last public comments, order and refund notes,
deal names, and the signals and summary that quote them. Identifiers (phones, vendor ids) are
left alone: a long phone number can pass the Luhn check too.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator

import msgspec
import phonenumbers

from context_service.identity.normalize import mailbox_key, normalize_email
from context_service.models import Activity, Deal, Order, Refund, Snapshot, Ticket
from context_service.snapshot import bank_numbers
from context_service.snapshot.bank_numbers import without_named_accounts
from context_service.snapshot.invisible import (
    snapshot_without_invisible,
    snapshot_without_invisible_encoded,
    without_invisible,
)
from context_service.snapshot.secrets import redact_secrets, redact_tokens

# A run of digit groups separated by single spaces or dashes: a card number is a stretch of
# whole groups in it (a customer writes ``4242 4242 4242 4242 12/30`` or ``order 1001 4242 ...``).
_DIGIT_RUN = re.compile(r"(?<![\d])\d+(?:[ -]\d+)*(?![\d])")
_DIGITS = re.compile(r"\d+")
_CARD_DIGITS = range(13, 20)
# Unicode spaces (category Zs) and format characters (Cf: zero-width space, soft hyphen, word
# joiner, bidi controls...), as of Unicode 15 (a test checks them against Python's tables).
_SPACES = "\u0020\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
_FORMATS = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
# What a customer puts between a card's digit groups besides one space or dash (pasted from an
# app, a PDF or a phone): any space, an invisible character, a line break, a dash of any kind,
# ``/`` or ``_``; up to three of them (``" - "``, ``"\r\n"``).
_SEPARATOR_CHARS = (
    f"{_SPACES}{_FORMATS}\t\n\v\f\r\x85\u2028\u2029\\-/_\u2010-\u2015\u2212\ufe63\uff0d\uff0f\uff3f"
)
# A card number written with dots (or fullwidth dots) between its groups as printed: 4-4-4-4
# (to 4-4-4-7) or Amex's 4-6-5. A dot joins no other groups: as a separator of any groups it
# would make a price list one long run to check.
_DOT = "[.\uff0e]"
_DOTTED_CARD = re.compile(
    rf"(?<!\d)(?<!\d[.\uff0e])(?:\d{{4}}{_DOT}\d{{6}}{_DOT}\d{{5}}"
    rf"|\d{{4}}(?:{_DOT}\d{{4}}){{2}}{_DOT}\d{{1,7}})(?!\d|{_DOT}\d)"
)
# A run of digit groups joined by up to three separators of any kind (the wider pass: each
# stretch of groups in it that holds one of the new separators must be laid out as a card is).
_CARD_RUN = re.compile(rf"(?<!\d)\d+(?:[{_SEPARATOR_CHARS}]{{1,3}}\d+)*(?!\d)")
_PLAIN_RUN = re.compile(r"\d+(?:[ -]\d+)*")
# Invisible characters alone between two groups join them as one space or dash does, in any
# layout (``4242\u200b4242`` shows as ``42424242``, one group).
_INVISIBLE_SEPARATOR = re.compile(f"[{_FORMATS}]+")
# A card network's first digit (Mir 2, Amex and Diners 3, Visa 4, Mastercard 2 and 5, Discover,
# UnionPay and Maestro 6): what a number joined by the wider separators must start with.
_CARD_FIRST_DIGITS = frozenset((2, 3, 4, 5, 6))
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
_IBAN_ANY_CASE = re.compile(_IBAN.pattern, re.IGNORECASE)
# An IBAN whose groups are joined by a dash, any other space or an invisible character: it goes
# only when its check digits are right, in capitals too (``AB12-CDEF-GH34`` may be a product
# key).
_IBAN_SEPARATOR = f"[\\-{_SPACES}{_FORMATS}]"
_IBAN_SEPARATED = re.compile(
    rf"\b[A-Z]{{2}}\d{{2}}(?:{_IBAN_SEPARATOR}?[A-Z0-9]{{4}}){{2,7}}"
    rf"(?:{_IBAN_SEPARATOR}?[A-Z0-9]{{1,4}})?\b",
    re.IGNORECASE,
)
_IBAN_SEPARATORS = re.compile(_IBAN_SEPARATOR)
CARD_REMOVED = "[card number removed]"
IBAN_REMOVED = bank_numbers.IBAN_REMOVED  # what an IBAN or a named bank number becomes
# What any payment number holds, a cheap search before the costly ones: a card number's 13
# digits with nothing but separators (``_SEPARATOR_CHARS``) between them; an IBAN starts at a
# word boundary with two letters and two digits (``_IBAN_ANY_CASE``'s own ``[A-Z]`` under
# IGNORECASE, so the same letters). Text without either holds none. (Looking behind from the
# digits is faster than trying every letter.)
_PAYMENT_HINT = re.compile(
    rf"\d(?:[{_SEPARATOR_CHARS}]*\d){{12}}|\d\d(?<=\b[A-Z]{{2}}\d\d)|\d{{4}}{_DOT}\d{{4}}",
    re.IGNORECASE,
)


def redact_payment_numbers(text: str) -> str:
    """Remove card numbers (13-19 digits passing the Luhn check), IBANs and numbers named as a
    bank account or routing number from free text.

    An IBAN in capitals written with single spaces goes whatever its check digits; any other
    only when they are right, so ordinary words that happen to fit the pattern stay.
    """
    if _PAYMENT_HINT.search(text) is None:
        return without_named_accounts(text)
    return redact_every_payment_number(text)


def redact_every_payment_number(text: str) -> str:
    """``redact_payment_numbers`` without its quick check (the tests compare the two).

    Card numbers whose groups are joined by one space or dash go first, as they always have;
    then those joined by any separator (``_CARD_RUN``); then IBANs.
    """
    text = _DIGIT_RUN.sub(_without_cards, text)
    text = _CARD_RUN.sub(_without_wider_cards, text)
    text = _DOTTED_CARD.sub(_dotted_card_or_keep, text)
    text = _IBAN.sub(IBAN_REMOVED, text)
    text = _IBAN_ANY_CASE.sub(_iban_or_keep, text)
    return without_named_accounts(_IBAN_SEPARATED.sub(_iban_or_keep, text))


def _dotted_card_or_keep(match: re.Match[str]) -> str:
    """A dotted card number (``_DOTTED_CARD``) removed when its digits pass the Luhn check."""
    digits = "".join(char for char in match.group() if char.isdigit())
    return CARD_REMOVED if _luhn(digits) else match.group()


def _without_wider_cards(match: re.Match[str]) -> str:
    """``_without_cards`` for a run of ``_CARD_RUN``; one whose groups are all digits joined by
    one space or dash each is what ``_DIGIT_RUN`` matched, or what its pass left of one, and
    holds no card number that pass did not remove."""
    run = match.group()
    if _PLAIN_RUN.fullmatch(run):
        return run
    return _without_cards(match)


def _without_cards(match: re.Match[str]) -> str:
    """A run of digit groups with every card number in it replaced, the rest kept."""
    run = match.group()
    spans = [(g.start(), g.end()) for g in _DIGITS.finditer(run)]
    groups = [run[start:end] for start, end in spans]
    between = [run[spans[i][1] : spans[i + 1][0]] for i in range(len(spans) - 1)]
    plain = [b in (" ", "-") or _INVISIBLE_SEPARATOR.fullmatch(b) is not None for b in between]
    # A number right after ``#`` is a reference (``order #4001/4002``): only a stretch of it
    # joined by one space or dash, as before, may be a card number.
    reference = match.start() > 0 and match.string[match.start() - 1] in "#\uff03\u2116"
    out: list[str] = []
    kept_from, first = 0, 0
    while first < len(groups):
        last = _card_ending(groups, between, plain, first, wide_ok=first > 0 or not reference)
        if last is None:
            first += 1
            continue
        out += [run[kept_from : spans[first][0]], CARD_REMOVED]
        kept_from, first = spans[last][1], last + 1
    return "".join(out) + run[kept_from:]


def _card_ending(
    groups: list[str], between: list[str], plain: list[bool], first: int, wide_ok: bool
) -> int | None:
    """The last group of the longest card number that starts at group ``first``, if any
    (``between``: what separates each group from the next; ``plain``: whether that is one
    space or dash, or invisible characters only).

    Groups joined by one space or dash (or only invisible characters) may hold a card number in
    any layout; groups joined by any other separator (``wide``) only in a card's: from a
    network's first digit, in fours (the last group 1 to 4 digits) or 4-6-5 / 4-6-4 (American
    Express, Diners), so that lists of order numbers, phones and dates on separate lines or
    between slashes stay.
    """
    digits, found, wide = "", None, False
    for last in range(first, len(groups)):
        if not wide and last > first and not plain[last - 1]:
            if not (wide_ok and _may_start_card(groups[first])):
                break  # every longer stretch is joined by a wider separator too
            wide = True
        digits += groups[last]
        if len(digits) > _CARD_DIGITS[-1]:
            break
        if len(digits) not in _CARD_DIGITS or not _luhn(digits):
            continue
        if not wide or _laid_out_as_card(groups[first : last + 1], between[first:last]):
            found = last
    return found


def _may_start_card(group: str) -> bool:
    """Whether a card laid out as ``_laid_out_as_card`` wants may start with this group."""
    return int(group[0]) in _CARD_FIRST_DIGITS and len(group) <= 4


def _laid_out_as_card(groups: list[str], between: list[str]) -> bool:
    """Whether these groups read as a card's: from a network's first digit, laid out as one
    either as written or with the groups joined only by invisible characters read as one
    (``4242\\u200b4242\\u00a04242\\u200b4242`` shows as ``42424242 42424242``)."""
    if int(groups[0][0]) not in _CARD_FIRST_DIGITS:
        return False
    lengths = [len(group) for group in groups]
    if _card_layout(lengths):
        return True
    shown = lengths[:1]
    for length, separator in zip(lengths[1:], between, strict=True):
        if _INVISIBLE_SEPARATOR.fullmatch(separator):
            shown[-1] += length
        else:
            shown.append(length)
    return _card_layout(shown)


def _card_layout(lengths: list[int]) -> bool:
    if lengths in ([4, 6, 5], [4, 6, 4]):
        return True
    return all(length == 4 for length in lengths[:-1]) and 1 <= lengths[-1] <= 4


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _iban_or_keep(match: re.Match[str]) -> str:
    return IBAN_REMOVED if _iban_check_digits_right(match.group()) else match.group()


# The letters beyond ASCII that ``[A-Z]`` matches when case is ignored, as the ASCII letter
# each matches (a test checks every code point): an IBAN written with one is read with that
# letter, so it goes when its check digits are right, as it would in ASCII (``upper`` gives
# ``I`` and ``S`` for the dotless i and long s, but keeps the Kelvin sign and dotted I).
_LOOK_ALIKE_LETTERS = str.maketrans({"\u0130": "I", "\u0131": "I", "\u017f": "S", "\u212a": "K"})


def _iban_check_digits_right(candidate: str) -> bool:
    """ISO 13616: the country and check digits moved to the end, letters as 10-35, mod 97 is 1."""
    compact = _IBAN_SEPARATORS.sub("", candidate).translate(_LOOK_ALIKE_LETTERS).upper()
    rearranged = compact[4:] + compact[:4]
    try:
        digits = "".join(str(int(ch, 36)) for ch in rearranged)
    except ValueError:  # nothing the pattern lets in is left that ``int`` cannot read, but
        return False  # a character it cannot read is no letter of an IBAN: this is none
    return int(digits) % 97 == 1


def redact_free_text(text: str) -> str:
    """Customer-written text without payment numbers or secrets (``secrets.redact_secrets``).

    Tokens go first (a token's digits are no card number), then payment numbers, then the
    labelled secrets (so ``password: 4242 4242 4242 4242`` keeps its label and loses the card).
    """
    return redact_secrets(redact_payment_numbers(redact_tokens(text)))


def _clean(text: str | None) -> str | None:
    return redact_free_text(text) if text else text


def _without_refund_notes_cards(refunds: list[Refund]) -> list[Refund]:
    return [msgspec.structs.replace(r, note=_clean(r.note)) for r in refunds]


def without_payment_numbers(snap: Snapshot) -> Snapshot:
    """The snapshot with payment numbers and secrets (``redact_free_text``) removed from its
    free text (the same object when it holds none)."""
    if all(_clean(text) == text for text in _free_texts(snap)):
        return snap  # what the copy below would equal: nothing to remove (the common case)
    replace = msgspec.structs.replace
    support = replace(
        snap.support,
        tickets=[
            replace(t, title=_clean(t.title), last_public_comment=_clean(t.last_public_comment))
            for t in snap.support.tickets
        ],
    )
    commerce = replace(
        snap.commerce,
        orders=[
            replace(o, note=_clean(o.note), refunds=_without_refund_notes_cards(o.refunds))
            for o in snap.commerce.orders
        ],
    )
    crm = replace(snap.crm, deals=[replace(d, title=_clean(d.title)) for d in snap.crm.deals])
    signals = [replace(s, message=redact_free_text(s.message)) for s in snap.signals]
    cleaned = replace(
        snap,
        support=support,
        commerce=commerce,
        crm=crm,
        signals=signals,
        summary=redact_free_text(snap.summary),
    )
    return snap if cleaned == snap else cleaned


def _free_texts(snap: Snapshot) -> Iterator[str | None]:
    """Every free text ``without_payment_numbers`` cleans: the copy it makes differs from the
    snapshot exactly when cleaning one of them changes it."""
    for ticket in snap.support.tickets:
        yield ticket.title
        yield ticket.last_public_comment
    for order in snap.commerce.orders:
        yield order.note
        yield from (refund.note for refund in order.refunds)
    yield from (deal.title for deal in snap.crm.deals)
    yield from (signal.message for signal in snap.signals)
    yield snap.summary


# --------------------------------------------------------------------------------------------
# Invisible characters (``invisible``): bidirectional controls, tag characters, zero-width ones.
# --------------------------------------------------------------------------------------------


def without_bidi_controls(snap: Snapshot) -> Snapshot:
    """The snapshot with every invisible character (``invisible.without_invisible``: the
    bidirectional controls and marks, tag characters, zero-width characters) removed from every
    string in it (the same object when it holds none)."""
    return snapshot_without_invisible(snap)


def without_bidi_controls_encoded(snap: Snapshot) -> tuple[Snapshot, bytes]:
    """``without_bidi_controls(snap)`` and its JSON encoding: the snapshot is encoded to look
    for the characters, and when it holds none that encoding is the one to store."""
    return snapshot_without_invisible_encoded(snap)


# --------------------------------------------------------------------------------------------
# Other people's contact details in free text.
# --------------------------------------------------------------------------------------------

EMAIL_REMOVED = "[email removed]"
PHONE_REMOVED = "[phone removed]"
# An email address in free text, found from each ``@`` (``emails_in``): a pattern tried at
# every character reads a long run of address characters again from each of them when no
# address follows (30 KB of digits in a ticket subject took 5 s, 100 KB a minute).
_LOCAL_CHAR = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]")
_DOMAIN = re.compile(r"@[\w-]++(?:\.[\w-]++)+")
# Free text past this many characters is cut before it is redacted: a snapshot keeps at most
# 1,000 of a field (``assemble.TEXT_MAX_CHARS``), and a spreadsheet cell may hold 16 MiB.
REDACTION_WINDOW = 8_000
# Seven digits close together: the least a phone number has (a cheap test before parsing).
_PHONE_HINT = re.compile(r"\d(?:[^\S\n]{0,2}[().+-]{0,2}[^\S\n]{0,2}\d){6}")
# A number written right after ``#`` is a reference (``order #2025551234``, ``PO#...``).
_REFERENCE_MARK = re.compile(r"#[^\S\n]*$")
_E164 = phonenumbers.PhoneNumberFormat.E164
_VALID = phonenumbers.Leniency.VALID
_POSSIBLE = phonenumbers.Leniency.POSSIBLE


class OwnContacts(msgspec.Struct, frozen=True):
    """A profile's own contacts: its mailboxes (``mailbox_key``) and phones (E.164), and the
    region that reads a phone number written without its country code."""

    mailboxes: frozenset[str]
    phones: frozenset[str]
    region: str

    @classmethod
    def of(cls, emails: Iterable[str], phones: Iterable[str], region: str) -> OwnContacts:
        """The own contacts of a profile with these normalized emails (``normalize_email``)
        and E.164 phones, as ``IdentitySection`` holds them."""
        return cls(frozenset(map(mailbox_key, emails)), frozenset(phones), region)


# An address in an error message: its local part neither starts nor ends with a quote and
# holds no ``=``, ``/``, ``{``, ``|`` or ``}`` (valid, but in a message they join it to the
# text before it: ``email=maya@...``, ``'maya@...'``, a URL's path), and ``%40`` is its ``@``
# in a URL's query.
_EMAIL_IN_ERROR = re.compile(
    r"[\w.!#$%&*+?^`~-]+(?:'[\w.!#$%&*+?^`~-]+)*(?:@|%40)[\w-]+(?:\.[\w-]+)+"
)


def redact_emails(text: str) -> str:
    """``text`` with every email address replaced (an error message about a record, say),
    and nothing else."""
    return _EMAIL_IN_ERROR.sub(EMAIL_REMOVED, text) if "@" in text or "%40" in text else text


def emails_in(text: str) -> Iterator[tuple[int, int]]:
    """Where each email address in ``text`` is (start, end), as the pattern
    ``[\\w.!#$%&'*+/=?^`{|}~-]+@[\\w-]+(?:\\.[\\w-]+)+`` finds them scanning left to right,
    found in one pass: from each ``@``, back over the address characters before it (not into
    the address found before) and forward over a domain."""
    done = 0
    at = text.find("@")
    while at != -1:
        start = at
        while start > done and _LOCAL_CHAR.match(text, start - 1):
            start -= 1
        domain = _DOMAIN.match(text, at) if start < at else None
        if domain is not None:
            yield start, domain.end()
            done = domain.end()
        at = text.find("@", max(at + 1, done))


def replace_emails(text: str, replacement: Callable[[str], str]) -> str:
    """``text`` with each email address (``emails_in``) replaced by ``replacement(address)``."""
    out: list[str] = []
    kept_from = 0
    for start, end in emails_in(text):
        out += [text[kept_from:start], replacement(text[start:end])]
        kept_from = end
    return "".join(out) + text[kept_from:] if out else text


def redact_other_contacts(text: str, own: OwnContacts) -> str:
    """``text`` with every email address and phone number that is not ``own`` replaced."""
    if "@" in text:
        text = replace_emails(text, lambda found: _email_or_removed(found, own))
    return redact_other_phones(text, own)


def redact_other_phones(text: str, own: OwnContacts) -> str:
    """``text`` with every phone number that is not ``own`` (nor a ``#`` reference) replaced;
    a number written without its country code is read in ``own.region``."""
    return _without_other_phones(text, own) if _PHONE_HINT.search(text) else text


def _email_or_removed(email: str, own: OwnContacts) -> str:
    normalized = normalize_email(email)
    return email if normalized and mailbox_key(normalized) in own.mailboxes else EMAIL_REMOVED


def _without_other_phones(text: str, own: OwnContacts) -> str:
    """``text`` with each phone number that is neither ``own`` nor a ``#`` reference removed.

    A number valid in the region's reading goes; so does one written with ``+`` and a country
    code that has a phone's length there, valid or not in the parser's metadata (a new range,
    a number from a range set aside for fiction): the ``+`` says it is a phone, whatever the
    region the text is read in.
    """
    text = _without_phones_matched(text, own, _VALID, _any_match)
    if "+" not in text:
        return text
    return _without_phones_matched(text, own, _POSSIBLE, _written_with_plus)


# The fewest digits a phone number has after its country code (the shortest plans have 6 or 7):
# ``+49.00`` is an amount, not Germany's number ``0``.
_FEWEST_NATIONAL_DIGITS = 6


def _written_with_plus(match: phonenumbers.PhoneNumberMatch) -> bool:
    national = phonenumbers.national_significant_number(match.number)
    return match.raw_string.lstrip("(").startswith("+") and len(national) >= _FEWEST_NATIONAL_DIGITS


def _any_match(match: phonenumbers.PhoneNumberMatch) -> bool:
    return True


def _without_phones_matched(
    text: str,
    own: OwnContacts,
    leniency: int,
    wanted: Callable[[phonenumbers.PhoneNumberMatch], bool],
) -> str:
    out: list[str] = []
    kept_from = 0
    for match in phonenumbers.PhoneNumberMatcher(text, own.region, leniency=leniency):
        if not wanted(match):
            continue
        if phonenumbers.format_number(match.number, _E164) in own.phones:
            continue
        if _REFERENCE_MARK.search(text, max(kept_from, match.start - 8), match.start):
            continue
        out += [text[kept_from : match.start], PHONE_REMOVED]
        kept_from = match.end
    return "".join(out) + text[kept_from:]


def without_other_contacts(act: Activity, own: OwnContacts) -> Activity:
    """The activity with other people's emails and phones removed from its free text."""
    if isinstance(act, Order) and not (act.note or act.refunds):
        return act  # no free text: the copy made below would equal it (most orders)
    return with_free_text(act, _redactor(own))


def with_free_text(act: Activity, clean: Callable[[str | None], str | None]) -> Activity:
    """The activity with ``clean`` applied to each of its customer-written fields: a ticket's
    title and last public comment, an order's note and its refunds' notes, a deal's title."""
    replace = msgspec.structs.replace
    if isinstance(act, Ticket):
        return replace(
            act, title=clean(act.title), last_public_comment=clean(act.last_public_comment)
        )
    if isinstance(act, Order):
        refunds = [replace(r, note=clean(r.note)) for r in act.refunds]
        return replace(act, note=clean(act.note), refunds=refunds)
    if isinstance(act, Deal):
        return replace(act, title=clean(act.title))
    return act


def rewrite_contacts(
    text: str,
    own: OwnContacts,
    email: Callable[[str, bool], str],
    phone: Callable[[str, str], str],
) -> str:
    """``text`` with each email address replaced by ``email(written, is_own)``, and each of
    ``own``'s phones, however written, by ``phone(written, e164)``.

    An audience uses it to show the profile's own contacts in free text as it shows the contact
    fields (``audience.contacts``). Phones are read in the regions of ``own``'s phones (a
    snapshot does not record the deployment's region), leniently: whatever is read as one of
    ``own``'s numbers is one, valid in the parser's metadata or not.
    """
    if "@" in text:
        text = replace_emails(text, lambda found: email(found, _is_own_email(found, own)))
    if own.phones and _PHONE_HINT.search(text):
        for region in _regions_written_in(text, own):
            text = _rewrite_own_phones(text, own, region, phone)
    return text


def _is_own_email(written: str, own: OwnContacts) -> bool:
    normalized = normalize_email(written)
    return normalized is not None and mailbox_key(normalized) in own.mailboxes


def _regions_written_in(text: str, own: OwnContacts) -> list[str]:
    """The regions to read ``text`` in: those of ``own``'s phones whose digits it holds.

    However a number is written (spaces, dots, brackets, a trunk ``0``), its national digits
    follow each other once the other characters are dropped: a text without them holds no way
    of writing it, and is not parsed (the parser is the costly part).
    """
    digits = "".join(_DIGITS.findall(text))
    return sorted(
        {region for national, region in _national_numbers(own.phones) if national in digits}
    )


@functools.lru_cache(maxsize=256)
def _national_numbers(phones: frozenset[str]) -> tuple[tuple[str, str], ...]:
    """Each phone's national digits and region (``+14155550134``: ``4155550134``, ``US``)."""
    found = []
    for e164 in sorted(phones):
        try:
            number = phonenumbers.parse(e164.split(";", 1)[0], None)
        except phonenumbers.NumberParseException:
            continue
        region = phonenumbers.region_code_for_number(number)
        national = phonenumbers.national_significant_number(number)
        if region and national:
            found.append((national, region))
    return tuple(found)


def _rewrite_own_phones(
    text: str, own: OwnContacts, region: str, phone: Callable[[str, str], str]
) -> str:
    bare = {p.split(";", 1)[0] for p in own.phones}
    out: list[str] = []
    kept_from = 0
    for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=_POSSIBLE):
        e164 = phonenumbers.format_number(match.number, _E164)
        if e164 in bare:
            out += [text[kept_from : match.start], phone(match.raw_string, e164)]
            kept_from = match.end
    return "".join(out) + text[kept_from:]


def _redactor(own: OwnContacts) -> Callable[[str | None], str | None]:
    """Invisible characters go first (``invisible``), so that what is redacted is the text as
    it is shown (card groups joined by more zero-width spaces than a separator may hold are one
    number, an address split by one is an address); then payment numbers: no part of a card
    number can then be read as a phone."""

    def clean(text: str | None) -> str | None:
        if not text:
            return text
        shown = without_invisible(text[:REDACTION_WINDOW])
        return redact_other_contacts(redact_payment_numbers(shown), own)

    return clean
