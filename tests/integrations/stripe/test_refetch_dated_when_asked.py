"""A copy Stripe answers a refetch with is dated when it was asked for, not when it arrived.

Stripe objects carry no modification time, so the date a copy is stored with is its version.
Dated on arrival, a live copy read just before the customer was deleted, whose answer landed a
second later, outranked the deletion (dated by its event) for good.

Payload shapes: Stripe's customer object and ``customer.updated`` / ``customer.deleted`` events
as ``FakeStripe`` serves them (see the Stripe section of shared/refdata/NOTES.md).
"""

from __future__ import annotations

import copy

import httpx

from context_service.models import RecordKey
from context_service.store import Store
from context_service.store.records import get_record
from context_service.sync import IngestContext, apply_pending, receive
from tests.integrations.stripe.fake import FakeStripe

URL = "https://context.example/v1/webhooks/stripe"


def test_a_deletion_made_while_a_refetch_answer_travels_still_deletes(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeStripe()
    (customer,) = fake.add_customers(1)
    connector = fake.connector()
    second = int(fake.clock) + 100
    fake.clock = second
    live = copy.deepcopy(fake.get("customer", customer))
    assert live is not None
    first = fake.emit_event("customer.updated", {**live, "name": "A"}, created=second)
    tied = fake.emit_event("customer.updated", {**live, "name": "B"}, created=second)
    headers, body = fake.signed(first, t=second)
    assert receive(store, connector, headers, body, URL, second).status == "accepted"
    apply_pending(store, {"stripe": connector}, ctx, now=second)

    def answer_lands_late(request: httpx.Request) -> httpx.Response:
        response = fake.handler(request)
        if request.url.path == f"/v1/customers/{customer}":
            # Stripe read the live customer; while the answer travels, the customer is deleted
            # (second + 1) and the answer lands in second + 2.
            fake.clock = second + 1
            fake.emit_event("customer.deleted", {**live, "name": "B"}, created=second + 1)
            fake.clock = second + 2
        return response

    slow = fake.connector(client=httpx.Client(transport=httpx.MockTransport(answer_lands_late)))
    headers, body = fake.signed(tied, t=second)
    assert receive(store, slow, headers, body, URL, second).status == "accepted"
    apply_pending(store, {"stripe": slow}, ctx, now=second + 2)  # a tie: the customer refetched
    deletion = fake.events[-1]
    assert deletion["type"] == "customer.deleted"
    headers, body = fake.signed(deletion, t=second + 2)
    assert receive(store, slow, headers, body, URL, second + 2).status == "accepted"
    apply_pending(store, {"stripe": slow}, ctx, now=second + 2)
    stored = get_record(store.conn, RecordKey("stripe", "customer", customer))
    assert stored is not None
    assert stored.deleted
