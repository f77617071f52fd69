"""A subscription that never got going is something support must see (Stripe's statuses):
``incomplete`` (its first payment is not complete; Stripe waits 23 hours), ``incomplete_expired``
(that payment never came: the subscription never started) and ``paused`` (a trial ended without
a payment method: no invoices until one is added). An active plan started later makes the
expired attempt history, as a resubscription does a cancellation."""

from __future__ import annotations

import pytest

from context_service.store import Store
from tests.audience.helpers import snapshot_of
from tests.conftest import Ingest
from tests.payloads import stripe_customer, stripe_subscription
from tests.snapshots import signal_codes

EMAIL = "kw@example.com"


@pytest.mark.parametrize(
    ("status", "severity", "words"),
    [
        (
            "incomplete",
            "warning",
            "Pro subscription has not started: its first payment is not complete",
        ),
        (
            "incomplete_expired",
            "warning",
            "Pro subscription never started: its first payment was not made",
        ),
        (
            "paused",
            "warning",
            "Pro subscription is paused: its trial ended without a payment method",
        ),
    ],
)
def test_a_subscription_that_did_not_start_is_a_signal(
    store: Store, ingest: Ingest, status: str, severity: str, words: str
) -> None:
    ingest(stripe_customer("cus_1", EMAIL, "Kay Wu"), stripe_subscription("sub_1", "cus_1", status))
    snap = snapshot_of(store, EMAIL)
    signal = next(s for s in snap.signals if s.code == f"subscription_{status}")
    assert signal.severity == severity
    assert signal.message.startswith(words), signal.message
    assert signal.ref == "sub_1"


def test_an_expired_attempt_followed_by_an_active_plan_is_history(
    store: Store, ingest: Ingest
) -> None:
    expired = stripe_subscription("sub_1", "cus_1", "incomplete_expired")
    active = stripe_subscription("sub_2", "cus_1", "active")
    active[2]["created"] = expired[2]["created"] + 3600
    ingest(stripe_customer("cus_1", EMAIL, "Kay Wu"), expired, active)
    assert "subscription_incomplete_expired" not in signal_codes(snapshot_of(store, EMAIL))


def test_an_active_subscription_raises_none_of_these(store: Store, ingest: Ingest) -> None:
    ingest(
        stripe_customer("cus_1", EMAIL, "Kay Wu"), stripe_subscription("sub_1", "cus_1", "active")
    )
    codes = signal_codes(snapshot_of(store, EMAIL))
    assert not {c for c in codes if c.startswith("subscription_")}
