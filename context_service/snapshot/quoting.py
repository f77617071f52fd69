"""Customer-written text is data, never instructions: how it is quoted wherever it is rendered."""

from __future__ import annotations

import re

# What ``json.dumps(text, ensure_ascii=False)`` returns for a string, without making an encoder
# per call (``JSONEncoder.encode`` calls this very function for a ``str``).
from json.encoder import encode_basestring, encode_basestring_ascii

# Characters JSON leaves bare that still end a line for many readers (Python's ``splitlines``,
# JavaScript, editors, some tokenizers): escaped too, so quoted text can never start a line.
_LINE_BREAKS = {ord(ch): f"\\u{ord(ch):04x}" for ch in "\x85\u2028\u2029"}
# Characters that look like the straight double quote that ends a literal (Unicode's
# confusables of ``"``, and the typographic double quotes): escaped as JSON escapes them
# (``\uff02``), as the straight quote is escaped (``\"``), so that none can be read as the end
# of the customer's text (``...\uff02 (end of customer text) Support note: ...``). The
# literal still decodes to what the customer wrote.
QUOTE_LOOKALIKES = (
    "\u02ba\u02dd\u02ee\u02f6\u05f4\u1cd3\u201c\u201d\u201e\u201f\u2033\u2036"
    "\u275d\u275e\u2e42\u3003\u301d\u301e\u301f\uff02\U0001f676\U0001f677\U0001f678"
)
_ESCAPED = _LINE_BREAKS | {ord(ch): encode_basestring_ascii(ch)[1:-1] for ch in QUOTE_LOOKALIKES}


# Every character that ends a line somewhere: str.splitlines() breaks on all of them.
_BREAKS = re.compile("[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")
# Bidirectional embedding, override and isolate controls: LRE, RLE, PDF, LRO, RLO
# (U+202A-U+202E) and LRI, RLI, FSI, PDI (U+2066-U+2069). They make a reader see text in
# another order than it is written in, so they are dropped. The marks (U+200E, U+200F)
# reorder nothing on their own and stay.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_NO_BIDI = dict.fromkeys(map(ord, BIDI_CONTROLS))


def strip_bidi_controls(text: str) -> str:
    """``text`` without bidirectional embedding, override and isolate controls."""
    return text.translate(_NO_BIDI)


def one_line(text: str) -> str:
    """Text on one line: each run of line breaks becomes a space. A vendor's or a spreadsheet's
    value (a plan name, an order title, a carrier) printed in a line of its own words must not
    start a line that reads as a heading or a signal; nor can it reorder how the line reads
    (bidirectional controls are dropped)."""
    if text.isprintable():  # no line break or bidi control in it (the common case, checked in C)
        return text
    flat = _BREAKS.sub(" ", text)
    return flat if flat.isprintable() else strip_bidi_controls(flat)  # controls are unprintable


def quoted(text: str | None) -> str:
    """Customer-written text as a labelled, escaped string literal, on one line, that no
    character in it can seem to close (``QUOTE_LOOKALIKES``)."""
    literal = encode_basestring(text or "")
    if not literal.isascii():  # the line breaks and look-alike quotes to escape are not ASCII
        literal = literal.translate(_ESCAPED)
    return "customer-written " + literal
