"""What a person types to name a customer (an email, a phone, a name, an order, ticket or
invoice number), cleaned of the characters a reader does not see before it is matched: every
lookup path uses it, over HTTP (``api.identify``, ``api.guarded_tools``) and over stdio MCP
(``cli_trust.AuditedToolBox``)."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from context_service.snapshot.invisible import without_invisible

TYPED = ("email", "phone", "name", "order_number", "ticket_id", "invoice_number")
_JOINERS = frozenset("\u200c\u200d")


def typed(value: str) -> str:
    """``value`` without the characters a reader does not see: every format character
    (Unicode category Cf: zero-width ones, bidirectional marks, embeddings, overrides and
    isolates, the BOM, the Arabic letter mark, tag characters), except a zero-width joiner or
    non-joiner the snapshots keep (``snapshot.invisible``: between two letters of a script
    that spells with them, where the stored name holds it too). Pasted from a chat, such a
    character made a known email, name or order number name no one."""
    if value.isascii():
        return value
    kept = without_invisible(value)
    return "".join(c for c in kept if c in _JOINERS or unicodedata.category(c) != "Cf")


def typed_details(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """A tool call's ``arguments`` with each detail a person types (``TYPED``) ``typed``."""
    return {
        name: typed(value) if name in TYPED and isinstance(value, str) else value
        for name, value in arguments.items()
    }
