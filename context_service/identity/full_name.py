"""Whether a name typed beside an order, ticket or invoice number is the customer's full name
(``holds_their_full_name``), for the lookups that a number alone never answers
(``tools.refusals``); and the name-word comparisons the scored search shares with it.

Beside a number, what a stranger can guess must not pass for what the customer knows: a given
name alone, a surname alone, an initial, a surname particle, one word typed twice, or letters
of the customer's mailbox, which the match model may read as agreeing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator

from context_service.identity.compare import first_name_level, last_name_level
from context_service.identity.names import SURNAME_PARTICLES
from context_service.identity.normalize import name_tokens, name_tokens_and_suffix
from context_service.models import PersonFacet
from context_service.store.records import decode_mapped

# Words that open many surnames, so that one guess fits them all (``af`` Klint, ``ab`` Owen),
# beside those identity resolution reads as part of a surname (``SURNAME_PARTICLES``): none is
# a surname beside a number.
_NO_SURNAME = SURNAME_PARTICLES | frozenset(
    "ab af av auf aus dem op te toe uit ferch verch nic mhic ait vd dela".split()
)

Parts = tuple[tuple[str, ...], tuple[str, ...]]  # given names, surname words


def holds_their_full_name(conn: sqlite3.Connection, profile_id: str, name: str) -> bool:
    """Whether ``name`` gives one of the profile's full names: a given name (or a nickname or
    typo of one, two letters or more: no initial; ``JP`` for Jean-Pierre) and another word
    that is one of their surnames (or a typo of it, or its words written together:
    ``OBrien``), in either order. A surname particle or a single letter is no surname (``De
    De``, ``O O``), and one word typed twice names no one (``Maya Maya``, ``Johnson Johnson``
    for John Johnson)."""
    given, suffix = name_tokens_and_suffix(None, None, name)
    if len(given) < 2:
        return False
    return any(
        _given_then_surname(order, parts)
        for parts in _name_parts(conn, profile_id, suffix)
        for order in (given, given[::-1])
    )


def _given_then_surname(given: tuple[str, ...], parts: Parts) -> bool:
    """Whether ``given`` starts with one of the given names ``parts[0]`` and another word of
    it is one of the surnames ``parts[1]``."""
    given_names, surnames = parts
    first, rest = given[0], tuple(w for w in given[1:] if w != given[0])
    own = [w for w in with_parts(surnames) if len(w) > 1 and w not in _NO_SURNAME]
    if len(surnames) > 1:
        own.append("".join(surnames))  # O'Brien as OBrien, De Luca as Deluca
    elif not own and len(surnames[0]) > 1:
        own.append(surnames[0])  # a surname that is a particle's word on its own: Le, Do, Van
    typed = [w for w in rest if len(w) > 1 and (w not in _NO_SURNAME or w in own)]
    typed += ["".join(rest[i:]) for i in range(len(rest) - 1)]  # Mc Donald as McDonald
    if not any(_same_surname(w, o) for w in typed for o in own):
        return False
    if len(first) < 2 or first in own:  # an initial; their surname in the given name's place
        return False
    return _a_given_name(first, given_names)


def _a_given_name(first: str, given_names: tuple[str, ...]) -> bool:
    """Whether ``first`` is one of ``given_names``, a nickname or typo of one, their initials
    run together (``JP`` for Jean Pierre) or their words written together (``Jiwoo``)."""
    compound = first == "".join(word[:1] for word in given_names[: len(first)])
    joined = len(given_names) > 1 and first == "".join(given_names)
    return compound or joined or any(agrees_as_name(first, w, first=True) for w in given_names)


def _same_surname(typed: str, own: str) -> bool:
    """The surname as written, or a typo of it (``Patell``, ``Smyth``, ``Mueller`` for Müller),
    not the start of it (``Pat`` for Patel: letters of a mailbox)."""
    if typed == own:
        return True
    near = len(typed) >= 4 and abs(len(typed) - len(own)) <= 1
    return near and last_name_level(typed, own) in {"exact", "fuzzy"}


def _name_parts(conn: sqlite3.Connection, profile_id: str, suffix: str) -> list[Parts]:
    """The given names and the surname words of each name the profile's live person records
    give, but for a name with another generational suffix than ``suffix`` (when both have
    one)."""
    found = []
    for person in people_of(conn, profile_id):
        words, own = name_tokens_and_suffix(person.first_name, person.last_name, person.name)
        if len(words) < 2 or (suffix and own and own != suffix):
            continue
        first = name_tokens(person.first_name, None, None) if person.first_name else ()
        last = name_tokens(None, person.last_name, None) if person.last_name else ()
        found.append((first, last) if first and last else _one_field(person.name, words))
    return found


def _one_field(name: str | None, words: tuple[str, ...]) -> Parts:
    """A name held in one field (Zendesk users, Stripe customers): ``Surname, Given...`` when
    written with a comma, else its last word the surname with the particles before it
    (``Maria De Luca``: given Maria, surname De Luca)."""
    if name and "," in name:
        last, first = name.split(",", 1)
        surname, given = name_tokens(None, last, None), name_tokens(first, None, None)
        if surname and given:
            return given, surname
    cut = len(words) - 1
    while cut > 1 and words[cut - 1] in _NO_SURNAME:
        cut -= 1
    return words[:cut], words[cut:]


def people_of(conn: sqlite3.Connection, profile_id: str) -> Iterator[PersonFacet]:
    """The person facets of the profile's live records."""
    rows = conn.execute(
        "SELECT r.mapped FROM profile_members m JOIN records r ON r.id = m.record_id "
        "WHERE m.profile_id = ? AND r.deleted = 0",
        (profile_id,),
    )
    for (blob,) in rows:
        mapped = decode_mapped(blob)
        if mapped is not None and mapped.person is not None:
            yield mapped.person


def with_parts(words: Iterable[str]) -> Iterator[str]:
    """Each word, and a hyphenated one also by its parts and written together."""
    for word in words:
        yield word
        if "-" in word:
            yield from word.split("-")
            yield word.replace("-", "")


def agrees_as_name(given: str, own: str, *, first: bool) -> bool:
    """Whether two name words agree as ``compare`` reads a first name or a surname; a
    one-letter word on record (an initial, the ``O`` of ``O'Brien``) only with that letter,
    and an initial given only as a first name."""
    if len(own) == 1:
        return given == own
    if len(given) == 1:
        return first and own.startswith(given)
    level = first_name_level if first else last_name_level
    return level(given, own) != "different"
