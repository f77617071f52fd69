"""The data path: snapshot bounds keep what signals name, free-text redaction keeps order
references, role/placeholder mailboxes are not read into initials, and a CJK given name is not
an initial of a longer one."""

from __future__ import annotations

import pytest

from context_service.identity.compare import _first_level
from context_service.identity.normalize import is_merge_email, is_placeholder_email
from context_service.models import Activity, RecordKey, Subscription
from context_service.snapshot.assemble import RECENT_SUBSCRIPTIONS, ProfileData, build_snapshot
from context_service.snapshot.links import DashboardLinks
from context_service.snapshot.redaction import PHONE_REMOVED, OwnContacts, redact_other_contacts
from context_service.store.records import StoredRecord

# --- (b) snapshot bounds --------------------------------------------------------------------


def _record(rid: int, kind: str, external_id: str) -> StoredRecord:
    return StoredRecord(
        id=rid,
        key=RecordKey("stripe", kind, external_id),
        payload="{}",
        updated_at=None,
        fetched_at="2026-01-01T00:00:00Z",
        deleted=False,
        mapped=None,
        error=None,
    )


def _subscription(n: int, status: str) -> Subscription:
    return Subscription(
        external_id=f"sub_{n}",
        status=status,
        plan=f"Site {n}",
        created_at=f"2026-01-{n:02d}T00:00:00Z",
    )


def test_a_past_due_subscription_is_kept_behind_many_active_ones() -> None:
    """A customer with a seat subscription per site: the one past due is the oldest, and
    newer active ones fill the list. The warning (and the subscription it names) must stay."""
    subs = [_subscription(n, "active") for n in range(2, RECENT_SUBSCRIPTIONS + 4)]
    subs.append(_subscription(1, "past_due"))
    acts: list[tuple[StoredRecord, Activity]] = [
        (_record(i, "subscription", s.external_id or ""), s) for i, s in enumerate(subs, 1)
    ]
    data = ProfileData("p1", 1, [], acts, {})
    snap = build_snapshot(data, DashboardLinks(), "2026-02-01T00:00:00Z", "US")

    shown = {s.external_id for s in snap.billing.subscriptions}
    assert "sub_1" in shown
    assert any(s.code == "subscription_past_due" and s.ref == "sub_1" for s in snap.signals)
    assert len(snap.billing.subscriptions) <= RECENT_SUBSCRIPTIONS


# --- (c) other people's contacts in free text --------------------------------------------------

_OWN = OwnContacts.of(["maya.patel@gmail.com"], ["+14155550123"], "US")


@pytest.mark.parametrize(
    "reference", ["order #2025551234", "order # 2025551234", "PO#415-555-0199"]
)
def test_an_order_number_is_not_taken_for_a_phone(reference: str) -> None:
    """A number written after ``#`` is a reference (an order, a PO), not a phone."""
    text = f"Where is {reference}? It was due last week."
    assert redact_other_contacts(text, _OWN) == text


def test_another_persons_phone_is_still_removed_beside_an_order_number() -> None:
    text = "Order #1001: please call my neighbour on (212) 555-0187 instead."
    redacted = redact_other_contacts(text, _OWN)
    assert "555-0187" not in redacted
    assert PHONE_REMOVED in redacted
    assert "#1001" in redacted


def test_a_phone_number_after_phone_no_is_still_removed() -> None:
    redacted = redact_other_contacts("Her phone no. 212 555 0187, call her.", _OWN)
    assert "555 0187" not in redacted


# --- (d) identity ---------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["n.a@acme.io", "a.b.c@acme.io", "n-a@acme.io"])
def test_initials_are_not_a_placeholder_mailbox(email: str) -> None:
    """Nina Alvarez at n.a@ is a person: her address is no placeholder (a lookup by it is
    refused as one) and may link her records."""
    assert not is_placeholder_email(email)
    assert is_merge_email(email)


@pytest.mark.parametrize("email", ["h.r@acme.io", "h_i@acme.io", "a.l.l@acme.io"])
def test_initials_are_not_a_role_mailbox(email: str) -> None:
    assert is_merge_email(email)


@pytest.mark.parametrize(
    "email",
    ["no_reply@acme.io", "customer.service@acme.io", "n/a@acme.io", "no-email@acme.io", "na@x.io"],
)
def test_punctuated_role_and_placeholder_mailboxes_stay_no_merge_keys(email: str) -> None:
    assert not is_merge_email(email)


@pytest.mark.parametrize(("one", "longer"), [("伟", "伟明"), ("김", "김민수"), ("ゆ", "ゆき")])
def test_a_one_character_given_name_is_not_an_initial_of_a_longer_one(
    one: str, longer: str
) -> None:
    """伟 (Wei) and 伟明 (Weiming) are two names, not an initial and a name."""
    assert _first_level(one, longer) != "initial"
    assert _first_level(longer, one) != "initial"


def test_a_latin_initial_still_reads_as_an_initial() -> None:
    assert _first_level("j", "jane") == "initial"
    assert _first_level("j", "j") == "initial"
    assert _first_level("伟", "伟") == "exact"
