"""The HubSpot portal (hub id) this service syncs, which webhook events must name.

A public app has one client secret and one webhook URL for every portal that installs it (the
production portal, a sandbox or developer test account, anyone else's), and object ids are
only unique within a portal: another portal's ``contact.privacyDeletion`` for its contact 1004
would erase ours. Every event names its portal (``portalId``), so events of any other portal
are refused (``integrations.hubspot.webhooks``).

The portal is ``CONTEXT_SERVICE_HUBSPOT_PORTAL_ID`` when it is set. Otherwise it is the access
token's own portal, the one the sync reads, learned once from HubSpot (``GET
/account-info/v3/details`` answers ``{"portalId": 62515, ...}``) when the first delivery is
applied, and kept for the life of the connector. Until it is known, deliveries are stored
as they come and their events checked when applied; once it is, a delivery none of whose events
is for it is refused at once (401). Without either, nothing tells which events are ours, so
no delivery is applied.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from context_service.errors import ConfigurationError, FatalError, RetriableError

__all__ = ["ACCOUNT_DETAILS_PATH", "PORTAL_SETTING", "Portal", "portal_text"]

ACCOUNT_DETAILS_PATH = "/account-info/v3/details"
PORTAL_SETTING = "CONTEXT_SERVICE_HUBSPOT_PORTAL_ID"


def portal_text(value: Any) -> str | None:
    """A portal id as compared here (decimal digits, no leading zeros), or ``None`` when
    ``value`` is no portal id (missing, empty, not a whole number)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    text = str(value).strip()
    return str(int(text)) if text.isascii() and text.isdigit() else None


class Portal:
    """The portal's id: the configured one, else learned once through ``read_details`` (a
    paced ``GET`` of the account details; ``None`` when no access token is configured)."""

    def __init__(self, configured: str | None, read_details: Callable[[str], Any] | None) -> None:
        self._id = _configured(configured)
        self._read_details = read_details
        self._lock = threading.Lock()  # appliers in several threads learn it once

    def known(self) -> str | None:
        """The portal's id if it is configured or already learned (never calls HubSpot)."""
        return self._id

    def require(self) -> str:
        """The portal's id, learned from HubSpot the first time it is needed.

        ``RetriableError`` when HubSpot cannot be reached (the delivery waits);
        ``ConfigurationError`` when it cannot be learned at all.
        """
        with self._lock:
            if self._id is None:
                self._id = self._learn()
            return self._id

    def _learn(self) -> str:
        if self._read_details is None:
            raise ConfigurationError(
                "cannot tell which HubSpot portal this service syncs, so no webhook event can "
                f"be checked: set {PORTAL_SETTING} (or CONTEXT_SERVICE_HUBSPOT_ACCESS_TOKEN, "
                "whose portal is then read from HubSpot)"
            )
        try:
            body = self._read_details(ACCOUNT_DETAILS_PATH)
        except FatalError as exc:
            if exc.extra.get("status") == 429:  # the daily limit: resets, the delivery waits
                raise RetriableError(f"hubspot portal id: {exc.detail}") from exc
            raise ConfigurationError(
                f"the HubSpot portal id could not be read from GET {ACCOUNT_DETAILS_PATH} "
                f"({exc.detail}); set {PORTAL_SETTING}"
            ) from exc
        found = portal_text(body.get("portalId")) if isinstance(body, dict) else None
        if found is None:
            raise ConfigurationError(
                f"GET {ACCOUNT_DETAILS_PATH} names no portalId; set {PORTAL_SETTING}"
            )
        return found


def _configured(value: str | None) -> str | None:
    """The configured portal id, checked: a typo here would refuse every delivery."""
    if value is None or not value.strip():
        return None
    found = portal_text(value)
    if found is None:
        raise ConfigurationError(f"{PORTAL_SETTING} must be the portal's number, not {value!r}")
    return found
