"""How each source wrote one person down: a ``View`` per (person, source record).

A view holds the values as the source has them (a nickname, a typo, another email, a phone in
another format, an old address, nothing at all) plus its truth: ``tags`` name the phenomena on
this record and ``keys`` the exact identifiers it carries (``e0``/``e1`` the person's first and
second email, ``eh`` a household's family mailbox, ``p0``/``p1``/``pl`` their phones and the
household landline, ``x:<source>`` an explicit link to their record in ``<source>``). Two views
of one person that share a key are linkable by an exact rule; the breakdown in ``report`` uses
that to tell hard misses from easy ones.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from bench.identity.population import NICKNAMES, Human
from context_service.demo._phones import STYLES, Phone, render
from context_service.demo.people import Addr

SOURCES = ("shopify", "stripe", "hubspot", "zendesk")
_PRESENCE = {"shopify": 0.6, "stripe": 0.45, "hubspot": 0.5, "zendesk": 0.4}
_DUPLICATE = {"shopify": 0.03, "hubspot": 0.02}
_NO_NAME = {"shopify": 0.05, "stripe": 0.08, "hubspot": 0.05, "zendesk": 0.0}
_NO_EMAIL = {"shopify": 0.04, "stripe": 0.03, "hubspot": 0.05, "zendesk": 0.12}
_PHONE = {"shopify": 0.45, "stripe": 0.4, "hubspot": 0.6, "zendesk": 0.35}
_ADDRESS = {"shopify": 0.85, "stripe": 0.4, "hubspot": 0.5, "zendesk": 0.0}
_WORK_FIRST = {"shopify": 0.15, "stripe": 0.15, "hubspot": 0.55, "zendesk": 0.5}
NICKNAME_RATE = 0.4
NAME_TYPO_RATE = 0.05
EMAIL_TYPO_RATE = 0.04
EMAIL_CASE_RATE = 0.08
FAMILY_EMAIL_RATE = 0.6
LANDLINE_RATE = 0.6
STALE_ADDRESS_RATE = 0.5
_DOMAIN_TYPOS = {
    "gmail.com": ("gmial.com", "gmail.con", "gmai.com", "gamil.com"),
    "yahoo.com": ("yaho.com", "yahoo.co", "yhaoo.com"),
    "outlook.com": ("outlok.com", "outlook.co"),
    "hotmail.com": ("hotmial.com", "hotmail.co", "hotmal.com"),
    "icloud.com": ("iclod.com", "icloud.co"),
}


@dataclass(slots=True)
class View:
    """One source record of a person: the values as written, and its truth."""

    source: str
    dup: int  # 0, or 1 for a person's second record in the same source
    first: str | None = None
    last: str | None = None
    emails: list[str] = field(default_factory=list)  # as written; primary first
    phone: str | None = None  # as written
    mobile: str | None = None  # HubSpot ``mobilephone``; Shopify's default address phone
    address: Addr | None = None
    links: dict[str, int] = field(default_factory=dict)  # source -> dup it names
    tags: set[str] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)

    @property
    def name(self) -> str | None:
        parts = [part for part in (self.first, self.last) if part]
        return " ".join(parts) or None


def typo(rng: random.Random, word: str) -> str:
    """``word`` with one keyboard slip: two letters swapped, one dropped or one doubled."""
    if len(word) < 3:
        return word + word[-1]
    i = rng.randrange(1, len(word) - 1)
    slip = rng.randrange(3)
    if slip == 0 and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if slip == 1:
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


def email_typo(rng: random.Random, email: str) -> str:
    """A mistyped address: a known domain slip (``gmial.com``) or a slip in the local part."""
    local, _, domain = email.partition("@")
    if domain in _DOMAIN_TYPOS and rng.random() < 0.6:
        return f"{local}@{rng.choice(_DOMAIN_TYPOS[domain])}"
    return f"{typo(rng, local)}@{domain}"


def case_variant(rng: random.Random, email: str) -> str:
    """The same address as someone typed it: capitalized, upper-cased or with a stray space."""
    roll = rng.random()
    if roll < 0.6:
        local, _, domain = email.partition("@")
        return ".".join(part.capitalize() for part in local.split(".")) + "@" + domain.title()
    return email + " " if roll < 0.85 else email.upper()


def _name(rng: random.Random, h: Human, v: View) -> None:
    if rng.random() < _NO_NAME[v.source]:
        v.tags.add("no_name")
        return
    first, last = h.first, h.last
    if first in NICKNAMES and rng.random() < NICKNAME_RATE:
        first = rng.choice(NICKNAMES[first])
        v.tags.add("nickname")
    if rng.random() < NAME_TYPO_RATE:
        if rng.random() < 0.5:
            first = typo(rng, first)
        else:
            last = typo(rng, last)
        v.tags.add("name_typo")
    v.first, v.last = first, last


def _chosen_email(rng: random.Random, h: Human, v: View) -> tuple[str, str]:
    """(email, key): family mailbox, second (work) address or the primary one."""
    if h.shared_email and rng.random() < FAMILY_EMAIL_RATE:
        v.tags.add("family_email")
        return h.shared_email, "eh"
    if len(h.emails) > 1 and rng.random() < _WORK_FIRST[v.source]:
        v.tags.add("alt_email")
        return h.emails[1], "e1"
    return h.emails[0], "e0"


def _email(rng: random.Random, h: Human, v: View) -> None:
    if rng.random() < _NO_EMAIL[v.source]:
        v.tags.add("no_email")
        return
    email, key = _chosen_email(rng, h, v)
    roll = rng.random()
    if roll < EMAIL_TYPO_RATE:
        email = email_typo(rng, email)
        v.tags.add("email_typo")
    else:
        v.keys.add(key)
        if roll < EMAIL_TYPO_RATE + EMAIL_CASE_RATE:
            email = case_variant(rng, email)
            v.tags.add("email_case")
    v.emails.append(email)
    if v.source == "hubspot" and len(h.emails) > 1 and rng.random() < 0.3:
        other = 1 if key != "e1" else 0
        v.emails.append(h.emails[other])
        v.keys.add(f"e{other}")
        v.tags.add("additional_emails")


def _written(rng: random.Random, phone: Phone, key: str, v: View, styles: tuple[str, ...]) -> str:
    """``phone`` in one of ``styles``; its key only when it reads back as the same number."""
    style = rng.choice(styles)
    if style not in ("e164", "intl"):
        v.tags.add("phone_format")
    if phone.country_code == "1" or style in ("e164", "intl"):
        v.keys.add(key)
    else:
        v.tags.add("foreign_national")  # a UK national number read in the US region
    return render(phone, style)


def _chosen_phone(rng: random.Random, h: Human, v: View) -> tuple[Phone, str] | None:
    if h.landline is not None and rng.random() < LANDLINE_RATE:
        v.tags.add("shared_phone")
        return h.landline, "pl"
    if not h.phones:
        return None
    if len(h.phones) > 1 and rng.random() < 0.4:
        v.tags.add("alt_phone")
        return h.phones[1], "p1"
    return h.phones[0], "p0"


def _phone(rng: random.Random, h: Human, v: View) -> None:
    need = not v.emails  # someone with no email is known by phone
    if not need and rng.random() >= _PHONE[v.source]:
        return
    chosen = _chosen_phone(rng, h, v)
    if chosen is None:
        if need:
            v.tags.add("no_identifier")
        return
    phone, key = chosen
    if v.source == "shopify":  # unique E.164 on the customer; free text on the address
        if key == "pl" or rng.random() < 0.5:
            v.mobile = _written(rng, phone, key, v, STYLES)
        else:
            v.phone = _written(rng, phone, key, v, ("e164",))
    elif v.source == "hubspot" and rng.random() < 0.3:
        v.mobile = _written(rng, phone, key, v, STYLES)
    else:
        v.phone = _written(rng, phone, key, v, STYLES)


def _address(rng: random.Random, h: Human, v: View) -> None:
    if rng.random() >= _ADDRESS[v.source]:
        return
    v.address = h.address
    if h.old_address is not None and rng.random() < STALE_ADDRESS_RATE:
        v.address = h.old_address
        v.tags.add("old_address")


def _view(rng: random.Random, h: Human, source: str, dup: int) -> View:
    v = View(source, dup)
    if h.common_name:
        v.tags.add("common_name")
    if dup:
        v.tags.add("duplicate")
    _name(rng, h, v)
    _email(rng, h, v)
    _phone(rng, h, v)
    _address(rng, h, v)
    return v


def _present(rng: random.Random) -> list[str]:
    present = [source for source in SOURCES if rng.random() < _PRESENCE[source]]
    return present or [rng.choice(SOURCES)]


def _link(rng: random.Random, views: list[View], frm: str, to: str, rate: float) -> None:
    """With probability ``rate``, ``frm``'s record names ``to``'s record by its id."""
    have = {v.source: v for v in views if v.dup == 0}
    if frm in have and to in have and rng.random() < rate:
        have[frm].links[to] = 0
        have[frm].keys.add(f"x:{to}")
        have[frm].tags.add("link")


def views_of(rng: random.Random, h: Human) -> list[View]:
    """Every source record of ``h``, in source order (a duplicate right after its first)."""
    views: list[View] = []
    for source in _present(rng):
        views.append(_view(rng, h, source, 0))
        if rng.random() < _DUPLICATE.get(source, 0.0):
            views.append(_view(rng, h, source, 1))
    _link(rng, views, "stripe", "shopify", 0.10)
    _link(rng, views, "hubspot", "stripe", 0.08)
    _link(rng, views, "hubspot", "shopify", 0.05)
    _link(rng, views, "zendesk", "shopify", 0.05)
    return views
