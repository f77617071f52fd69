"""What an inbox row keeps of a delivery's headers: every header but credentials."""

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
