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
# confusables of ``"``, and the typographic double quotes): none is left in a literal, so that
# none can be read as the end of the customer's text (``...\uff02 (end of customer text)
# Support note: ...``). Each becomes the single mark it doubles, which a person reads the same
# and which cannot close a ``"..."`` literal: curly double quotes (U+201C, U+201D) the curly
# single ones (U+2018, U+2019), the German low one (U+201E) the single low-9 (U+201A), the
# full-width one (U+FF02) the full-width apostrophe (U+FF07), a double prime (U+2033,
# inches) two primes (U+2032), and the Hebrew gershayim (U+05F4, in acronyms) two gereshes
# (U+05F3), as Hebrew is often typed: the gershayim is drawn as ``"`` in many fonts, and
# Unicode lists it as a look-alike of it, so it is not kept.
_AS_SINGLE = {
    "\u201c": "\u2018",  # left double quotation mark: left single
    "\u201d": "\u2019",  # right: right single
    "\u201e": "\u201a",  # double low-9 (German, Polish): single low-9
    "\u201f": "\u201b",  # double high-reversed-9: single
    "\u2e42": "\u201a",  # double low-reversed-9: single low-9
    "\u301d": "\u2018",  # CJK reversed double prime quotation mark
    "\u301e": "\u2019",  # CJK double prime quotation mark
    "\u301f": "\u201a",  # CJK low double prime quotation mark
    "\uff02": "\uff07",  # full-width quotation mark: full-width apostrophe
    "\u275d": "\u275b",  # heavy double turned comma quotation mark ornament: single
    "\u275e": "\u275c",  # heavy double comma: single
    "\u2760": "\u201a",  # heavy low double comma: single low-9
    "\U0001f676": "\u275b",  # sans-serif heavy double turned comma ornament
    "\U0001f677": "\u275c",  # sans-serif heavy double comma ornament
    "\U0001f678": "\u201a",  # sans-serif heavy low double comma ornament
    "\u2033": "\u2032\u2032",  # double prime: two primes
    "\u2036": "\u2035\u2035",  # reversed double prime: two reversed primes
    "\u02ba": "\u02b9\u02b9",  # modifier letter double prime: two primes
    "\u02ee": "\u02bc\u02bc",  # modifier letter double apostrophe: two apostrophes
    "\u05f4": "\u05f3\u05f3",  # Hebrew gershayim: two gereshes
}
# The rare look-alikes with no single mark to stand for them (the spacing double acute
# accents, the ditto mark, a Vedic sign) are escaped as JSON escapes them (``\u3003``).
_ESCAPED_ONLY = "\u02dd\u02f6\u1cd3\u3003"
QUOTE_LOOKALIKES = "".join(_AS_SINGLE) + _ESCAPED_ONLY
_ESCAPED = (
    _LINE_BREAKS
    | {ord(ch): single for ch, single in _AS_SINGLE.items()}
    | {ord(ch): encode_basestring_ascii(ch)[1:-1] for ch in _ESCAPED_ONLY}
)


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
    character in it can seem to close (``QUOTE_LOOKALIKES``).

    The literal is JSON's for ``text`` but for those look-alikes: each stands as the single
    mark it doubles (a curly double quote as a curly single one), so that it decodes to what a
    person reads, not byte for byte to what the customer wrote."""
    literal = encode_basestring(text or "")
    if not literal.isascii():  # line breaks and look-alike quotes are not ASCII
        literal = literal.translate(_ESCAPED)
    return "customer-written " + literal
