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

- the tag characters of a subdivision flag (``_FLAG``): a black flag, a region's subdivision
  code in tag letters (ISO 3166-2's shape: two letters, then one to three letters or digits,
  as England's "gbeng" or California's "usca") and a cancel tag. Tag characters are the very
  carrier of hidden words, so no other shape is kept: no capitals, spaces or punctuation, at
  most five letters behind each black flag a reader sees (``"ignore"`` does not fit);
- one zero-width joiner or non-joiner (U+200D, U+200C) between two non-ASCII letters, marks
  or symbols (``_joins``): Persian, Urdu and Indic spelling need them, and an emoji sequence
  (a family, a rainbow flag) is one character with them and several without
  (``graphemes``). Between ASCII letters they only split a word; one beside another
  invisible character, or at the edge of the text, joins nothing. Except a zero-width joiner
  after a virama (a Brahmic script's vowel killer, combining class 9) at a word's end: that
  is an old-style chillu in Malayalam (a letter's dead form, which the joiner asks for).
- one variation selector after its base (an emoji's presentation, an ideograph's variant): a
  character takes one, so each one after the first is removed (a run can spell bytes).
"""

from __future__ import annotations

import re
import unicodedata
from itertools import islice

import msgspec

from context_service.models import Snapshot


def _tags(code: str) -> str:
    """``code`` in tag characters (U+E0020-U+E007E spell ASCII)."""
    return "".join(chr(0xE0000 + ord(char)) for char in code)


_BLACK_FLAG, _CANCEL_TAG = "\U0001f3f4", "\U000e007f"
_TAG_LETTER = f"[{_tags('a')}-{_tags('z')}]"
_TAG_ALNUM = f"[{_tags('0')}-{_tags('9')}{_tags('a')}-{_tags('z')}]"
_FLAG = f"{_BLACK_FLAG}{_TAG_LETTER}{{2}}{_TAG_ALNUM}{{1,3}}{_CANCEL_TAG}"
_JOINERS = "\u200c\u200d"
_VARIATION_SELECTORS = "\ufe00-\ufe0f\U000e0100-\U000e01ef"
_ALWAYS = (
    "\u00ad\u034f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb"
    "\U000e0000-\U000e00ff\U000e01f0-\U000e0fff"
)
_INVISIBLE = re.compile(
    f"(?P<flag>{_FLAG})|[{_JOINERS}]|(?P<selectors>[{_VARIATION_SELECTORS}]{{2,}})|[{_ALWAYS}]+"
)
# Any of them: the characters the clean-up looks at (a flag's black flag aside).
_ANY = re.compile(f"[{_JOINERS}{_VARIATION_SELECTORS}{_ALWAYS}]")
# The same in UTF-8 (the JSON of most snapshots holds none, and searching its bytes spares
# decoding it): each encoding's first byte, which ``in`` finds at once when it is absent, and
# the pattern of the whole characters that start with it (a test checks every character is
# found).
_UTF8_HINTS = tuple(
    (lead, re.compile(pattern))
    for lead, pattern in (
        (b"\xc2", rb"\xc2\xad"),  # U+00AD
        (b"\xcd", rb"\xcd\x8f"),  # U+034F
        (b"\xd8", rb"\xd8\x9c"),  # U+061C
        (b"\xe2", rb"\xe2(?:\x80[\x8b-\x8f\xaa-\xae]|\x81[\xa0-\xaf])"),  # U+200B-U+206F
        (b"\xef", rb"\xef(?:\xb8[\x80-\x8f]|\xbb\xbf|\xbf[\xb9-\xbb])"),  # U+FE00-U+FFFB
        (b"\xf3", rb"\xf3\xa0[\x80-\xbf][\x80-\xbf]"),  # U+E0000-U+E0FFF
    )
)
# A black flag before a tag character, in UTF-8: where a flag (``_FLAG``) may start.
_FLAG_START = re.compile(_BLACK_FLAG.encode() + rb"(?=\xf3\xa0)")
# Candidates nearer each other than this are looked at in one piece of the text; and from
# this many on, the whole text is (each costs about a microsecond, as much as ``_INVISIBLE``
# spends on some 15 characters).
_NEAR, _MANY = 64, 256
# A text shorter than this is searched whole (a field's: encoding it and finding the pieces
# costs more than searching a few hundred characters).
_LONG = 256
# What a joiner may stand between: letters and marks (a script's spelling), symbols and
# modifiers (emoji and skin tones), none of them ASCII.
_JOINED = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "So", "Sk"})
_VIRAMA = 9  # the canonical combining class of a Brahmic script's virama


def without_invisible(text: str) -> str:
    """``text`` without the characters a reader does not see (the module's list), keeping the
    joiners, variation selectors and flag tags that are part of a character shown."""
    if text.isascii():
        return text
    if len(text) < _LONG:  # one search of it is quicker than finding the pieces
        return text if _ANY.search(text) is None else _INVISIBLE.sub(_kept, text)
    cleaned = _cleaned_utf8(text.encode("utf-8", "surrogatepass"))
    return text if cleaned is None else cleaned.decode("utf-8", "surrogatepass")


def _cleaned_utf8(encoded: bytes) -> bytes | None:
    """UTF-8 ``encoded`` cleaned as ``_INVISIBLE.sub(_kept, text)`` cleans its text, or
    ``None`` when that changes nothing.

    Only the pieces of the text around the candidates (``_pieces``) are decoded and searched,
    each with the character on either side (what a joiner stands between, or the text's edge
    where there is none). That is the same: every match of ``_INVISIBLE`` is made of candidate
    characters (a flag's black flag the first), and the characters on either side of a piece
    are not candidates, so no match crosses its edge."""
    if encoded.isascii():
        return None
    parts: list[bytes] = []
    done = 0
    for start, end in _pieces(encoded):
        before = start - 1 if start else 0
        while before and encoded[before] & 0xC0 == 0x80:  # a UTF-8 continuation byte
            before -= 1
        after = end + 1 if end < len(encoded) else end
        while after < len(encoded) and encoded[after] & 0xC0 == 0x80:
            after += 1
        text = encoded[before:after].decode("utf-8", "surrogatepass")
        cleaned = _cleaned(text, int(before < start), len(text) - int(end < after))
        if cleaned is not None:
            parts += (encoded[done:before], cleaned.encode("utf-8", "surrogatepass"))
            done = after
    if not parts:
        return None
    parts.append(encoded[done:])
    return b"".join(parts)


def _pieces(encoded: bytes) -> list[tuple[int, int]]:
    """The spans of ``encoded`` that hold the characters ``_INVISIBLE`` may match (each one the
    hints find, and a flag's black flag), those nearer than ``_NEAR`` bytes in one.

    Each hint is searched for on its own: a pattern that starts with one byte is searched for
    in C, a few nanoseconds a byte, where ``_INVISIBLE`` tries its four alternatives at every
    character (about 70 ns each: a millisecond for a snapshot's JSON that holds one heart)."""
    hints = [hint for lead, hint in _UTF8_HINTS if lead in encoded]
    if b"\xf3" in encoded:  # tag characters, perhaps a flag's
        hints.append(_FLAG_START)
    spans = [found.span() for hint in hints for found in islice(hint.finditer(encoded), _MANY)]
    if len(spans) >= _MANY:  # so many that one search of the whole text is as quick
        return [(0, len(encoded))]
    spans.sort()
    pieces: list[tuple[int, int]] = []
    for start, end in spans:
        if pieces and start - pieces[-1][1] < _NEAR:
            pieces[-1] = (pieces[-1][0], end)
        else:
            pieces.append((start, end))
    return pieces


def _cleaned(text: str, start: int, end: int) -> str | None:
    """``text`` with ``_INVISIBLE``'s matches between ``start`` and ``end`` cleaned, or
    ``None`` when that changes nothing."""
    parts: list[str] = []
    done = 0
    for found in _INVISIBLE.finditer(text, start, end):
        kept = _kept(found)
        if kept != found.group():
            parts += (text[done : found.start()], kept)
            done = found.end()
    if not parts:
        return None
    parts.append(text[done:])
    return "".join(parts)


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
    """Whether the joiner at ``at`` stands between two non-ASCII letters, marks or symbols, or
    is a zero-width joiner after a virama at a word's end (a Malayalam chillu)."""
    if at == 0:
        return False
    before = text[at - 1]
    if at + 1 == len(text):
        return text[at] == "\u200d" and unicodedata.combining(before) == _VIRAMA
    after = text[at + 1]
    if (
        text[at] == "\u200d"
        and unicodedata.combining(before) == _VIRAMA
        and not (after.isalpha() or unicodedata.category(after)[0] == "M" or _ANY.match(after))
    ):  # at a word's end: next, anything but a letter, a mark or another invisible character
        return True
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
    cleaned = _cleaned_utf8(encoded)
    if cleaned is None:  # none, or only joiners, selectors and flags that are kept
        return snap, encoded
    kept = _decode_snapshot(cleaned)
    return kept, _encode(kept)


def may_hold_invisible(encoded: bytes) -> bool:
    """Whether UTF-8 ``encoded`` may hold a character ``without_invisible`` looks at (``False``:
    it holds none)."""
    if encoded.isascii():
        return False
    return any(lead in encoded and hint.search(encoded) for lead, hint in _UTF8_HINTS)
