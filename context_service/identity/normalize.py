"""Pure normalization of identifiers: emails, phones and person names.

Person names are normalized in ``identity.names`` and the string memos live in
``identity.memo``; both are re-exported here.

Nothing here touches the store; every function is deterministic and safe on any input.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime

import phonenumbers

from context_service.identity.memo import MISS, Memo
from context_service.identity.names import (
    NICKNAME_TABLE_NAMES,
    canonical_first,
    display_name,
    first_name_forms,
    first_name_variants,
    fold,
    generational_suffix,
    name_tokens,
    name_tokens_and_suffix,
)

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
        "accountspayable",
        "accountsreceivable",
        "ap",
        "finance",
        "invoice",
        "invoices",
        "purchasing",
        "procurement",
        "bookings",
        "booking",
        "reservations",
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
# Domains of real mailbox providers, the big ones and each country's common ones. Two of them a
# letter apart are two providers, not a typo (``gmail.com``/``ymail.com``, ``mail.com``/
# ``email.com``): the same plain handle at both is two people as often as one.
MAIL_PROVIDERS = frozenset(
    """
    gmail.com googlemail.com yahoo.com ymail.com rocketmail.com yahoo.co.uk yahoo.ca yahoo.fr
    yahoo.de yahoo.es yahoo.it yahoo.com.au yahoo.co.in yahoo.co.jp yahoo.com.br yahoo.com.mx
    hotmail.com hotmail.co.uk hotmail.fr hotmail.de hotmail.es hotmail.it hotmail.nl hotmail.ca
    outlook.com outlook.fr outlook.de outlook.es outlook.it live.com live.co.uk live.ca live.fr
    live.de live.nl live.it live.com.au msn.com passport.com aol.com aol.co.uk aol.de aol.fr
    aim.com icloud.com me.com mac.com mail.com email.com usa.com post.com gmx.com gmx.net gmx.de
    gmx.at gmx.ch gmx.fr web.de t-online.de freenet.de posteo.de mailbox.org arcor.de mail.de
    proton.me protonmail.com protonmail.ch pm.me tutanota.com tutanota.de tuta.io tuta.com
    fastmail.com fastmail.fm hushmail.com zoho.com zohomail.com yandex.ru yandex.com ya.ru
    mail.ru inbox.ru list.ru bk.ru qq.com 163.com 126.com yeah.net sina.com foxmail.com
    naver.com daum.net hanmail.net orange.fr wanadoo.fr free.fr sfr.fr laposte.net neuf.fr
    libero.it virgilio.it tiscali.it alice.it tin.it btinternet.com sky.com virginmedia.com
    talktalk.net ntlworld.com comcast.net verizon.net att.net sbcglobal.net bellsouth.net
    charter.net cox.net earthlink.net optonline.net juno.com netzero.net shaw.ca rogers.com
    sympatico.ca telus.net bigpond.com bigpond.net.au optusnet.com.au xtra.co.nz seznam.cz
    wp.pl o2.pl onet.pl interia.pl bluewin.ch telenet.be skynet.be ziggo.nl kpnmail.nl
    planet.nl home.nl xs4all.nl terra.com.br uol.com.br bol.com.br ig.com.br rediffmail.com
    inbox.com lycos.com excite.com frontier.com roadrunner.com rr.com twc.com centurylink.net
    windstream.net videotron.ca telstra.com blueyonder.co.uk tiscali.co.uk hotmail.be
    yahoo.com.ar hotmail.com.ar prodigy.net.mx email.cz centrum.cz abv.bg freemail.hu ukr.net
    """.split()
)
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


_HOUSEHOLD_WORDS = ("family", "household")  # wherever they stand (``smithfamily@``)
# "Family" in other languages (Spanish and Portuguese, Italian, French, German and Dutch,
# Scandinavian) and the children's mailbox: only as a word of their own or at either end of a
# surname of three letters or more (``familia.garcia@``, ``familiagarcia@gmail.com`` with
# Gmail's dots read away, ``rossikids@``; ``kids`` only last: ``kidson.mark@``), not inside
# one (``rafamiliani@``, ``mckidson@``).
_HOUSEHOLD_WORDS_ABROAD = ("familia", "famiglia", "famille", "familie", "familjen", "kids")
_WORDS = re.compile(r"[^\W\d_]+")  # the runs of letters of a local part


def is_family_mailbox(email: str) -> bool:
    """Whether a mailbox is named for a household rather than a person: ``thesmiths12@``,
    ``the.garcias@``, ``desai.family@``, ``smithhousehold@``, ``smith.home@``,
    ``familia.garcia@``, ``rossikids@``, or a couple's, two given names joined by ``and``
    (``tomandkate@``, ``tom.and.kate@``)."""
    local = email.partition("@")[0]
    letters = "".join(ch for ch in local if ch.isalpha())
    words = _WORDS.findall(local)
    if any(word in letters for word in _HOUSEHOLD_WORDS) or _a_familys_abroad(words, letters):
        return True
    if "home" in words:
        return True
    if letters.startswith("the") and letters.endswith("s") and len(letters) >= 7:
        return not _a_given_name_first(words)
    return _a_couples(letters)


def _a_familys_abroad(words: list[str], letters: str) -> bool:
    for word in _HOUSEHOLD_WORDS_ABROAD:
        if word in words:
            return True
        if len(letters) < len(word) + 3:
            continue
        # "kids" first is a surname's start (Kidson, Kidston); "familia" first rarely is.
        if letters.endswith(word) or (word != "kids" and letters.startswith(word)):
            return True
    return False


def _a_given_name_first(words: list[str]) -> bool:
    """Whether a local part's first word (of its ``words``) is a given name longer than
    ``the`` (``theo.williams``, ``theresa_jones``): a person's mailbox, not ``the`` and a
    family's name. Written as one word
    (``theowilliams``, or at Gmail, whose dots are read away) it may be ``the`` and a surname
    starting with o or a (``theandersons``), so it stays a household's."""
    from context_service.identity.given_names import is_given_name  # it imports this module

    return len(words) > 1 and is_given_name(words[0])


def _a_couples(letters: str) -> bool:
    """Whether a local part's letters are two common given names of three letters or more
    joined by ``and`` (``tomandkate``, ``alexandraandtom``). Nothing looser: ``brandon``,
    ``kateandrews``, ``alandanne`` and ``megan.dana`` are one person's."""
    from context_service.identity.given_names import is_given_name  # it imports this module

    at = letters.find("and", 3)
    while at != -1:
        first, second = letters[:at], letters[at + 3 :]
        longer = (first + "a", first + "an", first + "and")  # megandana: Megan Dana's own
        if (
            len(second) >= 3
            and is_given_name(first)
            and is_given_name(second)
            and not any(is_given_name(name) for name in longer)
        ):
            return True
        at = letters.find("and", at + 1)
    return False


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


__all__ = [
    "DOMAIN_TYPOS",
    "EXTENSION",
    "GENERIC_LOCAL_PARTS",
    "MAIL_PROVIDERS",
    "MISS",
    "NICKNAME_TABLE_NAMES",
    "OWN_NUMBER_DIGITS",
    "PLACEHOLDER_DOMAINS",
    "PLACEHOLDER_EMAILS",
    "PLACEHOLDER_LOCAL_PARTS",
    "Memo",
    "births_conflict",
    "canonical_first",
    "display_name",
    "first_name_forms",
    "first_name_variants",
    "fold",
    "generational_suffix",
    "is_family_mailbox",
    "is_merge_email",
    "is_merge_phone",
    "is_own_number",
    "is_placeholder_email",
    "is_placeholder_phone",
    "mailbox_key",
    "name_tokens",
    "name_tokens_and_suffix",
    "normalize_birth_date",
    "normalize_email",
    "normalize_phone",
]
