"""Characters no reader sees that a model still reads: none reaches a stored snapshot.

A ticket subject can end in Unicode tag characters (U+E0000-U+E007F), each an invisible copy of
an ASCII letter: a person sees "Where is my parcel?", a model reads the instructions spelled
after it. Bidirectional controls make text read in another order than it is written in, and
zero-width characters split a word so that no check finds it. They are removed from every
string of a snapshot as it is built (``snapshot_without_invisible``), so every rendering,
audience, tool answer, prompt and handoff made from it is clean; and from customer-written
text before it is redacted (``redaction``) and from a handoff's transcript (``handoff.said``).

Removed wherever they are (``_ALWAYS``): the soft hyphen and the combining grapheme joiner;
the zero-width space, word joiner, invisible operators and zero-width no-break space (BOM);
bidirectional embeddings, overrides, isolates and marks (U+202A-U+202E, U+2066-U+2069,
U+200E, U+200F, U+061C) and the deprecated format controls (U+206A-U+206F); interlinear
annotation controls; tag characters and the rest of the default-ignorable plane 14 block.

Kept where they are part of what a reader sees, and removed elsewhere:

- the tag characters of the three subdivision flags Unicode recommends (England, Scotland and
  Wales: a black flag, the region's code in tag letters and a cancel tag, ``_FLAGS``);
- one zero-width joiner or non-joiner (U+200D, U+200C) between two non-ASCII letters, marks
  or symbols (``_joins``): Persian, Urdu and Indic spelling need them, and an emoji sequence
  (a family, a rainbow flag) is one character with them and several without
  (``graphemes``). Between ASCII letters they only split a word; one beside another
  invisible character, or at the edge of the text, joins nothing.
- one variation selector after its base (an emoji's presentation, an ideograph's variant): a
  character takes one, so each one after the first is removed (a run can spell bytes).
"""

from __future__ import annotations

import re
import unicodedata

import msgspec

from context_service.models import Snapshot


def _tags(code: str) -> str:
    """``code`` in tag characters (U+E0020-U+E007E spell ASCII)."""
    return "".join(chr(0xE0000 + ord(char)) for char in code)


_BLACK_FLAG, _CANCEL_TAG = "\U0001f3f4", "\U000e007f"
_FLAGS = "|".join(_BLACK_FLAG + _tags(code) + _CANCEL_TAG for code in ("gbeng", "gbsct", "gbwls"))
_JOINERS = "\u200c\u200d"
_VARIATION_SELECTORS = "\ufe00-\ufe0f\U000e0100-\U000e01ef"
_ALWAYS = (
    "\u00ad\u034f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb"
    "\U000e0000-\U000e00ff\U000e01f0-\U000e0fff"
)
_INVISIBLE = re.compile(
    f"(?P<flag>{_FLAGS})|[{_JOINERS}]|(?P<selectors>[{_VARIATION_SELECTORS}]{{2,}})|[{_ALWAYS}]+"
)
# Any of them (a quicker search than ``_INVISIBLE``'s, for text that holds none).
_ANY = re.compile(f"[{_JOINERS}{_VARIATION_SELECTORS}{_ALWAYS}]")
# The same in UTF-8 (the JSON of most snapshots holds none, and searching its bytes spares
# decoding it): each encoding's first byte, which ``in`` finds at once when it is absent, and
# the pattern of those that start with it (a test checks every character is found).
_UTF8_HINTS = tuple(
    (lead, re.compile(pattern))
    for lead, pattern in (
        (b"\xc2", rb"\xc2\xad"),  # U+00AD
        (b"\xcd", rb"\xcd\x8f"),  # U+034F
        (b"\xd8", rb"\xd8\x9c"),  # U+061C
        (b"\xe2", rb"\xe2(?:\x80[\x8b-\x8f\xaa-\xae]|\x81[\xa0-\xaf])"),  # U+200B-U+206F
        (b"\xef", rb"\xef(?:\xb8[\x80-\x8f]|\xbb\xbf|\xbf[\xb9-\xbb])"),  # U+FE00-U+FFFB
        (b"\xf3", rb"\xf3\xa0"),  # U+E0000-U+E0FFF
    )
)
# What a joiner may stand between: letters and marks (a script's spelling), symbols and
# modifiers (emoji and skin tones), none of them ASCII.
_JOINED = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "So", "Sk"})


def without_invisible(text: str) -> str:
    """``text`` without the characters a reader does not see (the module's list), keeping the
    joiners, variation selectors and flag tags that are part of a character shown."""
    if text.isascii() or _ANY.search(text) is None:
        return text
    return _INVISIBLE.sub(_kept, text)


def _kept(found: re.Match[str]) -> str:
    if found["flag"]:
        return found["flag"]
    if found["selectors"]:
        return found["selectors"][0]
    text = found.group()
    if text in _JOINERS and _joins(found.string, found.start()):
        return text
    return ""


def _joins(text: str, at: int) -> bool:
    """Whether the joiner at ``at`` stands between two non-ASCII letters, marks or symbols."""
    if at == 0 or at + 1 == len(text):
        return False
    before, after = text[at - 1], text[at + 1]
    return (
        not (before.isascii() or after.isascii())
        and unicodedata.category(before) in _JOINED
        and unicodedata.category(after) in _JOINED
    )


# A snapshot is cleaned as its JSON: every string in it at once, in one pass. JSON escapes only
# ASCII characters, so each string's characters stand in the JSON as they are, between ASCII
# quotes (which a joiner does not join to).
_encode = msgspec.json.Encoder().encode
_decode_snapshot = msgspec.json.Decoder(Snapshot).decode


def snapshot_without_invisible(snap: Snapshot) -> Snapshot:
    """The snapshot without invisible characters (``without_invisible``) in any string of it
    (the same object when it holds none)."""
    return snapshot_without_invisible_encoded(snap)[0]


def snapshot_without_invisible_encoded(snap: Snapshot) -> tuple[Snapshot, bytes]:
    """``snapshot_without_invisible(snap)`` and its JSON encoding: the snapshot is encoded to
    look for the characters, and when it holds none that encoding is the one to store."""
    encoded = _encode(snap)
    if not may_hold_invisible(encoded):
        return snap, encoded
    text = encoded.decode()
    cleaned = _INVISIBLE.sub(_kept, text)
    if cleaned == text:  # only joiners, selectors and flags that are kept
        return snap, encoded
    kept = _decode_snapshot(cleaned)
    return kept, _encode(kept)


def may_hold_invisible(encoded: bytes) -> bool:
    """Whether UTF-8 ``encoded`` may hold a character ``without_invisible`` looks at (``False``:
    it holds none)."""
    if encoded.isascii():
        return False
    return any(lead in encoded and hint.search(encoded) for lead, hint in _UTF8_HINTS)
