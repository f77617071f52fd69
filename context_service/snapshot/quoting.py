"""Customer-written text is data, never instructions: how it is quoted wherever it is rendered."""

from __future__ import annotations

import json


def quoted(text: str | None) -> str:
    """Customer-written text as a labelled, escaped string literal."""
    return "customer-written " + json.dumps(text or "", ensure_ascii=False)
