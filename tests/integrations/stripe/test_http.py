"""Stripe HTTP behaviour against ``FakeStripe`` (MockTransport): retries, hints, auth, secrets."""

from __future__ import annotations

import logging

import httpx
import pytest

from context_service.errors import FatalError, RetriableError
from integrations._http import RetryPolicy
from integrations.stripe import StripeConnector
from integrations.stripe.connector import API_VERSION, stripe_should_retry
from tests.integrations.stripe.fake import API_KEY, WEBHOOK_SECRET, FakeStripe


def customer_ids(connector: StripeConnector) -> list[str]:
    customers = next(s for s in connector.streams() if s.name == "customers")
    return [obj.payload["id"] for page in customers.pages(None) for obj in page.objects]


def run_every_stream(connector: StripeConnector) -> None:
    for stream in connector.streams():
        list(stream.pages(None))


@pytest.fixture
def fake() -> FakeStripe:
    stripe = FakeStripe()
    stripe.add_customers(3)
    return stripe


def test_every_request_sends_the_pinned_version_and_bearer_key(fake: FakeStripe) -> None:
    connector = fake.connector(page_size=1)
    run_every_stream(connector)
    connector.fetch_one("customer", "cus_000001")
    assert len(fake.requests) > 10
    assert {r.headers["stripe-version"] for r in fake.requests} == {API_VERSION}
    assert {r.headers["authorization"] for r in fake.requests} == {f"Bearer {API_KEY}"}


def test_429_with_retry_after_is_honoured(fake: FakeStripe) -> None:
    fake.inject(429, retry_after=7)
    assert len(customer_ids(fake.connector())) == 3
    assert fake.sleeps == [7.0]
    assert len(fake.requests) == 2


def test_should_retry_false_on_a_500_is_not_retried(fake: FakeStripe) -> None:
    fake.inject(500, should_retry=False)
    with pytest.raises(FatalError) as caught:
        customer_ids(fake.connector())
    assert caught.value.extra["status"] == 500
    assert len(fake.requests) == 1
    assert fake.sleeps == []


def test_should_retry_true_on_a_409_is_retried(fake: FakeStripe) -> None:
    fake.inject(409, times=2, should_retry=True)
    assert len(customer_ids(fake.connector())) == 3
    assert len(fake.requests) == 3
    assert len(fake.sleeps) == 2


def test_should_retry_true_makes_even_a_400_retriable(fake: FakeStripe) -> None:
    fake.inject(400, should_retry=True)
    assert len(customer_ids(fake.connector())) == 3
    assert len(fake.requests) == 2


def test_a_timeout_then_success(fake: FakeStripe) -> None:
    fake.inject("timeout")
    assert len(customer_ids(fake.connector())) == 3
    assert len(fake.requests) == 2
    assert len(fake.sleeps) == 1


def test_retries_exhausted_is_retriable(fake: FakeStripe) -> None:
    fake.inject(503, times=10)
    connector = fake.connector(policy=RetryPolicy(max_attempts=3, base_delay=0.1))
    with pytest.raises(RetriableError, match="gave up after 3 attempts"):
        customer_ids(connector)
    assert len(fake.requests) == 3
    assert len(fake.sleeps) == 2


def test_401_is_fatal_and_never_shows_the_key(
    fake: FakeStripe, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "sk_test_wrong_key_0987654321"
    with caplog.at_level(logging.DEBUG), pytest.raises(FatalError) as caught:
        customer_ids(fake.connector(api_key=wrong))
    assert caught.value.extra["status"] == 401
    assert "Invalid API Key provided: ***" in str(caught.value)
    assert wrong not in str(caught.value)
    assert wrong not in caught.value.detail
    assert all(wrong not in record.getMessage() for record in caplog.records)


def test_the_key_never_appears_in_logs_or_errors(
    fake: FakeStripe, caplog: pytest.LogCaptureFixture
) -> None:
    fake.inject(429, retry_after=1)
    fake.inject("timeout")
    fake.inject(503, times=10)
    connector = fake.connector(policy=RetryPolicy(max_attempts=3))
    with caplog.at_level(logging.DEBUG), pytest.raises(RetriableError) as caught:
        run_every_stream(connector)
    assert caplog.records
    for secret in (API_KEY, WEBHOOK_SECRET):
        assert secret not in str(caught.value)
        assert all(secret not in record.getMessage() for record in caplog.records)
        assert all(secret not in str(record.args) for record in caplog.records)


@pytest.mark.parametrize(
    ("status", "header", "expected"),
    [
        (500, "false", False),
        (409, "true", True),
        (400, "TRUE", True),
        (503, None, None),
        (200, "true", None),
        (429, "maybe", None),
    ],
)
def test_stripe_should_retry_hint(status: int, header: str | None, expected: bool | None) -> None:
    headers = {"Stripe-Should-Retry": header} if header is not None else {}
    assert stripe_should_retry(httpx.Response(status, headers=headers)) is expected
