"""What the customer said, as the handoff carries it: every turn, clipped and bounded.

"The customer should never have to repeat themselves": the person taking over reads every
customer turn in ``wants`` (and the note), not the first and the latest only; a detail from the
middle of the chat ("I already reset it three times", "ship it to Paris before Friday", an
order number) is often the one that matters. Each turn is clipped to ``TURN_CHARS`` and the
whole to ``WANTS_CHARS`` and ``MAX_WANTS_TURNS``: past that bound the oldest turns after the
first are summarised as ``(N more turns not shown; see the transcript)``.

Text that reaches a person or a model is also stripped of the characters that make it read
otherwise than it is written (``without_hidden_controls``).
"""

from __future__ import annotations

import re

from context_service.audience.segments import customer
from context_service.snapshot.invisible import without_invisible
from context_service.snapshot.quoting import one_line

# At most this many characters of one turn (marked ``…`` when cut).
TURN_CHARS = 240
# At most this many turns, and characters in all (each turn's and a line break), are listed.
MAX_WANTS_TURNS = 20
WANTS_CHARS = 4000
# The line that stands for the turns left out: server words, never the customer's.
MORE_TURNS = re.compile(r"\(\d+ more turns? not shown; see the transcript\)")


def without_hidden_controls(text: str) -> str:
    """``text`` without the characters that make it read otherwise than it is written or carry
    words no reader sees (a model does): bidirectional controls and marks, Unicode tag
    characters, zero-width characters; the same list a snapshot is cleaned of
    (``snapshot.invisible``)."""
    return without_invisible(text)


def clip(text: str, limit: int = TURN_CHARS) -> str:
    """``text`` on one line, payment numbers removed, cut to ``limit`` characters (``…``)."""
    return one_line(customer(text, limit).text)


def wants(said: list[str], reason: str) -> str:
    """Every customer turn, oldest first, one per line, each clipped (``clip``); past the
    bounds the oldest turns after the first are one ``MORE_TURNS`` line. With no customer
    turn, the bot's reason, said to be the bot's."""
    if not said:
        return f"Not stated by the customer; the bot's reason: {clip(reason)}"
    turns = [_not_our_words(clip(text)) for text in said]
    first, rest = turns[0], turns[1:]
    kept = _latest_that_fit(rest, WANTS_CHARS - len(first))
    left = len(rest) - len(kept)
    more = [f"({left} more turn{'s' if left > 1 else ''} not shown; see the transcript)"]
    return "\n".join([first, *(more if left else []), *kept])


def _not_our_words(turn: str) -> str:
    """A customer's turn that reads as the server's count of turns left out (``MORE_TURNS``)
    in quotation marks, so that it is never printed as the server's words."""
    return f"\u201c{turn}\u201d" if MORE_TURNS.fullmatch(turn) else turn


def _latest_that_fit(turns: list[str], budget: int) -> list[str]:
    """``turns`` when all fit in ``budget`` characters (each with its line break) and
    ``MAX_WANTS_TURNS`` beside the first; else the latest that fit beside the first and the
    ``MORE_TURNS`` line."""
    if len(turns) < MAX_WANTS_TURNS and sum(len(turn) + 1 for turn in turns) <= budget:
        return turns
    kept: list[str] = []
    for turn in reversed(turns):
        budget -= len(turn) + 1
        if budget < 0 or len(kept) == MAX_WANTS_TURNS - 2:
            break
        kept.append(turn)
    return kept[::-1]
