"""Find a customer from whatever they typed into a chat: a name, an order number, a phone...

``search`` gathers the profiles any given detail points at (an email, a phone, a name, an order
or invoice number, a ticket id), then scores each one with the same Fellegi-Sunter model that
links records: the details are compared, field by field, with the profile's member records
(the best-matching member counts), and owning the quoted order, invoice or ticket is strong
evidence (quoting one that belongs to someone else counts against). The result is every
candidate with its match probability and per-field evidence, best first.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Protocol

import msgspec

from context_service.errors import InvalidIdentifier
from context_service.identity.compare import (
    FIELD_NAMES,
    NULL,
    Levels,
    compare,
    middle_names_conflict,
)
from context_service.identity.features import Features, blocking_keys, name_keys, second_given
from context_service.identity.full_name import agrees_as_name, people_of, with_parts
from context_service.identity.model import MatchModel, probability_of
from context_service.identity.normalize import (
    is_merge_email,
    is_merge_phone,
    is_placeholder_email,
    is_placeholder_phone,
    mailbox_key,
    name_tokens,
    name_tokens_and_suffix,
    normalize_email,
    normalize_phone,
)
from context_service.store import activities, profiles

# Weight (log2 odds) of owning the order, invoice or ticket the customer quoted: such numbers
# are unique within a shop, so this outweighs the prior of a large store on its own.
ACTIVITY_WEIGHT = 30.0
ACTIVITY_AGAINST = -3.0
# Weight of sharing a mailbox or line that never links records (``info@``, a switchboard): a
# handful of people use it, so it is evidence, but only a name on top makes it enough.
SHARED_CONTACT_WEIGHT = 14.0
SHARED_CONTACT = "held by several customers"  # the evidence word of such a contact
_decode = msgspec.msgpack.Decoder(Features).decode


class PartialIdentity(msgspec.Struct, kw_only=True, frozen=True):
    """What a customer said about themselves; any mix, all optional."""

    email: str | None = None
    phone: str | None = None
    name: str | None = None
    order_number: str | None = None
    ticket_id: str | None = None
    invoice_number: str | None = None

    def is_empty(self) -> bool:
        """Whether nothing usable was given."""
        return not any(msgspec.structs.astuple(self))


class Details(Protocol):
    """Whatever a caller was given: an API body or a tool's arguments."""

    email: str | None
    phone: str | None
    name: str | None
    order_number: str | None
    ticket_id: str | None
    invoice_number: str | None


def partial_identity(details: Details, *, contacts_mix: bool = True) -> PartialIdentity | None:
    """The details as a partial identity when they call for a scored search: a name, order
    number, ticket id or invoice number always does; an email together with a phone only where
    ``contacts_mix`` allows it (else two contacts are two exact lookups that must agree)."""
    extra = (details.name, details.order_number, details.ticket_id, details.invoice_number)
    both_contacts = bool(details.email and details.phone)
    if not any(extra) and not (contacts_mix and both_contacts):
        return None
    return PartialIdentity(
        email=details.email,
        phone=details.phone,
        name=details.name,
        order_number=details.order_number,
        ticket_id=details.ticket_id,
        invoice_number=details.invoice_number,
    )


class Candidate(msgspec.Struct, frozen=True):
    """One profile the details may describe, how likely, and why."""

    profile_id: str
    probability: float
    evidence: dict[str, str]


def search(
    conn: sqlite3.Connection, query: PartialIdentity, model: MatchModel, region: str
) -> list[Candidate]:
    """Every profile the details point at, scored, most likely first."""
    _check_details(query, region)
    readings = _readings(query, region)
    wanted = readings[0].features
    owned = _activity_owners(conn, query)
    owned.update(_weak_contacts(conn, query, wanted, region))
    found = set().union(*owned.values()) if owned else set()
    for reading in readings:
        found |= _profiles_by_features(conn, reading.features)
    given_name = name_tokens(None, None, query.name) if query.name else ()
    scored = [_score(conn, pid, readings, owned, model, given_name) for pid in sorted(found)]
    return sorted(scored, key=lambda c: (-c.probability, c.profile_id))


def _check_details(query: PartialIdentity, region: str) -> None:
    """Refuse a detail that cannot be read (400, as ``GET /v1/context`` does for an email or a
    phone), rather than search on the others as if it had been used: an invalid email or
    phone, a name with no name in it (blank, or a title alone), a blank number."""
    if query.name is not None and not name_tokens(None, None, query.name):
        raise InvalidIdentifier(f"name '{query.name}' holds no name")
    for field in ("order_number", "ticket_id", "invoice_number"):
        value = getattr(query, field)
        if value is not None and not value.strip().lstrip("#").strip():
            raise InvalidIdentifier(f"{field} '{value}' is blank")
    email = normalize_email(query.email) if query.email else None
    if query.email and email is None:
        raise InvalidIdentifier(f"email '{query.email}' is not a valid email address")
    phone = normalize_phone(query.phone, region) if query.phone else None
    if query.phone and phone is None:
        raise InvalidIdentifier(
            f"phone '{query.phone}' is not a valid phone number (give the country code)"
        )
    # A placeholder names no one, beside other details as alone (``lookup.by_email``).
    if (email and is_placeholder_email(email)) or (phone and is_placeholder_phone(phone)):
        value = query.email if email and is_placeholder_email(email) else query.phone
        raise InvalidIdentifier(
            f"'{value}' is a placeholder, not one person's contact: ask for the one they use"
        )


class _Reading(msgspec.Struct, frozen=True):
    """One way to read the details as a record's features. ``last_initial`` is the one letter
    a name ended with (``Maya P.``): the surname is then unknown but must start with it."""

    features: Features
    last_initial: str = ""


def _readings(query: PartialIdentity, region: str) -> tuple[_Reading, ...]:
    """The details as features, once per reading of the name a customer typed.

    A full name reads one way (first name, surname). A single word may be either (``Patel``
    or ``Maya``), so it is read both ways and the better match counts; a word that holds
    punctuation (``O'Brien``, ``Smith-Jones``, ``Ji-woo``) is one word too, read as a surname
    by its last part and as a first name by its first, as records keep them. A name that ends
    in one letter (``Maya P``) gives the first name and a surname's initial, which agrees with
    any surname starting with that letter and says nothing more.
    """
    email = normalize_email(query.email) if query.email else None
    phone = normalize_phone(query.phone, region) if query.phone else None
    base = Features(
        emails=(mailbox_key(email),) if email and is_merge_email(email) else (),
        phones=(phone,) if phone and is_merge_phone(phone) else (),
    )
    tokens, suffix = name_tokens_and_suffix(None, None, query.name) if query.name else ((), "")
    if not tokens:
        return (_Reading(base),)
    first, last = tokens[0], tokens[-1]
    if len(tokens) == 1 or _one_word(query.name or ""):
        readings = []
        if len(tokens) == 1 or len(first) > 1:  # not the "O" of "O'Brien"
            readings.append(_Reading(msgspec.structs.replace(base, first=first)))
        if len(last) > 1:
            readings.append(_Reading(msgspec.structs.replace(base, last=last)))
        if readings:
            return tuple(readings)
    if len(last) == 1:
        named = msgspec.structs.replace(base, first=first, generation=suffix)
        return (_Reading(named, last_initial=last),)
    middle = second_given(None, None, query.name, tokens)
    named = msgspec.structs.replace(base, first=first, last=last, middle=middle, generation=suffix)
    return (_Reading(named),)


def _one_word(name: str) -> bool:
    """Whether the name, as the customer spaced it, is one word once titles are left out
    (``Mr O'Brien``)."""
    return sum(1 for word in name.split() if name_tokens(None, None, word)) == 1


_NAME_CANDIDATES = 50  # a name held by more records than this narrows nothing down


def _profiles_by_features(conn: sqlite3.Connection, wanted: Features) -> set[str]:
    keys = sorted(k for k in blocking_keys(wanted) if not k.startswith(("l:", "x:")))
    record_ids: set[int] = set()
    for key in keys:
        found = conn.execute(
            "SELECT record_id FROM identifiers WHERE kind = 'block' AND value = ?", (key,)
        )
        record_ids.update(int(row[0]) for row in found)
    for names in sorted(name_keys(wanted)):  # every form: "Sam" may be Samuel or Samantha
        rows = _name_holders(conn, names)
        if len(rows) <= _NAME_CANDIDATES:
            record_ids.update(rows)
    return set(profiles.profiles_of(conn, sorted(record_ids)).values())


def _name_holders(conn: sqlite3.Connection, names: str) -> list[int]:
    """The records under a name key, up to one more than a search looks at."""
    rows = conn.execute(
        "SELECT record_id FROM identifiers WHERE kind = 'pname' AND value = ? LIMIT ?",
        (names, _NAME_CANDIDATES + 1),
    )
    return [int(row[0]) for row in rows]


def is_common_name(conn: sqlite3.Connection, query: PartialIdentity, region: str) -> bool:
    """Whether the name given is held by more records than a search looks at, so that finding
    no one by it says nothing about whether such a customer exists."""
    return any(
        len(_name_holders(conn, names)) > _NAME_CANDIDATES
        for reading in _readings(query, region)
        for names in name_keys(reading.features)
    )


def _activity_owners(conn: sqlite3.Connection, query: PartialIdentity) -> dict[str, set[str]]:
    """For each quoted number, the profiles owning it (and ``any``: all of them)."""
    owned: dict[str, set[str]] = {}
    quoted = (
        ("order_number", query.order_number, "order_number"),
        ("invoice_number", query.invoice_number, "invoice_number"),
    )
    for field, value, kind in quoted:
        if value:
            owned[field] = _owners(conn, activities.records_with_ref(conn, kind, value))
    if query.ticket_id:
        rows = conn.execute(
            "SELECT id FROM records WHERE kind = 'ticket' AND external_id = ? AND deleted = 0",
            (query.ticket_id.strip().lstrip("#"),),
        )
        owned["ticket_id"] = _owners(conn, [int(row[0]) for row in rows])
    return owned


def _weak_contacts(
    conn: sqlite3.Connection, query: PartialIdentity, wanted: Features, region: str
) -> dict[str, set[str]]:
    """Profiles holding the given email or phone when it is one that never links records."""
    found: dict[str, set[str]] = {}
    email = normalize_email(query.email) if query.email else None
    if email and not wanted.emails:
        found["shared_email"] = set(_holders(conn, "email", email))
    phone = normalize_phone(query.phone, region) if query.phone else None
    if phone and not wanted.phones:
        found["shared_phone"] = set(_holders(conn, "phone", phone))
    return found


def _holders(conn: sqlite3.Connection, kind: str, value: str) -> list[str]:
    rows = conn.execute(
        "SELECT DISTINCT m.profile_id FROM identifiers i JOIN profile_members m "
        "ON m.record_id = i.record_id WHERE i.kind = ? AND i.value = ?",
        (kind, value),
    )
    return [str(row[0]) for row in rows]


def _owners(conn: sqlite3.Connection, record_ids: Iterable[int]) -> set[str]:
    keys = [key for rid in record_ids for key in activities.owners_of(conn, rid)]
    return set(profiles.profiles_of_keys(conn, keys).values())


def _score(
    conn: sqlite3.Connection,
    profile_id: str,
    readings: tuple[_Reading, ...],
    owned: dict[str, set[str]],
    model: MatchModel,
    given_name: tuple[str, ...] = (),
) -> Candidate:
    weight, evidence = _best_member(conn, profile_id, readings, model)
    suffix = readings[0].features.generation
    weight += _partial_name(conn, profile_id, given_name, suffix, evidence, model)
    for field in ("order_number", "invoice_number", "ticket_id"):
        if field not in owned:
            continue
        if not owned[field]:  # a number no customer has (mistyped) is nobody's: no weight
            evidence[field] = "no customer's"
            continue
        mine = profile_id in owned[field]
        weight += ACTIVITY_WEIGHT if mine else ACTIVITY_AGAINST
        evidence[field] = "theirs" if mine else "someone else's"
    for field in ("shared_email", "shared_phone"):
        if profile_id in owned.get(field, set()):
            weight += SHARED_CONTACT_WEIGHT
            evidence[field] = SHARED_CONTACT
    return Candidate(profile_id, round(probability_of(weight), 6), evidence)


def _best_member(
    conn: sqlite3.Connection, profile_id: str, readings: tuple[_Reading, ...], model: MatchModel
) -> tuple[float, dict[str, str]]:
    """The weight and evidence of the member record, and reading of the details, that match
    best."""
    rows = conn.execute(
        "SELECT f.features FROM profile_members m JOIN identity_features f "
        "ON f.record_id = m.record_id WHERE m.profile_id = ?",
        (profile_id,),
    )
    best_weight, best_levels, best_initial = model.prior_weight(), None, False
    best_reading, members = None, [_decode(blob) for (blob,) in rows]
    for member in members:
        for reading in readings:
            levels, initial = _levels(reading, member)
            weight = model.weight(levels)
            if best_levels is None or weight > best_weight:
                best_weight, best_levels, best_initial = weight, levels, initial
                best_reading = reading
    if best_levels is not None and best_reading is not None:
        best_levels = _names_of_the_profile(best_levels, best_reading, members, model)
        best_weight = model.weight(best_levels)
    evidence = {
        field: level
        for field, level in zip(FIELD_NAMES, best_levels or (), strict=False)
        if level != NULL
    }
    if best_initial:
        evidence["last_name"] = "initial"
    return best_weight, evidence


# The evidence word of a name field that a record's features (first and last word only) call
# ``different`` but that the profile's full names hold (``_partial_name``).
PARTIAL_NAME = "part of their name"


def _partial_name(
    conn: sqlite3.Connection,
    profile_id: str,
    given: tuple[str, ...],
    suffix: str,
    evidence: dict[str, str],
    model: MatchModel,
) -> float:
    """The weight to give back when the name given is part of one of the profile's full names
    though the features call it ``different``: the features keep a name's first and last word
    only, so "Maria Garcia" for Maria Garcia Lopez, "Anne Smith" for Anne Smith-Jones or
    "Quincy Public" for John Quincy Public compared as another surname or first name. Such
    fields read ``PARTIAL_NAME`` (no disagreement) and lose the ``different`` weight; a name
    none of the profile's names holds (Priya's for Raj Shah) keeps it, and so does one given
    with another generational ``suffix`` than the name holding it (John Smith Jr. for John
    Smith Sr.)."""
    fields = [f for f in ("first_name", "last_name") if evidence.get(f) == "different"]
    if not fields or not given:
        return 0.0
    if not any(_holds(given, n) for n in _full_names(conn, profile_id, suffix)):
        return 0.0
    for field in fields:
        evidence[field] = PARTIAL_NAME
    return -sum(model.levels[field]["different"].weight for field in fields)


def _full_names(conn: sqlite3.Connection, profile_id: str, suffix: str) -> list[tuple[str, ...]]:
    """The words of each name the profile's live person records give, in order, but for a
    name with another generational suffix than ``suffix`` (when both have one)."""
    names = []
    for person in people_of(conn, profile_id):
        words, own = name_tokens_and_suffix(person.first_name, person.last_name, person.name)
        if words and not (suffix and own and own != suffix):
            names.append(words)
    return names


def _holds(given: tuple[str, ...], name: tuple[str, ...]) -> bool:
    """Whether every word of the name given agrees with a word of ``name``, as ``compare``
    reads names (a nickname, an initial, a typo): its first word as a first name, or as the
    initials of a compound first name (``JP`` for Jean Pierre), each other word as a surname
    (hyphenated words also in their parts)."""
    first, *rest = given
    words = frozenset(with_parts(name))
    given_names = name[:-1]  # the surname is no part of a first name's initials
    compound = len(first) > 1 and first == "".join(word[:1] for word in given_names[: len(first)])
    if not compound and not any(agrees_as_name(first, word, first=True) for word in words):
        return False
    return all(any(agrees_as_name(w, own, first=False) for own in words) for w in with_parts(rest))


def _another_of_the_name(given: Features, member: Features) -> bool:
    """Whether the name given is another person's than the member's though the first name
    and surname agree: another second given name (Jean-Luc Martin for Jean-Pierre Martin) or
    another generational suffix (John Smith Jr. for John Smith Sr.). The first name then
    counts as ``different``: the customer is not that member."""
    if given.generation and member.generation and given.generation != member.generation:
        return True
    return middle_names_conflict(given, member)


_LAST = FIELD_NAMES.index("last_name")
_EMAIL = FIELD_NAMES.index("email")
# The email levels that say the caller gave this member's own mailbox (or one it shares).
_THE_MAILBOX = frozenset({"exact", "shared", NULL})


def _only_the_mailbox_given(levels: Levels) -> Levels:
    """``levels`` with the email given counted only when it is the member's mailbox: a handle
    like theirs at another domain, a letter away, or with their number (``local``,
    ``handle``, ``fuzzy``, ``related``, which link two records one person made) is another
    mailbox here, one anyone can create, so it counts as ``different``. Else a caller writing
    from ``lori.faure206@attacker.example`` with Lori Faure's name would be answered with her
    profile."""
    if levels[_EMAIL] in _THE_MAILBOX:
        return levels
    return (*levels[:_EMAIL], "different", *levels[_EMAIL + 1 :])


_NAME_FIELDS = (FIELD_NAMES.index("first_name"), _LAST)


def _names_of_the_profile(
    levels: Levels, reading: _Reading, members: list[Features], model: MatchModel
) -> Levels:
    """``levels`` of the best-matching member, with each name field that member lacks compared
    with the profile's other members instead (the best level any of them gives). A member
    without a name (a Stripe customer made with an email alone) says nothing of the name
    given, but the profile does: a name that every named member contradicts counts against."""
    filled = list(levels)
    for at in _NAME_FIELDS:
        if filled[at] != NULL:
            continue
        field = FIELD_NAMES[at]
        known = [lv[at] for lv in (_levels(reading, m)[0] for m in members) if lv[at] != NULL]
        if known:
            filled[at] = max(known, key=lambda level: model.levels[field][level].weight)
    return tuple(filled)


def _levels(reading: _Reading, member: Features) -> tuple[Levels, bool]:
    """The comparison vector of a reading against a member record, and whether a surname's
    initial agreed (it adds no weight; one that disagrees counts as a different surname)."""
    levels = _only_the_mailbox_given(compare(reading.features, member))
    if _another_of_the_name(reading.features, member):
        first = FIELD_NAMES.index("first_name")
        levels = (*levels[:first], "different", *levels[first + 1 :])
    if not (reading.last_initial and member.last):
        return levels, False
    if member.last.startswith(reading.last_initial):
        return levels, True
    return (*levels[:_LAST], "different", *levels[_LAST + 1 :]), False


__all__ = [
    "PARTIAL_NAME",
    "SHARED_CONTACT",
    "Candidate",
    "PartialIdentity",
    "is_common_name",
    "search",
]
