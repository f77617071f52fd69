"""A delivery's headers: one value each, and what an inbox row keeps (all but credentials);
and the text in its body that no store can keep (``unpaired_surrogate``)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from context_service.errors import MappingError

# Headers never kept with a delivery: credentials a vendor or proxy sends (an operator-named
# API-key header of Zendesk's webhook authentication, say, or ``Authorization``), matched by
# any of these words in the lower-cased name. The vendors' signature, topic and id headers
# (``x-shopify-hmac-sha256``, ``stripe-signature``, ``x-zendesk-webhook-invocation-id``)
# hold none of them, and are what a later pass reads the delivery with.
_CREDENTIAL_WORDS = ("auth", "cookie", "key", "token", "secret", "password", "session")


def kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The lower-cased ``headers`` an inbox row keeps: all but credentials."""
    return {
        name: value
        for name, value in headers.items()
        if not any(word in name for word in _CREDENTIAL_WORDS)
    }


def one_value_each(headers: Mapping[str, str]) -> dict[str, str]:
    """``headers`` with lower-case names, each once, with the value it was first sent with.

    An ASGI server hands on a header sent twice twice. Verifying, parsing and storing all read
    this one view, so a delivery is applied with the values that were verified: not with a
    second ``X-Shopify-Triggered-At`` that no freshness check saw.
    """
    seen: dict[str, str] = {}
    for name, value in headers.items():
        seen.setdefault(name.lower(), value)
    return seen


# A JSON escape: ``\uXXXX`` (its four hex digits captured) or any other escaped character,
# ``\\`` included, so the second backslash of an escaped one never starts an escape itself.
_ESCAPE = re.compile(rb"\\(?:u([0-9a-fA-F]{4})|.)", re.DOTALL)


class UnstorableText(MappingError):
    """A signed body whose JSON escapes half of a UTF-16 surrogate pair alone (``\\ud800``):
    Python's JSON reader makes it a string that neither SQLite nor UTF-8 can hold, so the
    delivery would fail when applied, every time (422: kept raw as a ``rejected`` delivery)."""


def unpaired_surrogate(body: bytes) -> str | None:
    """Where ``body`` escapes a lone surrogate (a high half not followed at once by a low one,
    or a low half with no high one before it), said for an error message; ``None`` when it
    escapes none (a pair, such as ``\\ud83d\\ude00``, is one character, and fine)."""
    if b"\\u" not in body:
        return None
    high: re.Match[bytes] | None = None  # the high half still waiting for its low half
    for escape in _ESCAPE.finditer(body):
        unit = int(escape.group(1), 16) if escape.group(1) else -1
        if high is not None:
            if escape.start() == high.end() and 0xDC00 <= unit <= 0xDFFF:
                high = None
                continue
            return _lone(high)
        if 0xD800 <= unit <= 0xDBFF:
            high = escape
        elif 0xDC00 <= unit <= 0xDFFF:
            return _lone(escape)
    return None if high is None else _lone(high)


def _lone(escape: re.Match[bytes]) -> str:
    code = escape.group(0).decode("ascii")
    return f"a lone surrogate ({code}) at byte {escape.start()}, text that cannot be stored"


def refuse_unstorable_text(source: str, body: bytes) -> None:
    """Raise ``UnstorableText`` when ``body`` escapes a lone surrogate."""
    lone = unpaired_surrogate(body)
    if lone is not None:
        raise UnstorableText(f"{source} webhook body holds {lone}", source=source)
