"""What the stored snapshot says in words: no card number a customer typed, and a
subscription that will not renew is never said to."""

from __future__ import annotations

import pytest

from context_service.snapshot import lookup
from context_service.store import Store
from tests.conftest import Ingest
from tests.payloads import stripe_customer, stripe_subscription, zendesk_ticket, zendesk_user

CARD = "4242 4242 4242 4242"


def test_a_card_number_typed_into_a_ticket_is_never_stored(store: Store, ingest: Ingest) -> None:
    ticket = zendesk_ticket(10, 3, f"Charge my card {CARD}")
    ticket[2]["description"] = f"Please use {CARD} instead, or DE89 3704 0044 0532 0130 00"
    ingest(zendesk_user(3, "Ola Nord", email="ola@example.com", phone="+86 138 0013 8002"), ticket)
    stored = lookup.by_email(store.conn, "ola@example.com")
    for form in (stored.text, stored.json.decode()):
        assert CARD not in form
        assert "DE89" not in form
        assert "[card number removed]" in form
    assert "+8613800138002" in stored.json.decode()  # a phone passing the Luhn check stays


def _subscription_line(store: Store, ingest: Ingest, **fields: object) -> str:
    sub = stripe_subscription("sub_1", "cus_1", str(fields.pop("status")))
    sub[2].update(fields)
    ingest(stripe_customer("cus_1", "cx@example.com", "Cy Xu"), sub)
    text = lookup.by_email(store.conn, "cx@example.com").text
    return next(line for line in text.splitlines() if line.startswith("- subscription"))


@pytest.mark.parametrize(
    ("fields", "says", "never"),
    [
        ({"status": "active"}, ", renews ", "ends"),
        ({"status": "trialing"}, ", renews ", "ends"),
        ({"status": "active", "cancel_at_period_end": True}, "(canceled at period end)", "renews"),
        ({"status": "past_due"}, ", period ends ", "renews"),
        (
            {"status": "canceled", "canceled_at": 1764547200},
            ": canceled, canceled 2025-12-01",
            "renews",
        ),
    ],
)
def test_only_a_subscription_that_will_renew_is_said_to(
    store: Store, ingest: Ingest, fields: dict[str, object], says: str, never: str
) -> None:
    line = _subscription_line(store, ingest, **dict(fields))
    assert says in line
    assert never not in line
