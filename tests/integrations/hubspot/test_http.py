"""HubSpot faults through ``httpx.MockTransport``: 429, 5xx, timeouts, 400s, pauses, loop guard."""

from __future__ import annotations

import json

import httpx
import pytest

from context_service.errors import FatalError, RetriableError
from integrations._http import RetryPolicy
from integrations.hubspot import HubSpotConnector
from tests.integrations.hubspot.contract_case import DAY_AGO_MS, populate
from tests.integrations.hubspot.fake import TOKEN, FakeHubSpot


def contact_ids(connector: HubSpotConnector) -> list[str]:
    [stream] = [s for s in connector.streams() if s.name == "contacts"]
    return [str(o.payload["id"]) for page in stream.pages(None) for o in page.objects]


def test_429_waits_for_retry_after_then_succeeds() -> None:
    fake = FakeHubSpot()
    people = populate(fake)
    fake.inject(429, times=2, retry_after=3)
    assert contact_ids(fake.connector()) == people
    assert fake.sleeps[:2] == [3, 3]


def test_5xx_and_timeouts_are_retried_with_backoff() -> None:
    fake = FakeHubSpot()
    people = populate(fake)
    fake.inject(502)
    fake.inject("timeout")
    fake.inject(503)
    connector = fake.connector()
    assert contact_ids(connector) == people
    assert connector.http.retries == 3
    assert len(fake.sleeps) >= 3


def test_retries_give_up_as_retriable() -> None:
    fake = FakeHubSpot()
    populate(fake)
    fake.inject(500, times=10)
    with pytest.raises(RetriableError):
        contact_ids(fake.connector(policy=RetryPolicy(max_attempts=3)))


def test_a_400_stops_the_run_at_once_and_names_the_request() -> None:
    fake = FakeHubSpot()
    populate(fake)
    fake.inject(400)
    with pytest.raises(FatalError, match=r"HTTP 400 on POST .*/crm/v3/objects/contacts/search"):
        contact_ids(fake.connector())
    assert len(fake.requests) == 1


def test_the_10000_cap_is_never_reached() -> None:
    fake = FakeHubSpot()
    for _ in range(450):
        fake.add("contacts", DAY_AGO_MS)
    assert len(contact_ids(fake.connector(page_size=20))) == 450
    bodies = [json.loads(r.content) for r in fake.requests if r.url.path.endswith("/search")]
    assert all("after" not in body for body in bodies)
    # The fake does enforce the cap: paging a query past 10,000 is a 400.
    response = fake.client().post(
        "https://api.hubapi.com/crm/v3/objects/contacts/search",
        json={"limit": 200, "after": "9900"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 400


def test_no_requests_left_in_the_interval_pauses_until_it_ends() -> None:
    fake = FakeHubSpot()
    people = populate(fake)
    fake.exhaust_interval()
    connector = fake.connector()
    assert contact_ids(connector) == people
    assert 10.0 in fake.sleeps  # X-HubSpot-RateLimit-Interval-Milliseconds: 10000


def test_the_burst_budget_spaces_requests_ten_seconds_apart() -> None:
    fake = FakeHubSpot()
    populate(fake)
    connector = fake.connector(burst_limit=3)
    for _ in range(7):
        connector.fetch_one("owner", "41629779")
    assert fake.sleeps == [10.0, 10.0]


def test_searches_are_limited_per_second() -> None:
    fake = FakeHubSpot()
    populate(fake, contacts=5)
    connector = fake.connector(page_size=1)
    contact_ids(connector)
    assert fake.sleeps
    assert all(0 < s <= 1.0 for s in fake.sleeps)


def test_a_repeated_owners_token_stops_the_run() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"results": [{"id": "1", "updatedAt": "2026-01-01T00:00:00Z"}]}
        body["paging"] = {"next": {"after": "same"}}  # type: ignore[assignment]
        return httpx.Response(200, json=body)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    connector = HubSpotConnector(client, access_token=TOKEN, sleep=lambda s: None)
    [owners] = [s for s in connector.streams() if s.name == "owners"]
    with pytest.raises(FatalError, match="repeated"):
        list(owners.pages(None))


def test_a_search_that_ignores_its_filters_stops_the_run() -> None:
    page = {"results": [{"id": "5", "properties": {"lastmodifieddate": "1767139200000"}}] * 2}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/batch/read"):
            return httpx.Response(200, json={"results": []})
        return httpx.Response(200, json=page)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    connector = HubSpotConnector(client, access_token=TOKEN, page_size=2, sleep=lambda s: None)
    with pytest.raises(FatalError, match="repeated"):
        contact_ids(connector)


def test_malformed_answers_are_fatal_and_the_token_never_leaks() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"<html>oops</html>")

    client = httpx.Client(transport=httpx.MockTransport(handler))
    connector = HubSpotConnector(client, access_token=TOKEN, sleep=lambda s: None)
    with pytest.raises(FatalError) as caught:
        contact_ids(connector)
    assert TOKEN not in str(caught.value)


def test_401_is_fatal_and_redacted() -> None:
    fake = FakeHubSpot()
    connector = HubSpotConnector(fake.client(), access_token="pat-wrong-token", sleep=fake.sleep)
    with pytest.raises(FatalError) as caught:
        contact_ids(connector)
    assert caught.value.extra["status"] == 401
    assert "pat-wrong-token" not in str(caught.value)
