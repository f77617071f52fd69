"""The people behind the benchmark records: one ``Human`` per true person, a pure function of
(seed, index).

Phenomena drawn per person (their rates are the constants below): a nickname-able formal first
name, a very common name shared with other people (two different "John Smith"s), a second
email, a second phone, a move (an old address that some sources still hold), and membership of
a household: two consecutive indexes that share an address and, depending on the household's
kind, a landline, a family mailbox, or even the same name (Sr/Jr). Household members are
different people that the resolver must keep apart.

Numbers come from the demo's fictional ranges (``context_service.demo._phones``), allotted by
index, so two people never share a number by accident; a shared number is always a household's.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from context_service.demo import _data as data
from context_service.demo._phones import Phone, fictional_phone
from context_service.demo._util import DAY, slug, stream_key
from context_service.demo.people import Addr
from context_service.demo.people import _address as demo_address

# Salts of the random streams (see ``stream_key``).
_PERSON, _HOUSE, _HOME = 11, 12, 13

NOW = 1_795_176_000  # 2026-11-20T12:00:00Z: every timestamp is before it
HOUSEHOLD_RATE = 0.06  # share of index pairs (2k, 2k+1) that form a household
COMMON_NAME_RATE = 0.05
NICKNAME_NAME_RATE = 0.30  # chance to draw a first name that has nicknames
SECOND_EMAIL_RATE = 0.35
SECOND_PHONE_RATE = 0.20
PHONE_RATE = 0.75
MOVED_RATE = 0.15

COMMON_NAMES = (
    ("John", "Smith"),
    ("Maria", "Garcia"),
    ("Michael", "Johnson"),
    ("Jennifer", "Brown"),
    ("David", "Lee"),
    ("Robert", "Williams"),
    ("Elizabeth", "Jones"),
    ("James", "Miller"),
)

# Formal first name -> nicknames people write instead (some map to two formal names).
NICKNAMES: dict[str, tuple[str, ...]] = {
    "Robert": ("Bob", "Rob", "Bobby"),
    "William": ("Bill", "Will", "Billy"),
    "Elizabeth": ("Liz", "Beth", "Lizzie", "Betsy"),
    "James": ("Jim", "Jimmy"),
    "Michael": ("Mike",),
    "Thomas": ("Tom", "Tommy"),
    "Katherine": ("Kate", "Katie", "Kathy"),
    "Catherine": ("Cathy", "Cat"),
    "Daniel": ("Dan", "Danny"),
    "David": ("Dave",),
    "Joseph": ("Joe", "Joey"),
    "Samuel": ("Sam",),
    "Samantha": ("Sam", "Sammy"),
    "Alexander": ("Alex",),
    "Christopher": ("Chris",),
    "Christine": ("Chris", "Chrissy"),
    "Matthew": ("Matt",),
    "Nicholas": ("Nick",),
    "Anthony": ("Tony",),
    "Steven": ("Steve",),
    "Jennifer": ("Jen", "Jenny"),
    "Margaret": ("Peggy", "Maggie", "Meg"),
    "Richard": ("Rick", "Rich", "Dick"),
    "Edward": ("Ed", "Ted", "Eddie"),
    "Andrew": ("Andy", "Drew"),
    "Benjamin": ("Ben",),
    "Patrick": ("Pat",),
    "Patricia": ("Patty", "Trish"),
    "Rebecca": ("Becky",),
    "Susan": ("Sue", "Susie"),
    "Deborah": ("Deb", "Debbie"),
    "Timothy": ("Tim",),
    "Gregory": ("Greg",),
    "Kenneth": ("Ken",),
    "Charles": ("Charlie", "Chuck"),
    "Abigail": ("Abby",),
    "Victoria": ("Vicky", "Tori"),
}
_FORMAL = tuple(NICKNAMES)
PERSONAL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com")
_DOMAIN_WEIGHTS = (45, 15, 15, 15, 10)
_WORK_DOMAINS = tuple(f"{slug(word)}.example" for word in data.COMPANY_WORDS_A)

HOUSEHOLD_KINDS = ("address", "phone", "email", "same_name")
_HOUSEHOLD_WEIGHTS = (30, 40, 22, 8)


@dataclass(slots=True)
class Human:
    """One true person: their canonical identity, before any source writes it down."""

    index: int
    first: str
    last: str
    country: str
    created: int
    address: Addr
    emails: list[str]  # primary first
    phones: list[Phone]  # primary first; may be empty
    old_address: Addr | None = None  # set when they moved: some sources still hold this one
    household: int = 0  # household id (pair index + 1), 0 when alone
    household_kind: str = ""  # one of HOUSEHOLD_KINDS: what the members share besides address
    shared_email: str | None = None  # the family mailbox, for an "email" household
    landline: Phone | None = None  # the shared number, for "phone" and "same_name" households
    common_name: bool = False

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


class _Home:
    """What the two members of a household share, drawn from the pair's own stream."""

    __slots__ = ("address", "country", "email", "first", "kind", "landline", "last")

    def __init__(self, seed: int, pair: int) -> None:
        rng = random.Random(stream_key(seed, _HOME, pair))
        self.country = "CA" if pair % 12 == 5 else "US"
        self.address = demo_address(rng, self.country)
        self.kind = rng.choices(HOUSEHOLD_KINDS, weights=_HOUSEHOLD_WEIGHTS)[0]
        self.last = rng.choice(data.LAST_NAMES)
        self.first = rng.choice(_FORMAL + data.FIRST_NAMES[:60])
        self.landline = us_phone(3 * (2 * pair) + 2)
        domain = rng.choices(PERSONAL_DOMAINS, weights=_DOMAIN_WEIGHTS)[0]
        self.email = f"the{slug(self.last)}s{pair}@{domain}"


def us_phone(slot: int) -> Phone:
    """The ``slot``-th fictional North American number (the ranges hold about 2.3 million)."""
    phone = fictional_phone("US", slot)
    if phone is None:
        raise ValueError(f"fictional phone ranges exhausted at slot {slot}: too many records")
    return phone


def is_household(seed: int, pair: int) -> bool:
    """Whether index pair ``pair`` (indexes 2*pair and 2*pair+1) is a household."""
    return stream_key(seed, _HOUSE, pair) % 10_000 < HOUSEHOLD_RATE * 10_000


def _country(index: int) -> str:
    return {0: "GB", 1: "CA"}.get(index % 25, "US")


def _primary_phone(country: str, index: int) -> Phone:
    """A number of the person's country when its fictional range has room, else a US one."""
    if country != "US":
        phone = fictional_phone(country, index // 25)
        if phone is not None:
            return phone
    return us_phone(3 * index)


def email_local(rng: random.Random, first: str, last: str, number: int) -> str:
    """A unique local part: every pattern ends with the person's own number."""
    f, la = slug(first) or "x", slug(last) or "x"
    pattern = rng.randrange(5)
    if pattern == 0:
        return f"{f}.{la}{number}"
    if pattern == 1:
        return f"{f[0]}{la}{number}"
    if pattern == 2:
        return f"{f}{la[0]}.{number}"
    if pattern == 3:
        return f"{f}_{la}{number}"
    return f"{la}.{f}{number}"


def _names(rng: random.Random) -> tuple[str, str, bool]:
    """(first, last, common): a common colliding name, a nickname-able one, or any."""
    if rng.random() < COMMON_NAME_RATE:
        first, last = rng.choice(COMMON_NAMES)
        return first, last, True
    pool = _FORMAL if rng.random() < NICKNAME_NAME_RATE else data.FIRST_NAMES
    return rng.choice(pool), rng.choice(data.LAST_NAMES), False


def _emails(rng: random.Random, first: str, last: str, index: int) -> list[str]:
    domain = rng.choices(PERSONAL_DOMAINS, weights=_DOMAIN_WEIGHTS)[0]
    emails = [f"{email_local(rng, first, last, index)}@{domain}"]
    if rng.random() < SECOND_EMAIL_RATE:
        work = rng.choice(_WORK_DOMAINS)
        emails.append(f"{slug(first)}.{slug(last)}{index}@{work}")
    return emails


def _phones(rng: random.Random, country: str, index: int) -> list[Phone]:
    phones = [_primary_phone(country, index)] if rng.random() < PHONE_RATE else []
    if rng.random() < SECOND_PHONE_RATE:
        phones.append(us_phone(3 * index + 1))
    return phones


def _join_household(rng: random.Random, h: Human, home: _Home, member: int) -> None:
    """Make ``h`` member ``member`` (0 or 1) of ``home``: shared address and more."""
    h.household = h.index // 2 + 1
    h.household_kind = home.kind
    h.country, h.address, h.old_address = home.country, home.address, None
    h.common_name = False
    if home.kind == "same_name":  # Sr and Jr: same name, same landline, same address
        h.first, h.last = home.first, home.last
    else:
        if rng.random() < 0.7:
            h.last = home.last
        if member == 1 and h.first == home.first:
            # A nickname-able or common first name is not in FIRST_NAMES: take its first entry.
            names = data.FIRST_NAMES
            position = names.index(home.first) if home.first in names else -1
            h.first = names[(position + 1) % 60]
        elif member == 0:
            h.first = home.first
    if home.kind in ("phone", "same_name"):
        h.landline = home.landline
    if home.kind == "email":
        h.shared_email = home.email


def make_human(seed: int, index: int) -> Human:
    """The ``index``-th true person of the population drawn with ``seed``."""
    rng = random.Random(stream_key(seed, _PERSON, index))
    first, last, common = _names(rng)
    country = _country(index)
    address = demo_address(rng, country)
    age = DAY * (20 + int(1400 * rng.random() ** 1.7)) + rng.randrange(DAY)
    h = Human(index, first, last, country, NOW - age, address, [], [], common_name=common)
    if rng.random() < MOVED_RATE:
        h.old_address = demo_address(rng, country)
    if is_household(seed, index // 2):
        _join_household(rng, h, _Home(seed, index // 2), index & 1)
    h.emails = _emails(rng, h.first, h.last, index)
    h.phones = _phones(rng, h.country, index)
    return h


def person_stream(seed: int, index: int) -> random.Random:
    """A second stream for ``index``: how the sources wrote this person down."""
    return random.Random(stream_key(seed, _PERSON, index) ^ 0x5EED)
