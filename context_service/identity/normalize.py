"""Pure normalization of identifiers: emails, phones and person names.

Nothing here touches the store; every function is deterministic and safe on any input.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import phonenumbers

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")

GENERIC_LOCAL_PARTS = frozenset(
    [
        "info",
        "support",
        "help",
        "helpdesk",
        "sales",
        "office",
        "admin",
        "administrator",
        "contact",
        "contactus",
        "hello",
        "hi",
        "team",
        "billing",
        "accounts",
        "accounting",
        "finance",
        "invoices",
        "orders",
        "order",
        "shop",
        "store",
        "service",
        "services",
        "customerservice",
        "care",
        "enquiries",
        "enquiry",
        "inquiries",
        "mail",
        "email",
        "webmaster",
        "postmaster",
        "hostmaster",
        "noreply",
        "no-reply",
        "donotreply",
        "do-not-reply",
        "reception",
        "frontdesk",
        "hr",
        "jobs",
        "careers",
        "marketing",
        "press",
        "media",
        "team",
        "general",
        "family",
        "home",
        "household",
        "all",
        "everyone",
    ]
)
PLACEHOLDER_LOCAL_PARTS = frozenset(
    [
        "test",
        "testing",
        "none",
        "null",
        "nil",
        "na",
        "n/a",
        "noemail",
        "no-email",
        "unknown",
        "fake",
        "dummy",
        "asdf",
        "xxx",
        "abc",
    ]
)
PLACEHOLDER_EMAILS = frozenset(
    {
        "test@test.com",
        "email@email.com",
        "a@a.com",
        "none@none.com",
        "no@email.com",
        "noemail@noemail.com",
        "user@domain.com",
        "name@domain.com",
    }
)
_TITLES = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "dr",
        "prof",
        "sir",
        "madam",
        "dame",
        "jr",
        "sr",
        "ii",
        "iii",
        "iv",
        "phd",
        "md",
        "esq",
    ]
)
_NICKNAMES = {
    "bob": "robert",
    "rob": "robert",
    "bobby": "robert",
    "bill": "william",
    "will": "william",
    "liz": "elizabeth",
    "beth": "elizabeth",
    "lizzie": "elizabeth",
    "jim": "james",
    "jimmy": "james",
    "mike": "michael",
    "tom": "thomas",
    "tommy": "thomas",
    "tomas": "thomas",
    "kate": "katherine",
    "katie": "katherine",
    "cathy": "catherine",
    "dan": "daniel",
    "danny": "daniel",
    "dave": "david",
    "joe": "joseph",
    "jose": "joseph",
    "sam": "samuel",
    "alex": "alexander",
    "chris": "christopher",
    "matt": "matthew",
    "nick": "nicholas",
    "tony": "anthony",
    "steve": "steven",
    "stephen": "steven",
    "jen": "jennifer",
    "jenny": "jennifer",
    "peggy": "margaret",
    "maggie": "margaret",
    "meg": "margaret",
    "dick": "richard",
    "rick": "richard",
    "rich": "richard",
    "ted": "edward",
    "ed": "edward",
    "eddie": "edward",
    "andy": "andrew",
    "drew": "andrew",
    "ben": "benjamin",
    "pat": "patrick",
}


def normalize_email(raw: str | None) -> str | None:
    """Lower-cased, trimmed email, or ``None`` when it is not a plausible address."""
    if not raw:
        return None
    email = raw.strip().strip("<>").strip().lower()
    if not _EMAIL.match(email) or ".." in email:
        return None
    return email


def is_merge_email(email: str) -> bool:
    """Whether a normalized email may link two records (not generic, not a placeholder)."""
    local, _, _domain = email.partition("@")
    base = local.split("+", 1)[0]
    if email in PLACEHOLDER_EMAILS or base in PLACEHOLDER_LOCAL_PARTS:
        return False
    return base not in GENERIC_LOCAL_PARTS


@lru_cache(maxsize=65536)
def normalize_phone(raw: str | None, region: str = "US") -> str | None:
    """The phone number in E.164 (``+14155550134``), or ``None`` when it is not a phone number."""
    if not raw or not any(ch.isdigit() for ch in raw):
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def is_merge_phone(e164: str) -> bool:
    """Whether an E.164 phone may link two records (not a placeholder such as 0000000000)."""
    digits = e164.lstrip("+")
    national = digits[-10:]
    if len(set(national)) <= 2:
        return False
    return national not in {"1234567890", "0123456789", "9876543210"}


_NO_DECOMPOSITION = str.maketrans(
    {"\u0131": "i", "ø": "o", "ł": "l", "ß": "ss", "æ": "ae", "đ": "d", "þ": "th", "œ": "oe"}
)


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Casefold and strip accents: ``"Tomás"`` becomes ``"tomas"``, dotless i becomes i."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_NO_DECOMPOSITION))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def name_tokens(first: str | None, last: str | None, full: str | None) -> tuple[str, ...]:
    """Folded name tokens without titles or punctuation, first name first."""
    text = " ".join(part for part in (first, last) if part) or (full or "")
    words = re.split(r"[\s,.'\-]+", fold(text))
    return tuple(word for word in words if word and word not in _TITLES)


def canonical_first(token: str) -> str:
    """Map a nickname to its formal first name (``bob`` to ``robert``)."""
    return _NICKNAMES.get(token, token)


def display_name(first: str | None, last: str | None, full: str | None) -> str | None:
    """A human-readable name from whatever parts a vendor gave."""
    joined = " ".join(part.strip() for part in (first, last) if part and part.strip())
    return joined or (full.strip() if full and full.strip() else None)
