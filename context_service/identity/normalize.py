"""Pure normalization of identifiers: emails, phones and person names.

Nothing here touches the store; every function is deterministic and safe on any input.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Final, Generic, TypeVar

import phonenumbers

_V = TypeVar("_V")


class _Miss(enum.Enum):
    MISS = 0


MISS: Final = _Miss.MISS  # what ``Memo.get`` answers for a string it does not hold


class Memo(Generic[_V]):
    """A bounded memo of a pure function of one string, for values that are strings, booleans
    or ``None``.

    Why not ``functools.lru_cache``: the cycle collector walks every entry of every lru cache
    on each full collection (its keys and values), and an import makes a full collection every
    few thousand rows. A plain dict holding only strings, booleans and ``None`` is never
    tracked by the collector, so a memo of per-record values (an email, a phone) costs nothing
    there. It is emptied when full (``size`` entries); a value is recomputed after that, so
    every answer is the function's own.
    """

    __slots__ = ("_size", "_values")

    def __init__(self, size: int = 65536) -> None:
        self._size = size
        self._values: dict[str, _V] = {}

    def get(self, key: str) -> _V | _Miss:
        """The remembered value, or ``MISS``."""
        return self._values.get(key, MISS)

    def put(self, key: str, value: _V) -> _V:
        """Remember ``value`` for ``key``; return it."""
        if len(self._values) >= self._size:
            self._values.clear()
        self._values[key] = value
        return value


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
        "nomail",
        "notprovided",
        "notgiven",
        "noaddress",
        "declined",
        "donotemail",
    ]
)
# Domains nobody receives a customer's mail at, typed to get past a required field.
PLACEHOLDER_DOMAINS = frozenset({"test.com", "none.com", "noemail.com", "nomail.com"})
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
# Common English nicknames and the formal first names they stand for. A nickname that stands for
# several names (``sam``: Samuel or Samantha) lists them all; it then matches any of them but is
# its own blocking key.
_NICKNAME_TEXT = """
bob rob robbie bobby bert:robert;
bill will willy billy liam:william;
liz beth lizzie betty eliza betsy libby:elizabeth;
jim jimmy jamie:james;
mike mikey mick:michael;
tom tommy tomas:thomas;
kate katie kathy kat:katherine catherine kathryn;
cathy cat:catherine;
dan danny:daniel;
dave davy:david;
joe joey jose:joseph;
sam sammy:samuel samantha;
alex al lex:alexander alexandra;
chris kris:christopher christine christina;
matt matty:matthew;
nick nicky:nicholas;
tony:anthony;
steve stevie stephen:steven;
jen jenny jenn:jennifer;
peggy maggie meg:margaret;
dick rick rich ricky richie:richard;
ted ed eddie:edward;
andy drew:andrew;
ben benny:benjamin;
pat patty:patrick patricia;
trish tricia:patricia;
ken kenny:kenneth;
tim timmy:timothy;
deb debbie debby:deborah;
greg:gregory;
sue susie suzy:susan;
jon johnny jack:john;
chuck charlie:charles;
hank harry:henry;
larry:lawrence;
jerry:gerald jerome;
terry:terence teresa;
tina:christina;
chrissy:christine christina;
sandy:sandra;
becky:rebecca;
abby:abigail;
mandy:amanda;
vicky vicki tori:victoria;
jess jessie:jessica;
nate:nathan nathaniel;
fred freddie:frederick;
ron ronnie:ronald;
don donnie:donald;
phil:philip phillip;
ray:raymond;
russ:russell;
walt:walter;
gabe:gabriel;
zach zack:zachary;
josh:joshua;
jake:jacob;
ally allie:alison allison;
nat:natalie natasha;
val:valerie;
gina:georgina;
manny:manuel;
pete:peter;
tommaso:thomas;
bea:beatrice;
ellie:eleanor ellen;
frank:francis franklin;
fran:frances francis;
gerry:gerald;
izzy:isabel isabella;
jojo:joanna;
lou:louis louise;
max:maxwell maximilian
"""


def _nicknames(text: str) -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    for entry in text.split(";"):
        nicks, _, formal = entry.partition(":")
        for nick in nicks.split():
            table[nick] = tuple(formal.split())
    return table


_NICKNAMES = _nicknames(_NICKNAME_TEXT)
# Every name the nickname table knows, nicknames and formal names alike.
NICKNAME_TABLE_NAMES = frozenset(
    name for nick, formals in _NICKNAMES.items() for name in (nick, *formals)
)


# Misspellings of the big mailbox providers' domains (a letter dropped or swapped, ``.con``, the
# ``.com`` cut short to ``.co``), seen often enough in checkout forms that correcting them
# cannot hurt: nobody else receives mail at these.
DOMAIN_TYPOS = {
    "gmial.com": "gmail.com",
    "gmai.com": "gmail.com",
    "gmal.com": "gmail.com",
    "gamil.com": "gmail.com",
    "gnail.com": "gmail.com",
    "gmail.co": "gmail.com",
    "gmail.con": "gmail.com",
    "gmail.cm": "gmail.com",
    "gmaill.com": "gmail.com",
    "googlemail.com": "gmail.com",
    "hotmial.com": "hotmail.com",
    "hotmai.com": "hotmail.com",
    "hotmail.con": "hotmail.com",
    "hotmal.com": "hotmail.com",
    "hotmail.co": "hotmail.com",
    "yahooo.com": "yahoo.com",
    "yaho.com": "yahoo.com",
    "yhaoo.com": "yahoo.com",
    "yahoo.con": "yahoo.com",
    "yahoo.co": "yahoo.com",
    "outlok.com": "outlook.com",
    "outlook.con": "outlook.com",
    "outlook.co": "outlook.com",
    "iclod.com": "icloud.com",
    "icloud.con": "icloud.com",
    "icloud.co": "icloud.com",
}
# Providers that document that dots in the local part are ignored and ``+tag`` suffixes are
# delivered to the same mailbox (Gmail); elsewhere only the ``+tag`` rule is safe to skip.
_DOTLESS_DOMAINS = frozenset({"gmail.com"})


_NORMALIZED_EMAILS: Memo[str | None] = Memo()  # by the email as written


def normalize_email(raw: str | None) -> str | None:
    """Lower-cased, trimmed email with known domain typos fixed, or ``None`` if implausible.

    ``Maya.Patel@GMIAL.com`` becomes ``maya.patel@gmail.com``. Provider aliasing (dots, ``+tag``)
    is not applied here: the address stays what the customer typed; ``mailbox_key`` gives the
    mailbox it reaches.
    """
    if not raw:
        return None
    found = _NORMALIZED_EMAILS.get(raw)
    if found is not MISS:
        return found
    return _NORMALIZED_EMAILS.put(raw, _normalize_email(raw))


def _normalize_email(raw: str) -> str | None:
    email = unicodedata.normalize("NFC", raw.strip().strip("<>").strip().lower())
    if not _EMAIL.match(email) or ".." in email:
        return None
    local, _, domain = email.rpartition("@")
    domain = _unicode_domain(domain)
    return f"{local}@{DOMAIN_TYPOS.get(domain, domain)}"


def _unicode_domain(domain: str) -> str:
    """An internationalized domain in one form: its ``xn--`` (ASCII) labels read back as the
    Unicode a customer types (``xn--mnchen-3ya.de`` is ``münchen.de``); a label that is not
    valid punycode stays as written."""
    if "xn--" not in domain:
        return domain
    return ".".join(_unicode_label(label) for label in domain.split("."))


def _unicode_label(label: str) -> str:
    if not label.startswith("xn--"):
        return label
    try:
        decoded = label[4:].encode("ascii").decode("punycode")
    except (UnicodeError, ValueError):
        return label
    # A valid ACE label holds some non-ASCII letter and encodes back to itself.
    if decoded.isascii() or decoded.encode("punycode").decode("ascii") != label[4:]:
        return label
    return unicodedata.normalize("NFC", decoded).lower()


def mailbox_key(email: str) -> str:
    """The mailbox a normalized email reaches: ``+tag`` dropped, and Gmail's dots dropped.

    ``m.a.y.a+shop@gmail.com`` and ``maya@gmail.com`` reach the same Gmail mailbox (Google
    documents both rules); for other providers only the ``+tag`` suffix is dropped.
    """
    local, _, domain = email.rpartition("@")
    local = local.split("+", 1)[0] or local
    if domain in _DOTLESS_DOMAINS:
        local = local.replace(".", "")
    return f"{local}@{domain}"


_HOUSEHOLD_WORDS = ("family", "household")


def is_family_mailbox(email: str) -> bool:
    """Whether a mailbox is named for a household rather than a person: ``thesmiths12@``,
    ``the.garcias@``, ``desai.family@``, ``smithhousehold@``."""
    letters = "".join(ch for ch in email.partition("@")[0] if ch.isalpha())
    if any(word in letters for word in _HOUSEHOLD_WORDS):
        return True
    return letters.startswith("the") and letters.endswith("s") and len(letters) >= 7


_PUNCTUATION = re.compile(r"[^\w]|_")


def _plain(local: str) -> str:
    """A local part without its ``+tag`` and punctuation: ``no_reply``, ``no.reply`` and
    ``no-reply`` are one role's name. Initials stay apart: ``n.a`` and ``h.r`` are a
    person's (Nina Alvarez), not ``na`` or ``hr``, so a part with a one-letter piece between
    its punctuation is kept as written."""
    base = local.split("+", 1)[0]
    if base.isalnum():  # no punctuation to split at (``\w`` is alphanumeric or ``_``)
        return base
    pieces = [piece for piece in _PUNCTUATION.split(base) if piece]
    if len(pieces) > 1 and any(len(piece) == 1 for piece in pieces):
        return base
    return "".join(pieces)


_GENERIC_PLAIN = frozenset(_plain(local) for local in GENERIC_LOCAL_PARTS)
_PLACEHOLDER_PLAIN = frozenset(_plain(local) for local in PLACEHOLDER_LOCAL_PARTS)


# Remembered: a pure function of one string, asked twice per email a record is indexed with
# (for its features and for its identifiers).
_MERGE_EMAILS: Memo[bool] = Memo()


def is_merge_email(email: str) -> bool:
    """Whether a normalized email may link two records (not generic, not a placeholder).

    A role's mailbox is generic however it is punctuated (``customer.service@``,
    ``no_reply@``)."""
    found = _MERGE_EMAILS.get(email)
    if found is not MISS:
        return found
    return _MERGE_EMAILS.put(email, _is_merge_email(email))


def _is_merge_email(email: str) -> bool:
    local, _, domain = email.partition("@")
    plain = _plain(local)  # once for both tests: ``is_placeholder_email`` reads the same
    if _is_placeholder(email, domain, plain):
        return False
    return plain not in _GENERIC_PLAIN


def is_placeholder_email(email: str) -> bool:
    """Whether a normalized email is a placeholder (``test@test.com``, ``none@example.com``,
    ``no_email@shop.example``, anything at ``test.com``): typed where no address was known, it
    names no one (unlike ``info@``, one firm's)."""
    local, _, domain = email.partition("@")
    return _is_placeholder(email, domain, _plain(local))


def _is_placeholder(email: str, domain: str, plain: str) -> bool:
    """``is_placeholder_email`` given the email's domain and its local part's ``_plain`` form."""
    return (
        email in PLACEHOLDER_EMAILS or domain in PLACEHOLDER_DOMAINS or plain in _PLACEHOLDER_PLAIN
    )


# Toll-free and shared-cost business numbers (E.164 prefixes): a company's switchboard, which
# its staff and its customers give as "their" number. North America's 8xx codes, then the
# freephone ranges of the countries customers most often come from.
_TOLL_FREE = (
    "+1800", "+1833", "+1844", "+1855", "+1866", "+1877", "+1888",
    "+44800", "+44808", "+611800", "+611300", "+49800", "+39800", "+34800", "+34900",
    "+33800", "+33801", "+33802", "+33803", "+33804", "+33805",
    "+31800", "+3531800", "+64800", "+81120", "+81800", "+911800", "+550800", "+52800",
)  # fmt: skip
_NANP = re.compile(r"\+1[2-9]\d{2}[2-9]\d{6}")
_NANP_REGIONS = frozenset({"US", "CA", "PR", "VI", "GU", "AS", "MP"})
_NANP_PUNCTUATION = frozenset(" ()-.+/\t")
# In ASCII text ``str.isdigit`` is true of 0-9 and nothing else, so for ASCII numbers these
# answer what the loops over ``isdigit`` and ``_NANP_PUNCTUATION`` would.
_NANP_ASCII = re.compile(r"[0-9 ()\-.+/\t]*")
_ASCII_DIGIT = re.compile(r"[0-9]")
_ASCII_NON_DIGITS = str.maketrans(
    "", "", "".join(chr(i) for i in range(128) if not chr(i).isdigit())
)


def _nanp_national(raw: str) -> str | None:
    """``(415) 555-0134`` or ``1-415-555-0134`` read in a North American region, without the
    parser: 10 digits (or 11 starting with 1) with a valid area code and exchange. Anything
    else (letters, extensions, other lengths) is left to ``phonenumbers``."""
    if raw.isascii():  # nearly every number: the same tests, without a loop per character
        if not _NANP_ASCII.fullmatch(raw):
            return None
        digits = raw.translate(_ASCII_NON_DIGITS)
    else:
        if any(not ch.isdigit() and ch not in _NANP_PUNCTUATION for ch in raw):
            return None
        digits = "".join(ch for ch in raw if ch.isdigit())
    if raw.lstrip().startswith("+") and not digits.startswith("1"):
        return None
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    candidate = "+1" + digits
    return candidate if len(digits) == 10 and _NANP.fullmatch(candidate) else None


EXTENSION = ";ext="  # between a number and its extension: ``+14155550100;ext=12``


# Remembered by region, then by the number as written: a record's phones are read twice (its
# features and its identifiers), and a parse costs tens of microseconds.
_NORMALIZED_PHONES: dict[str, Memo[str | None]] = {}


def normalize_phone(raw: str | None, region: str = "US") -> str | None:
    """The phone number in E.164 (``+14155550134``), or ``None`` when it is not a phone number.

    An extension stays, after ``;ext=`` (``+14155550100;ext=12``): such a number is a
    switchboard's, so it is no merge key (``is_merge_phone``), and a lookup with another
    extension, or none, does not find it."""
    if not raw:
        return None
    memo = _NORMALIZED_PHONES.get(region)
    if memo is None:
        memo = _NORMALIZED_PHONES.setdefault(region, Memo())
    found = memo.get(raw)
    if found is not MISS:
        return found
    return memo.put(raw, _normalize_phone(raw, region))


def _normalize_phone(raw: str, region: str) -> str | None:
    if not (_ASCII_DIGIT.search(raw) if raw.isascii() else any(ch.isdigit() for ch in raw)):
        return None
    if _NANP.fullmatch(raw):  # already a valid North American E.164 number: skip the parser
        return raw
    nanp = _nanp_national(raw) if region in _NANP_REGIONS else None
    if nanp:
        return nanp
    parsed = _parse_phone(raw, region)
    if parsed is None and raw.lstrip().startswith("00"):
        # ``0044 20 7946 0958``: most of the world dials abroad with 00, which the region's own
        # rules do not know where it dials abroad otherwise (011 in North America).
        parsed = _parse_phone("+" + raw.lstrip()[2:], region)
    return parsed


_POSSIBLE = phonenumbers.ValidationResult.IS_POSSIBLE


def _parse_phone(raw: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    # A number dialable only inside its own area (``555-0134`` without the area code) is no
    # E.164 number: one written in another area code would read the same, so it is no phone.
    # Validity is not asked for: the metadata lags new ranges, and the fictional ones the demo
    # uses (Ofcom's ``07700 900xxx``) are not valid.
    if phonenumbers.is_possible_number_with_reason(number) != _POSSIBLE:
        return None
    e164 = str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    # An extension is kept (RFC 3966 writes it so): the number before it is a switchboard that
    # every extension shares, so it names no one.
    return f"{e164}{EXTENSION}{number.extension}" if number.extension else e164


def normalize_birth_date(raw: str | None) -> str:
    """A date of birth as ``YYYY-MM-DD``, or ``""`` when there is none or it is not a date:
    ISO dates with or without a time (``1984-03-09T00:00:00Z``) and HubSpot's midnight epoch
    milliseconds (``447638400000``)."""
    text = (raw or "").strip()
    if not text:  # most records: what the parse below would answer, without its exception
        return ""
    if text.isdigit() and len(text) >= 9:
        try:
            return datetime.fromtimestamp(int(text) / 1000, UTC).date().isoformat()
        except (OverflowError, OSError, ValueError):
            return ""
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        return ""


def births_conflict(a: str, b: str) -> bool:
    """Whether two normalized dates of birth cannot be one person's: both known and different,
    unless day and month are swapped (``1984-03-09`` and ``1984-09-03``: a US date read as a
    European one)."""
    if not a or not b or a == b:
        return False
    return not (a[:4] == b[:4] and a[5:7] == b[8:10] and a[8:10] == b[5:7])


OWN_NUMBER_DIGITS = 5  # a run of this many digits in a mailbox is rare enough to be its owner's


def is_own_number(digits: str) -> bool:
    """Whether the digits of a mailbox are a number its owner chose (``48635`` in
    ``kulkarni.agnieszka48635@``): five or more, not a placeholder run (``11111``, ``12345``).
    Blocking keys a mailbox on such a number alone, and comparison treats two mailboxes that
    share it as one person's handle."""
    return len(digits) >= OWN_NUMBER_DIGITS and len(set(digits)) > 2 and digits not in "01234567890"


# Remembered: a pure function of one string, asked twice per phone a record is indexed with.
_MERGE_PHONES: Memo[bool] = Memo()


def is_merge_phone(e164: str) -> bool:
    """Whether an E.164 phone may link two records: not a placeholder such as 0000000000, nor
    an extension of a switchboard (``+14155550100;ext=12``), which colleagues share, nor a
    ``+1`` number no North American number can be (``+10412345678``): a national number of
    another country (an Australian ``0412 345 678``, a Swiss ``041 234 56 78``) read in a North
    American region, which numbers of several countries read as; nor a toll-free or shared-cost
    business number (``+1 800``, ``+44 800``), a company's line by definition."""
    found = _MERGE_PHONES.get(e164)
    if found is not MISS:
        return found
    return _MERGE_PHONES.put(e164, _is_merge_phone(e164))


def _is_merge_phone(e164: str) -> bool:
    if EXTENSION in e164 or is_placeholder_phone(e164) or e164.startswith(_TOLL_FREE):
        return False
    return not e164.startswith("+1") or _NANP.fullmatch(e164) is not None


def is_placeholder_phone(e164: str) -> bool:
    """Whether an E.164 phone is a placeholder (``0000000000``, ``1234567890``): typed where no
    number was known, it names no one."""
    national = e164.partition(EXTENSION)[0].lstrip("+")[-10:]
    return len(set(national)) <= 2 or national in {"1234567890", "0123456789", "9876543210"}


_NO_DECOMPOSITION = str.maketrans(
    {"\u0131": "i", "ø": "o", "ł": "l", "ß": "ss", "æ": "ae", "đ": "d", "þ": "th", "œ": "oe"}
)


_FOLDED: Memo[str] = Memo()  # non-ASCII text only: ASCII is folded faster than looked up


def fold(text: str) -> str:
    """Casefold and strip accents: ``"Tomás"`` becomes ``"tomas"``, dotless i becomes i."""
    if text.isascii():  # nothing to decompose or strip (most values): much cheaper
        return text.lower()
    found = _FOLDED.get(text)
    if found is not MISS:
        return found
    return _FOLDED.put(text, _fold_unicode(text))


def _fold_unicode(text: str) -> str:
    # Case-folded and translated after the decomposition: a compatibility character may
    # decompose into one of them (the modifier ligatures U+A7F9 into "œ", U+1D2D into "Æ"),
    # and folding must be idempotent (every code point is, checked by a test).
    decomposed = (
        unicodedata.normalize("NFKD", text.casefold()).casefold().translate(_NO_DECOMPOSITION)
    )
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


_NAME_BREAKS = re.compile(r"[\s,.'\-]+")


def _name_words(first: str | None, last: str | None, full: str | None) -> list[str]:
    text = " ".join(part for part in (first, last) if part) or (full or "")
    return [word for word in _NAME_BREAKS.split(fold(text)) if word]


def name_tokens(first: str | None, last: str | None, full: str | None) -> tuple[str, ...]:
    """Folded name tokens without titles, generational suffixes or punctuation, first name
    first."""
    return _tokens(_name_words(first, last, full))


def name_tokens_and_suffix(
    first: str | None, last: str | None, full: str | None
) -> tuple[tuple[str, ...], str]:
    """``name_tokens`` and ``generational_suffix`` of one name, its words read once."""
    words = _name_words(first, last, full)
    return _tokens(words), _suffix(words)


def _tokens(words: list[str]) -> tuple[str, ...]:
    if len(words) > 2 and words[-1] in _SPELLED_GENERATIONS:  # John Smith Junior
        words = words[:-1]
    return tuple(word for word in words if word not in _TITLES)


# Generational suffixes, as written after a name (``John Smith Jr.``, ``John Smith III``).
_GENERATIONS = {"jr": "jr", "sr": "sr", "ii": "ii", "iii": "iii", "iv": "iv"}
_SPELLED_GENERATIONS = {"junior": "jr", "senior": "sr"}  # only as the last of three words or more


def generational_suffix(first: str | None, last: str | None, full: str | None) -> str:
    """The generational suffix a name carries (``jr``, ``sr``, ``ii``, ``iii``, ``iv``), or
    ``""``: ``John Smith Sr.`` and ``John Smith Jr.`` are a father and his son, so two records
    whose suffixes differ are two people. A suffix is read after the first word only
    (``Junior`` alone or first is a name)."""
    return _suffix(_name_words(first, last, full))


def _suffix(words: list[str]) -> str:
    found = ""
    for word in words[1:]:
        found = _GENERATIONS.get(word, found)
    if len(words) > 2 and words[-1] in _SPELLED_GENERATIONS:
        found = _SPELLED_GENERATIONS[words[-1]]
    return found


def canonical_first(token: str) -> str:
    """Map a nickname to its formal first name (``bob`` to ``robert``); an ambiguous nickname
    (``sam``) stays itself."""
    formal = _NICKNAMES.get(token)
    return formal[0] if formal and len(formal) == 1 else token


def first_name_forms(token: str) -> frozenset[str]:
    """The token and every formal name it may stand for (``sam``: sam, samuel, samantha)."""
    return frozenset((token, *_NICKNAMES.get(token, ())))


def _nicknames_of_formal(table: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    for nick, formals in table.items():
        for formal in formals:
            found.setdefault(formal, []).append(nick)
    return {formal: tuple(sorted(nicks)) for formal, nicks in found.items()}


_BY_FORMAL = _nicknames_of_formal(_NICKNAMES)


@lru_cache(maxsize=65536)
def first_name_variants(token: str) -> frozenset[str]:
    """Every way one person may write this first name: the token, the formal names it stands
    for and their other nicknames (``bob``: bob, robert, rob, bobby...; ``robert`` the same).

    Used to recognise a typo in a nickname (``jimmmy`` for James), never for blocking.
    """
    formals = (token, *_NICKNAMES.get(token, ()))
    return frozenset(formals).union(*(_BY_FORMAL.get(formal, ()) for formal in formals))


def display_name(first: str | None, last: str | None, full: str | None) -> str | None:
    """A human-readable name from whatever parts a vendor gave."""
    joined = " ".join(part.strip() for part in (first, last) if part and part.strip())
    return joined or (full.strip() if full and full.strip() else None)
