"""Who is this? One function from the identifiers a caller gave to one stored snapshot.

``find(store, region, ids, thresholds)`` is shared by ``GET /v1/context``,
``POST /v1/context/lookup``, ``POST /v1/escalations`` and the fast context path, all with the
configured identity thresholds. One strong identifier (email, phone, profile id, or a vendor id)
is a direct lookup. Anything else, or any mix with a name, an order number, a ticket id or an
invoice number (what a customer types into a chat), is a scored search (``identity.search``):
the best profile is returned with its match probability when it is clearly the one, otherwise
409 with the candidates and their probabilities, or 404. An email that names one customer on
its own with a phone that names another is a 409 with both, however the rest of the details
score; so is an email or phone that names one customer with details that point at another.
"""

from __future__ import annotations

import sqlite3
from typing import Annotated, NoReturn

import msgspec

from context_service.errors import AmbiguousIdentifier, InvalidIdentifier, ProfileNotFound
from context_service.identity.pairs import Thresholds
from context_service.identity.search import (
    Candidate,
    PartialIdentity,
    is_common_name,
    partial_identity,
    search,
)
from context_service.identity.state import load_model
from context_service.settings import Settings
from context_service.snapshot import lookup
from context_service.store import Store
from context_service.store.snapshots import StoredSnapshot
from context_service.tools.confidence import (
    AGREEING,
    Grading,
    grading_for,
    rival_of,
)
from context_service.tools.refusals import (
    a_number_names_no_one,
    gives_a_number,
    refuse_a_number_alone,
    refuse_one_name_alone,
)
from context_service.tools.service import NAMING_FLOOR
from context_service.tools.typed import TYPED, typed

MAX_VALUE = 320
Value = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_VALUE)]


# What a person types into a chat (and copies from one): these lose the characters no reader
# sees before anything is matched (``typed``). Profile ids and vendor ids come from programs.
class Identifiers(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The ways a caller can name a customer. Give exactly one (``source`` with ``external_id``)."""

    email: Value | None = None
    phone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    profile_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    source: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    external_id: Value | None = None
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    order_number: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    ticket_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    invoice_number: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None

    def __post_init__(self) -> None:
        """The details a person types, without the characters no reader sees (``typed``)."""
        for name in TYPED:
            value = getattr(self, name)
            if value is not None and not value.isascii():
                setattr(self, name, typed(value))

    def partial(self, *, contacts_mix: bool = False) -> PartialIdentity | None:
        """The details as a partial identity, when they call for a scored search.

        A name, order number, ticket id or invoice number always does; an email together with a
        phone does only where the caller allows mixing (``POST /v1/context/lookup``), since
        ``GET /v1/context`` takes exactly one identifier.
        """
        return partial_identity(self, contacts_mix=contacts_mix)


def thresholds_of(settings: Settings) -> Thresholds:
    """The identity thresholds the operator configured, for every lookup the API makes."""
    return Thresholds(
        link=settings.identity_link_threshold, review=settings.identity_review_threshold
    )


class Found(msgspec.Struct):
    """The snapshot found, how it was found, and the vendor id the caller asked about."""

    stored: StoredSnapshot
    matched_by: str
    confidence: str
    focus: str | None = None
    probability: float | None = None  # for a scored search
    focus_source: str | None = None  # the source of ``focus``


def find(
    store: Store,
    region: str,
    ids: Identifiers,
    thresholds: Thresholds,
    *,
    contacts_mix: bool = False,
) -> Found:
    """The one customer these identifiers name; 400, 404 or 409 (with candidates) otherwise.
    ``thresholds`` are the configured ones (``thresholds_of``): every caller decides alike."""
    partial = ids.partial(contacts_mix=contacts_mix)
    if partial is not None:
        if ids.profile_id is not None or ids.source is not None or ids.external_id is not None:
            raise InvalidIdentifier(
                "profile_id and source/external_id cannot be mixed with other details"
            )
        refuse_one_name_alone(partial)  # a 400 asking for more, never "no customer"
        refuse_a_number_alone(store.conn, partial)  # a 409 asking for more, naming no one
        return _search_naming_no_one_by_a_number(store, region, partial, thresholds)
    given = [n for n in ("email", "phone", "profile_id") if getattr(ids, n) is not None]
    pair = ids.source is not None or ids.external_id is not None
    if len(given) + int(pair) != 1:
        raise InvalidIdentifier(
            "give exactly one identifier: email, phone, profile_id, or source with external_id"
        )
    conn = store.conn
    if ids.email is not None:
        return Found(lookup.by_email(conn, ids.email), "email", "exact")
    if ids.phone is not None:
        return Found(lookup.by_phone(conn, ids.phone, region), "phone", "exact")
    if ids.profile_id is not None:
        return Found(lookup.by_profile_id(conn, ids.profile_id), "profile_id", "exact")
    if not ids.source or not ids.external_id:
        raise InvalidIdentifier("source and external_id must be given together")
    try:
        stored = lookup.by_source_id(conn, ids.source, ids.external_id)
    except ProfileNotFound:
        lookup.check_source(conn, ids.source)  # a misspelt source: no proof nobody matches
        raise
    return Found(
        stored, f"{ids.source} id", "exact", focus=ids.external_id, focus_source=ids.source
    )


_SHOWN = 5  # candidates a 409 names at most


def no_match(partial: PartialIdentity) -> ProfileNotFound:
    """The 404 of a search that found no one for these details."""
    return ProfileNotFound(f"no customer matches the {_given(partial)} given")


def _given(partial: PartialIdentity) -> str:
    return " and ".join(f for f in PartialIdentity.__struct_fields__ if getattr(partial, f))


def _search_naming_no_one_by_a_number(
    store: Store, region: str, partial: PartialIdentity, thresholds: Thresholds
) -> Found:
    """``_search``, except that details holding an order, ticket or invoice number either
    name the customer or name no one: a 409 listing candidates, or a 404, would say whose the
    number is, or that it is no one's (``a_number_names_no_one``)."""
    try:
        return _search(store, region, partial, thresholds)
    except (AmbiguousIdentifier, ProfileNotFound):
        if gives_a_number(partial):
            raise a_number_names_no_one(partial) from None
        raise


def _search(store: Store, region: str, partial: PartialIdentity, thresholds: Thresholds) -> Found:
    conn = store.conn
    scored = search(conn, partial, load_model(conn), region)
    holders = lookup.sole_holders(conn, partial.email, partial.phone, region)
    if len({h.profile_id for h in holders.values()}) > 1:
        _contacts_of_two(conn, holders, scored)
    found = [c for c in scored if c.probability >= NAMING_FLOOR]
    what = _given(partial)
    if not found:
        if is_common_name(conn, partial, region):  # too many to look at, not no one
            raise AmbiguousIdentifier(
                f"the {what} given could be many different customers; ask for another detail",
                candidates=[],
            )
        raise no_match(partial)
    best = found[0]
    grading = grading_for(conn, partial, holders, region, thresholds)
    if grading.held_by_others(best.profile_id):
        _contact_of_another(conn, grading, scored, best)
    refuse_a_number_alone(conn, partial, best, grading)
    if rival_of(found, thresholds) is None:
        # The words of find_customer (tools.confidence): "exact" when the email or phone alone
        # names this customer and nothing given disagrees (a first name on top must not make
        # the answer worse, and the probability may sit below the link threshold); from the
        # link threshold "high", at most "medium" when a contact given is shared; "low" when
        # the name given is not theirs, however strongly the rest agrees.
        confidence = grading.confidence(best)
        if confidence == "exact" or (best.probability >= thresholds.link and confidence != "low"):
            stored = lookup.by_profile_id(conn, best.profile_id)
            matched = _matched(partial, best) or what
            return Found(stored, matched, confidence, probability=best.probability)
    doubt = (
        f"the {what} given could be {len(found)} different customers"
        if len(found) > 1
        else f"the {what} given may not be this customer"
    )
    raise AmbiguousIdentifier(
        f"{doubt}; ask for another detail",
        candidates=[_candidate(conn, c) for c in found[:_SHOWN]],
    )


def _contacts_of_two(
    conn: sqlite3.Connection, holders: dict[str, StoredSnapshot], scored: list[Candidate]
) -> NoReturn:
    """409: the email given names one customer and the phone given another. However well the
    rest agrees with one of them, the caller holds a contact of someone else: naming either
    would show one customer's data to whoever holds the other's (precision first)."""
    by_id = {c.profile_id: c for c in scored}
    named = [
        (by_id.get(stored.profile_id) or Candidate(stored.profile_id, 0.0, {}), field)
        for field, stored in holders.items()
    ]
    named.sort(key=lambda pair: (-pair[0].probability, pair[0].profile_id))
    candidates = []
    for candidate, field in named:
        shown = _candidate(conn, candidate)
        shown["why"] = ", ".join(filter(None, [f"holds the {field} given", str(shown["why"])]))
        candidates.append(shown)
    raise AmbiguousIdentifier(
        "the email given is one customer's and the phone given another's; ask for another detail",
        candidates=candidates,
    )


_EVIDENCE_OF = {
    "email": ("email", "shared_email"),
    "phone": ("phone", "shared_phone"),
    "name": ("first_name", "last_name"),
    "order_number": ("order_number",),
    "ticket_id": ("ticket_id",),
    "invoice_number": ("invoice_number",),
}


def _matched(partial: PartialIdentity, best: Candidate) -> str:
    """The details given that matched ``best`` (``X-Matched-By``), in the order of the fields:
    not a phone no one holds beside their order number, nor a name that was not theirs."""
    matched = [
        field
        for field in PartialIdentity.__struct_fields__
        if getattr(partial, field)
        and any(best.evidence.get(key) in AGREEING for key in _EVIDENCE_OF[field])
    ]
    return " and ".join(matched)


def _contact_of_another(
    conn: sqlite3.Connection, grading: Grading, scored: list[Candidate], best: Candidate
) -> NoReturn:
    """409: the email or phone given is held by another customer (or several: a household's
    line, a shared mailbox) and not by the one the other details (their order, name or
    ticket) point at. The caller holds someone else's contact: naming the other would show
    their data to whoever holds it (precision first). The holders are listed after it."""
    by_id = {c.profile_id: c for c in scored}
    fields = grading.held_by_others(best.profile_id)
    holding = grading.holders_for(fields)
    held = sorted(
        (by_id.get(pid) or Candidate(pid, 0.0, {}) for pid in holding),
        key=lambda c: (-c.probability, c.profile_id),
    )
    candidates = [_candidate(conn, best)]
    for candidate in held[: _SHOWN - 1]:
        shown = _candidate(conn, candidate)
        given = " and ".join(holding[candidate.profile_id])
        shown["why"] = ", ".join(filter(None, [f"holds the {given} given", str(shown["why"])]))
        candidates.append(shown)
    whose = "one customer's" if len(holding) == 1 else "other customers'"
    verb = "is" if len(fields) == 1 else "are"
    raise AmbiguousIdentifier(
        f"the {' and '.join(fields)} given {verb} {whose} and the other details point at"
        " another; ask for another detail",
        candidates=candidates,
    )


def _candidate(conn: sqlite3.Connection, candidate: Candidate) -> dict[str, object]:
    stored = lookup.current_snapshot(conn, candidate.profile_id)
    name = msgspec.json.decode(stored.json, type=_NameOnly).identity.name if stored else None
    return {
        "profile_id": candidate.profile_id,
        "name": name,
        "probability": candidate.probability,
        "why": ", ".join(f"{k}: {v}" for k, v in sorted(candidate.evidence.items())),
    }


class _Identity(msgspec.Struct):
    name: str | None = None


class _NameOnly(msgspec.Struct):
    identity: _Identity = msgspec.field(default_factory=_Identity)
