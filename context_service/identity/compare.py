"""Field-by-field comparison of two records' features: the comparison vector of a pair.

Each field compares to one level (``exact``, ``fuzzy``, ``different``...), or ``null`` when either
side lacks it. The Fellegi-Sunter model (``model.py``) turns the levels into a match weight.
``shared`` names the email and phone values that differently named people use (a family
mailbox, a switchboard): an exact match on one of them is its own, much weaker level.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from context_service.identity.features import Features, same_door
from context_service.identity.given_names import one_name, other_given_names
from context_service.identity.normalize import (
    MAIL_PROVIDERS,
    first_name_forms,
    first_name_variants,
    is_own_number,
)

NULL = "null"
FIELDS: dict[str, tuple[str, ...]] = {
    "email": (NULL, "exact", "shared", "local", "handle", "fuzzy", "related", "different"),
    "phone": (NULL, "exact", "shared", "different"),
    "first_name": (NULL, "exact", "fuzzy", "initial", "different"),
    "last_name": (NULL, "exact", "fuzzy", "different"),
    "address": (NULL, "exact", "postcode", "different"),
    "company": (NULL, "exact", "different"),
}
FIELD_NAMES = tuple(FIELDS)
Levels = tuple[str, ...]  # one level per field, in FIELD_NAMES order

_FUZZY_NAME = 0.88
_FUZZY_COMPANY = 0.92


def compare(a: Features, b: Features, shared: frozenset[str] = frozenset()) -> Levels:
    """The comparison vector of a pair (first and last names also tried swapped)."""
    first, last = _names(a, b)
    return (
        _email(a, b, shared),
        _phone(a.phones, b.phones, shared),
        first,
        last,
        _address(a, b),
        _company(a.company, b.company),
    )


def email_level(a: Features, b: Features) -> str:
    """The email field's level alone (``compare``'s first), no mailbox taken as shared."""
    return _email(a, b, frozenset())


def names_conflict(a: Features, b: Features) -> bool:
    """Whether both records carry full names that cannot be one person's (``Ann Lee``/``Bo Park``).

    Nicknames, initials, small typos and swapped first/last names are not conflicts; a single
    name (``Maya``) conflicts only with a full name that lacks it.
    """
    if not a.first or not b.first:
        return False
    if not a.last or not b.last:
        short, other = (a, b) if not a.last else (b, a)
        tokens = [other.first, other.last] if other.last else [other.first]
        return not any(_first_level(short.first, t) != "different" for t in tokens)
    first, last = _names(a, b)
    return "different" in (first, last)


def middle_names_conflict(a: Features, b: Features) -> bool:
    """Whether two records whose first names and surnames agree carry two different second
    given names (Jean-Pierre and Jean-Luc Martin, Mary Ann and Mary Beth Smith, Min-jun and
    Min-seo Kim): a father and his son, two sisters. A second given name on one side only
    (Mary Smith, Mary Ann Smith), a nickname (Mary Beth, Mary Elizabeth), a typo, two spellings
    of one name (Mohammed, Muhammad) or the same given names spaced otherwise (Min-jun,
    Mi-njun) agree. Any other pair is two names even on one mailbox: a parent's mailbox holds
    their children's records (Mary Rose and Mary Rosemary, Ji-ho and Ji-hoon)."""
    if not a.middle or not b.middle or a.middle == b.middle or one_name(a.middle, b.middle):
        return False
    if _first_level(a.first, b.first) in {NULL, "different"}:
        return False
    if _last_level(a.last, b.last) in {NULL, "different"}:
        return False
    if DamerauLevenshtein.distance(a.first + a.middle, b.first + b.middle) <= 1:
        return False
    return _first_level(a.middle, b.middle) == "different"


def name_levels(a: Features, b: Features) -> tuple[str, str]:
    """The first-name and surname levels of a pair (as ``compare`` gives them)."""
    return _names(a, b)


def _names(a: Features, b: Features) -> tuple[str, str]:
    if _spells_name(a, b) or _spells_name(b, a):
        return ("exact", "exact")
    straight = _slips_of_one_spelling(
        a, b, (_first_level(a.first, b.first), _last_level(a.last, b.last))
    )
    if not (a.last and b.last) or "different" not in straight:
        return _confirmed(a, b, straight)
    # Swapped either way round (a's first name as b's last, or b's first name as a's last), so
    # that the result does not depend on which record comes first.
    swaps = (
        (_first_level(a.first, b.last), _last_level(a.last, b.first)),
        (_first_level(b.first, a.last), _last_level(b.last, a.first)),
    )
    swapped = min(swaps, key=lambda levels: (_rank(levels), levels))
    return swapped if _rank(swapped) < _rank(straight) else straight


def _slips_of_one_spelling(a: Features, b: Features, levels: tuple[str, str]) -> tuple[str, str]:
    """Names two slips apart (``slin``/``seiln``, ``ownes``/``oens``) that are each a slip of one
    name their mailboxes spell (``seline.1471@...``, ``mowens3578@...``) compare as fuzzy, not
    as different: the mailbox shows the name both meant. A family mailbox spells no first name,
    so two family members' names stay apart, and so do two given names (``michael``/
    ``michelle``), whichever of them a mailbox spells."""
    if "different" not in levels:
        return levels
    spelled = tuple(sorted({_letters(e) for e in (*a.emails, *b.emails)}))
    first, last = levels
    if (
        first == "different"
        and not other_given_names(a.first, b.first)
        and _one_spelling(a.first, b.first, spelled)
    ):
        first = "fuzzy"
    if last == "different" and _one_spelling(a.last, b.last, spelled):
        last = "fuzzy"
    return (first, last)


@lru_cache(maxsize=1 << 16)
def _one_spelling(x: str, y: str, spelled: tuple[str, ...]) -> bool:
    """Whether a run of four letters or more in one of the ``spelled`` local parts is a slip
    of both ``x`` and ``y`` (names of three letters or more)."""
    if len(x) < 3 or len(y) < 3:
        return False
    sizes = range(max(4, min(len(x), len(y)) - 1), max(len(x), len(y)) + 2)
    for letters in spelled:
        for size in sizes:
            for start in range(len(letters) - size + 1):
                word = letters[start : start + size]
                if _similar(x, word) and _similar(y, word):
                    return True
    return False


def _confirmed(a: Features, b: Features, levels: tuple[str, str]) -> tuple[str, str]:
    """Names a typo apart (``makr barnes``/``mark barnes``) compare as exact when one record's
    own mailbox spells the other's full name (``barnesmark2923@...``): the mailbox, which works,
    shows how its owner spells the name, so the difference is a slip in the name field."""
    if "fuzzy" not in levels or "different" in levels or NULL in levels:
        return levels
    if _mailbox_spells(a, b) or _mailbox_spells(b, a):
        return ("exact", "exact")
    return levels


def _spells_name(nameless: Features, named: Features) -> bool:
    """Whether a record without a name has a mailbox that spells the other's full name
    (``elizabeth_reynolds1002@...`` for Beth Reynolds), is one slip away from a mailbox of the
    other's that does (``rao.amada24712@...`` for Amanda Rao's ``rao.amanda24712@...``), or
    spells it short with the other's own number of five digits or more (``cthomas11049@...``
    for Charles Thomas's ``charles.thomas11049@...``): it then compares as if it carried the
    name. A short spelling without that number is not enough: ``cthomas`` may be Carol."""
    if nameless.first or nameless.last:
        return False
    if _mailbox_spells(nameless, named):
        return True
    for x in nameless.emails:
        for y in named.emails:
            numbered = _numbered(x, y)
            if numbered and _letters_spell(_letters(x), named, short=True):
                return True
            if _near_email(x, y) and _letters_spell(_letters(y), named, short=numbered):
                return True
    return False


def own_handles(a: Features, b: Features) -> bool:
    """Whether the two records hold two people's own numbered mailboxes under one name: each
    has a mailbox that spells the other's name, in full or short, with a number of two digits
    or more, and no number of one is the other's or a slip of it (two digits swapped, one
    dropped or doubled): ``samanthahoward2684@...`` and ``samanthah2685@...``. A Sr and a Jr
    at one address look like this; one person's typo (``mgarcia18344``) does not. A record
    without a name counts when its mailbox spells the other's name (``robert_le32989@...``
    against Rob Le's ``robert_le32988@...``): the other's own mailbox then spells its own."""
    names = [f for f in (a, b) if f.first or f.last]
    numbers_a, numbers_b = _handle_numbers(a, names), _handle_numbers(b, names)
    if not numbers_a or not numbers_b:
        return False
    return not any(_digit_slip(x, y) for x in numbers_a for y in numbers_b)


def _handle_numbers(holder: Features, names: list[Features]) -> set[str]:
    """The numbers of ``holder``'s mailboxes that spell one of ``names`` (either record's: one
    of the two may carry a typo of the name their mailboxes share)."""
    found = set()
    for email in holder.emails:
        digits = _digits(email.partition("@")[0])
        letters = _letters(email)
        if len(digits) >= 2 and any(_letters_spell(letters, n, short=True) for n in names):
            found.add(digits)
    return found


def _digit_slip(x: str, y: str) -> bool:
    """The same number, or one slip of it: two neighbouring digits swapped, one dropped or
    one doubled (a wrong digit is another number)."""
    if x == y or _same_year(x, y):
        return True
    if len(x) == len(y):
        diff = [i for i in range(len(x)) if x[i] != y[i]]
        return len(diff) == 2 and diff[1] == diff[0] + 1 and x[diff[0]] == y[diff[1]]
    longer, shorter = (x, y) if len(x) > len(y) else (y, x)
    if len(longer) != len(shorter) + 1:
        return False
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


def _same_year(x: str, y: str) -> bool:
    """A year written in full and short: ``1985`` and ``85``."""
    longer, shorter = (x, y) if len(x) > len(y) else (y, x)
    return (
        len(longer) == 4
        and len(shorter) == 2
        and longer[:2] in {"19", "20"}
        and (longer[2:] == shorter)
    )


def _mailbox_spells(holder: Features, named: Features) -> bool:
    """Whether one of ``holder``'s mailboxes spells ``named``'s full name."""
    return any(_letters_spell(_letters(email), named) for email in holder.emails)


@lru_cache(maxsize=1 << 16)
def _letters(email: str) -> str:
    return "".join(ch for ch in email.partition("@")[0] if ch.isalpha())


def _letters_spell(letters: str, named: Features, short: bool = False) -> bool:
    """Whether the letters of a local part spell a full name: the surname and the first name (a
    nickname or the formal name), each of three letters or more; a shorter name only as the
    whole local part, first and last name together (``madison_ly``, ``ly.madison``). With
    ``short``, also an initial and the other name as the whole local part (``cthomas``,
    ``thomasc``, ``charlest``)."""
    if not named.first or not named.last:
        return False
    firsts = first_name_variants(named.first)
    last = named.last
    if len(last) >= 3 and any(f in letters for f in firsts if len(f) >= 3) and last in letters:
        return True
    forms = {f + last for f in firsts} | {last + f for f in firsts}
    if short:
        forms |= {f[0] + last for f in firsts} | {last + f[0] for f in firsts}
        forms |= {f + last[0] for f in firsts}
    return letters in forms


_ORDER = {"exact": 0, "fuzzy": 1, "initial": 2, "different": 3, NULL: 4}


def _rank(levels: tuple[str, str]) -> tuple[int, int]:
    ranked = sorted(_ORDER[level] for level in levels)
    return (ranked[1], ranked[0])


@lru_cache(maxsize=1 << 16)
def _first_level(x: str, y: str) -> str:
    if not x or not y:
        return NULL
    # Two records with one initial (``J Smith`` and ``J Smith``) agree on a letter, not on a
    # name: John and Jane on one home phone write it alike.
    one_letter = _is_initial(x) or _is_initial(y)
    if not one_letter and (x == y or first_name_forms(x) & first_name_forms(y)):
        return "exact"
    # A one-character CJK, Hangul or kana name is a whole name: ``伟`` is not ``伟明``'s initial.
    if len(x) == 1 or len(y) == 1:
        return "initial" if one_letter and x[0] == y[0] else "different"
    if other_given_names(x, y):  # michael/michelle: a letter or two apart, two people
        return "different"
    if _similar(x, y) or _similar_variants(x, y):
        return "fuzzy"
    return "different"


def first_name_level(x: str, y: str) -> str:
    """The first-name level of two folded name words (``exact``, ``initial``, ``fuzzy``,
    ``different``), as ``compare`` reads records' first names."""
    return _first_level(x, y)


def last_name_level(x: str, y: str) -> str:
    """The last-name level of two folded name words, as ``compare`` reads records' surnames."""
    return _last_level(x, y)


def _is_initial(token: str) -> bool:
    """Whether a name token is an initial: one letter of an alphabet (``j``, ``ж``), not a
    whole name written in one character (a CJK or Hangul given name such as ``伟``)."""
    return len(token) == 1 and token.isalpha() and not _is_logogram(token)


def _is_logogram(char: str) -> bool:
    """Whether a character is a whole syllable or word (CJK ideographs, Hangul, kana)."""
    return unicodedata.name(char, "").startswith(_LOGOGRAM_PREFIXES)


_LOGOGRAM_PREFIXES = ("CJK", "HANGUL", "HIRAGANA", "KATAKANA", "YI ")


def _similar_variants(x: str, y: str) -> bool:
    """A typo of one of the other's nicknames or formal names (``jimmmy``/``james``,
    ``nicohlas``/``nick``, ``bobyb``/``robert``)."""
    xs, ys = first_name_variants(x), first_name_variants(y)
    if len(xs) == 1 and len(ys) == 1:
        return False
    return any(_similar(p, q) for p in xs for q in ys if (p, q) != (x, y))


@lru_cache(maxsize=1 << 16)
def _last_level(x: str, y: str) -> str:
    if not x or not y:
        return NULL
    # A surname written as its initial (``Maya P``, as helpdesks and chat widgets show names)
    # agrees with ``P`` or ``Patel`` on a letter, not on a surname: fuzzy, never exact.
    if _is_initial(x) or _is_initial(y):
        return "fuzzy" if x[0] == y[0] else "different"
    if x == y:
        return "exact"
    return "fuzzy" if _similar(x, y) else "different"


def _similar(x: str, y: str) -> bool:
    """A typo apart: Jaro-Winkler at least 0.88, or one edit (a swapped, missing, extra or
    wrong letter) in names of five letters or more (``zielinski``/``ziielinski``,
    ``okafor``/``okfaor``). Shorter names (``lea``/``lee``) may differ only by a letter
    dropped, added or swapped with its neighbour after the same first letter (``mia``/``ma``,
    ``yun``/``ynu``): a wrong letter in a short name often makes another name."""
    if JaroWinkler.similarity(x, y) >= _FUZZY_NAME:
        return True
    shortest = min(len(x), len(y))
    if shortest >= 5:
        return DamerauLevenshtein.distance(x, y) <= 1
    return _short_slip(x, y) if shortest >= 2 else False


def _short_slip(x: str, y: str) -> bool:
    """One letter dropped, added or swapped with its neighbour, the first letter kept."""
    if x[0] != y[0] or abs(len(x) - len(y)) > 1 or x == y:
        return False
    if len(x) == len(y):
        diff = [i for i in range(len(x)) if x[i] != y[i]]
        if len(diff) != 2 or diff[1] != diff[0] + 1:
            return False
        i, j = diff
        return x[i] == y[j] and x[j] == y[i]
    longer, shorter = (x, y) if len(x) > len(y) else (y, x)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(1, len(longer)))


def _email(a: Features, b: Features, shared: frozenset[str]) -> str:
    if not a.emails or not b.emails:
        return NULL
    common = set(a.emails) & set(b.emails)
    if common:
        return "shared" if common <= shared else "exact"
    surnames = {n for n in (a.last, b.last) if len(n) >= 3}
    firsts = {n for f in (a.first, b.first) if f for n in first_name_variants(f) if len(n) >= 3}
    pairs = [(x, y) for x in a.emails for y in b.emails]
    if any(_same_local(x, y) for x, y in pairs):
        return "local"
    near = [(x, y) for x, y in pairs if _near_email(x, y)]
    related = [(x, y) for x, y in pairs if _related_email(x, y, surnames, firsts)]
    if any(_numbered(x, y) for x, y in near + related):
        return "handle"
    if near:
        return "fuzzy"
    return "related" if related else "different"


def _numbered(x: str, y: str) -> bool:
    """Both local parts hold the same run of five digits or more, not a placeholder run
    (``11111``, ``12345``): a number that long is the owner's own (the same rule blocks on it
    alone), so a slip of the handle or a second handle with it is one person's."""
    digits = _digits(x.partition("@")[0])
    return is_own_number(digits) and digits == _digits(y.partition("@")[0])


def _related_email(x: str, y: str, surnames: set[str], firsts: set[str]) -> bool:
    """Two mailboxes one person would make: both local parts hold the same run of three digits
    or more and the surname or a first name (``psahin4548@...`` and
    ``patricia.sahin4548@...``, ``lint421@...`` and ``lin.thomas421@...``, ``stevenk.3083@...``
    for Steve and ``steven.knight3083@...``). Two digits are a birth year that namesakes share
    (``mgarcia85@...`` and ``maria.garcia85@...`` may be two Maria Garcias born in 1985)."""
    local_x, local_y = x.partition("@")[0], y.partition("@")[0]
    digits = _digits(local_x)
    if len(digits) < 3 or digits != _digits(local_y):
        return False
    letters_x = "".join(ch for ch in local_x if ch.isalpha())
    letters_y = "".join(ch for ch in local_y if ch.isalpha())
    return any(name in letters_x and name in letters_y for name in surnames | firsts)


def _same_local(x: str, y: str) -> bool:
    """The same local part, punctuation aside, at two domains (or punctuated differently),
    long and with three digits or more (``oisin.collins4802@work.example`` and
    ``oisin_collins4802@hotmail.com``): one person keeping their handle, not two people who
    happen to share a plain name or a birth year."""
    local_x, local_y = x.partition("@")[0], y.partition("@")[0]
    plain = "".join(ch for ch in local_x if ch.isalnum())
    return (
        len(plain) >= 8
        and len(_digits(plain)) >= 3
        and plain == "".join(ch for ch in local_y if ch.isalnum())
    )


def _near_email(x: str, y: str) -> bool:
    """One typo apart: the same local part at a domain one edit away, or a local part one edit
    away at the same domain, with the same digits (``jen_brown12`` is not ``jen_brown3432``,
    and ``mgarcia13844`` is not ``mgarcia18344``: one Maria Garcia's number is often a slip of
    another's), and at a public mail provider not only punctuated otherwise
    (``john.smith@yahoo.com`` and ``johnsmith@yahoo.com`` are two mailboxes where dots count,
    the handles two John Smiths pick; Gmail's dots are read away before, and a handle with its
    owner's number compares as ``local``). A firm gives one person one address: there a
    punctuation slip is a slip. Two real providers a letter apart are no typo of each other
    (``john_smith@gmail.com``/``john_smith@ymail.com``, ``@mail.com``/``@email.com``: two
    mailboxes), unless the handle carries its owner's own number (``_numbered``)."""
    local_x, _, domain_x = x.partition("@")
    local_y, _, domain_y = y.partition("@")
    if local_x == local_y:
        if len(local_x) < 6 or DamerauLevenshtein.distance(domain_x, domain_y) > 1:
            return False
        providers = domain_x in MAIL_PROVIDERS and domain_y in MAIL_PROVIDERS
        return not providers or is_own_number(_digits(local_x))
    if domain_x != domain_y or _digits(local_x) != _digits(local_y):
        return False
    if domain_x in MAIL_PROVIDERS and _alnum(local_x) == _alnum(local_y):
        return False  # john.smith@ and johnsmith@yahoo.com: two namesakes' natural handles
    return (
        min(len(local_x), len(local_y)) >= 6 and DamerauLevenshtein.distance(local_x, local_y) <= 1
    )


def _alnum(local: str) -> str:
    return "".join(ch for ch in local if ch.isalnum())


@lru_cache(maxsize=1 << 16)
def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _phone(a: tuple[str, ...], b: tuple[str, ...], shared: frozenset[str]) -> str:
    if not a or not b:
        return NULL
    common = set(a) & set(b)
    if common:
        return "shared" if common <= shared else "exact"
    return "different"


def _address(a: Features, b: Features) -> str:
    """``exact`` only at one door (``same_door``): the same house number and whole street
    name, no two different units; elsewhere at the same postcode, ``postcode``."""
    if not a.postcode or not b.postcode:
        return NULL
    if a.postcode != b.postcode:
        return "different"
    return "exact" if same_door(a, b) else "postcode"


def _company(a: str, b: str) -> str:
    if not a or not b:
        return NULL
    return "exact" if a == b or JaroWinkler.similarity(a, b) >= _FUZZY_COMPANY else "different"
