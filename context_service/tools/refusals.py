"""What a lookup by what a customer typed refuses to answer, before or after the search,
shared by ``find_customer`` (``tools.service``) and the lookups of ``/v1/context`` and
``/v1/escalations`` (``api.identify``): a one-word name alone (400), and an order, ticket or
invoice number that is all that names the customer, or a vendor id of one given to a tool
(409 naming no one). Such a number is printed on a parcel, a shipping email or a forwarded
invoice, and sequential ones can be counted through.
"""

from __future__ import annotations

import sqlite3

from context_service.errors import AmbiguousIdentifier, InvalidIdentifier
from context_service.identity.full_name import holds_their_full_name
from context_service.identity.normalize import name_tokens
from context_service.identity.search import Candidate, PartialIdentity
from context_service.snapshot import lookup
from context_service.tools.confidence import Grading


def refuse_an_activity_id(conn: sqlite3.Connection, source: str, external_id: str) -> None:
    """409 naming no one for the vendor id of an order, ticket, invoice... given to a tool or
    an escalation, which a model or a bot fills in from what the customer typed: a Zendesk
    ticket id is the number on the ticket's emails, so it is the ``ticket_id`` rule
    (``refuse_a_number_alone``). A person's vendor id (a customer, contact, user or row) is
    looked up as before; ``GET /v1/context`` keeps finding any vendor id's owner."""
    if lookup.names_an_activity(conn, source, external_id):
        raise AmbiguousIdentifier(
            f"{source} id {external_id[:64]} is an order, ticket or invoice, which can be read"
            " off a parcel or an email: look the customer up by their email or phone, or give"
            " the number as order_number, ticket_id or invoice_number with their full name",
            candidates=[],
        )


def refuse_one_name_alone(partial: PartialIdentity) -> None:
    """400 for a name of one word (``Maya``, ``Mr Patel``) with nothing else: it cannot pick
    out a customer, and an empty list would read "no such customer". Said whatever the store
    holds, so the answer tells nobody whether anyone has the name."""
    others = (partial.email, partial.phone, partial.order_number, partial.ticket_id)
    if partial.name is None or any(others) or partial.invoice_number:
        return
    words = sum(1 for word in partial.name.split() if name_tokens(None, None, word))
    if words == 1:
        raise InvalidIdentifier(
            f"'{partial.name}' is one name alone, which cannot pick out a customer: ask for "
            "their full name with their email, phone or an order number"
        )


_NUMBERS = ("order_number", "ticket_id", "invoice_number")


def refuse_a_number_alone(
    conn: sqlite3.Connection,
    partial: PartialIdentity,
    best: Candidate | None = None,
    grading: Grading | None = None,
) -> None:
    """409 naming no one for an order, ticket or invoice number with no name, email or phone
    (before any search: whether the number is anyone's is not said either), or, once searched,
    when such a number of ``best`` is all that names them (``rests_on_a_number``). Whoever gave
    it may have read it off a parcel or counted through the numbers, and the answer, or a
    candidate's name, would tell them whose it is. The caller asks for the customer's full
    name, email or phone as well."""
    numbers = [getattr(partial, field) for field in _NUMBERS]
    if any(n is not None and not n.strip().lstrip("#").strip() for n in numbers):
        return  # a blank number: the search refuses it (400), as for any detail
    personal = partial.name or partial.email or partial.phone
    if best is None or grading is None:
        if personal:
            return
    elif not rests_on_a_number(conn, partial, best, grading):
        return
    raise a_number_names_no_one(partial)


def a_number_names_no_one(partial: PartialIdentity) -> AmbiguousIdentifier:
    """The 409 of ``refuse_a_number_alone``, also given when details with a number find no
    one: a 404 there would say the number is no one's, where a wrong name beside a real one is
    this 409."""
    given = " and ".join(f for f in PartialIdentity.__struct_fields__ if getattr(partial, f))
    return AmbiguousIdentifier(
        f"the {given} given name no one for sure: an order, ticket or invoice number can be"
        " read off a parcel, an email or an invoice, so it counts only beside the customer's"
        " own full name, email or phone; ask for those",
        candidates=[],
    )


def gives_a_number(partial: PartialIdentity) -> bool:
    """Whether the details hold an order, ticket or invoice number."""
    return any(getattr(partial, field) for field in _NUMBERS)


def rests_on_a_number(
    conn: sqlite3.Connection, partial: PartialIdentity, candidate: Candidate, grading: Grading
) -> bool:
    """Whether an order, ticket or invoice number of theirs is all that names ``candidate``:
    no email or phone given is theirs alone (a household's line or a shared inbox is not),
    and the name given is not their full name (``holds_their_full_name``: a first name, a
    surname alone, a first name typed twice or an initial is not; the commonest first names
    and surnames are few enough to try in turn against each order number)."""
    evidence = candidate.evidence
    if not any(evidence.get(field) == "theirs" for field in _NUMBERS):
        return False
    shared = set(grading.shares(candidate.profile_id))
    for field in ("email", "phone"):
        if evidence.get(field) == "exact" and field not in shared:
            return False
    name = partial.name
    return not (name and holds_their_full_name(conn, candidate.profile_id, name))
