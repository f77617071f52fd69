"""Where text may be cut without splitting a character a reader sees as one (pure).

A stored title or note is cut to its bound at store time (``snapshot.assemble``) and a line to
its token budget at read time (``audience.segments``): both cut here, so an emoji family, a
flag or an accented letter written with a combining mark is kept whole or dropped whole.
"""

from __future__ import annotations

import unicodedata

_ZWJ = "\u200d"
_MARKS = frozenset({"Mn", "Mc", "Me"})
# Code points that continue the grapheme before them, besides marks: variation selectors,
# emoji skin-tone modifiers and tag characters (subdivision flags).
_EXTENDERS = ((0xFE00, 0xFE0F), (0x1F3FB, 0x1F3FF), (0xE0020, 0xE007F), (0xE0100, 0xE01EF))
_REGIONAL = (0x1F1E6, 0x1F1FF)


def grapheme_boundary(text: str, end: int) -> int:
    """The last index at or before ``end`` that does not split a user-perceived character.

    An accent, a variation selector, a skin tone or a zero-width joiner stays with the
    character before it (a family emoji is kept whole or dropped whole), and regional
    indicators (flags) are kept in pairs.
    """
    while 0 < end < len(text) and (_continues(text[end]) or text[end - 1] == _ZWJ):
        end -= 1
    if 0 < end < len(text) and _regional(text[end]) and _regional(text[end - 1]):
        run = 0
        while run < end and _regional(text[end - 1 - run]):
            run += 1
        end -= run % 2
    return end


def _continues(char: str) -> bool:
    code = ord(char)
    return (
        char == _ZWJ
        or any(low <= code <= high for low, high in _EXTENDERS)
        or unicodedata.category(char) in _MARKS
    )


def _regional(char: str) -> bool:
    return _REGIONAL[0] <= ord(char) <= _REGIONAL[1]
