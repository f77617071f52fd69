"""Zendesk HTTP faults and pacing through ``FakeZendesk`` (MockTransport): no real sleeps."""

from __future__ import annotations

import base64

import httpx
import pytest

from context_service.errors import ConfigurationError, FatalError, RetriableError
from integrations._connector import Page
from integrations._http import RetryPolicy
from integrations.zendesk import ZendeskConnector
from integrations.zendesk.api import RateLimiter
from integrations.zendesk.connector import basic_auth, zendesk_base_url
from tests.integrations.zendesk.fake import API_TOKEN, EMAIL, FakeZendesk


def users(connector: ZendeskConnector) -> list[Page]:
    return list(next(s for s in connector.streams() if s.name == "users").pages(None))


@pytest.fixture
def fake() -> FakeZendesk:
    zendesk = FakeZendesk()
    zendesk.populate(organizations=1, users=3, tickets=1)
    return zendesk


def test_requests_authenticate_with_the_api_token(fake: FakeZendesk) -> None:
    users(fake.connector())
    expected = base64.b64encode(f"{EMAIL}/token:{API_TOKEN}".encode()).decode()
    assert fake.requests[0].headers["authorization"] == f"Basic {expected}"
    assert (
        basic_auth("a@b.example", "t0k")
        == "Basic " + base64.b64encode(b"a@b.example/token:t0k").decode()
    )
    assert str(fake.requests[0].url).startswith("https://fakeshop.zendesk.com/api/v2/incremental/")


@pytest.mark.parametrize(
    ("subdomain", "base_url", "expected"),
    [
        ("acme", None, "https://acme.zendesk.com"),
        ("acme.zendesk.com", None, "https://acme.zendesk.com"),
        ("https://help.acme.example/", None, "https://help.acme.example"),
        (None, "http://127.0.0.1:4010/", "http://127.0.0.1:4010"),
        ("", None, None),
    ],
)
def test_base_url(subdomain: str | None, base_url: str | None, expected: str | None) -> None:
    assert zendesk_base_url(subdomain, base_url) == expected


def test_429_waits_for_retry_after_then_succeeds(fake: FakeZendesk) -> None:
    fake.inject(429, times=2, retry_after=13)
    found = users(fake.connector())
    assert fake.sleeps == [13, 13]
    assert sum(len(page.objects) for page in found) == 3
    assert len(fake.requests) == 3


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_retried_with_backoff(fake: FakeZendesk, status: int) -> None:
    fake.inject(status, times=2)
    found = users(fake.connector())
    assert len(fake.sleeps) == 2
    assert all(0 < s <= 30 for s in fake.sleeps)
    assert sum(len(page.objects) for page in found) == 3


def test_a_timeout_is_retried(fake: FakeZendesk) -> None:
    fake.inject("timeout", times=1)
    found = users(fake.connector())
    assert len(fake.sleeps) == 1
    assert sum(len(page.objects) for page in found) == 3


def test_a_vendor_that_keeps_failing_gives_up_as_retriable(fake: FakeZendesk) -> None:
    fake.inject(503, times=10)
    connector = fake.connector(policy=RetryPolicy(max_attempts=3))
    with pytest.raises(RetriableError, match="gave up after 3 attempts"):
        users(connector)


def test_bad_credentials_are_fatal_and_the_token_never_shows(fake: FakeZendesk) -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, text=f"bad token {API_TOKEN} for {request.url}")

    connector = fake.connector(httpx.Client(transport=httpx.MockTransport(echo)))
    with pytest.raises(FatalError) as caught:
        users(connector)
    assert caught.value.extra["status"] == 401
    assert API_TOKEN not in str(caught.value)


def test_without_credentials_nothing_is_sent(fake: FakeZendesk) -> None:
    with pytest.raises(ConfigurationError, match="token"):
        users(fake.connector(api_token=None))
    with pytest.raises(ConfigurationError, match="subdomain"):
        users(fake.connector(subdomain=None))
    assert fake.requests == []


def test_page_size_is_checked() -> None:
    with pytest.raises(ConfigurationError):
        ZendeskConnector(subdomain="acme", page_size=1001)


def test_incremental_exports_are_paced_to_ten_a_minute(fake: FakeZendesk) -> None:
    fake.populate(organizations=0, users=30, tickets=0)
    found = users(fake.connector(page_size=1))
    assert sum(len(page.objects) for page in found) == 30  # the same ids, re-populated
    times = fake.incremental_at
    assert len(times) == 30
    assert times[:10] == [times[0]] * 10  # a burst of ten goes at once
    assert all(later - earlier >= 60 for earlier, later in zip(times, times[10:], strict=False))
    assert times[-1] - times[0] < 4 * 60  # and no slower than the limit requires


def test_the_limit_is_configurable_for_the_high_volume_add_on(fake: FakeZendesk) -> None:
    fake.populate(organizations=0, users=30, tickets=0)
    users(fake.connector(page_size=1, incremental_per_minute=30))
    times = fake.incremental_at
    assert all(later - earlier >= 60 for earlier, later in zip(times, times[30:], strict=False))
    assert len(fake.sleeps) == len(times) - 30


def test_other_endpoints_are_not_paced(fake: FakeZendesk) -> None:
    connector = fake.connector()
    for _ in range(25):
        connector.fetch_one("user", "384001")
    assert fake.sleeps == []


def test_the_limiter_counts_its_own_waits_when_the_clock_stands_still() -> None:
    waits: list[float] = []
    limiter = RateLimiter(2, 60.0, now=lambda: 1000.0, sleep=waits.append)
    assert [limiter.acquire() for _ in range(5)] == [0.0, 0.0, 60.0, 0.0, 60.0]
    assert waits == [60.0, 60.0]


def test_the_limiter_refuses_nonsense() -> None:
    with pytest.raises(ConfigurationError):
        RateLimiter(0, 60.0, now=lambda: 0.0, sleep=lambda _: None)
