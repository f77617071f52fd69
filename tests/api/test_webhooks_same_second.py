"""Two changes of one object in the same second, delivered in either order.

Stripe dates an object only by its event's ``created`` second and sends ``invoice.finalized``
and ``invoice.paid`` of one second in any order. Neither copy can say it is the newer one, so
the service asks Stripe for the current copy; a deletion wins its second outright.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from context_service.models import Mapped, RecordKey
from context_service.store import Store
from context_service.store.records import get_record, upsert_record
from context_service.sync import IngestContext, RawPayload
from context_service.sync.ties import SETTLE_ATTEMPTS, settle_ties
from integrations._convert import iso_utc
from tests.another_writer import AfterFirstCall, ingest_elsewhere
from tests.api.webhook_deliveries import as_post_args, inbox_rows, stripe_signing
from tests.integrations.stripe.fake import FakeStripe
from tests.payloads import stripe_customer, stripe_event, stripe_invoice, stripe_signed

Post = Callable[..., Any]


def _send(post: Post, fake: FakeStripe, event_id: str, kind: str, obj: Any, created: int) -> None:
    event = stripe_event(event_id, kind, obj, created)
    response = post("stripe", fake, *as_post_args(stripe_signed(event, *stripe_signing(fake))))
    assert response.status_code == 200, response.text


def _invoice(status: str) -> dict[str, Any]:
    remaining = 0 if status == "paid" else 4900
    return stripe_invoice("in_7001", "cus_7001", status, int(status == "paid"), remaining)[2]


def _stored_status(store: Store) -> str:
    record = get_record(store.conn, RecordKey("stripe", "invoice", "in_7001"))
    assert record is not None
    assert record.mapped is not None
    assert record.mapped.activity
    return str(record.mapped.activity.status)


def _invoice_fetches(fake: FakeStripe) -> int:
    return sum(r.url.path == "/v1/invoices/in_7001" for r in fake.requests)


@pytest.mark.parametrize("order", [("paid", "open"), ("open", "paid")])
def test_two_invoice_states_of_one_second_end_as_stripe_has_it_now(
    store: Store, post: Post, order: tuple[str, str]
) -> None:
    fake = FakeStripe()
    fake.put(_invoice("paid"))  # what Stripe holds now
    second = int(fake.now()) - 5
    for n, status in enumerate(order):
        kind = "invoice.paid" if status == "paid" else "invoice.finalized"
        _send(post, fake, f"evt_{n}", kind, _invoice(status), second)
    assert _stored_status(store) == "paid"
    assert _invoice_fetches(fake) == 1  # asked once, for the second delivery only
    assert [status for _, status in inbox_rows(store)] == ["applied", "applied"]


def test_a_copy_of_the_same_second_and_content_asks_nothing(store: Store, post: Post) -> None:
    fake = FakeStripe()
    second = int(fake.now()) - 5
    _send(post, fake, "evt_1", "invoice.finalized", _invoice("open"), second)
    _send(post, fake, "evt_2", "invoice.updated", _invoice("open"), second)
    assert _stored_status(store) == "open"
    assert _invoice_fetches(fake) == 0


def _paid_then_finalized(post: Post, fake: FakeStripe) -> None:
    second = int(fake.now()) - 5
    _send(post, fake, "evt_1", "invoice.paid", _invoice("paid"), second)
    _send(post, fake, "evt_2", "invoice.finalized", _invoice("open"), second)


def test_a_tie_over_an_object_stripe_no_longer_has_keeps_the_stored_copy(
    store: Store, post: Post
) -> None:
    fake = FakeStripe()  # holds no invoice: GET answers 404
    _paid_then_finalized(post, fake)
    assert _stored_status(store) == "paid"
    assert _invoice_fetches(fake) == 1


def test_a_tie_that_cannot_ask_stripe_stays_pending_and_loses_nothing(
    store: Store, post: Post
) -> None:
    fake = FakeStripe()
    fake.put(_invoice("paid"))
    fake.inject(503, times=50)
    _paid_then_finalized(post, fake)
    assert [status for _, status in inbox_rows(store)] == ["applied", "pending"]
    assert _stored_status(store) == "paid"


def test_an_update_of_the_deletions_second_does_not_bring_the_customer_back(
    store: Store, post: Post
) -> None:
    fake = FakeStripe()
    customer = stripe_customer("cus_7001", "gone@example.com", "Gone Person")[2]
    second = int(fake.now()) - 5
    _send(post, fake, "evt_c", "customer.created", customer, second - 60)
    _send(post, fake, "evt_d", "customer.deleted", customer, second)
    _send(post, fake, "evt_u", "customer.updated", customer, second)
    record = get_record(store.conn, RecordKey("stripe", "customer", "cus_7001"))
    assert record is not None
    assert record.deleted


def test_a_deletion_wins_a_tie_in_the_store_itself(store: Store) -> None:
    key = RecordKey("stripe", "customer", "cus_1")
    at = "2026-11-30T10:00:00Z"
    with store.transaction() as conn:
        upsert_record(conn, key, "{}", Mapped(key=key, updated_at=at, deleted=True), fetched_at=at)
        live = Mapped(key=key, updated_at=at)
        assert upsert_record(conn, key, '{"a":1}', live, fetched_at=at).status == "stale"
        later = Mapped(key=key, updated_at="2026-11-30T10:00:01Z")
        assert upsert_record(conn, key, '{"a":2}', later, fetched_at=at).status == "updated"


def _finalized_while_another_stores(
    post: Post,
    fake: FakeStripe,
    second: int,
    meanwhile: RawPayload,
    test: tuple[Store, IngestContext, pytest.MonkeyPatch],
    stripe_now: dict[str, Any] | None = None,
) -> None:
    """Deliver ``invoice.finalized`` (open, of ``second``) while another applier stores
    ``meanwhile`` right after the delivery's tie check (and Stripe, if ``stripe_now`` is
    given, holds that copy from then on)."""
    store, ctx, monkeypatch = test

    def another_applier_stores() -> None:
        if stripe_now is not None:
            fake.put(stripe_now)
        ingest_elsewhere(store, [meanwhile], ctx)

    wrapped = AfterFirstCall(settle_ties, another_applier_stores)
    monkeypatch.setattr("context_service.sync.webhooks.settle_ties", wrapped)
    _send(post, fake, "evt_finalized", "invoice.finalized", _invoice("open"), second)
    assert wrapped.happened


def test_a_copy_another_applier_stores_after_the_tie_check_is_settled_again(
    store: Store, post: Post, ctx: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A review reproduced it under load: two appliers (two webhook passes of one server, or
    two workers) took ``invoice.paid`` and ``invoice.finalized`` of one second at once. Each
    checked for a tie before the other had written, found the row empty, and the later write,
    the finalized copy, reopened the paid invoice: the customer was told a payment failed.
    Here the paid copy is stored by another connection right after the finalized delivery's
    tie check; the applier sees the row moved, settles again and asks Stripe."""
    fake = FakeStripe()
    fake.put(_invoice("paid"))
    second = int(fake.now()) - 5
    meanwhile = RawPayload("stripe", "invoice", _invoice("paid"), iso_utc(second))
    _finalized_while_another_stores(post, fake, second, meanwhile, (store, ctx, monkeypatch))
    assert _stored_status(store) == "paid"
    assert _invoice_fetches(fake) == 1
    assert [status for _, status in inbox_rows(store)] == ["applied"]


def test_a_delivery_whose_records_keep_moving_waits_for_a_later_pass(
    store: Store, post: Post, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A same-second copy stored after every tie check: the delivery is settled again a few
    times, then left pending for a later pass rather than written on an old view."""
    fake = FakeStripe()
    fake.put(_invoice("paid"))
    second = int(fake.now()) - 5
    settles = 0

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal settles
        settles += 1
        return settle_ties(*args, **kwargs)

    monkeypatch.setattr("context_service.sync.webhooks.settle_ties", counted)
    monkeypatch.setattr("context_service.sync.webhooks.moved_since", lambda conn, seen: True)
    _send(post, fake, "evt_1", "invoice.finalized", _invoice("open"), second)
    assert settles == SETTLE_ATTEMPTS
    assert [status for _, status in inbox_rows(store)] == ["pending"]
    assert get_record(store.conn, RecordKey("stripe", "invoice", "in_7001")) is None


def test_a_copy_of_the_refetched_copys_second_stored_meanwhile_is_settled_again(
    store: Store, post: Post, ctx: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tie answered by Stripe's current copy writes that copy, dated when it was asked
    (T): a copy of second T another applier stores meanwhile (``invoice.voided``) ties with
    it, not with the delivery's own (S), so the check must compare T. It compared S, missed
    the void copy and overwrote it with the refetched open one; settled again, the delivery's
    copy is older than the void one and loses to it."""
    fake = FakeStripe()
    fake.put(_invoice("open"))  # what Stripe answers when asked
    second = int(fake.now()) - 5
    _send(post, fake, "evt_1", "invoice.paid", _invoice("paid"), second)
    asked_at = int(fake.now())
    void = _invoice("void")
    meanwhile = RawPayload("stripe", "invoice", void, iso_utc(asked_at))
    _finalized_while_another_stores(
        post, fake, second, meanwhile, (store, ctx, monkeypatch), stripe_now=void
    )
    assert _stored_status(store) == "void"
    assert [status for _, status in inbox_rows(store)] == ["applied", "applied"]
