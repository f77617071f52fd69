"""Who the escalated customer is, as ``POST /v1/escalations`` and the ``create_escalation`` tool
both say it: the same customer found the same way reads the same on either path."""

from __future__ import annotations

from context_service.audience.facts import visible_contacts
from context_service.audience.policy import View
from context_service.handoff.build import Who
from context_service.models import Snapshot

_IDENTITY_FIELDS = frozenset({"name", "email", "phone"})  # conflicts that question the match


def who_of(snap: Snapshot, view: View, matched_by: str, confidence: str) -> Who:
    """``Who`` for a customer found by ``matched_by`` (``email``, ``zendesk id``...) with
    ``confidence`` in the words of ``find_customer`` (``exact`` for an email, phone or id that
    is this customer's alone); ``medium`` when the sources disagree on the name, email or
    phone. Contacts are hidden, masked or in full as ``view`` says."""
    sources = ", ".join(sorted({m.source for m in snap.members})) or "no source"
    why = f"matched by {matched_by}; one profile across {sources}"
    conflicts = [c.field for c in snap.conflicts if c.field in _IDENTITY_FIELDS]
    if conflicts:
        named = ", ".join(conflicts) if view.shows("conflicts") else "identity details"
        why += f"; sources disagree on {named}"
    emails, phones = visible_contacts(snap, view)
    return Who(
        profile_id=snap.profile_id,
        name=snap.identity.name if view.shows("identity.names") else None,
        emails=emails,
        phones=phones,
        matched_by=matched_by,
        confidence="medium" if conflicts else confidence,
        why=why,
    )
