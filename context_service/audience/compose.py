"""Place facts into an audience's sections, then fit them to a token budget by priority.

The budget drops whole facts, lowest priority first (a strict prefix by priority is kept, so a
fact is never present while a more important one is missing), and is checked against the full
rendering, so the result never exceeds it. A fact past its kind's cap (the chatbot's fourth
open ticket) is never shown, budget or not, but it is counted: it stays in the placement as
``listed=False``, and the rendering says how many such facts it does not list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, Protocol

from msgspec.structs import replace

from context_service.audience.facts import Fact
from context_service.audience.specs import FOCUS_PRIORITY, IN_QUESTION, Section, Slot
from context_service.errors import ContextServiceError


class Placed(NamedTuple):
    """A fact in its section: where it goes, in which order, and how long it is kept.

    ``listed``: ``False`` for a fact past its kind's cap, never shown but counted as left out.
    """

    fact: Fact
    section: int
    order: tuple[int, int]
    priority: int
    listed: bool = True


class BudgetTooSmall(ContextServiceError):
    """Even the customer's identity line does not fit the requested budget."""

    status_code = 400
    title = "Token budget too small"


class Renderer(Protocol):
    """What fitting needs from a format: the whole document, one fact, one heading."""

    def document(
        self, kept: list[Placed], omitted: list[Placed], *, short_note: bool = False
    ) -> str:
        """The full rendering of the kept facts, with a note of the omitted ones (``short_note``:
        their number only, for a budget too tight for the count per section)."""
        ...

    def fact(self, placed: Placed) -> str:
        """One fact's rendering (its share of the document)."""
        ...

    def heading(self, section: int) -> str:
        """A section's heading (paid once, by the section's first fact)."""
        ...


def place(
    facts: list[Fact], spec: tuple[Section, ...], focus: str | None, *, fold: bool = False
) -> list[Placed]:
    """The facts this audience shows, each in its section, capped per kind; focus moved up.

    A fact past its kind's cap is placed with ``listed=False``: ``fit`` never shows it, and
    counts it among the facts left out (``Fitted.unlisted``).

    ``fold``: let a section that ``absorbs`` signals take in the facts they are about
    (see ``fold_signals``); for text and markdown, where the signal's words would repeat them.
    """
    placed = _place(facts, spec, focus)
    return fold_signals(placed, spec) if fold else placed


def _place(facts: list[Fact], spec: tuple[Section, ...], focus: str | None) -> list[Placed]:
    slots = {
        slot.kind: (index, pos, slot)
        for index, section in enumerate(spec)
        for pos, slot in enumerate(section.slots)
    }
    focus_section = spec.index(IN_QUESTION) if IN_QUESTION in spec else None
    placed: list[Placed] = []
    for fact in facts:
        found = slots.get(fact.kind)
        about_focus = bool(focus) and fact.ref == focus and fact.kind != "record"
        if (
            focus_section is not None
            and about_focus
            and (found is not None or not fact.kind.startswith("signal."))
        ):
            # The record looked up, whatever its kind: even one this audience does not list
            # (the sidebar's closed ticket, an older order) or that is past its kind's cap.
            placed.append(Placed(fact, focus_section, (0, 0), FOCUS_PRIORITY))
            continue
        if found is None:
            continue
        index, pos, slot = found
        listed = slot.limit is None or fact.rank < slot.limit
        order = (fact.rank, int(fact.indent)) if spec[index].by_rank else (pos, fact.rank)
        placed.append(Placed(fact, index, order, slot.priority + fact.rank, listed))
    return _kept_after(placed, slots)


def _kept_after(placed: list[Placed], slots: dict[str, tuple[int, int, Slot]]) -> list[Placed]:
    """Facts of a slot with ``after`` kinds moved past the last placed fact of those kinds (the
    summary past every critical and warning signal), so that a budget drops them first."""
    later = {kind: slot.after for kind, (_, _, slot) in slots.items() if slot.after}
    if not any(p.fact.kind in later for p in placed):
        return placed
    last: dict[str, int] = {}
    for p in placed:
        last[p.fact.kind] = max(last.get(p.fact.kind, p.priority), p.priority)
    out: list[Placed] = []
    for p in placed:
        floor = max((last[k] + 1 for k in later.get(p.fact.kind, ()) if k in last), default=0)
        out.append(p._replace(priority=floor) if floor > p.priority else p)
    return out


# Signals whose words the line of the fact they are about says as well (after the severity
# tag): the subscription's state and when it was canceled, the failed invoice's attempts and
# amount due, the dispute, the unshipped order, the refund, the one open ticket. Any other
# (an invoice overdue since a date the invoice's line does not give; a code added later) is
# not folded: its words stay a line of their own, so text says what JSON says.
FOLDED_CODES = frozenset(
    {
        "subscription_past_due",
        "subscription_unpaid",
        "subscription_canceled",
        "invoice_payment_failed",
        "dispute_open",
        "order_unfulfilled",
        "refund_issued",
        "open_tickets",
    }
)


def fold_signals(placed: list[Placed], spec: tuple[Section, ...]) -> list[Placed]:
    """Signals merged into the facts they are about, in the section that ``absorbs`` them.

    A signal whose ``ref`` names a placed fact (the past-due subscription, the unshipped
    order, the open ticket and its comment) and whose words that fact's line says too
    (``FOLDED_CODES``) is dropped; the fact gets the signal's severity tag, its place in that
    section and the better of the two priorities. A signal about nothing shown, or saying more
    than the fact, stays as it is. The result is a permutation minus the folded signals.
    """
    target = next((i for i, section in enumerate(spec) if section.absorbs), None)
    if target is None:
        return placed
    about: dict[str, list[int]] = {}
    for index, p in enumerate(placed):
        shown = p.listed and p.fact.kind != "record"
        if shown and p.fact.ref and not p.fact.kind.startswith("signal."):
            about.setdefault(p.fact.ref, []).append(index)
    out: list[Placed | None] = list(placed)
    flagged: set[str] = set()
    for index, p in enumerate(placed):
        ref = p.fact.ref
        if not p.fact.kind.startswith("signal.") or not ref or ref not in about:
            continue
        if p.fact.data.get("code") not in FOLDED_CODES:
            continue
        out[index] = None
        if ref in flagged:
            continue  # a second signal about a fact already flagged: the fact says it
        flagged.add(ref)
        severity = p.fact.kind.removeprefix("signal.")
        for sub, moved in enumerate(about[ref]):
            q = placed[moved]
            fact = q.fact if sub else replace(q.fact, line=(f"[{severity}] ", *q.fact.line))
            if spec[q.section] == IN_QUESTION:
                out[moved] = Placed(fact, q.section, q.order, q.priority)
                continue
            order = (p.order[0], p.order[1] * 8 + sub)
            out[moved] = Placed(fact, target, order, min(q.priority, p.priority + sub))
    for index, p in enumerate(placed):  # the signals left keep their order among the moved
        if out[index] is p and p.fact.kind.startswith("signal.") and p.section == target:
            out[index] = p._replace(order=(p.order[0], p.order[1] * 8))
    return [p for p in out if p is not None]


def in_reading_order(placed: list[Placed]) -> list[Placed]:
    """Facts sorted by section, then by their order within it."""
    return sorted(placed, key=lambda p: (p.section, p.order))


class Fitted(NamedTuple):
    """The outcome of fitting: kept and omitted facts, the rendered body and its token count.

    ``omitted``: the facts the budget left out, by priority; ``unlisted``: those past their
    kind's cap, left out whatever the budget. The rendering counts both.
    """

    kept: list[Placed]
    omitted: list[Placed]
    body: str
    tokens: int
    unlisted: tuple[Placed, ...] = ()


# Kinds that restate the other facts (the summary): under a budget such a fact is kept at its
# priority when it fits, and when it does not it is left out alone, never holding back the
# facts after it, which then fill the room it would have taken.
RESTATING = frozenset({"summary"})


def fit(
    placed: list[Placed], budget: int | None, renderer: Renderer, count: Callable[[str], int]
) -> Fitted:
    """The most important facts whose full rendering fits ``budget`` (all of them if ``None``).

    The omitted note counts facts per section; when that note leaves no room for even the
    identity line, a short note (their number only) is used instead. Refused with
    ``BudgetTooSmall``, which says the smallest budget that fits, when neither does. Facts
    past their kind's cap (``listed=False``) are never kept, and always counted in the note.
    What is kept is the longest priority prefix that fits, but for a fact of a ``RESTATING``
    kind that does not fit: it is left out, and the prefix goes on without it.
    """
    unlisted = tuple(p for p in placed if not p.listed)
    shown = [p for p in placed if p.listed]
    if budget is None:
        body = renderer.document(shown, list(unlisted))
        return Fitted(shown, [], body, count(body), unlisted)
    by_priority = sorted(shown, key=lambda p: p.priority)
    fitted = _fit_prefix(by_priority, unlisted, budget, renderer, count)
    if fitted is None:
        raise _too_small(by_priority, unlisted, budget, renderer, count)
    skipped = tuple(p for p in fitted.omitted if p.fact.kind in RESTATING)
    rest = [p for p in by_priority if p.fact.kind not in RESTATING]
    refit = _fit_prefix(rest, (*skipped, *unlisted), budget, renderer, count) if skipped else None
    if refit is None:  # nothing skipped (or, never, no room without it either)
        return fitted._replace(unlisted=unlisted)
    return refit._replace(omitted=[*refit.omitted, *skipped], unlisted=unlisted)


def _fit_prefix(
    by_priority: list[Placed],
    left_out: tuple[Placed, ...],
    budget: int,
    renderer: Renderer,
    count: Callable[[str], int],
) -> Fitted | None:
    """The longest priority prefix that fits with the note per section, else with the short
    note; ``None`` if neither does. ``left_out``: facts never kept but counted in the note."""
    for short_note in (False, True):
        fitted = _fit_within(by_priority, left_out, budget, renderer, count, short_note=short_note)
        if fitted is not None:
            return fitted
    return None


def _fit_within(
    by_priority: list[Placed],
    left_out: tuple[Placed, ...],
    budget: int,
    renderer: Renderer,
    count: Callable[[str], int],
    *,
    short_note: bool,
) -> Fitted | None:
    """The longest priority prefix whose document fits, or ``None`` if none does."""
    required = [p for p in by_priority if p.priority == 0]
    optional = [p for p in by_priority if p.priority > 0]

    def document(kept: list[Placed], omitted: list[Placed]) -> str:
        return renderer.document(kept, [*omitted, *left_out], short_note=short_note)

    kept = required + _greedy(required, optional, budget, document, renderer, count)
    omitted = optional[len(kept) - len(required) :]
    body = document(kept, omitted)
    tokens = count(body)
    while tokens > budget:
        if len(kept) == len(required):
            return None
        omitted.insert(0, kept.pop())
        body = document(kept, omitted)
        tokens = count(body)
    while omitted:
        bigger = document([*kept, omitted[0]], omitted[1:])
        bigger_tokens = count(bigger)
        if bigger_tokens > budget:
            break
        kept.append(omitted.pop(0))
        body, tokens = bigger, bigger_tokens
    return Fitted(kept, omitted, body, tokens)


def _too_small(
    by_priority: list[Placed],
    unlisted: tuple[Placed, ...],
    budget: int,
    renderer: Renderer,
    count: Callable[[str], int],
) -> BudgetTooSmall:
    """The refusal, with the smallest budget that holds the identity line and the short note."""
    required = [p for p in by_priority if p.priority == 0]
    optional = [p for p in by_priority if p.priority > 0]
    smallest = count(renderer.document(required, [*optional, *unlisted], short_note=True))
    return BudgetTooSmall(
        f"max_tokens={budget} cannot hold even the customer's identity line; "
        f"ask for more: at least {smallest}",
        min_tokens=smallest,
    )


def _greedy(
    required: list[Placed],
    optional: list[Placed],
    budget: int,
    document: Callable[[list[Placed], list[Placed]], str],
    renderer: Renderer,
    count: Callable[[str], int],
) -> list[Placed]:
    """The longest prefix of ``optional`` whose estimated cost fits (checked exactly later)."""
    total = count(document(required, optional))
    sections = {p.section for p in required}
    headings: dict[int, int] = {}
    taken: list[Placed] = []
    for candidate in optional:
        total += count(renderer.fact(candidate))
        if candidate.section not in sections:
            section = candidate.section
            if section not in headings:
                headings[section] = count(renderer.heading(section))
            total += headings[section]
        if total > budget:
            break
        sections.add(candidate.section)
        taken.append(candidate)
    return taken
