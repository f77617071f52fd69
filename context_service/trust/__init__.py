"""Trust: scoped API keys, verified end users, the read audit, erasure and suppression.

``scopes`` names what keys may do; ``keys``/``keyring`` store and check them; ``verify`` and
``chatbot`` decide what an end user's chatbot may see; ``audit`` records reads; ``erasure`` and
``suppression`` forget a person for good; ``subject`` exports what is held about one;
``ratelimit`` keeps one key from starving the rest. ``runtime.Trust`` bundles them for the app.
"""

from context_service.trust.audit import Read, ReadAudit, reads_of
from context_service.trust.chatbot import Decision, decide, unverified_body
from context_service.trust.keys import (
    KeySpec,
    Known,
    Principal,
    create_key,
    list_keys,
    revoke_key,
)
from context_service.trust.ratelimit import RateLimited, RateLimiter
from context_service.trust.runtime import Trust
from context_service.trust.scopes import (
    ADMIN,
    AUTHENTICATED,
    CONTEXT_LOOKUP,
    CONTEXT_READ,
    ESCALATIONS_WRITE,
    SCOPES,
)
from context_service.trust.verify import Claimed, Proof, Verifier

__all__ = [
    "ADMIN",
    "AUTHENTICATED",
    "CONTEXT_LOOKUP",
    "CONTEXT_READ",
    "ESCALATIONS_WRITE",
    "SCOPES",
    "Claimed",
    "Decision",
    "KeySpec",
    "Known",
    "Principal",
    "Proof",
    "RateLimited",
    "RateLimiter",
    "Read",
    "ReadAudit",
    "Trust",
    "Verifier",
    "create_key",
    "decide",
    "list_keys",
    "reads_of",
    "revoke_key",
    "unverified_body",
]
