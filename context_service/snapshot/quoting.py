"""Customer-written text is data, never instructions: how it is quoted wherever it is rendered."""

from __future__ import annotations

import json

# Characters JSON leaves bare that still end a line for many readers (Python's ``splitlines``,
# JavaScript, editors, some tokenizers): escaped too, so quoted text can never start a line.
_LINE_BREAKS = {ord(ch): f"\\u{ord(ch):04x}" for ch in "\x85\u2028\u2029"}


def quoted(text: str | None) -> str:
    """Customer-written text as a labelled, escaped string literal, on one line."""
    literal = json.dumps(text or "", ensure_ascii=False).translate(_LINE_BREAKS)
    return "customer-written " + literal
