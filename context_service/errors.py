"""One exception base for the whole service.

::

    ContextServiceError
    ├── ConfigurationError         a setting is missing or invalid
    ├── MappingError               a vendor payload cannot be mapped (the raw record is kept)
    ├── StoreError                 the database refused an operation
    │   └── MigrationError
    ├── LookupFailed               a context request could not be answered
    │   ├── InvalidIdentifier      malformed email, phone or missing identifier  -> 400
    │   ├── ProfileNotFound        no profile for the identifier                   -> 404
    │   └── AmbiguousIdentifier    the identifier belongs to several people        -> 409
    ├── AuthenticationFailed       missing or unknown API key                      -> 401
    ├── WebhookRejected            bad/missing signature or stale timestamp        -> 401
    └── IntegrationError           a vendor call failed (see integrations._http)
        ├── RetriableError
        ├── SkippableError
        └── FatalError

The API layer maps these to problem-details responses; nothing else catches them broadly.
"""

from __future__ import annotations

import unicodedata
from typing import Any

# Characters that cannot be seen or that change how the text around them reads: controls
# (newlines forge log lines), format characters (bidi overrides reverse text in a UI,
# zero-width ones hide), line and paragraph separators, lone surrogates.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
SHOWN_LIMIT = 80  # longest value ``shown`` quotes whole


def visible(text: str) -> str:
    """``text`` with every control, format (bidi, zero-width) or separator character escaped
    as ``repr`` would (``\\x11``, ``\\u202e``, ``\\n``); everything else is left as it is."""
    if text.isprintable():
        return text
    return "".join(_escaped(c) if _is_hidden(c) else c for c in text)


def shown(value: object, limit: int = SHOWN_LIMIT) -> str:
    """A value a caller sent, quoted for an error message: ``repr``-like (a blank value reads
    ``' '``), every hidden character escaped, cut to ``limit`` characters with ``...``."""
    text = repr(str(value))  # repr escapes every character ``visible`` would
    return text if len(text) <= limit else text[: max(limit - 3, 1)] + "..."


def _is_hidden(char: str) -> bool:
    return unicodedata.category(char) in _HIDDEN_CATEGORIES


def _escaped(char: str) -> str:
    return char.encode("unicode_escape").decode("ascii")


class ContextServiceError(Exception):
    """Base of every error this service raises on purpose."""

    status_code: int = 500
    title: str = "Internal error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class ConfigurationError(ContextServiceError):
    """A setting is missing or has an invalid value."""

    title = "Invalid configuration"


class MappingError(ContextServiceError):
    """A vendor payload could not be mapped to a canonical record."""

    status_code = 422
    title = "Unmappable payload"


class StoreError(ContextServiceError):
    """The database refused an operation."""

    title = "Store error"


class StoreBusy(StoreError):
    """Another writer held the store's write lock past the wait: nothing was written; try
    again shortly, after ``Retry-After`` seconds when ``retry_after_s`` is given (503)."""

    status_code = 503
    title = "Service unavailable"

    def __init__(self, detail: str, *, retry_after_s: int | None = None, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.headers = {} if retry_after_s is None else {"Retry-After": str(retry_after_s)}


class MigrationError(StoreError):
    """A schema migration could not be applied."""

    title = "Migration failed"


class LookupFailed(ContextServiceError):
    """A context request could not be answered."""

    status_code = 400
    title = "Lookup failed"


class InvalidIdentifier(LookupFailed):
    """The identifier is missing or malformed."""

    status_code = 400
    title = "Invalid identifier"


class ProfileNotFound(LookupFailed):
    """No profile matches the identifier."""

    status_code = 404
    title = "Customer not found"


class SourceNotConfigured(ContextServiceError):
    """A request names a source this server has no settings for."""

    status_code = 404
    title = "Source not configured"


# Candidates a 409 answered over HTTP names at most (``api.problems``); ``more`` counts the rest.
CANDIDATES_SHOWN = 20


class AmbiguousIdentifier(LookupFailed):
    """The identifier belongs to several different people; ``extra['candidates']`` lists them."""

    status_code = 409
    title = "Identifier matches several customers"

    def capped(self, most: int) -> AmbiguousIdentifier:
        """This 409 naming ``most`` candidates at most, and in ``more`` how many it leaves out
        (a switchboard 500 customers share must not make a 56 KB answer); itself when it
        names no more than that."""
        candidates = self.extra.get("candidates") or []
        if len(candidates) <= most:
            return self
        more = len(candidates) - most
        capped = type(self)(f"{self.detail} ({more} more customers share it)")
        capped.extra = {**self.extra, "candidates": candidates[:most], "more": more}
        return capped


class AuthenticationFailed(ContextServiceError):
    """The request carries no valid API key; ``invalid_token`` when it carries one that is
    no key. Its ``headers`` name the scheme to use (RFC 9110 11.6.1, RFC 6750 3)."""

    status_code = 401
    title = "Unauthorized"

    def __init__(self, detail: str, *, invalid_token: bool = False, **extra: Any) -> None:
        super().__init__(detail, **extra)
        error = ', error="invalid_token"' if invalid_token else ""
        self.headers = {"WWW-Authenticate": f'Bearer realm="context-service"{error}'}


class WebhookRejected(ContextServiceError):
    """A webhook delivery failed verification: bad or missing signature, stale timestamp."""

    status_code = 401
    title = "Webhook rejected"


class IntegrationError(ContextServiceError):
    """A call to a vendor API failed."""

    status_code = 502
    title = "Upstream error"


class RetriableError(IntegrationError):
    """Worth retrying later: rate limits, 5xx, timeouts."""


class SkippableError(IntegrationError):
    """This item cannot be processed; skip it, report it and go on."""


class FatalError(IntegrationError):
    """Stop the run: bad credentials, missing permissions, a broken contract."""
