"""What identity resolution compares: each person-like record reduced to normalized features.

``features_of`` is pure and runs once per stored record version; the result is kept in the
store (``identity_features``) so candidates are compared without normalizing them again.
``blocking_keys`` are the values under which candidates are found: two records are compared
only when they share one, so the work grows with the number of records, not its square.
"""

from __future__ import annotations

import re

import msgspec

from context_service.identity.given_names import is_given_name
from context_service.identity.names import first_written_word, name_tokens, second_given_name
from context_service.identity.normalize import (
    MISS,
    NICKNAME_TABLE_NAMES,
    Memo,
    canonical_first,
    first_name_forms,
    fold,
    is_merge_email,
    is_merge_phone,
    is_own_number,
    mailbox_key,
    name_tokens_and_suffix,
    normalize_birth_date,
    normalize_email,
    normalize_phone,
)
from context_service.models import PersonFacet, RecordKey

# Street words written in many ways; the short form is kept.
_STREET_WORDS = {
    "street": "st",
    "str": "st",
    "strasse": "st",
    "avenue": "ave",
    "av": "ave",
    "road": "rd",
    "boulevard": "blvd",
    "drive": "dr",
    "lane": "ln",
    "court": "ct",
    "place": "pl",
    "square": "sq",
    "terrace": "ter",
    "highway": "hwy",
    "parkway": "pkwy",
    "close": "cl",
    "crescent": "cres",
    "gardens": "gdns",
    "circle": "cir",
    # Numbered streets as written out (``Fifth Avenue``: ``5th ave``, as ``5th Ave``).
    "first": "1st",
    "second": "2nd",
    "third": "3rd",
    "fourth": "4th",
    "fifth": "5th",
    "sixth": "6th",
    "seventh": "7th",
    "eighth": "8th",
    "ninth": "9th",
    "tenth": "10th",
    "eleventh": "11th",
    "twelfth": "12th",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
}
# Street types written after the street's name (``baker st``): a door ends at the last one, so
# what follows it (a side, a flat number without its designator) is no part of it.
_STREET_TYPES = frozenset(
    "st ave rd blvd dr ln ct pl sq ter hwy pkwy cl cres gdns cir way row".split()
)
_SIDES = frozenset("n s e w ne nw se sw".split())  # ``12 baker st w``
# A unit: its designator and a number or letter (``apt 4b``, ``flat 2``, ``#210``, ``unit c``),
# before or after the street. Not a street that starts with such a word (``flat rock rd``).
_UNIT = re.compile(
    r"(?:\b(?:apt|apartment|appt|unit|suite|ste|flat|fl|floor|room|rm)\b\s*#?\s*|#\s*)"
    r"(\d+[a-z]{0,2}|[a-z]\d{0,3})\b"
)
# Post-office boxes and rural routes written in many ways: ``P.O. Box``, ``POBox``, ``Post
# Office Box`` are ``po box``; ``Rural Route`` is ``rr``.
_PO_BOX = re.compile(r"\b(?:p\s*o\s*box|post\s+office\s+box)\b")
_RURAL_ROUTE = re.compile(r"\brural\s+route\b")
_ORDINAL = re.compile(r"\d+(?:st|nd|rd|th)")  # ``5th ave``: a street's name, no house number
_COMPANY_SUFFIXES = frozenset(
    "inc incorporated llc ltd limited gmbh co corp corporation sa sas sarl bv nv plc ag pty "
    "srl spa oy ab as kg company the".split()
)
_LOCAL_BLOCK_MIN = 6  # shorter local parts (john@...) are too common to block on


# Bump when ``blocking_keys`` or the identifier rows change: records indexed before then lack
# the new keys, so they miss candidates until ``context-service resolve --all`` indexes them
# again (``context-service doctor`` says so). Bumped too when a pair rule changes what may
# share a profile, so that existing profiles are rebuilt under it.
# 2026-11-29.3: provider domain typos (hotmail.co, yahoo.co...) corrected.
# 2026-11-29.4: a nameless record's door and digit keys: its mailbox initials.
# 2026-11-29.5: dates of birth in the stored features.
# 2026-11-29.6: namesakes on one phone or door are never one profile.
# 2026-11-29.7: a nameless record on a household mailbox is reviewed.
# 2026-11-30.1: two different given names (michael/michelle) conflict; a generational suffix
# (Sr/Jr) in the stored features keeps two records apart; a local-only phone number (555-0134)
# and the base number of an extension are no merge keys.
# 2026-11-30.2: one initial is no first name (J Smith and J Smith on one phone do not link by
# the phone rule); role mailboxes however punctuated (no_reply@), more placeholders, and +1
# numbers no North American number can be are no merge keys.
# 2026-11-30.3: an email's domain read in one form (``xn--`` labels as Unicode, NFC); a
# surname's initial agrees on a letter, not a surname (``Maya P``); a record as close to two
# people who cannot be one joins neither (both pairs go to review); differently named people
# on one phone with no name in common are no review item (nor an edge).
# 2026-11-30.4: a mailbox held by three or more clearly different names (a shared inbox) is no
# review item (nor an edge) between differently named holders with nothing else in common.
# 2026-11-30.5: a record without a name whose only tie to a named one is such a shared inbox
# neither links to nor is reviewed with it (it pulled every holder into one component).
# 2026-12-02.1: an address is one door only with the same house number and whole street name
# (``100 n main st`` is not ``100 n oak ave``, ``po box 123`` not ``po box 4567``) and no two
# different units (``apt 4``/``apt 19``), which the stored features now keep; a leading unit
# (``Flat 2, 12 Baker Street``) keeps its street; a ZIP+4 is its ZIP; titles of other languages
# (Herr, Frau, Mme, Sra.) are no names; one handle at two real providers is no typo.
# 2026-12-02.2: a door's blocking key leaves the street type out (``12 Main`` meets ``12 Main
# St``), and ``N.W.`` is the side ``NW``.
# 2026-12-02.3: numbered streets written out are read as numbers (``Fifth Avenue``: ``5th ave``).
# 2026-12-02.4: a second given name in the stored features (Jean-Pierre and Jean-Luc Martin,
# Mary Ann and Mary Beth Smith are two people); male and female forms of one name (Francesco
# and Francesca, Jean and Jeanne) are two names; two mailboxes at one provider that differ
# only by punctuation (``john.smith@``, ``johnsmith@``), or share only a two-digit number and
# the surname, are no typo of one person's.
# 2026-12-02.5: a phone held by three or more clearly different names (an office's
# switchboard) is crowded like a shared inbox: no phone_name link, and a pair on it links only
# on the rest of its evidence; a couple's mailbox (``tomandkate@``) and ``smith.home@`` are a
# household's, and more role mailboxes (``accountspayable@``, ``bookings@``) link nothing.
# 2026-12-02.6: a second given name only where it surely is one (a first-name field's second
# word, a hyphenated first word's part, a common given name before the surname), never
# against a shared mailbox; spellings of one name in several languages (Peter/Petr,
# Mohammed/Muhammad) agree; a line takes four clearly different names to be crowded; a
# punctuation-only difference is a slip at a firm's domain, not at a public provider.
# 2026-12-02.7: a male -o and female -a of one stem are two names again, listed or not
# (Carlo/Carla), spellings of one name aside; a hyphenated first name after a title (``Dr.
# Jean-Luc``) or written spaced (``Jean Luc``) has its second given name; two different ones
# keep two records apart on one mailbox too (a family's); more ISPs' mail is a provider's.
# 2026-12-03.1: jo, josie and lena are nicknames (of Josephine, Joanna, Joan, Joanne; Helena,
# Magdalena) and Charles/Carlos/Carlo one name; on one person's own mailbox a short form of a
# second given name (Rose/Rosemary) and an -o/-a transliteration (Mustafa/Mustafo) agree.
# 2026-12-03.2: a mailbox starting with a given name longer than "the" (theo.williams@) is a
# person's, not "the Williams"' family's.
# 2026-12-03.3: 2026-12-03.1's own-mailbox exceptions (a short form of a second given name, an
# -o/-a ending) and lena taken back: a parent's mailbox holds a Carlo's and a Carla's records.
# 2026-12-03.4: a name written whole surname first in a way that says so ("Martin, Jean-Luc",
# "MARTIN Jean-Luc", "Kim Min-jun") is read given names first.
# 2026-12-03.5: household mailboxes named in other languages (familia., famiglia., famille.,
# familie., .casa, .fam) or for the children (rossikids@).
# 2026-12-03.6: 2026-12-03.4 taken back: turned round, a shared generation name (NGUYEN Thi Lan,
# Thi Mai) became the first name and merged sisters.
# 2026-12-03.7: of 2026-12-03.5's words, casa, fam, haus, maison and haushalt taken back (surnames:
# maria.casa@, max.haus@, j.haushalter@), and "family" abroad counts only as a word or at an end.
# 2026-12-03.8: 2026-12-03.2 narrowed: only a first word of its own that is a given name
# (theo.williams@) makes a "the...s" mailbox a person's; theandersons@ is the Andersons' again.
# 2026-12-03.9: jo and josie no nicknames again (Jo is a name of its own: Joan's daughter), thea no
# listed given name (a short form of Theresa), kids no household word first (Kidson).
# 2026-12-03.10: a listed given name and its -a form (Leon/Leona), two names five letters or
# longer that differ in their first letter only (Josie/Rosie; not c/k, s/z, i/y, j/y, v/w) and
# two four-letter names a last letter apart (Lily/Lila) are two names, spellings of one aside.
# 2026-12-03.11: 2026-12-03.10 narrowed (it split one person's records): a last letter apart
# only two vowels, not -i/-y, one name listed (John/Johm, Jodi/Jody are one); no -a added to a
# name ending in a (Sara/Saraa); g/j, c/s, x/z and two vowels may spell one first sound
# (Gillian/Jillian, Ibrahim/Ebrahim); Kate/Katy and Liz/Liza are one name.
# 2026-12-03.12: a first or last letter a neighbouring key away is a slip (Michael/Nichael,
# Lily/Lilu); j/x and k/q may spell one first sound; more spellings of one name (Kate/Kati,
# Trish/Trisha, Leonor/Leonora, Javier/Xavier...).
# 2026-12-03.13: a mailbox or phone that 25 or more different full names hold is crowded
# outright (deciding it pair by pair took seconds a record on a line of 1,000).
# 2026-12-03.14: a curly apostrophe parts a name's words as a straight one does (U+2019).
INDEX_VERSION = "2026-12-03.14"


class Features(msgspec.Struct, frozen=True, array_like=True):
    """A person-like record as resolution sees it; every value normalized, empty when unknown."""

    emails: tuple[str, ...] = ()  # mailboxes of the record's merge-eligible emails
    phones: tuple[str, ...] = ()  # merge-eligible E.164 numbers
    first: str = ""  # folded first-name token
    last: str = ""  # folded last-name token
    postcode: str = ""
    street: str = ""  # house number and street, abbreviations unified, unit apart
    company: str = ""
    xrefs: tuple[str, ...] = ()  # other records this one names explicitly (source:kind:id)
    own: str = ""  # this record's own reference (source:kind:id)
    birth: str = ""  # date of birth, YYYY-MM-DD: a difference keeps two records apart
    generation: str = ""  # generational suffix (jr, sr, ii...): a difference keeps them apart
    unit: str = ""  # flat, apartment or suite number (``4b``): two different ones, two doors
    middle: str = ""  # second given name (``pierre`` of Jean-Pierre): two different, two people


def xref_value(key: RecordKey) -> str:
    """The value under which a record can be referenced from another system."""
    return f"{key.source}:{key.kind}:{key.external_id}"


def features_of(key: RecordKey, facet: PersonFacet, region: str) -> Features:
    """Normalize one person facet (pure)."""
    tokens, generation = name_tokens_and_suffix(facet.first_name, facet.last_name, facet.name)
    first = tokens[0] if tokens else ""
    last = tokens[-1] if len(tokens) > 1 else ""
    address = facet.addresses[0] if facet.addresses else None
    street, unit = street_and_unit(address.street if address else None)
    return Features(
        emails=_emails(facet.emails),
        phones=_phones(facet.phones, region),
        first=first,
        last=last,
        postcode=normalize_postcode(address.postcode if address else None),
        street=street,
        company=normalize_company(facet.company),
        xrefs=_xrefs(key, facet) if facet.links else (),
        own=_own_reference(key),
        birth=normalize_birth_date(facet.birth_date),
        generation=generation,
        unit=unit,
        middle=second_given(facet.first_name, facet.last_name, facet.name, tokens),
    )


def second_given(
    first: str | None, last: str | None, full: str | None, tokens: tuple[str, ...]
) -> str:
    """The second given name a name surely holds (``tokens``: its ``name_tokens``), or ``""``:
    the second word of a first-name field (``Jean-Pierre``, ``María José``, ``Mary Ann``); of a
    name written whole, the second part of a hyphenated first word (``Jean-Pierre Martin``,
    ``Min-jun Kim``) or a common given name before the surname (``Mary Ann Smith``). Another
    word there may be a surname (``María García López``, ``Anne Smith-Jones``) and says
    nothing. Records and the names a lookup is given are read alike."""
    if first and last:
        return second_given_name(name_tokens(first, None, None)[1:])
    if "-" in first_written_word(first or full or "").strip("-"):
        return second_given_name(tokens[1:2])
    word = second_given_name(tokens[1:-1])
    return word if is_given_name(word) else ""


def _xrefs(key: RecordKey, facet: PersonFacet) -> tuple[str, ...]:
    """The other records this one names (a record without links, most of them, names none)."""
    return tuple(sorted({xref_value(link) for link in facet.links if link != key}))


def _own_reference(key: RecordKey) -> str:
    """The record's own reference, or ``""`` for a content-hash key (a spreadsheet row without
    an id): nothing elsewhere can name it, so it is no blocking key."""
    return "" if key.external_id.startswith("sha256:") else xref_value(key)


def _emails(raw: list[str]) -> tuple[str, ...]:
    found = set()
    for value in raw:
        email = normalize_email(value)
        if email and is_merge_email(email):
            found.add(mailbox_key(email))
    return tuple(sorted(found))


def _phones(raw: list[str], region: str) -> tuple[str, ...]:
    found = set()
    for value in raw:
        phone = normalize_phone(value, region)
        if phone and is_merge_phone(phone):
            found.add(phone)
    return tuple(sorted(found))


_ZIP_PLUS_4 = re.compile(r"([0-9]{5})[- ][0-9]{4}")


def normalize_postcode(raw: str | None) -> str:
    """Upper-case postcode without spaces or dashes (``sw1a 1aa`` to ``SW1A1AA``); a US ZIP+4
    is its ZIP (``94107-1234`` to ``94107``): the four digits are often left out."""
    text = (raw or "").upper()
    if text.isalnum():  # nothing to drop (most postcodes): the loop below would keep it all
        return text
    zip_plus_4 = _ZIP_PLUS_4.fullmatch(text.strip())
    if zip_plus_4:
        return zip_plus_4.group(1)
    return "".join(ch for ch in text if ch.isalnum())


def street_and_unit(raw: str | None) -> tuple[str, str]:
    """The folded street line, common abbreviations unified (``P.O. Box``: ``po box``), without
    its unit, and the unit's number (``Flat 2, 12 Baker Street``: ``12 baker st`` and ``2``)."""
    text = fold(raw or "").replace(",", " ").replace(".", " ")
    if "box" in text:
        text = _PO_BOX.sub("po box", text)
    if "rural" in text:
        text = _RURAL_ROUTE.sub("rr", text)
    units = _UNIT.findall(text)
    if units:
        text = _UNIT.sub(" ", text)
    words = _joined_sides([_street_word(word) for word in text.split()])
    return " ".join(words), " ".join(units)


def _joined_sides(words: list[str]) -> list[str]:
    """``n w`` (``N.W.`` once its dots are spaces) as ``nw``, the side ``NW`` gives."""
    joined: list[str] = []
    for word in words:
        if word in ("e", "w") and joined and joined[-1] in ("n", "s"):
            joined[-1] += word
        else:
            joined.append(word)
    return joined


def _street_word(word: str) -> str:
    if word.endswith("strasse") and word != "strasse":  # Hauptstraße: as Hauptstr.
        return word[:-4]
    return _STREET_WORDS.get(word, word)


_DOORS: Memo[tuple[str, str]] = Memo()


def door_of(street: str) -> tuple[str, str]:
    """The door a normalized street line names, and the side of the street it gives: the house
    number and the whole street name (``100 n main st``, ``12 rue de rivoli``, ``po box 123``,
    ``rr 2 box 15``, ``hauptstr 12``), up to the street type (``12 baker st w``: ``12 baker st``
    and ``w``). A line without a house number (``baker st``, ``5th ave``) names no door: ``""``.
    """
    found = _DOORS.get(street)
    if found is not MISS:
        return found
    return _DOORS.put(street, _door(street))


def _door(street: str) -> tuple[str, str]:
    words = street.split()
    numbered = [_is_house_number(word) for word in words]
    if not any(numbered):
        return ("", "")
    last_type = max((i for i, word in enumerate(words) if word in _STREET_TYPES), default=-1)
    if last_type >= 0 and any(numbered[: last_type + 1]):
        tail = words[last_type + 1 :]
        return " ".join(words[: last_type + 1]), tail[0] if tail and tail[0] in _SIDES else ""
    if len(words) > 1 and words[-1] in _SIDES and any(numbered[:-1]):
        return " ".join(words[:-1]), words[-1]
    return street, ""


def _is_house_number(word: str) -> bool:
    return word[0].isdigit() and _ORDINAL.fullmatch(word) is None


def untyped(door: str) -> str:
    """A door without its street-type words (``12 main st``: ``12 main``)."""
    return " ".join(word for word in door.split() if word not in _STREET_TYPES)


def _one_untyped_alike(door_a: str, door_b: str) -> bool:
    """Whether one of two doors leaves its street type out and they are alike without it
    (``12 main`` and ``12 main st``; not ``12 main st`` and ``12 main ave``)."""
    bare_a, bare_b = untyped(door_a), untyped(door_b)
    return bare_a == bare_b and (bare_a == door_a or bare_b == door_b)


def same_door(a: Features, b: Features) -> bool:
    """Whether two records' addresses (at one postcode) name one door: the same house number and
    street, no two different sides of it, and no two different units (``apt 4`` and ``apt 19``
    are two homes; one record without its unit is no conflict)."""
    door_a, side_a = door_of(a.street)
    door_b, side_b = door_of(b.street)
    if not door_a or not door_b:
        return False
    if door_a != door_b and not _one_untyped_alike(door_a, door_b):
        return False
    if side_a and side_b and side_a != side_b:
        return False
    return not (a.unit and b.unit and a.unit != b.unit)


_COMPANY_BREAKS = re.compile(r"[\s,.&'()-]+")
# Remembered: a pure function of one string, and a store's records share few company names.
_COMPANIES: Memo[str] = Memo()


def normalize_company(raw: str | None) -> str:
    """Folded company name without legal suffixes or punctuation (``Acme, Inc.`` to ``acme``)."""
    text = raw or ""
    found = _COMPANIES.get(text)
    if found is not MISS:
        return found
    words = _COMPANY_BREAKS.split(fold(text))
    return _COMPANIES.put(
        text, " ".join(word for word in words if word and word not in _COMPANY_SUFFIXES)
    )


def _name_block_forms(token: str) -> frozenset[str]:
    """The forms a name token is blocked under: the formal name of an unambiguous nickname
    (``bob``: robert), every formal name and the nickname itself for an ambiguous one (``sam``:
    sam, samuel, samantha), so Sam Harrison meets Samuel Harrison."""
    canonical = canonical_first(token)
    return frozenset((canonical,)) if canonical != token else first_name_forms(token)


# ``_name_block_forms`` of every name the nickname table knows, worked out once. Any other
# token is no nickname, so its only form is itself (``_name_block_forms`` answers the same).
_TABLE_BLOCK_FORMS = {name: _name_block_forms(name) for name in NICKNAME_TABLE_NAMES}


# The table's names blocked under one form only, with that form (``bob``: robert).
_TABLE_ONE_FORM = {
    name: next(iter(forms)) for name, forms in _TABLE_BLOCK_FORMS.items() if len(forms) == 1
}


def _block_forms(token: str) -> frozenset[str]:
    """``_name_block_forms``, looked up: asked for both name tokens of every record indexed."""
    forms = _TABLE_BLOCK_FORMS.get(token)
    return frozenset((token,)) if forms is None else forms


def _one_form(token: str) -> str | None:
    """The only form in ``_block_forms(token)``, or ``None`` when it has several (``sam``)."""
    return token if token not in _TABLE_BLOCK_FORMS else _TABLE_ONE_FORM.get(token)


def name_keys(features: Features) -> set[str]:
    """Every order-free name pair this record is blocked and looked up under: nicknames
    resolved (``kenneth|katz``) and, for an ambiguous nickname, one per formal name it may
    stand for (``harrison|sam``, ``harrison|samuel``, ``harrison|samantha``)."""
    if not (features.first and features.last):
        return set()
    first, last = _one_form(features.first), _one_form(features.last)
    if first is not None and last is not None:  # most names: one pair, as below but quicker
        return {f"{first}|{last}" if first <= last else f"{last}|{first}"}
    return {
        "|".join(sorted((first, last)))
        for first in _block_forms(features.first)
        for last in _block_forms(features.last)
    }


def blocking_keys(features: Features) -> set[str]:
    """The values under which this record's candidates are looked up.

    Exact mailboxes, phones and cross-system references; long email local parts, with and
    without punctuation (a domain typo not in the typo table, the same name at work); the name
    pair **qualified** by a second fact that could make a same-name pair a match: the address
    (postcode and house), the company, or the digits of an email's local part (``jen.brown12``
    and a typo of it keep their digits), where the address and three or more digits need only
    the initials, so that a typo in a name does not hide the person. A record without a name
    stands in with the initials its mailbox may spell (``mailbox_initials``), so that
    ``diasdeborah28983@`` meets Deborah Dias at her door and ``ruid.1957@`` meets Rui Demir's
    ``rd1957@``; it only joins those initials' blocks, never a whole door's or number's. A
    bare name is no block: two records that share only a name never link, and at scale common
    names would make blocks of thousands (a name with only a postcode would too, in a big city;
    a bare door would in a block of flats, whose flat numbers are dropped). None of the keys is
    capped, so the candidate pairs do not depend on the order in which records arrive.
    """
    return blocking_and_name_keys(features)[0]


def blocking_and_name_keys(features: Features) -> tuple[set[str], set[str]]:
    """``blocking_keys`` and ``name_keys`` of one record, the name pairs worked out once."""
    keys = {f"e:{email}" for email in features.emails}
    keys |= {f"p:{phone}" for phone in features.phones}
    keys |= {f"x:{ref}" for ref in features.xrefs}
    if features.own:
        keys.add(f"x:{features.own}")
    names = name_keys(features)
    initials = _initials(features)
    nameless = not (features.first or features.last)
    if features.postcode:  # the same initials at the same door (a typo in a name allowed)
        house = untyped(door_of(features.street)[0] or features.street)  # ``12 main`` too
        door = initials
        if nameless:  # the initials its mailboxes may spell stand in for the name's
            door = {pair for email in features.emails for pair in mailbox_initials(email)}
        keys |= {f"a:{features.postcode}|{house}|{pair}" for pair in door}
    if features.company:
        keys |= {f"n:{pair}|c:{features.company}" for pair in names}
    for email in features.emails:
        own = mailbox_initials(email) if nameless else initials
        keys |= _email_keys(email.partition("@")[0], names, own)
    return keys, names


def _initials(features: Features) -> set[str]:
    """The order-free initials of the name (``kw`` for Kenneth Kwon; Bob Kwon: ``kr``)."""
    if not (features.first and features.last):
        return set()
    first, last = _one_form(features.first), _one_form(features.last)
    if first is not None and last is not None:  # most names: one pair, as below but quicker
        return {first[0] + last[0] if first[0] <= last[0] else last[0] + first[0]}
    return {
        "".join(sorted((first[0], last[0])))
        for first in _block_forms(features.first)
        for last in _block_forms(features.last)
    }


def mailbox_initials(email: str) -> set[str]:
    """The order-free initials a mailbox may spell a name with, for a record without a name:
    its first letter with the first letter of each later word (``jennifer_brown394``: ``bj``),
    or, when its letters are one word, with each later letter, since the second name may
    start anywhere (``diasdeborah``: ``di``, ``ad``, ``ds``, ``dd``... nine in all). A
    mailbox that spells its owner's name then meets the records with that name's initials at
    the same door or with the same digits, and its blocks stay those of the initials."""
    words = [word for word in re.split(r"[^a-z]+", email.partition("@")[0]) if word]
    if not words:
        return set()
    first = words[0][0]
    later = {word[0] for word in words[1:]} if len(words) > 1 else set(words[0][1:])
    return {"".join(sorted((first, letter))) for letter in later}


def _email_keys(local: str, names: set[str], initials: set[str]) -> set[str]:
    """Keys from an email's local part for mailboxes that are not the same: the local part at
    another domain, with or without its punctuation (``kenneth_kwon2282`` and
    ``kenneth.kwon2282``); its digits with the name pair or, when there are three digits or
    more, with the name's initials only (a typo in a name: ``oiisn collins``), or alone when
    there are five or more, not a placeholder run (``vossean25164`` from a record without a
    name; with three or four, such a record gives its mailbox's initials). A slip in the
    digits is not looked for: two Maria Garcias' numbers are often one slip apart."""
    keys = set()
    plain = "".join(ch for ch in local if ch.isalnum())
    # Equal local parts are equal without their punctuation too, so the plain form alone finds
    # every pair the two forms would (one index row fewer), and the local part as written
    # stands in only where the plain form is too short to block on.
    variant = plain if len(plain) >= _LOCAL_BLOCK_MIN else local
    if len(variant) >= _LOCAL_BLOCK_MIN:
        keys.add(f"l:{variant}")
    digits = "".join(ch for ch in local if ch.isdigit())
    if is_own_number(digits):
        keys.add(f"d:{digits}")
    elif len(digits) >= 3:
        keys |= {f"d:{digits}|{pair}" for pair in initials}
    elif digits:
        keys |= {f"n:{pair}|d:{digits}" for pair in names}
    return keys
