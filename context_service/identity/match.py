"""Pure deterministic matching: which identifiers a record offers, and whether two records link.

Rules, strongest first:

* ``explicit_id``: one record names the other's id (Stripe ``metadata``, Zendesk ``external_id``).
* ``email``: the same normalized email, unless both records carry names that clearly differ.
* ``phone_name``: the same E.164 phone and compatible names (both present).

Generic mailboxes (``info@``), placeholder values and unparseable identifiers are indexed as weak
identifiers: a lookup finds them, but they never link two records.
"""

from __future__ import annotations

from rapidfuzz.distance import JaroWinkler

from context_service.identity.normalize import (
    canonical_first,
    is_merge_email,
    is_merge_phone,
    name_tokens,
    normalize_email,
    normalize_phone,
)
from context_service.models import PersonFacet, RecordKey
from context_service.store.identifiers import Identifier

RULE_SCORES = {"explicit_id": 1.0, "email": 0.99, "phone_name": 0.95}


def xref_value(key: RecordKey) -> str:
    """The identifier value under which a record can be referenced from another system."""
    return f"{key.source}:{key.kind}:{key.external_id}"


def person_identifiers(key: RecordKey, facet: PersonFacet, region: str) -> set[Identifier]:
    """Every identifier a person-like record offers, each marked strong (merge key) or weak."""
    found: set[Identifier] = set()
    for raw in facet.emails:
        email = normalize_email(raw)
        if email:
            found.add(Identifier("email", email, is_merge_email(email)))
    for raw in facet.phones:
        phone = normalize_phone(raw, region)
        if phone:
            found.add(Identifier("phone", phone, is_merge_phone(phone)))
    for link in facet.links:
        if link != key:
            found.add(Identifier("xref", xref_value(link)))
    tokens = name_tokens(facet.first_name, facet.last_name, facet.name)
    if tokens:
        found.add(Identifier("name", " ".join(tokens), strong=False))
    return found


def names_compatible(a: str, b: str) -> bool:
    """Whether two folded names (space-separated tokens) can belong to one person.

    Same first and last name (nicknames, initials and small typos allowed), or the two swapped.
    A single-token name is compatible with a name that contains that token.
    """
    ta, tb = a.split(), b.split()
    if not ta or not tb:
        return True
    if len(ta) == 1 or len(tb) == 1:
        short, other = (ta, tb) if len(ta) == 1 else (tb, ta)
        return any(_same_first(short[0], token) for token in other)
    first_a, last_a, first_b, last_b = ta[0], ta[-1], tb[0], tb[-1]
    if _same_last(last_a, last_b) and _same_first(first_a, first_b):
        return True
    return _same_last(first_a, last_b) and _same_first(last_a, first_b)


def _same_first(x: str, y: str) -> bool:
    if x == y or canonical_first(x) == canonical_first(y):
        return True
    if len(x) == 1 or len(y) == 1:
        return x[0] == y[0]
    return JaroWinkler.similarity(x, y) >= 0.92


def _same_last(x: str, y: str) -> bool:
    return x == y or JaroWinkler.similarity(x, y) >= 0.94


def link_rule(
    mine: set[Identifier], my_key: RecordKey, theirs: set[Identifier], their_key: RecordKey
) -> tuple[str, str] | None:
    """The strongest rule linking two records, as ``(rule, the shared value)``, or ``None``."""
    if Identifier("xref", xref_value(their_key)) in mine:
        return ("explicit_id", xref_value(their_key))
    if Identifier("xref", xref_value(my_key)) in theirs:
        return ("explicit_id", xref_value(my_key))
    my_name, their_name = _name(mine), _name(theirs)
    names_clash = bool(my_name and their_name and not names_compatible(my_name, their_name))
    shared = {i for i in mine & theirs if i.strong}
    for ident in sorted(shared, key=lambda i: i.value):
        if ident.kind == "email" and not names_clash:
            return ("email", ident.value)
    if my_name and their_name and not names_clash:
        for ident in sorted(shared, key=lambda i: i.value):
            if ident.kind == "phone":
                return ("phone_name", ident.value)
    return None


def _name(identifiers: set[Identifier]) -> str | None:
    return next((i.value for i in identifiers if i.kind == "name"), None)


def cluster_names_agree(name: str | None, cluster_names: list[str]) -> bool:
    """Whether a name is compatible with every name already in a cluster (no weak chaining)."""
    if not name:
        return True
    return all(names_compatible(name, other) for other in cluster_names)
