"""The decision for one pair of records: link, review or keep apart, and why.

Deterministic rules come first (DESIGN, "Identity resolution: principles"):

* ``explicit_id``: one record names the other (Stripe ``metadata``, a Zendesk ``external_id``);
* ``email``: the same mailbox, not shared by differently named people, and names that do not
  conflict;
* ``phone_name``: the same phone, not shared, and names present on both sides that agree.

Otherwise the Fellegi-Sunter probability decides: at or above ``thresholds.link`` the pair links,
at or above ``thresholds.review`` it goes to a person to decide. A pair whose names clearly
conflict never links through a shared email or phone: it goes to review. Nor does a pair
whose dates of birth differ, whatever else agrees (``birth_date``: two people sharing a
mailbox, a parent and child), nor one whose generational suffixes differ (``generation``:
John Smith Sr. and John Smith Jr. on one home phone), nor one whose second given names differ
(``second_given_names``: Jean-Pierre and Jean-Luc Martin, a father and son on one family
mailbox or phone), nor two records that share a name and
an address or a phone while each holds its own numbered mailbox under that name
(``namesakes``: a Sr and a Jr): they go to review, and no third record joins them into one
profile. A record without a name that shares only a household's mailbox (``thesmiths12@``)
with a named record is reviewed, not linked by the email rule (``family_mailbox``): any member
of the household may have written it.

A mailbox held by records of three or more clearly different names with no name in common (a
firm's shared inbox: ``crowded_mailbox``) says nothing about who is who: a pair of differently
named records whose only evidence is such a mailbox is neither linked nor reviewed. Which
mailboxes are crowded depends on all their holders, so the engine works it out and passes it
(``crowded``); two differently named records on a mailbox of two names are still reviewed.

A phone held that way is crowded too (an office's switchboard: its colleagues never form one
group of records, so ``cluster.shared_values`` cannot see it). It compares as ``shared``, so
it makes no ``phone_name`` link, and a pair on it links only if the rest of its evidence links
it without the line: two David Smiths of one firm, each with a work mailbox of his own, are a
person's question. A family on its home phone shares a surname, so its line is no crowd.
(``crowded`` decides the pairs the engine stores as edges; clustering one component again,
``cluster.shared_values`` alone says what is shared.)
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import msgspec

from context_service.identity.compare import (
    NULL,
    Levels,
    compare,
    middle_names_conflict,
    name_levels,
    names_conflict,
    own_handles,
)
from context_service.identity.features import Features
from context_service.identity.model import MatchModel
from context_service.identity.normalize import births_conflict, is_family_mailbox


class Thresholds(msgspec.Struct, frozen=True):
    """Match probabilities at which a pair links, or goes to review."""

    link: float = 0.99
    review: float = 0.5


class PairResult(msgspec.Struct, frozen=True):
    """What the engine concluded about two records."""

    # explicit_id | email | phone_name | probabilistic | conflict | birth_date | generation |
    # namesakes | family_mailbox
    rule: str
    probability: float
    levels: Levels
    link: bool  # strong enough to join the two records' clusters
    review: bool  # a person should decide
    conflict: bool  # the two can never be one cluster (unless a person says so)


def decide(
    a: Features,
    b: Features,
    model: MatchModel,
    thresholds: Thresholds,
    shared: frozenset[str] = frozenset(),
    crowded: frozenset[str] = frozenset(),
) -> PairResult:
    """Compare two records and decide (pure; symmetric in ``a`` and ``b``). ``crowded``: the
    mailboxes held by three or more clearly different names and phones held by four or more
    (``crowded_value``)."""
    line = _crowded_line(a, b, crowded)
    levels = compare(a, b, shared | line if line else shared)
    probability = model.probability(levels)
    explicit = (a.own and a.own in b.xrefs) or (b.own and b.own in a.xrefs)
    if explicit:
        return PairResult("explicit_id", 1.0, levels, link=True, review=False, conflict=False)
    apart = _kept_apart(a, b, levels, probability, thresholds, crowded)
    if apart is not None:
        return apart
    email, phone, first, last = levels[0], levels[1], levels[2], levels[3]
    nameless = _nameless_on_a_mailbox(a, b, levels, probability, crowded)
    if nameless is not None:
        return nameless
    if email == "exact":
        return PairResult("email", max(probability, thresholds.link), levels, True, False, False)
    names_agree = first in {"exact", "fuzzy"} and last in {"exact", "fuzzy"}
    if phone == "exact" and names_agree:
        return PairResult(
            "phone_name", max(probability, thresholds.link), levels, True, False, False
        )
    link = probability >= thresholds.link
    if link and line:  # a firm's line says nothing of who is who: the rest must link them
        link = model.probability((levels[0], NULL, *levels[2:])) >= thresholds.link
    review = not link and probability >= thresholds.review
    return PairResult("probabilistic", probability, levels, link, review, conflict=False)


def _crowded_line(a: Features, b: Features, crowded: frozenset[str]) -> frozenset[str]:
    """The phones the two have in common, when every one of them is crowded (an office's
    switchboard, ``crowded_mailbox``); else none."""
    if not crowded or not a.phones or not b.phones:
        return frozenset()
    common = frozenset(a.phones) & frozenset(b.phones)
    return common if common and common <= crowded else frozenset()


def _nameless_on_a_family_mailbox(a: Features, b: Features) -> bool:
    """A record without a name that shares only a household's mailbox (``thesmiths12@``) with
    a named one: which member of the household it is, nothing says, so a person decides."""
    if bool(a.first or a.last) == bool(b.first or b.last):
        return False
    shared = set(a.emails) & set(b.emails)
    return bool(shared) and all(is_family_mailbox(email) for email in shared)


def _nameless_on_a_mailbox(
    a: Features, b: Features, levels: Levels, probability: float, crowded: frozenset[str]
) -> PairResult | None:
    """How a record without a name and a named one that share a mailbox are decided when the
    mailbox alone cannot say who is who (a household's, a shared inbox's); ``None`` when it
    can (the email rule applies)."""
    if levels[0] != "exact":
        return None
    if _nameless_on_a_family_mailbox(a, b):
        return PairResult("family_mailbox", probability, levels, False, True, False)
    if _nameless_on_a_shared_inbox(a, b, levels, crowded):
        return PairResult("shared_inbox", probability, levels, False, False, False)
    return None


def _nameless_on_a_shared_inbox(
    a: Features, b: Features, levels: Levels, crowded: frozenset[str]
) -> bool:
    """A record without a name whose only tie to a named one is a shared inbox (three or more
    clearly different names hold it: ``crowded_mailbox``): which of its people it is, nothing
    says and no reviewer could tell, so it neither links nor asks (linked, it would pull every
    holder into one component and ask about each pair of them). A phone or the address in
    common still decides as usual."""
    if not crowded or bool(a.first or a.last) == bool(b.first or b.last):
        return False
    if levels[1] == "exact" or levels[4] == "exact":
        return False
    shared = set(a.emails) & set(b.emails)
    return bool(shared) and shared <= crowded


def _kept_apart(
    a: Features,
    b: Features,
    levels: Levels,
    probability: float,
    thresholds: Thresholds,
    crowded: frozenset[str],
) -> PairResult | None:
    """The conflict that keeps the two out of one profile whatever else they share, if any;
    a person reviews the pair when a mailbox or phone agrees, or the probability is high.

    Two names that conflict on one phone and share no name at all (Ann Lee and Bo Park on an
    office's main line or a household's) are two people: nobody is asked. A name in common
    (Ann Lee and Ann Park: a surname changed) or a shared mailbox is worth a look, unless the
    mailbox is a crowded one (``crowded_mailbox``) and nothing else (a phone, the address)
    agrees: a firm's inbox of a hundred contacts would ask about every pair of them."""
    on_email = levels[0] in {"exact", "shared"}
    on_phone = levels[1] in {"exact", "shared"}
    strong = on_email or on_phone
    if names_conflict(a, b):
        in_common = _a_name_in_common(levels)
        crowd = on_email and not (in_common or on_phone or levels[4] == "exact")
        if crowd and crowded:
            common = set(a.emails) & set(b.emails)
            crowd = bool(common) and common <= crowded
        else:
            crowd = False
        rule, review = "conflict", (on_email and not crowd) or (on_phone and in_common)
    elif births_conflict(a.birth, b.birth):
        rule, review = "birth_date", strong or probability >= thresholds.review
    elif a.generation and b.generation and a.generation != b.generation:
        rule, review = "generation", strong or probability >= thresholds.review
    elif middle_names_conflict(a, b):
        rule, review = "second_given_names", strong or probability >= thresholds.review
    elif _namesakes(a, b, levels):
        rule, review = "namesakes", strong or probability >= thresholds.review
    else:
        return None
    return PairResult(rule, probability, levels, link=False, review=review, conflict=True)


def _a_name_in_common(levels: Levels) -> bool:
    """Whether the first names or the surnames agree, exactly or nearly."""
    return levels[2] in {"exact", "fuzzy"} or levels[3] in {"exact", "fuzzy"}


def _namesakes(a: Features, b: Features, levels: Levels) -> bool:
    """One name at one door or on one home phone, but each record with its own numbered
    mailbox under that name: a Sr and a Jr, or a parent and child named alike. The name, the
    door and the phone then say nothing about which of the two a record is, so the pair is
    reviewed and never joined automatically, not even through a third record that has only
    the name and the phone."""
    email, phone, address = levels[0], levels[1], levels[4]
    return email == "different" and (phone == "exact" or address == "exact") and own_handles(a, b)


_Name = tuple[str, str, tuple[str, ...]]  # first, last and the mailboxes that may spell them


def crowded_mailbox(holders: Iterable[Features], least: int = 3) -> bool:
    """Whether the records holding one mailbox carry ``least`` or more clearly different
    names: names that conflict pairwise (``names_conflict``) with no first name or surname in
    common. It depends only on which names hold the mailbox, never on their order, and adding
    a holder never makes a crowded mailbox uncrowded.

    Names are compared as ``decide`` compares them, with the records' mailboxes: two slips of
    the one name a mailbox spells (``Slin Ownes``, ``Seiln Oens`` on ``seline.owens1471@``)
    are one name there, so they are not two of a crowd."""
    names = sorted({(f.first, f.last, f.emails) for f in holders if f.first})
    if len(names) < least or not _may_be_apart(names, least):
        return False
    if len({(first, last) for first, last, _ in names}) >= MANY_NAMES:
        return True
    return _apart(names, least)


# Distinct full names, of enough surnames and first names, that make a mailbox or phone crowded
# whatever they are: no household has this many, and searching them for a few clearly different
# ones is quadratic or worse (a line 1,000 records share took seconds for each new one).
MANY_NAMES = 25


def crowded_value(value: str, holders: Iterable[Features]) -> bool:
    """``crowded_mailbox`` for a mailbox (three names) or a phone (four: a household of three
    surnames, a couple and a grandparent, is no office's line)."""
    return crowded_mailbox(holders, 3 if "@" in value else 4)


def _apart(names: list[_Name], size: int) -> bool:
    """Whether ``size`` of ``names`` (sorted) are clearly different from each other. Two
    names with one surname never are, so that takes ``size`` surnames (or names without one),
    and as many first names: three families on a line of hundreds, or a hundred Johns, are no
    crowd of four, told at once."""
    if size <= 1:
        return bool(names)
    if not _may_be_apart(names, size):
        return False
    for i, x in enumerate(names):
        rest = [y for y in names[i + 1 :] if _clearly_different(x, y)]
        if len(rest) >= size - 1 and _apart(rest, size - 1):
            return True
    return False


def _may_be_apart(names: list[_Name], size: int) -> bool:
    """Whether ``names`` hold ``size`` surnames (or names without one) and ``size`` first
    names: two names with one surname or one first name are never clearly different."""
    surnames = {last for _, last, _ in names if last}
    if len(surnames) + sum(1 for _, last, _ in names if not last) < size:
        return False
    return len({first for first, _, _ in names}) >= size


@lru_cache(maxsize=1 << 14)
def _clearly_different(x: _Name, y: _Name) -> bool:
    """Whether two names conflict and share no name, compared with their records' mailboxes
    (``names_conflict`` and ``name_levels`` read them: a mailbox may show two spellings to be
    one name)."""
    a = Features(first=x[0], last=x[1], emails=x[2])
    b = Features(first=y[0], last=y[1], emails=y[2])
    if not names_conflict(a, b):
        return False
    return not _a_name_in_common(("", "", *name_levels(a, b)))
