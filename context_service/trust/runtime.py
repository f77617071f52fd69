"""``Trust``: keys, rate limits, end-user verification and the read audit, built from settings.

The HTTP app keeps one in ``app.state.trust``; clocks are parameters so tests never wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from context_service.settings import Settings
from context_service.store import Store
from context_service.trust.audit import Read, ReadAudit
from context_service.trust.chatbot import DEFAULT_GUIDANCE
from context_service.trust.keyring import Keyring
from context_service.trust.ratelimit import RateLimiter
from context_service.trust.verify import JwtConfig, Verifier


def jwt_config(settings: Settings) -> JwtConfig | None:
    """The JWT settings, or ``None`` when tokens are not (fully) configured."""
    has_key = settings.chatbot_jwt_secret or settings.chatbot_jwt_public_key
    if not (has_key and settings.chatbot_jwt_issuer and settings.chatbot_jwt_audience):
        return None
    return JwtConfig(
        issuer=settings.chatbot_jwt_issuer,
        audience=settings.chatbot_jwt_audience,
        secret=settings.chatbot_jwt_secret,
        public_key=settings.chatbot_jwt_public_key,
        algorithms=tuple(settings.chatbot_jwt_algorithms),
    )


class Trust:
    """Everything the API needs to decide who may read what, and to record it."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        audit_buffer_seconds: float = 0.0,
    ) -> None:
        self.keyring = Keyring(store, settings.api_keys, clock, monotonic)
        self.limiter = RateLimiter(settings.rate_limit_per_minute, monotonic)
        self.verifier = Verifier(
            settings.chatbot_user_hash_secrets,
            jwt_config(settings),
            clock,
            region=settings.default_region,
        )
        self.audit = ReadAudit(store, settings.audit_retention_days, clock, audit_buffer_seconds)
        self.guidance = settings.chatbot_unverified_guidance or DEFAULT_GUIDANCE

    def record(self, *reads: Read) -> None:
        """Record reads in the audit."""
        self.audit.record(reads)
