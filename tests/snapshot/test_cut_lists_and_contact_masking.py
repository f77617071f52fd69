"""The snapshot and its audiences: a cut list still says what it left out and
loses no signal; the chatbot sees the customer's own contacts in free text masked as its
contact fields are; a phone written with ``+`` and a country code is another person's phone
whatever the region.

Bounds are checked on ``build_snapshot`` with activities made in place (fast, exact); the
audience checks go through the real path: vendor payloads ingested, the stored snapshot read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import msgspec
import pytest

from context_service.audience import ContextRequest, FieldPolicy, build_context
from context_service.audience.contacts import mask_email, mask_phone
from context_service.audience.signal_views import visible_signals
from context_service.audience.summary import deterministic_summary
from context_service.models import (
    Activity,
    Charge,
    Deal,
    Dispute,
    Invoice,
    Order,
    RecordKey,
    Signal,
    Snapshot,
    Subscription,
    Ticket,
)
from context_service.snapshot.assemble import (
    RECENT_CHARGES,
    RECENT_DEALS,
    RECENT_DISPUTES,
    RECENT_INVOICES,
    RECENT_ORDERS,
    RECENT_SUBSCRIPTIONS,
    RECENT_TICKETS,
    ProfileData,
    build_snapshot,
)
from context_service.snapshot.links import DashboardLinks
from context_service.snapshot.redaction import PHONE_REMOVED, OwnContacts, redact_other_contacts
from context_service.snapshot.signals import MOST_UNSHIPPED_SIGNALS, payment_failed
from context_service.store import Store
from context_service.store.records import StoredRecord
from tests.audience.helpers import snapshot_of
from tests.conftest import Ingest
from tests.payloads import zendesk_ticket, zendesk_user

NOW = "2026-06-01T00:00:00Z"

# --- 1. a cut list says what it left out, and no signal goes with the cut -------------------


def _record(rid: int, act: Activity) -> StoredRecord:
    source = "shopify" if isinstance(act, Order) else "stripe"
    source = "zendesk" if isinstance(act, Ticket) else source
    source = "hubspot" if isinstance(act, Deal) else source
    kind = type(act).__name__.lower()
    return StoredRecord(
        id=rid,
        key=RecordKey(source, kind, act.external_id or str(rid)),
        payload="{}",
        updated_at=None,
        fetched_at="2026-01-01T00:00:00Z",
        deleted=False,
        mapped=None,
        error=None,
    )


def _snapshot(acts: Sequence[Activity]) -> Snapshot:
    pairs = [(_record(i, act), act) for i, act in enumerate(acts, 1)]
    return build_snapshot(ProfileData("p1", 1, [], pairs, {}), DashboardLinks(), NOW, "US")


def _day(n: int) -> str:
    """Day ``n`` of 2026 (n = 1..150), newer as ``n`` grows."""
    month, day = divmod(n - 1, 28)
    return f"2026-{month + 1:02d}-{day + 1:02d}T00:00:00Z"


def _failed_invoice(n: int) -> Invoice:
    return Invoice(
        external_id=f"in_{n}",
        number=f"INV-{n}",
        status="open",
        amount=f"{n}.00",
        amount_remaining=f"{n}.00",
        currency="usd",
        attempt_count=2,
        created_at=_day(n),
    )


def _paid_invoice(n: int) -> Invoice:
    return Invoice(
        external_id=f"in_{n}",
        status="paid",
        amount="10.00",
        amount_remaining="0.00",
        currency="usd",
        created_at=_day(n),
    )


def _signals(snap: Snapshot, code: str) -> list[Signal]:
    return [s for s in snap.signals if s.code == code]


def _says_count(signals: Sequence[Signal], count: int) -> bool:
    return any(re.search(rf"\b{count}\b", s.message) for s in signals)


@pytest.mark.parametrize(("paid", "failed"), [(0, 2 * RECENT_INVOICES + 1), (6, 9)])
def test_failed_invoices_behind_the_kept_ones_are_still_counted(paid: int, failed: int) -> None:
    """Failed invoices, oldest first, then paid ones: the oldest failed ones are cut from the
    list; the snapshot still says how many failed and the oldest one still owed."""
    invoices = [_failed_invoice(n) for n in range(1, failed + 1)]
    invoices += [_paid_invoice(n) for n in range(failed + 1, failed + paid + 1)]
    snap = _snapshot(invoices)

    listed = {i.external_id for i in snap.billing.invoices}
    cut = [i for i in invoices if payment_failed(i) and i.external_id not in listed]
    assert cut, "the scenario must cut a failed invoice"
    said = _signals(snap, "invoice_payment_failed")
    assert _says_count(said, failed)  # how many failed, all told
    oldest = min(cut, key=lambda i: i.created_at or "")
    assert any(
        (oldest.created_at or "")[:10] in s.message and (oldest.amount_remaining or "") in s.message
        for s in said
    ), [s.message for s in said]
    assert {s.ref for s in said if s.ref} <= listed  # each ref names a listed invoice


def test_open_disputes_behind_the_kept_ones_still_signal() -> None:
    disputes = [
        Dispute(
            external_id=f"dp_{n}",
            status="needs_response",
            amount="20.00",
            currency="usd",
            created_at=_day(n),
        )
        for n in range(1, RECENT_DISPUTES + 4)
    ]
    snap = _snapshot(disputes)
    left_out = len(disputes) - len(snap.billing.disputes)
    assert left_out > 0
    assert _says_count([s for s in _signals(snap, "dispute_open") if s.ref is None], left_out)


def test_owed_subscriptions_behind_the_kept_ones_still_signal() -> None:
    subs = [
        Subscription(
            external_id=f"sub_{n}", status="past_due", plan=f"Site {n}", created_at=_day(n)
        )
        for n in range(1, RECENT_SUBSCRIPTIONS + 3)
    ]
    snap = _snapshot(subs)
    left_out = len(subs) - len(snap.billing.subscriptions)
    assert left_out > 0
    said = [s for s in _signals(snap, "subscription_past_due") if s.ref is None]
    assert _says_count(said, left_out)


def test_refunded_card_payments_behind_the_kept_ones_are_counted() -> None:
    charges = [
        Charge(
            external_id=f"ch_{n}",
            status="succeeded",
            amount="30.00",
            currency="usd",
            refunded=True,
            amount_refunded="30.00",
            created_at=_day(n),
        )
        for n in range(1, RECENT_CHARGES + 3)
    ]
    snap = _snapshot(charges)
    left_out = len(charges) - len(snap.billing.charges)
    refunds = [s for s in _signals(snap, "refund_issued") if s.source == "stripe"]
    assert left_out > 0
    assert _says_count([s for s in refunds if s.ref is None], left_out)


def _order(n: int, **fields: object) -> Order:
    base: dict[str, object] = {
        "external_id": f"o_{n}",
        "title": f"#{1000 + n}",
        "status": "open",
        "financial_status": "paid",
        "fulfillment_status": "fulfilled",
        "amount": "40.00",
        "currency": "USD",
        "created_at": _day(n),
    }
    return msgspec.convert({**base, **fields}, Order)


def test_unshipped_orders_beyond_the_warned_few_are_counted() -> None:
    orders = [_order(n, fulfillment_status="unfulfilled") for n in range(140, 148)]
    snap = _snapshot(orders)
    one_each = _signals(snap, "order_unfulfilled")
    assert len(one_each) == MOST_UNSHIPPED_SIGNALS < len(orders)
    assert _says_count(_signals(snap, "orders_unfulfilled"), len(orders) - len(one_each))


def test_refunded_orders_behind_the_listed_ones_are_counted() -> None:
    refunded = [
        _order(n, financial_status="refunded", refunds=[{"external_id": f"re_{n}", "amount": "1"}])
        for n in range(1, 4)
    ]
    newer = [_order(n) for n in range(10, 10 + RECENT_ORDERS)]
    snap = _snapshot([*refunded, *newer])
    said = [s for s in _signals(snap, "refund_issued") if s.source == "shopify"]
    assert _says_count([s for s in said if s.ref is None], len(refunded))


@pytest.mark.parametrize(
    ("make", "cap", "listed"),
    [
        (_paid_invoice, RECENT_INVOICES, lambda s: s.billing.invoices),
        (
            lambda n: Ticket(external_id=str(n), status="closed", title="Hi", created_at=_day(n)),
            RECENT_TICKETS,
            lambda s: s.support.tickets,
        ),
        (
            lambda n: Deal(external_id=f"d_{n}", status="won", title="Deal", created_at=_day(n)),
            RECENT_DEALS,
            lambda s: s.crm.deals,
        ),
        (
            lambda n: Charge(external_id=f"ch_{n}", status="succeeded", created_at=_day(n)),
            RECENT_CHARGES,
            lambda s: s.billing.charges,
        ),
    ],
    ids=["invoices", "tickets", "deals", "charges"],
)
def test_a_cut_list_says_how_many_it_left_out(make, cap, listed) -> None:  # type: ignore[no-untyped-def]
    acts = [make(n) for n in range(1, cap + 5)]
    snap = _snapshot(acts)
    left_out = len(acts) - len(listed(snap))
    assert left_out > 0
    assert _says_count([s for s in snap.signals if s.code.startswith("unlisted_")], left_out)


def test_a_list_not_cut_adds_no_count() -> None:
    snap = _snapshot([_paid_invoice(n) for n in range(1, RECENT_INVOICES + 1)])
    assert not [s for s in snap.signals if s.code.startswith("unlisted_")]


def test_a_count_about_a_hidden_field_is_not_shown() -> None:
    snap = _snapshot(
        [Deal(external_id=f"d_{n}", status="won", title="D", created_at=_day(n)) for n in range(20)]
    )
    chatbot = FieldPolicy().view("chatbot", None)  # hides crm.deals
    assert any(s.code == "unlisted_deals" for s in snap.signals)
    assert not any(s.code == "unlisted_deals" for s in visible_signals(snap, chatbot))


# --- 2. the chatbot sees the customer's own contacts in free text masked --------------------

OWN_EMAIL = "ola.nord@example.com"
OWN_PHONE = "+14155550142"
OWN_PHONE_WRITTEN = "415-555-0142"


def _own_contacts_in_a_ticket(store: Store, ingest: Ingest) -> Snapshot:
    ticket = zendesk_ticket(10, 3, f"Write to {OWN_EMAIL} please")
    ticket[2]["description"] = f"My email is {OWN_EMAIL}, or call {OWN_PHONE_WRITTEN}."
    ingest(zendesk_user(3, "Ola Nord", email=OWN_EMAIL, phone="+1 415 555 0142"), ticket)
    return snapshot_of(store, OWN_EMAIL)


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_the_chatbot_sees_own_contacts_in_free_text_masked(
    store: Store, ingest: Ingest, fmt: str
) -> None:
    snap = _own_contacts_in_a_ticket(store, ingest)
    chatbot = FieldPolicy().view("chatbot", None)
    body = build_context(snap, ContextRequest("chatbot", fmt), chatbot).body  # type: ignore[arg-type]
    assert OWN_EMAIL not in body
    assert OWN_PHONE_WRITTEN not in body
    assert mask_email(OWN_EMAIL) in body
    assert mask_phone(OWN_PHONE) in body


def test_the_chatbot_summary_and_signals_mask_own_contacts(store: Store, ingest: Ingest) -> None:
    snap = _own_contacts_in_a_ticket(store, ingest)
    chatbot = FieldPolicy().view("chatbot", None)
    assert OWN_EMAIL not in deterministic_summary(snap, chatbot)
    assert all(OWN_EMAIL not in s.message for s in visible_signals(snap, chatbot))


@pytest.mark.parametrize("audience", ["agent", "escalation"])
def test_human_audiences_keep_own_contacts_in_free_text(
    store: Store, ingest: Ingest, audience: str
) -> None:
    snap = _own_contacts_in_a_ticket(store, ingest)
    view = FieldPolicy().view(audience, None)
    body = build_context(snap, ContextRequest(audience, "text"), view).body  # type: ignore[arg-type]
    assert OWN_EMAIL in body
    assert OWN_PHONE_WRITTEN in body


def test_contacts_hidden_hide_them_in_free_text_too(store: Store, ingest: Ingest) -> None:
    snap = _own_contacts_in_a_ticket(store, ingest)
    view = msgspec.structs.replace(FieldPolicy().view("chatbot", None), contact="none")
    body = build_context(snap, ContextRequest("chatbot", "text"), view).body
    assert OWN_EMAIL not in body
    assert mask_email(OWN_EMAIL) not in body
    assert OWN_PHONE_WRITTEN not in body


# --- 3. a phone written with + and a country code, whatever the region -----------------------

_OWN_US = OwnContacts.of(["maya@example.com"], ["+14155550123"], "US")


@pytest.mark.parametrize(
    "phone",
    [
        "+44 20 7946 0958",
        "+33 1 23 45 67 89",
        "+44 7700 900123",  # Ofcom's range for fiction: not a valid number, still a phone
        "+44 (0)7700 900456",
        "+353 85 000 0000",
    ],
)
def test_a_foreign_phone_of_another_person_is_removed(phone: str) -> None:
    text = f"Please ship it to my sister, her number is {phone}. Thanks"
    redacted = redact_other_contacts(text, _OWN_US)
    digits = re.sub(r"\D", "", phone)
    assert PHONE_REMOVED in redacted
    assert digits[-6:] not in re.sub(r"\D", "", redacted)
    assert redacted.endswith(". Thanks")


@pytest.mark.parametrize(
    "text",
    [
        "Where is order #1001 of 2026-02-01? I paid 1,234.56 USD (+12.50 shipping).",
        "order #+447700900123 is a reference, not a phone",
        "Tracking 1Z999AA10123456784 and 9400 1000 0000 0000 0000 00 say delivered",
        "Refund +49.00 EUR on 2026-03-04 14:30 (+2 days)",
        "Balance +1,234,567.00 USD",
        "Paid +49.00 on 2026-03-04; +15% off next time",
    ],
)
def test_references_amounts_dates_and_tracking_numbers_stay(text: str) -> None:
    assert redact_other_contacts(text, _OWN_US) == text


def test_the_customers_own_foreign_phone_stays() -> None:
    own = OwnContacts.of([], ["+447700900123"], "US")
    text = "Call me on +44 7700 900123 please"
    assert redact_other_contacts(text, own) == text


# --- 4. one long free text does not make the snapshot unbounded -------------------------------


def _with_long_texts(length: int) -> Snapshot:
    words = ("Please gift-wrap it. " * (length // 21 + 1))[:length]
    return _snapshot(
        [
            _order(1, note=words, refunds=[{"external_id": "re_1", "note": words}]),
            Deal(external_id="d_1", status="open", title=words, created_at=_day(1)),
            Ticket(
                external_id="1",
                status="open",
                title=words,
                last_public_comment=words,
                created_at=_day(1),
            ),
        ]
    )


def test_a_long_note_or_title_does_not_grow_the_snapshot() -> None:
    encode = msgspec.json.encode
    small, big = _with_long_texts(3_000), _with_long_texts(300_000)
    assert len(encode(big)) < len(encode(small)) * 1.2, (len(encode(small)), len(encode(big)))


def test_a_cut_text_is_marked_and_keeps_its_start() -> None:
    snap = _with_long_texts(300_000)
    note = snap.commerce.orders[0].note or ""
    assert note.startswith("Please gift-wrap it.")
    assert note.endswith("…")


def test_a_widget_card_with_masked_contacts_masks_them_in_ticket_subjects(
    store: Store, ingest: Ingest
) -> None:
    from datetime import UTC, datetime

    from context_service.widget.confidence import MatchConfidence
    from context_service.widget.render import render_card

    snap = _own_contacts_in_a_ticket(store, ingest)
    masked = FieldPolicy().view("chatbot", None)
    card = render_card(
        snap, MatchConfidence(None, None, 0), "https://x.test/audit", datetime.now(UTC), masked
    )
    assert "Write to" in card  # the ticket is on the card
    assert OWN_EMAIL not in card


def test_a_masked_contact_is_not_masked_again_into_removed(store: Store, ingest: Ingest) -> None:
    """Summary and signals pass through the masking more than once: a masked own email stays
    masked (it is not taken for another person's address and removed)."""
    from context_service.audience import SummaryBlock

    snap = _own_contacts_in_a_ticket(store, ingest)
    chatbot = FieldPolicy().view("chatbot", None)
    summary = SummaryBlock(deterministic_summary(snap, chatbot), "deterministic")
    body = build_context(snap, ContextRequest("chatbot", "text"), chatbot, summary).body
    assert "[email removed]" not in body
    assert "[email removed]" not in summary.text
    assert mask_email(OWN_EMAIL) in summary.text


def test_a_handoff_for_a_view_that_masks_contacts_masks_them_in_ticket_text(
    store: Store, ingest: Ingest
) -> None:
    from context_service.handoff.build import Turn, Who, build_handoff

    snap = _own_contacts_in_a_ticket(store, ingest)
    masked = FieldPolicy().view("chatbot", None)
    who = Who(snap.profile_id, "Ola Nord", [mask_email(OWN_EMAIL)], [], "email", "high", "")
    said = [Turn(role="customer", text="my ticket about the email is still open")]
    handoff = build_handoff(snap, who, said, "customer asks for a person", masked)
    encoded = msgspec.json.encode(handoff).decode()
    assert "Write to" in encoded  # the open ticket is in the handoff
    assert OWN_EMAIL not in encoded
