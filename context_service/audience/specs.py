"""What each audience reads, in which order, and what it gives up first under a token budget.

Each audience is a list of sections; each section lists the fact kinds it holds, each with a
priority (lower is kept longer; the n-th fact of a kind adds n) and an optional cap. The chatbot
gets what changes its next reply first: open issues, payment state, the order in question,
recent contact; the agent gets the fuller picture; the sidebar a compact card; the escalation
audience what a person taking over needs.
"""

from __future__ import annotations

from typing import NamedTuple

from context_service.audience.policy import Audience

FOCUS_PRIORITY = 5


class Slot(NamedTuple):
    """A kind of fact in a section: its priority and how many of it at most.

    ``after``: kinds this one is kept only after: its facts' priority is raised past every
    placed fact of those kinds (the summary past each critical and warning signal, however
    many there are: a signal's priority grows with its rank).
    """

    kind: str
    priority: int
    limit: int | None = None
    after: tuple[str, ...] = ()


class Section(NamedTuple):
    """A titled group of facts. ``by_rank``: interleave kinds by rank (a ticket, its comment).

    ``absorbs``: in text and markdown, a signal about a fact shown elsewhere (the subscription
    that is past due, the order not shipped) is not repeated in words: the fact itself moves
    into this section, tagged with the signal's severity, and keeps the signal's priority.
    """

    name: str
    title: str | None
    slots: tuple[Slot, ...]
    by_rank: bool = False
    absorbs: bool = False


IN_QUESTION = Section("in_question", "In question", ())
_SIGNALS_FIRST = ("signal.critical", "signal.warning")


def _summary(priority: int) -> Section:
    """The summary on top, kept under a budget only after every critical and warning signal
    (and at ``priority`` at the earliest): it restates the facts below, so a long one (an
    LLM's) never pushes out the past-due plan or the failed payment it is about."""
    return Section("summary", None, (Slot("summary", priority, after=_SIGNALS_FIRST),))


_CHATBOT = (
    Section("customer", None, (Slot("who", 0),)),
    _summary(21),
    IN_QUESTION,
    Section(
        "attention",
        "Needs attention",
        (Slot("signal.critical", 10), Slot("signal.warning", 20), Slot("signal.info", 50)),
        absorbs=True,
    ),
    Section(
        "support",
        "Tickets",
        (Slot("ticket.open", 15, 3), Slot("ticket.comment", 35, 2), Slot("ticket.closed", 60, 2)),
        by_rank=True,
    ),
    Section(
        "billing",
        "Billing",
        (
            Slot("subscription", 25, 3),
            Slot("charge.failed", 26, 1),
            Slot("invoice.unpaid", 29, 2),
            Slot("dispute", 28, 2),
            Slot("invoice.other", 70, 1),  # the last payment; its charge says the same
            # The last three charges, not one: "I was charged twice" is what customers ask
            # about most, and a duplicate (or a renewal next to a one-off) shows only in a
            # second line. Kept last under a budget (75, 76, 77); those past three are counted.
            Slot("charge.other", 75, 3),
        ),
    ),
    Section(
        "orders",
        "Orders",
        (Slot("order.latest", 27), Slot("orders.total", 45), Slot("order.other", 55, 3)),
    ),
    Section(
        "other",
        "Also",
        (Slot("crm.stage", 65), Slot("identity.company", 80)),
    ),
)

_AGENT = (
    Section(
        "customer",
        None,
        (
            Slot("who", 0),
            Slot("identity.names", 40),
            Slot("identity.company", 40),
            Slot("identity.address", 45, 3),
        ),
    ),
    _summary(13),
    IN_QUESTION,
    Section(
        "attention",
        "Needs attention",
        (Slot("signal.critical", 10), Slot("signal.warning", 12), Slot("signal.info", 30)),
    ),
    Section(
        "support",
        "Tickets",
        (Slot("ticket.open", 15), Slot("ticket.comment", 20), Slot("ticket.closed", 50)),
        by_rank=True,
    ),
    Section(
        "orders",
        "Orders",
        (Slot("order.latest", 18), Slot("orders.total", 22), Slot("order.other", 35)),
    ),
    Section(
        "billing",
        "Billing",
        (
            Slot("subscription", 16),
            Slot("invoice.unpaid", 17),
            Slot("dispute", 17),
            Slot("charge.failed", 19),
            Slot("invoice.other", 55),
            Slot("charge.other", 58),
        ),
    ),
    Section("crm", "CRM", (Slot("crm.stage", 25), Slot("crm.deal", 38))),
    Section("conflicts", "Conflicts between sources", (Slot("conflict", 60),)),
    Section("records", "Records", (Slot("record", 80),)),
    Section("freshness", None, (Slot("freshness", 85),)),
)

_SIDEBAR = (
    Section("customer", None, (Slot("who", 0), Slot("identity.company", 40))),
    _summary(13),
    IN_QUESTION,
    Section(
        "attention", "Needs attention", (Slot("signal.critical", 10), Slot("signal.warning", 12))
    ),
    Section("support", "Open tickets", (Slot("ticket.open", 15, 3),)),
    Section("orders", "Orders", (Slot("order.latest", 20, 1), Slot("orders.total", 25))),
    Section("billing", "Billing", (Slot("subscription", 18, 2), Slot("invoice.unpaid", 19, 1))),
    Section("crm", "CRM", (Slot("crm.stage", 30),)),
    Section("records", "Open in", (Slot("record", 50, 6),)),
)

_ESCALATION = (
    Section(
        "customer",
        None,
        (Slot("who", 0), Slot("identity.names", 50), Slot("identity.company", 50)),
    ),
    _summary(13),
    IN_QUESTION,
    Section(
        "attention",
        "Needs attention",
        (Slot("signal.critical", 10), Slot("signal.warning", 12), Slot("signal.info", 40)),
    ),
    Section(
        "support",
        "Tickets",
        (Slot("ticket.open", 14), Slot("ticket.comment", 16), Slot("ticket.closed", 45, 2)),
        by_rank=True,
    ),
    Section(
        "billing",
        "Billing",
        (
            Slot("subscription", 18),
            Slot("invoice.unpaid", 19),
            Slot("dispute", 19),
            Slot("charge.failed", 20),
            Slot("invoice.other", 60, 2),
            Slot("charge.other", 62, 2),
        ),
    ),
    Section(
        "orders",
        "Orders",
        (Slot("order.latest", 22), Slot("orders.total", 30), Slot("order.other", 40, 3)),
    ),
    Section("crm", "CRM", (Slot("crm.stage", 25), Slot("crm.deal", 45))),
    Section("conflicts", "Conflicts between sources", (Slot("conflict", 55),)),
    Section("records", "Records", (Slot("record", 70),)),
)

SPECS: dict[Audience, tuple[Section, ...]] = {
    "chatbot": _CHATBOT,
    "agent": _AGENT,
    "sidebar": _SIDEBAR,
    "escalation": _ESCALATION,
}
