"""HubSpot's error answers, read for what they say about the object asked for.

HubSpot answers a request for an object it does not have (never created, purged, or archived
when ``archived=true`` was not asked) with 404 and a JSON error body naming the category
``OBJECT_NOT_FOUND`` (developers.hubspot.com/docs/api-reference/error-handling):
``{"status": "error", "message": "...", "correlationId": "...", "category": "OBJECT_NOT_FOUND"}``.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["NOT_FOUND_CATEGORY", "not_found"]

NOT_FOUND_CATEGORY = "OBJECT_NOT_FOUND"


def not_found(body: Any) -> bool:
    """Whether an error answer's body (its text) is HubSpot's own "no such object": a JSON
    object whose ``category`` is ``OBJECT_NOT_FOUND``. Anything else (an HTML page, an empty
    body, another category) is not, whatever its status."""
    if not isinstance(body, str | bytes) or not body:
        return False
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return False
    return isinstance(decoded, dict) and decoded.get("category") == NOT_FOUND_CATEGORY
