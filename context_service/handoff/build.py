"""The deterministic escalation handoff: who, wants, bot so far, facts, next step, priority.

Built from the snapshot, the transcript and the reason alone, with no LLM: always available,
and the fallback when the LLM fails. Customer-written text (the transcript, ticket subjects)
and the bot's words stay quoted data in every rendering (``render``). Its parts: every
customer turn (``said``), the orders the conversation names (``orders``, which may read an
old one from the store), the ticket the note goes on (``tickets``), what the bot claims that
the data does not show (``claims``), the next step (``steps``) and the priority's words
(``intent``).

The field policy applies as it does to the audiences (``audience.facts``): a field the view
hides (``billing.subscriptions``, ``billing.charges``, ``orders``, ``crm.owner``,
``crm.stage``, ``support.tickets``...) is never read into the handoff, not even into the
priority or the next step. Signals are account state and stay, as in every audience. The
contact details of ``who`` are the caller's to fit to the view
(``audience.facts.visible_contacts``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from context_service.audience.contacts import typed_text_as_viewed
from context_service.audience.focus import HeldRecords
from context_service.audience.policy import FieldPolicy, View
from context_service.audience.signal_views import visible_signals
from context_service.handoff import intent
from context_service.handoff.claims import claim_facts
from context_service.handoff.orders import named_orders, order_fact
from context_service.handoff.said import clip, wants, without_hidden_controls
from context_service.handoff.steps import next_step
from context_service.handoff.tickets import open_tickets, ticket_for_note
from context_service.models import Order, Signal, Snapshot
from context_service.snapshot.asked_secrets import (
    SecretKind,
    card_number_named,
    secret_asked,
    without_answered_secret,
)
from context_service.snapshot.redaction import redact_free_text
from context_service.snapshot.secrets import redact_secrets

Role = Literal["customer", "user", "bot", "assistant", "agent", "system"]
Priority = Literal["urgent", "high", "normal", "low"]
CUSTOMER_ROLES = frozenset({"customer", "user"})
_BOT_ROLES = frozenset({"bot", "assistant"})
# No region given: a phone number typed without its country code is not read as one.
NO_REGION = "ZZ"
# The built-in ``escalation`` audience rule (nothing hidden, contacts in full): the view of a
# caller that passes none. Every request path passes the view of its key.
DEFAULT_VIEW = FieldPolicy().view("escalation", None)


# The years a conversation's timestamps may fall in: a typo such as ``9999-12-31`` is refused.
_FIRST_YEAR, _LAST_YEAR = 2000, 2099
# At most this many of the bot's promises are listed, the latest; a line says how many more.
MAX_PROMISES = 5


class Turn(msgspec.Struct, forbid_unknown_fields=True):
    """One message of the conversation; ``at``, when given, an ISO 8601 date or date-time."""

    role: Role
    text: Annotated[str, msgspec.Meta(max_length=8000)]
    at: Annotated[str, msgspec.Meta(max_length=40)] | None = None

    def __post_init__(self) -> None:
        if self.at is not None:
            _check_timestamp(self.at)


def _check_timestamp(at: str) -> None:
    """Raise ``ValueError`` (a 400 naming the field) unless ``at`` is an ISO 8601 date or
    date-time between 2000 and 2099: the value reaches the LLM prompt, so no free text."""
    when: date
    try:
        when = datetime.fromisoformat(at) if "T" in at or " " in at else date.fromisoformat(at)
    except ValueError:
        raise ValueError(
            "`at` must be an ISO 8601 date or date-time, such as 2026-11-20T09:01:00Z"
        ) from None
    if not _FIRST_YEAR <= when.year <= _LAST_YEAR:
        raise ValueError(f"`at` must be an ISO 8601 date between {_FIRST_YEAR} and {_LAST_YEAR}")


class Who(msgspec.Struct):
    """Who this is and how sure we are."""

    profile_id: str
    name: str | None
    emails: list[str]
    phones: list[str]
    matched_by: str
    confidence: str
    why: str


class NameHiddenWho(Who):
    """A ``Who`` for a view that hides ``identity.names``: no name, and the text says the name
    is hidden (``render_text``) rather than unknown. It encodes as a ``Who`` (``name`` null)."""


class Handoff(msgspec.Struct):
    """What a human agent needs in ten seconds.

    ``wants``: every customer turn, oldest first, one per line (``said.wants``);
    ``open_ticket``: the ticket the note goes on (``tickets.ticket_for_note``), ``None`` when
    none is open or several are and the conversation names none of them."""

    who: Who
    wants: str
    topics: list[str]
    bot_tried: list[str]
    bot_promised: list[str]
    facts: list[str]
    next_step: str
    priority: Priority
    priority_why: list[str]
    open_ticket: str | None


def build_handoff(
    snap: Snapshot,
    who: Who,
    transcript: list[Turn],
    reason: str,
    view: View = DEFAULT_VIEW,
    *,
    region: str = NO_REGION,
    held: HeldRecords | None = None,
) -> Handoff:
    """The deterministic handoff for one escalation, with only what ``view`` shows.

    ``who`` is used as given, but for its name: build it with the same view (contacts hidden
    or masked); a view that hides ``identity.names`` names nobody (``NameHiddenWho``).
    Payment numbers and secrets are removed from the transcript (``safe_turns``) and the
    reason (``safe_reason``) before anything is read from them, and contacts typed into them
    are shown as the view shows the contact fields (masked or removed for a view that masks or
    hides them; a number typed without its country code is read in ``region``). ``held``
    reads an order the customer names from the store when the snapshot's lists leave it out.
    """
    as_viewed = typed_text_as_viewed(snap, view, region)
    transcript = safe_turns(transcript, as_viewed)
    reason = safe_reason(reason, as_viewed)
    said = [t.text for t in transcript if t.role in CUSTOMER_ROLES and t.text.strip()]
    bot = [t.text for t in transcript if t.role in _BOT_ROLES and t.text.strip()]
    found = intent.topics([*said, reason])
    signals = visible_signals(snap, view)  # a signal about a hidden field keeps no details
    priority, why = _priority(signals, [*said, reason], snap, view)
    named = named_orders(snap, view, (said, bot, reason), held)
    claims = claim_facts(snap, bot, view)  # what the bot says it did that the data lacks
    return Handoff(
        who=_who_as_viewed(who, view),
        wants=wants(said, reason),
        topics=found,
        bot_tried=[clip(t) for t in bot if not intent.is_promise(t)][-3:],
        bot_promised=_promises(bot),
        facts=_facts(snap, signals, found, view, (named, claims)),
        next_step=next_step(snap, said, reason, view, named),
        priority=priority,
        priority_why=why,
        open_ticket=ticket_for_note(snap, said, reason, view),
    )


def _who_as_viewed(who: Who, view: View) -> Who:
    if view.shows("identity.names"):
        return who
    return NameHiddenWho(**{**msgspec.structs.asdict(who), "name": None})


def safe_turns(transcript: list[Turn], as_viewed: Callable[[str], str]) -> list[Turn]:
    """The turns without payment numbers or secrets, their contacts shown by ``as_viewed``
    (``audience.contacts.typed_text_as_viewed``), and without the characters that make text
    read otherwise than it is written (``said.without_hidden_controls``: bidirectional
    controls, Unicode tags). A secret the bot (or an agent) asked for is removed from the
    customer's answers until it speaks again (``snapshot.asked_secrets``): "type the code we
    texted you" / "482913"; so is a card number the customer named themselves, typed in
    pieces: "my card number is 4111 1111" / "1111 1111 exp 12/30"."""
    safe: list[Turn] = []
    asked: SecretKind | None = None
    for turn in transcript:
        text = without_hidden_controls(turn.text)
        if turn.role not in CUSTOMER_ROLES:  # the bot, an agent: what they ask for
            asked = secret_asked(text)
        else:
            if asked is not None:
                text = without_answered_secret(text, asked)
            named = card_number_named(text)  # "my card number is 4111 1111" / "1111 1111"
            if named is not None:
                text = text[:named] + without_answered_secret(text[named:], "card")
                asked = "card"
        safe.append(msgspec.structs.replace(turn, text=as_viewed(redact_free_text(text))))
    return safe


def safe_reason(reason: str, as_viewed: Callable[[str], str]) -> str:
    """The bot's reason as ``safe_turns`` makes a turn (no payment number, secret, hidden
    control; contacts shown by ``as_viewed``)."""
    return as_viewed(redact_free_text(without_hidden_controls(reason)))


def _promises(bot: list[str]) -> list[str]:
    """What the bot committed to, the latest ``MAX_PROMISES``, after a line that says how many
    earlier ones the transcript holds (bounded, so a long chat cannot flood the note)."""
    promised = [clip(t) for t in bot if intent.is_promise(t)]
    earlier = len(promised) - MAX_PROMISES
    if earlier <= 0:
        return promised
    plural = "s" if earlier > 1 else ""
    return [
        f"({earlier} earlier promise{plural} not shown; see the transcript)",
        *promised[-MAX_PROMISES:],
    ]


def _facts(
    snap: Snapshot,
    signals: list[Signal],
    found: list[str],
    view: View,
    said_about: tuple[list[Order], list[str]],
) -> list[str]:
    """The account facts that bear on the escalation; field names as in ``audience.facts``.
    ``said_about``: the orders of this customer the conversation names, listed first (the
    view allowing), and the facts that contradict what the bot said it did
    (``claims.claim_facts``), listed right after the signals.

    Signals quote customer-written text (ticket subjects): secrets in it are removed."""
    named, claims = said_about
    facts = [s.message for s in signals if s.severity != "info"]
    facts.extend(claims)
    if view.shows("orders"):
        facts.extend(order_fact("Order in question", o) for o in named)
    b, c = snap.billing, snap.commerce
    if b.subscriptions and view.shows("billing.subscriptions"):
        sub = b.subscriptions[0]
        price = " ".join(part for part in (sub.amount, sub.currency) if part)
        priced = f", {price}" if price else ""
        facts.append(f"Plan {sub.plan or sub.title}: {sub.status}{priced}")
    if ("billing" in found or not found) and view.shows("billing.charges"):
        facts.extend(_charges(snap))
    orders = c.orders if view.shows("orders") else []
    latest_named = bool(orders) and orders[0] in named  # listed once, as the one in question
    if orders and not latest_named and ("shipping" in found or not found or "billing" not in found):
        facts.append(order_fact("Latest order", orders[0]))
    if snap.crm.owner and view.shows("crm.owner"):
        stage = f" ({snap.crm.lifecycle_stage})" if view.shows("crm.stage") else ""
        facts.append(f"Account owner in CRM: {snap.crm.owner}{stage}")
    return list(dict.fromkeys(redact_secrets(fact) for fact in facts))


def _charges(snap: Snapshot) -> list[str]:
    charges = snap.billing.charges[:4]
    if not charges:
        return []
    listed = "; ".join(
        f"{(ch.created_at or '')[:10]} {ch.amount} {ch.currency} {ch.status}"
        + (f" ({ch.failure_code})" if ch.failure_code else "")
        for ch in charges
    )
    return [f"Recent charges: {listed}"]


def _priority(
    signals: list[Signal], texts: list[str], snap: Snapshot, view: View
) -> tuple[Priority, list[str]]:
    """The priority and each rule that set it, naming what matched (the word, the signal)."""
    urgent = _urgent_reasons(signals, texts)
    if urgent:
        return "urgent", urgent
    why: list[str] = []
    critical = [s for s in signals if s.severity == "critical"]
    if critical:
        why.append("critical account signal: " + redact_secrets(critical[0].message))
    if intent.is_upset(texts):
        why.append("customer sounds frustrated or is writing again")
    if any(t.priority in {"high", "urgent"} for t in open_tickets(snap, view)):
        why.append("an open ticket is marked high priority")
    if why:
        return "high", why
    return ("normal", ["no urgent signal"]) if texts else ("low", ["nothing stated"])


def _urgent_reasons(signals: list[Signal], texts: list[str]) -> list[str]:
    """Why the case is urgent: the chargeback, fraud or legal words found (our keywords, never
    the customer's sentence) and each open dispute."""
    reasons: list[str] = []
    words = intent.urgent_words(texts)
    if words:
        reasons.append("chargeback, fraud or legal words: " + ", ".join(words))
    reasons.extend(
        "open dispute: " + redact_secrets(s.message) for s in signals if s.code == "dispute_open"
    )
    return reasons
