"""The people behind the demo records, and how each source ended up writing them down.

A ``Person`` is one real (synthetic) human. Each source has its own, slightly different, view of
them: another email case, a phone in another format, a name without its accents, no email at
all. Those per-source values are decided here, once, so that the vendor builders only copy them
into vendor shapes. ``make_person`` is a pure function of (seed, index): the generator calls it
once for the person-like records and again for the activities, so nothing has to be kept.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import NamedTuple

from context_service.demo import _data as data
from context_service.demo._phones import STYLES, Phone, fictional_phone, render
from context_service.demo._util import DAY, fold, slug, stream_key

SYNTHETIC_BASE = 100  # global index of the first synthetic person; personas use 1..99
PERSONA_COMPANIES = 1  # company key 0 belongs to the personas (see personas.py)
GENERIC_COMPANIES = 8  # companies whose shared mailbox several contacts use
GENERIC_MAILBOXES = ("info", "support", "office")
PLACEHOLDER_EMAIL = "test@test.com"
PLACEHOLDER_PHONE = "0000000000"
# Source presence (drawn independently, then anyone in no source is put into one).
_PRESENCE = (0.57, 0.42, 0.47, 0.37)  # shopify, stripe, hubspot, zendesk
_COUNTRY_BY_SLOT = ("US",) * 15 + ("GB", "GB", "CA", "AU", "DE")
_LIFECYCLE = ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity")
_PERSONA_NAMES = frozenset(
    {("Maya", "Patel"), ("Tomás", "García"), ("Ana", "Silva"), ("Bruno", "Costa"), ("Lee", "Wong")}
)


class Addr(NamedTuple):
    """A postal address in Shopify's field names."""

    address1: str
    address2: str | None
    city: str
    province: str | None
    province_code: str | None
    zip: str
    country: str
    country_code: str


class Company(NamedTuple):
    """A customer's employer: a HubSpot company and (two in three) a Zendesk organization."""

    key: int
    name: str
    domain: str
    industry: str
    mailbox: str | None  # a shared address like info@<domain>, for a few companies

    @property
    def has_organization(self) -> bool:
        return self.key % 3 != 2


@dataclass(slots=True)
class Person:
    """One human and what each source holds about them (``None`` where a source has nothing)."""

    g: int  # global index: ids derive from it
    first: str
    last: str
    country: str
    created: int
    address: Addr | None = None
    company: Company | None = None
    phone: Phone | None = None
    household: int = 0  # 1 or 2 for the two members of a household sharing address and landline
    junk: bool = False
    shopify: bool = False
    shopify_email: str | None = None
    shopify_first: str | None = None
    shopify_last: str | None = None
    shopify_phone: str | None = None  # E.164, as Shopify stores it
    address_phone: str | None = None  # free text on the default address
    shopify_tags: str = ""
    stripe: bool = False
    stripe_email: str | None = None
    stripe_name: str | None = None
    stripe_phone: str | None = None
    stripe_address: bool = False
    stripe_metadata: dict[str, str] = field(default_factory=dict)
    hubspot: bool = False
    hubspot_email: str | None = None
    hubspot_first: str | None = None
    hubspot_last: str | None = None
    hubspot_phone: str | None = None
    hubspot_mobile: str | None = None
    hubspot_address: bool = False
    hubspot_additional_emails: str | None = None
    lifecycle: str = "lead"
    owner: int | None = None  # index into the HubSpot owners
    archived: bool = False
    zendesk: bool = False
    zendesk_email: str | None = None
    zendesk_name: str | None = None
    zendesk_phone: str | None = None
    external_id: str | None = None

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


def company_count(customers: int) -> int:
    """How many synthetic companies a population of ``customers`` works for."""
    return max(GENERIC_COMPANIES * 2, customers // 20)


def synthetic_company(key: int) -> Company:
    """The synthetic company with ``key`` (>= ``PERSONA_COMPANIES``); names never repeat."""
    k = key - PERSONA_COMPANIES
    words_a, words_b = data.COMPANY_WORDS_A, data.COMPANY_WORDS_B
    first, second = words_a[k % len(words_a)], words_b[(k // len(words_a)) % len(words_b)]
    lap = k // (len(words_a) * len(words_b))
    suffixes = ("", " Co.", " LLC", " Inc.", " Group", " & Partners", " Ltd", " GmbH")
    suffix = suffixes[lap % len(suffixes)] + (f" {lap // len(suffixes) + 1}" if lap >= 8 else "")
    name = f"{first} {second}{suffix}"
    mailbox = None
    if k < GENERIC_COMPANIES:
        mailbox = f"{GENERIC_MAILBOXES[k % 3]}@{slug(name)}.example"
    industry = data.INDUSTRIES[k * 7 % len(data.INDUSTRIES)]
    return Company(key, name, f"{slug(name)}.example", industry, mailbox)


def _address(rng: random.Random, country: str) -> Addr:
    number = rng.randint(2, 2999)
    unit = rng.choice(data.UNITS) if rng.random() < 0.25 else None
    street = rng.choice(data.STREET_NAMES)
    if country in ("US", "CA"):
        cities = data.US_CITIES if country == "US" else data.CA_CITIES
        city, province, code, prefix = rng.choice(cities)
        line = f"{number} {street} {rng.choice(data.US_STREET_SUFFIXES)}"
        postcode = f"{prefix}{rng.randint(0, 99):02d}" if country == "US" else prefix
        if country == "CA":
            postcode += f" {rng.randint(1, 9)}{chr(65 + rng.randint(0, 25))}{rng.randint(1, 9)}"
        name = "United States" if country == "US" else "Canada"
        return Addr(line, unit, city, province, code, postcode, name, country)
    if country == "GB":
        city, district = rng.choice(data.GB_CITIES)
        tail = f"{rng.randint(1, 9)}{chr(65 + rng.randint(0, 25))}{chr(65 + rng.randint(0, 25))}"
        line = f"{number % 200 + 1} {street} {rng.choice(data.UK_STREET_SUFFIXES)}"
        return Addr(line, unit, city, None, None, f"{district} {tail}", "United Kingdom", "GB")
    if country == "AU":
        city, state, code, prefix = rng.choice(data.AU_CITIES)
        line = f"{number % 400 + 1} {street} {rng.choice(data.US_STREET_SUFFIXES)}"
        return Addr(
            line, unit, city, state, code, f"{prefix}{rng.randint(0, 99):02d}", "Australia", "AU"
        )
    city, prefix = rng.choice(data.DE_CITIES)
    line = f"{rng.choice(data.DE_STREETS)} {number % 150 + 1}"
    return Addr(line, None, city, None, None, f"{prefix}{rng.randint(100, 999)}", "Germany", "DE")


def _email(rng: random.Random, first: str, last: str, number: int, domain: str) -> str:
    """A unique address: every pattern ends the local part with the person's own number."""
    f, la = slug(first) or "x", slug(last) or "x"
    pattern = rng.randrange(5)
    if pattern == 0:
        local = f"{f}.{la}{number}"
    elif pattern == 1:
        local = f"{f[0]}{la}{number}"
    elif pattern == 2:
        local = f"{f}{la[0]}.{number}"
    elif pattern == 3:
        local = f"{f}_{la}{number}"
    else:
        local = f"{la}.{f}{number}"
    return f"{local}@{domain}"


def _case_variant(rng: random.Random, email: str) -> str:
    """``john.smith@example.com`` -> ``John.Smith@Example.com`` or with stray whitespace."""
    roll = rng.random()
    if roll < 0.6:
        local, _, domain = email.partition("@")
        capitalized = ".".join(part.capitalize() for part in local.split("."))
        return f"{capitalized}@{domain[:1].upper()}{domain[1:]}"
    return email + " " if roll < 0.85 else email.upper()


class Streams:
    """The two random streams a person is drawn from (reseeded per person, reused objects)."""

    __slots__ = ("location", "person")

    def __init__(self) -> None:
        self.person = random.Random()
        self.location = random.Random()


def _sources(rng: random.Random) -> list[bool]:
    present = [rng.random() < p for p in _PRESENCE]
    if not any(present):
        present[rng.choices(range(4), weights=_PRESENCE)[0]] = True
    return present


def make_person(
    streams: Streams, seed: int, index: int, customers: int, now: int
) -> tuple[Person, random.Random]:
    """The ``index``-th synthetic person, and their random stream positioned after the draw."""
    rng, loc = streams.person, streams.location
    rng.seed(stream_key(seed, 1, index))
    household = stream_key(seed, 2, index // 2) % 1000 < 15
    home = index - (index & 1) if household else index
    loc.seed(stream_key(seed, 3, home))
    country = _COUNTRY_BY_SLOT[home % 20]
    sub = (home // 20) * 15 + home % 20 if country == "US" else (home // 20) * 2 + home % 20 - 15
    family = loc.choice(data.LAST_NAMES)
    address = _address(loc, country)
    # The two members of a household never share a first name.
    first = (
        loc.sample(data.FIRST_NAMES, 2)[index & 1] if household else rng.choice(data.FIRST_NAMES)
    )
    last = family if home == index or rng.random() < 0.6 else rng.choice(data.LAST_NAMES)
    if (first, last) in _PERSONA_NAMES:
        first = data.FIRST_NAMES[(data.FIRST_NAMES.index(first) + 1) % len(data.FIRST_NAMES)]
    age = DAY * (20 + int(1400 * rng.random() ** 1.7)) + rng.randrange(DAY)
    person = Person(SYNTHETIC_BASE + index, first, last, country, now - age, address)
    person.household = (1 + (index & 1)) if household else 0
    has_phone = household or rng.random() < 0.7
    if has_phone:
        person.phone = fictional_phone(country, sub if country in ("US", "GB") else home // 20)
    if rng.random() < 0.005:
        _junk(rng, person)
        return person, rng
    if rng.random() < 0.42:
        key = PERSONA_COMPANIES + rng.randrange(company_count(customers))
        person.company = synthetic_company(key)
    _fill_sources(rng, person, index)
    return person, rng


class _Draft:
    """What one person's per-source records are drawn from."""

    __slots__ = ("always", "folded", "mailbox", "personal", "phone", "plain", "rng", "work")

    def __init__(self, rng: random.Random, p: Person, index: int) -> None:
        self.rng, self.phone = rng, p.phone
        self.personal = _email(rng, p.first, p.last, index, rng.choice(data.PERSONAL_DOMAINS))
        self.work: str | None = None
        self.mailbox: str | None = None
        if p.company is not None and rng.random() < 0.08:  # uses a shared mailbox somewhere
            p.company = synthetic_company(PERSONA_COMPANIES + rng.randrange(GENERIC_COMPANIES))
            self.mailbox = p.company.mailbox
        if p.phone is not None and p.company is not None and rng.random() < 0.27:
            self.work = _email(rng, p.first, p.last, index, p.company.domain)
        self.always = self.work is not None  # two emails: the phone is what links them
        # One source may keep the name without its accents (typed on a US keyboard).
        accented = not (p.first.isascii() and p.last.isascii())
        self.folded = rng.randrange(3) if accented and rng.random() < 0.6 else -1
        self.plain = f"{fold(p.first)} {fold(p.last)}" if accented else p.name

    def written(self, chance: float, styles: tuple[str, ...] = STYLES) -> str | None:
        """The phone in one of ``styles``, present with probability ``chance``."""
        if self.phone is None or not (self.always or self.rng.random() < chance):
            return None
        return render(self.phone, self.rng.choice(styles))


def _fill_sources(rng: random.Random, p: Person, index: int) -> None:
    p.shopify, p.stripe, p.hubspot, p.zendesk = _sources(rng)
    d = _Draft(rng, p, index)
    if d.work is not None:  # make sure both addresses are in use
        p.hubspot = p.hubspot or not p.zendesk
        p.shopify = p.shopify or not p.stripe
    if p.shopify:
        p.shopify_email, p.shopify_first, p.shopify_last = d.personal, p.first, p.last
        # Shopify keeps customer phones unique: only one household member can have the landline.
        p.shopify_phone = d.written(0.45, ("e164",)) if p.household != 2 else None
        p.address_phone = d.written(0.5)
        p.shopify_tags = rng.choice(("", "", "", "newsletter", "vip", "wholesale", "returning"))
    if p.stripe:
        _fill_stripe(d, p)
    if p.hubspot:
        _fill_hubspot(d, p, index)
    if p.zendesk:
        no_email = d.phone is not None and not d.always and rng.random() < 0.15
        p.zendesk_email = None if no_email else (d.work or d.personal)
        name = d.plain if d.folded == 2 else p.name
        p.zendesk_name = name.lower() if rng.random() < 0.05 else name
        p.zendesk_phone = d.written(1.0 if no_email else 0.3)
    if p.shopify and p.stripe and rng.random() < 0.2:
        p.stripe_metadata["shopify_customer_id"] = str(shopify_customer_id(p.g))
    if p.shopify and p.zendesk and rng.random() < 0.05:
        p.external_id = f"shopify:{shopify_customer_id(p.g)}"


def _fill_stripe(d: _Draft, p: Person) -> None:
    rng = d.rng
    p.stripe_email = d.personal if rng.random() > 0.08 else _case_variant(rng, d.personal)
    p.stripe_email = d.mailbox or p.stripe_email
    p.stripe_name = None if rng.random() < 0.08 else (d.plain if d.folded == 0 else p.name)
    p.stripe_phone = d.written(0.35)
    p.stripe_address = rng.random() < 0.4
    if p.company is not None and rng.random() < 0.3:
        p.stripe_metadata["company"] = p.company.name


def _fill_hubspot(d: _Draft, p: Person, index: int) -> None:
    rng = d.rng
    email = d.work or d.personal
    p.hubspot_email = email if rng.random() > 0.15 else _case_variant(rng, email)
    p.hubspot_email = d.mailbox or p.hubspot_email
    names = (fold(p.first), fold(p.last)) if d.folded == 1 else (p.first, p.last)
    p.hubspot_first, p.hubspot_last = names
    p.hubspot_phone = d.written(0.6)
    p.hubspot_mobile = d.written(0.1, ("intl", "e164")) if p.hubspot_phone is None else None
    p.hubspot_address = rng.random() < 0.5
    p.archived = rng.random() < 0.01
    p.owner = rng.randrange(6) if rng.random() < 0.7 else None
    p.lifecycle = _lifecycle(rng, p)
    if rng.random() < 0.02:
        p.hubspot_additional_emails = f"{slug(p.first)}.{slug(p.last)}.{index}@old.example"


def _lifecycle(rng: random.Random, p: Person) -> str:
    if p.shopify or p.stripe:
        return "evangelist" if rng.random() < 0.05 else "customer"
    return rng.choice(_LIFECYCLE)


def _junk(rng: random.Random, p: Person) -> None:
    """A junk record (a test signup, a POS placeholder) in one source only, no activities."""
    p.junk = True
    p.first, p.last = rng.choice((("Test", "Test"), ("Test", "User"), ("asdf", "asdf")))
    source = rng.randrange(4)
    if source == 0:
        p.shopify, p.shopify_email = True, f"test{p.g}@example.com"
        p.shopify_first, p.shopify_last, p.address_phone = p.first, p.last, PLACEHOLDER_PHONE
    elif source == 1:
        p.stripe, p.stripe_email, p.stripe_name = True, PLACEHOLDER_EMAIL, p.name
        p.stripe_phone = PLACEHOLDER_PHONE
    elif source == 2:
        p.hubspot, p.hubspot_email = True, PLACEHOLDER_EMAIL
        p.hubspot_first, p.hubspot_last, p.hubspot_phone = p.first, p.last, PLACEHOLDER_PHONE
    else:
        p.zendesk, p.zendesk_name, p.zendesk_phone = True, p.name, PLACEHOLDER_PHONE


# ---- ids: pure functions of the global index, so both passes agree without bookkeeping ----


def shopify_customer_id(g: int) -> int:
    return 6_270_000_000_000 + g * 10 + g * 7 % 10


def hubspot_contact_id(g: int) -> str:
    return str(101 + g * 3 + g % 3)


def zendesk_user_id(g: int) -> int:
    return 380_000_000_000 + g * 10 + g * 3 % 10


def source_created(p: Person, source: str) -> int:
    """When ``source`` first saw ``p``: the CRM earliest, billing and helpdesk a little later."""
    g = p.g
    if source == "hubspot":
        return p.created - g * 104_729 % 90 * DAY - g % 7919
    if source == "stripe":
        return p.created + g * 7919 % 20 * DAY + g % 3571
    if source == "zendesk":
        return p.created + g * 1_299_709 % 15 * DAY + g % 4001
    return p.created


def hubspot_company_id(key: int) -> str:
    return str(9_400_000_100 + key * 17)


def zendesk_organization_id(key: int) -> int:
    return 360_000_100_000 + key * 11
