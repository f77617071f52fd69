"""Erasing one person rebuilds the profiles that shared something with them (a HubSpot deal)
at a new version, so no cached LLM summary of theirs still names the erased person."""

from __future__ import annotations

from typing import Any

import httpx2
import msgspec

from context_service.audience import FieldPolicy
from context_service.llm import Summarizer, lease
from context_service.models import Snapshot
from context_service.store import Store
from context_service.trust.erasure import erase_profile
from tests.conftest import Ingest
from tests.llm.helpers import completion, mock_client
from tests.payloads import hubspot_contact

T = "2026-01-01T00:00:00.000Z"
DEAL: dict[str, Any] = {
    "id": "9001",
    "properties": {
        "amount": "1200.00",
        "dealname": "Renewal negotiated by Alice Erasedperson",
        "dealstage": "appointmentscheduled",
        "pipeline": "default",
        "createdate": T,
        "hs_lastmodifieddate": T,
        "deal_currency_code": "USD",
    },
    "createdAt": T,
    "updatedAt": T,
    "archived": False,
    "associations": {
        "contacts": {
            "results": [
                {"id": "501", "type": "deal_to_contact"},
                {"id": "502", "type": "deal_to_contact"},
            ]
        }
    },
}


def _snapshot(store: Store, profile_id: str) -> Snapshot:
    (blob,) = store.conn.execute(
        "SELECT json FROM snapshots WHERE profile_id = ?", (profile_id,)
    ).fetchone()
    return msgspec.json.decode(blob, type=Snapshot)


def _profile_of(store: Store, contact: str) -> str:
    (profile_id,) = store.conn.execute(
        "SELECT m.profile_id FROM profile_members m JOIN records r ON r.id = m.record_id "
        "WHERE r.source = 'hubspot' AND r.kind = 'contact' AND r.external_id = ?",
        (contact,),
    ).fetchone()
    return str(profile_id)


def _answers(request: httpx2.Request) -> httpx2.Response:
    named = "Erasedperson" in request.content.decode()
    return httpx2.Response(200, json=completion("Bob's deal with Alice" if named else "Bob"))


def test_a_summary_naming_the_erased_person_is_not_served_again(
    store: Store, ingest: Ingest
) -> None:
    ingest(
        hubspot_contact("501", "alice.erased@example.com", "Alice", "Erasedperson"),
        hubspot_contact("502", "bob.other@example.com", "Bob", "Otherman"),
        ("hubspot", "deal", DEAL),
    )
    alice, bob = _profile_of(store, "501"), _profile_of(store, "502")
    view = FieldPolicy().view("agent", None)
    before = _snapshot(store, bob)
    cached = Summarizer(store, mock_client(_answers)).summary(before, "agent", view, "llm")
    assert cached.text == "Bob's deal with Alice"
    erase_profile(
        store,
        alice,
        requested_by="t",
        reason="t",
        now="2026-02-01T00:00:00Z",
        region="US",
        vacuum=False,
    )
    after = _snapshot(store, bob)
    assert after.version > before.version
    assert "Erasedperson" not in msgspec.json.encode(after).decode()
    count = "SELECT count(*) FROM llm_summaries WHERE profile_id = ?"
    assert store.conn.execute(count, (bob,)).fetchone()[0] == 0
    fresh = Summarizer(store, mock_client(_answers)).summary(after, "agent", view, "llm")
    assert fresh.text == "Bob"


def test_an_erasure_leaves_no_finished_summary_lease(store: Store, ingest: Ingest) -> None:
    """A lease row holds a digest of a summary key, which names a profile: the ones whose call
    is over (done, or expired with their holder) go with an erasure rather than waiting for
    the next claim of any summary to sweep them."""
    ingest(hubspot_contact("501", "alice.erased@example.com", "Alice", "Erasedperson"))
    alice = _profile_of(store, "501")
    lease.claim(store, "done-key", "holder-a", ttl_s=60)
    lease.release(store, "done-key", "holder-a", "the LLM summary failed")
    lease.claim(store, "expired-key", "holder-b", ttl_s=-1)
    lease.claim(store, "live-key", "holder-c", ttl_s=600)  # a call still running elsewhere
    erase_profile(
        store,
        alice,
        requested_by="t",
        reason="t",
        now="2026-02-01T00:00:00Z",
        region="US",
        vacuum=False,
    )
    keys = {row[0] for row in store.conn.execute("SELECT key FROM llm_summary_leases")}
    assert keys == {"live-key"}
