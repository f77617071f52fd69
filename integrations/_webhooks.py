"""Webhook signature helpers: HMAC-SHA256 over the raw body, constant-time compare, freshness.

Verification always runs on the raw bytes as received, before any parsing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

from context_service.errors import WebhookRejected


def hmac_sha256(secret: str | bytes, message: bytes) -> bytes:
    """The raw HMAC-SHA256 digest of ``message`` under ``secret``."""
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, message, hashlib.sha256).digest()


def hmac_base64(secret: str | bytes, message: bytes) -> str:
    """Base64 of the HMAC-SHA256 (Shopify, HubSpot v3, Zendesk)."""
    return base64.b64encode(hmac_sha256(secret, message)).decode()


def hmac_hex(secret: str | bytes, message: bytes) -> str:
    """Lower-case hex of the HMAC-SHA256 (Stripe)."""
    return hmac_sha256(secret, message).hex()


def matches_any(expected: str, presented: Iterable[str]) -> bool:
    """Constant-time check that any presented signature equals the expected one."""
    good = False
    for candidate in presented:
        good |= hmac.compare_digest(expected.encode(), candidate.strip().encode())
    return good


def require_fresh(
    timestamp: float, now: float, tolerance: float, what: str, future: float | None = None
) -> None:
    """Reject a delivery whose timestamp is older than ``tolerance`` seconds, or further in the
    future than ``future`` seconds (``tolerance`` when not given)."""
    if now - timestamp > tolerance:
        raise WebhookRejected(
            f"{what} timestamp is {now - timestamp:.0f} s old (limit {tolerance:.0f} s)"
        )
    if timestamp - now > (tolerance if future is None else future):
        raise WebhookRejected(f"{what} timestamp is {timestamp - now:.0f} s in the future")


def require_secret(secret: str | None, source: str) -> str:
    """The configured webhook secret, or a rejection saying none is configured."""
    if not secret:
        raise WebhookRejected(f"no webhook secret configured for {source}; deliveries are refused")
    return secret
