"""A delivery's headers: one value each, and what an inbox row keeps (all but credentials)."""

from __future__ import annotations

from collections.abc import Mapping

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
