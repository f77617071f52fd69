"""The deterministic summary as an audience sees it: contact details as the view allows."""

from __future__ import annotations

import msgspec

from context_service.audience.facts import mask_email, mask_phone
from context_service.audience.policy import View
from context_service.models import IdentitySection, Snapshot
from context_service.snapshot.summary import summarize


def deterministic_summary(snap: Snapshot, view: View) -> str:
    """The snapshot's few-line summary, rebuilt with this view's contact details."""
    identity = _identity_for(snap.identity, view)
    return summarize(
        identity,
        snap.commerce,
        snap.billing,
        snap.crm,
        snap.support,
        snap.signals,
        snap.freshness,
    )


def _identity_for(identity: IdentitySection, view: View) -> IdentitySection:
    shows = view.contact != "none" and view.shows("identity.emails")
    emails = identity.emails if shows else []
    if view.contact == "masked":
        emails = [mask_email(e) for e in emails]
    phones = [mask_phone(p) for p in identity.phones] if view.contact == "masked" else []
    return msgspec.structs.replace(identity, emails=emails, phones=phones)
