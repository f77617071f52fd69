"""A bare ``Snapshot`` for renderer tests: every section empty unless a test says otherwise."""

from __future__ import annotations

from typing import Any

from context_service.models import (
    BillingSection,
    CommerceSection,
    CrmSection,
    IdentitySection,
    Snapshot,
    SupportSection,
)


def bare_snapshot(**fields: Any) -> Snapshot:
    """A version-1 snapshot generated 2026-11-29 with empty sections, ``fields`` set over it."""
    base: dict[str, Any] = {
        "profile_id": "prof_1",
        "version": 1,
        "generated_at": "2026-11-29T00:00:00Z",
        "identity": IdentitySection(),
        "members": [],
        "commerce": CommerceSection(),
        "billing": BillingSection(),
        "crm": CrmSection(),
        "support": SupportSection(),
        "freshness": [],
        "signals": [],
        "conflicts": [],
        "summary": "",
    }
    return Snapshot(**{**base, **fields})


def signal_codes(snap: Snapshot) -> set[str]:
    """The codes of a snapshot's signals."""
    return {s.code for s in snap.signals}
