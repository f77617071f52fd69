"""The customer's own contacts, in the contact fields and in free text, as a view shows them.

The stored snapshot keeps only the profile's own emails and phones in free text
(``snapshot.redaction``). An audience that masks the contact fields (the chatbot: its caller is
not verified) must not read them in full in a ticket comment or an order note either: a caller
who found the profile by phone would learn the email on file. So free text shows the own
contacts exactly as the contact fields do: in full, masked (``m***@example.com``,
``+1******0134``) or not at all (``[email removed]``). Any other address still found in the
free text of such a view (a snapshot stored before it was redacted) is removed.

A view that hides ``identity.names`` reads the customer's own names in free text no more than
in the name fields: each is replaced by ``[name hidden]`` (``names``), in the same pass, so
every surface that shows free text (the audiences, the widget card, escalation handoffs, the
tools) reads it that way. Both are rewritten when the text is read, per view: the stored
snapshot keeps the text as it was written.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from context_service.audience.names import names_as_viewed
from context_service.audience.policy import View
from context_service.models import (
    Activity,
    Conflict,
    Deal,
    IdentitySection,
    Order,
    Snapshot,
    Ticket,
)
from context_service.snapshot.redaction import (
    EMAIL_REMOVED,
    PHONE_REMOVED,
    OwnContacts,
    redact_other_contacts,
    redact_other_phones,
    rewrite_contacts,
)

# A snapshot does not record the deployment's region: own phones are read in their own
# regions (``redaction.rewrite_contacts``), and a number without them only when written with +.
_NO_REGION = "ZZ"
_replace = msgspec.structs.replace
_MASKED = "***@"  # what ``mask_email`` leaves of a local part


def mask_email(email: str) -> str:
    """``maya.patel@example.com`` -> ``m***@example.com``."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def mask_phone(phone: str) -> str:
    """``+14155550134`` -> ``+1******0134`` (country code and last four kept)."""
    digits = phone.lstrip("+")
    head = "+" + digits[:1] if phone.startswith("+") else ""
    return head + "*" * max(len(digits) - 5, 0) + digits[-4:]


def shows_contacts_in_full(view: View) -> bool:
    """Whether ``view`` shows every email and phone as it is (nothing to rewrite)."""
    return (
        view.contact == "full" and view.shows("identity.emails") and view.shows("identity.phones")
    )


def shows_free_text_as_is(view: View) -> bool:
    """Whether ``view`` reads free text as stored: contacts in full and names shown."""
    return shows_contacts_in_full(view) and view.shows("identity.names")


def text_as_viewed(snap: Snapshot, view: View) -> Callable[[str], str]:
    """A function that shows free text's contacts as ``view`` shows the contact fields, and
    hides the customer's own names in it when ``view`` hides ``identity.names``."""
    names = names_as_viewed(snap, view)
    if shows_contacts_in_full(view):
        return names or _unchanged
    own = OwnContacts.of(snap.identity.emails, snap.identity.phones, _NO_REGION)
    email, phone = _email_as_viewed(view), _phone_as_viewed(view)
    if names is None:
        return lambda text: rewrite_contacts(text, own, email, phone) if text else text
    return lambda text: names(rewrite_contacts(text, own, email, phone)) if text else text


def typed_text_as_viewed(snap: Snapshot, view: View, region: str) -> Callable[[str], str]:
    """``text_as_viewed`` for text typed into a conversation (a transcript, a bot's reason).
    For a view that masks or hides contacts, a phone number that is not the customer's own
    goes too (``[phone removed]``: a new number, a relative's), as other people's emails do;
    the stored snapshot's free text lost them when it was built. A number written without
    its country code is read in ``region`` (the deployment's)."""
    shown = text_as_viewed(snap, view)
    if shows_contacts_in_full(view):
        return shown
    own = OwnContacts.of(snap.identity.emails, snap.identity.phones, region)
    return lambda text: shown(redact_other_phones(text, own)) if text else text


def typed_text_for_a_model(snap: Snapshot, view: View, region: str) -> Callable[[str], str]:
    """``typed_text_as_viewed`` for typed text sent to an LLM endpoint: whatever the view, an
    email or phone number that is not the customer's own (a relative's, a new number) is
    removed too. The model's note may not name it (``handoff.checks`` refuses a contact the
    profile does not hold), so sending it would only hand someone else's contact to a third
    party; a view that shows contacts in full still shows them in the deterministic note."""
    shown = typed_text_as_viewed(snap, view, region)
    own = OwnContacts.of(snap.identity.emails, snap.identity.phones, region)
    return lambda text: shown(redact_other_contacts(text, own)) if text else text


def snapshot_as_viewed(snap: Snapshot, view: View) -> Snapshot:
    """The snapshot with its free text's contacts shown as ``view`` shows the contact fields,
    and the customer's names hidden where ``view`` hides them (``text_as_viewed``): ticket
    subjects and comments, order and refund notes, deal names, names and company, conflicts,
    signals and summary (the same object when the view reads free text as it is)."""
    if shows_free_text_as_is(view):
        return snap
    text = _or_none(text_as_viewed(snap, view))
    return _replace(
        snap,
        identity=_identity_as_viewed(snap.identity, text),
        support=_replace(snap.support, tickets=[_ticket(t, text) for t in snap.support.tickets]),
        commerce=_replace(snap.commerce, orders=[_order(o, text) for o in snap.commerce.orders]),
        crm=_replace(snap.crm, deals=[_replace(d, title=text(d.title)) for d in snap.crm.deals]),
        conflicts=[_conflict(c, text) for c in snap.conflicts],
        signals=[_replace(s, message=text(s.message) or "") for s in snap.signals],
        summary=text(snap.summary) or "",
    )


def activity_as_viewed(act: Activity, snap: Snapshot, view: View) -> Activity:
    """One record of ``snap``'s profile, read beside it (the record looked up, when the
    snapshot's lists leave it out), with its free text as ``snapshot_as_viewed`` shows the
    snapshot's."""
    if shows_free_text_as_is(view):
        return act
    text = _or_none(text_as_viewed(snap, view))
    if isinstance(act, Ticket):
        return _ticket(act, text)
    if isinstance(act, Order):
        return _order(act, text)
    if isinstance(act, Deal):
        return _replace(act, title=text(act.title))
    return act


_Text = Callable[[str | None], str | None]


def _or_none(text: Callable[[str], str]) -> _Text:
    return lambda value: text(value) if value else value


def _identity_as_viewed(identity: IdentitySection, text: _Text) -> IdentitySection:
    return _replace(
        identity,
        name=text(identity.name),
        names=[text(n) or "" for n in identity.names],
        company=text(identity.company),
    )


def _ticket(ticket: Ticket, text: _Text) -> Ticket:
    return _replace(
        ticket, title=text(ticket.title), last_public_comment=text(ticket.last_public_comment)
    )


def _order(order: Order, text: _Text) -> Order:
    refunds = [_replace(r, note=text(r.note)) for r in order.refunds]
    return _replace(order, note=text(order.note), refunds=refunds)


def _conflict(conflict: Conflict, text: _Text) -> Conflict:
    """A conflict's names and companies as viewed (its phones: ``facts._visible_conflict``)."""
    if conflict.field == "phone":
        return conflict
    values = [_replace(v, value=text(v.value) or "") for v in conflict.values]
    return _replace(conflict, chosen=text(conflict.chosen) or "", values=values)


def _unchanged(text: str) -> str:
    return text


def _email_as_viewed(view: View) -> Callable[[str, bool], str]:
    shown = view.contact != "none" and view.shows("identity.emails")

    def email(written: str, own: bool) -> str:
        if _MASKED in written:  # masked already (text that passed here before): left as is
            return written
        if not (own and shown):
            return EMAIL_REMOVED
        return written if view.contact == "full" else mask_email(written)

    return email


def _phone_as_viewed(view: View) -> Callable[[str, str], str]:
    shown = view.contact != "none" and view.shows("identity.phones")

    def phone(written: str, e164: str) -> str:
        if not shown:
            return PHONE_REMOVED
        return written if view.contact == "full" else mask_phone(e164)

    return phone
