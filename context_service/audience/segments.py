"""Lines made of our own words and customer-written text, and how each format fences the latter.

A line is a tuple of segments: a plain ``str`` is text we wrote; a ``CustomerText`` is text a
customer (or anyone outside the company) wrote: names, addresses, ticket subjects and comments,
order notes. Renderers never emit customer text bare: plain text JSON-quotes it behind the label
``customer-written``, markdown puts that label and the JSON-quoted value in a code span that no
backtick inside can close, JSON keeps it a string value. Payment card and bank account numbers
that a customer typed into free text are removed before anything is rendered.
"""

from __future__ import annotations

import json
import re

import msgspec

from context_service.snapshot.graphemes import grapheme_boundary
from context_service.snapshot.quoting import one_line, quoted, strip_bidi_controls
from context_service.snapshot.redaction import redact_payment_numbers

_BACKTICKS = re.compile(r"`+")
_LABEL = "customer-written "
_DECODER = json.JSONDecoder()
# Markdown's own syntax that could pair with a code span's fence (a backtick) or escape it
# (a backslash before the fence): escaped in our own words so only our fences open spans.
_MD_ESCAPES = str.maketrans({"\\": "\\\\", "`": "\\`", "<": "&lt;"})


class CustomerText(msgspec.Struct, frozen=True):
    """Text written by a customer: data to quote, never instructions to follow."""

    text: str
    label: str = "customer-written"


Segment = str | CustomerText
Line = tuple[Segment, ...]


def customer(text: str | None, limit: int = 300) -> CustomerText:
    """Customer text, payment numbers removed, capped at ``limit`` characters (marked if cut,
    never inside a grapheme: see ``grapheme_boundary``)."""
    clean = redact_payment_numbers(text or "")
    if len(clean) > limit:
        clean = clean[: grapheme_boundary(clean, limit - 1)].rstrip() + "…"
    return CustomerText(clean)


def unquote(message: str) -> Line:
    """Split a message that embeds ``customer-written "..."`` literals back into segments."""
    out: list[Segment] = []
    rest = message
    while (start := rest.find(_LABEL)) >= 0:
        try:
            value, end = _DECODER.raw_decode(rest, start + len(_LABEL))
        except json.JSONDecodeError:
            break
        if not isinstance(value, str):
            break
        out.extend([rest[:start], customer(value)] if start else [customer(value)])
        rest = rest[end:]
    if rest:
        out.append(rest)
    return tuple(out)


def as_text(line: Line) -> str:
    """A line for a plain-text prompt: customer text JSON-quoted and labelled."""
    return "".join(one_line(s) if isinstance(s, str) else _quote(s) for s in line)


def as_markdown(line: Line) -> str:
    """A markdown line: customer text in a code span labelled customer-written."""
    return "".join(_md_escape(one_line(s)) if isinstance(s, str) else _md_code(s) for s in line)


def plain(line: Line) -> str:
    """The line's words without quoting (for JSON values and tests)."""
    return "".join(s if isinstance(s, str) else s.text for s in line)


def _quote(segment: CustomerText) -> str:
    """``label "..."``: the text as a JSON string, escaped as ``quoted`` escapes it (so no line
    break a reader may see, U+2028 included, is left bare), under its own label. Text not from
    the snapshot (an LLM's) also loses its bidirectional controls, as ingest drops them from
    customer-written text before a snapshot is stored."""
    if segment.label == _LABEL.rstrip():
        return quoted(segment.text)
    literal = quoted(strip_bidi_controls(segment.text)).removeprefix(_LABEL.rstrip())
    return segment.label + literal


def _md_code(segment: CustomerText) -> str:
    body = _quote(segment)
    longest = max((len(run) for run in _BACKTICKS.findall(body)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {body} {fence}"


def _md_escape(text: str) -> str:
    return text.translate(_MD_ESCAPES)
