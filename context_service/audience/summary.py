"""The deterministic summary as an audience sees it: only the fields the view shows.

The same field policy as the facts (``audience.facts``) and the escalation handoff: a hidden
section (``orders``, ``billing.subscriptions``, ``crm.stage``, ``crm.owner``, ``crm.deals``,
``support.tickets``) is emptied before the summary is written, so no line states it; a hidden
``identity.names`` leaves the customer unnamed. Signals are account state and stay, as in every
audience, without the details of a hidden field (``signal_views.visible_signals``); contacts
are shown in full, masked or not at all as the view says.
"""

from __future__ import annotations

import msgspec

from context_service.audience.contacts import snapshot_as_viewed
from context_service.audience.facts import NAME_HIDDEN, visible_contacts
from context_service.audience.policy import View
from context_service.audience.signal_views import visible_signals
from context_service.models import (
    BillingSection,
    CommerceSection,
    CrmSection,
    IdentitySection,
    Snapshot,
    SupportSection,
)
from context_service.snapshot.summary import summarize

_replace = msgspec.structs.replace


def deterministic_summary(snap: Snapshot, view: View) -> str:
    """The snapshot's few-line summary, rebuilt with only what this view shows (the
    customer's own contacts quoted in it as the view shows the contact fields)."""
    snap = snapshot_as_viewed(snap, view)
    return summarize(
        _identity_for(snap, view),
        _commerce_for(snap.commerce, view),
        _billing_for(snap.billing, view),
        _crm_for(snap.crm, view),
        _support_for(snap.support, view),
        visible_signals(snap, view),
        snap.freshness,
    )


def _identity_for(snap: Snapshot, view: View) -> IdentitySection:
    emails, phones = visible_contacts(snap, view)
    identity = _replace(snap.identity, emails=emails, phones=phones)
    if view.shows("identity.names"):
        return identity
    return _replace(identity, name=NAME_HIDDEN, names=[])


def _commerce_for(commerce: CommerceSection, view: View) -> CommerceSection:
    return commerce if view.shows("orders") else CommerceSection()


def _billing_for(billing: BillingSection, view: View) -> BillingSection:
    return billing if view.shows("billing.subscriptions") else _replace(billing, subscriptions=[])


def _crm_for(crm: CrmSection, view: View) -> CrmSection:
    return _replace(
        crm,
        lifecycle_stage=crm.lifecycle_stage if view.shows("crm.stage") else None,
        owner=crm.owner if view.shows("crm.owner") else None,
        deals=crm.deals if view.shows("crm.deals") else [],
    )


def _support_for(support: SupportSection, view: View) -> SupportSection:
    return support if view.shows("support.tickets") else SupportSection()
