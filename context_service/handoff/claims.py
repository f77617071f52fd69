"""What the bot says it did, checked against the data.

A bot that tells the customer "I've refunded the duplicate" or "your subscription is now
cancelled" when nothing of the kind happened leaves the person taking over to find out the
hard way. When the bot's turns claim a refund and no charge or order the view shows has one,
or a cancellation while the subscription is still live, the handoff says so as a fact: "The
bot says it refunded; Stripe shows no refund". Nothing is said when the view hides the part of
the data that would show it (it cannot tell, and must not hint at it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from context_service.audience.policy import View
from context_service.handoff.intent import clause_at, is_question
from context_service.models import Snapshot, Subscription

_DONE = r"(?:just\s+|already\s+|now\s+|successfully\s+)?"
# "I've refunded", "we have issued a refund", "your refund has been processed", "has been
# refunded"; not "I will refund" (a promise: ``bot_promised``) nor "has not been refunded".
_REFUND_CLAIM = re.compile(
    rf"(?<!\w)(?:i|we)(?:['\u2019]ve|\s+have)\s+{_DONE}(?:refunded|(?:issued|processed|sent|made)"
    r"\s+(?:you\s+)?(?:a|the|your)\s+(?:full\s+|partial\s+)?refund)"
    rf"|(?<!\w)(?:has|have|was|were)\s+(?:been\s+)?{_DONE}refunded"
    rf"|(?<!\w)refund\s+(?:has\s+been|was|is)\s+{_DONE}(?:issued|processed|sent|made|done)",
    re.IGNORECASE,
)
# "I've cancelled your subscription", "your plan has been canceled", "it is now cancelled".
_CANCEL_CLAIM = re.compile(
    rf"(?<!\w)(?:i|we)(?:['\u2019]ve|\s+have)\s+{_DONE}cancell?ed"
    rf"|(?<!\w)(?:has|have|was|were)\s+been\s+{_DONE}cancell?ed"
    r"|(?<!\w)(?:is|are)\s+now\s+cancell?ed",
    re.IGNORECASE,
)
_ABOUT_AN_ORDER = re.compile(r"(?<!\w)order", re.IGNORECASE)
_ABOUT_THE_PLAN = re.compile(r"(?<!\w)(?:subscription|plan|membership)", re.IGNORECASE)
_REFUNDED_ORDER = frozenset({"refunded", "partially_refunded"})
_LIVE = frozenset({"active", "trialing", "past_due", "unpaid", "incomplete"})


def claim_facts(snap: Snapshot, bot: list[str], view: View) -> list[str]:
    """A fact for each kind of thing the bot's turns say it did that the data does not show
    (a refund, the subscription's cancellation)."""
    facts: list[str] = []
    refund_claimed = any(_asserted(_REFUND_CLAIM, text) for text in bot)
    if refund_claimed and view.shows("billing.charges") and not _refund_shown(snap, view):
        where = "Stripe" if snap.billing.charges else "the data"
        facts.append(f"The bot says it refunded; {where} shows no refund")
    live = _live_subscription(snap, view)
    if live is not None and any(_claims_cancelling_the_plan(text) for text in bot):
        plan = live.plan or live.title or "the subscription"
        facts.append(f"The bot says it cancelled; Stripe shows {plan} still {live.status}")
    return facts


def _refund_shown(snap: Snapshot, view: View) -> bool:
    """Whether a charge (or, when the view shows orders, an order) has a refund."""
    for charge in snap.billing.charges:
        if charge.refunded or charge.refunds or _nonzero(charge.amount_refunded):
            return True
    if not view.shows("orders"):
        return False
    return any(o.refunds or o.financial_status in _REFUNDED_ORDER for o in snap.commerce.orders)


def _nonzero(amount: str | None) -> bool:
    return bool(amount) and any(ch in "123456789" for ch in amount or "")


def _live_subscription(snap: Snapshot, view: View) -> Subscription | None:
    """The first subscription still running, when the view shows subscriptions and none of
    them is cancelled or set to cancel (the bot's claim may be about that one)."""
    if not view.shows("billing.subscriptions"):
        return None
    subs = snap.billing.subscriptions
    if any(s.canceled_at or s.cancel_at_period_end or s.status == "canceled" for s in subs):
        return None
    return next((s for s in subs if s.status in _LIVE), None)


def _claims_cancelling_the_plan(text: str) -> bool:
    """A cancellation claim about the plan, not an order: what follows the claim names it
    ("I've cancelled order #1003; your plan is unaffected" is an order's), else its clause
    ("your order has been cancelled" is an order's, "it is now cancelled" the plan's)."""
    for match in _asserted_matches(_CANCEL_CLAIM, text):
        start, end = clause_at(text, match.start())
        named = text[match.end() : min(end, match.end() + _OBJECT_REACH)]
        if _ABOUT_THE_PLAN.search(named):
            return True
        if _ABOUT_AN_ORDER.search(named):
            continue
        clause = text[start:end]
        if not _ABOUT_AN_ORDER.search(clause) or _ABOUT_THE_PLAN.search(clause):
            return True
    return False


# What a claim says it did, read up to this many characters after it ("cancelled order #1003").
_OBJECT_REACH = 40
# A claim in a clause after these is a condition or a question, not something done: "if it was
# refunded, you would see it", "whether the order has been refunded".
_CONDITIONAL = re.compile(r"(?<!\w)(?:if|whether|once|when|unless|until)(?!\w)", re.IGNORECASE)


def _asserted(pattern: re.Pattern[str], text: str) -> bool:
    """Whether ``text`` states ``pattern``'s claim as done at least once."""
    return next(_asserted_matches(pattern, text), None) is not None


def _asserted_matches(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """The matches of ``pattern`` stated as done: not in a question, nor after a conditional
    word in their clause."""
    for match in pattern.finditer(text):
        start, end = clause_at(text, match.start())
        if is_question(text, end):
            continue
        if _CONDITIONAL.search(text, start, match.start()):
            continue
        yield match
