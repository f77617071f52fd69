"""HubSpot connector: rate-limit waits, association paging, pipeline labels, merged-away
rereads and the daily limit."""

from __future__ import annotations

import json
import random
from typing import Any

import httpx
import pytest

from context_service.errors import FatalError
from integrations.hubspot import HubSpotConnector, map_record
from tests.integrations.hubspot.contract_case import DAY_AGO_MS, populate
from tests.integrations.hubspot.fake import FakeHubSpot

Json = dict[str, Any]
ASSOCIATION_PAGE = 100  # HubSpot embeds at most this many associations per type in one answer


class LowestJitter(random.Random):
    """Backoff jitter that always picks the shortest wait: the worst case for giving up early."""

    def uniform(self, a: float, b: float) -> float:
        return a


def contact_ids(connector: HubSpotConnector) -> list[str]:
    [stream] = [s for s in connector.streams() if s.name == "contacts"]
    return [str(o.payload["id"]) for page in stream.pages(None) for o in page.objects]


# --- 1. a 429 without Retry-After ----------------------------------------------------------------


def rate_limited(policy: str, limit: str) -> httpx.Response:
    """HubSpot's 429 for one of its limits, without ``Retry-After``."""
    body = {
        "status": "error",
        "message": f"You have reached your {limit} limit.",
        "errorType": "RATE_LIMIT",
        "policyName": policy,
    }
    return httpx.Response(429, json=body)


class TenSecondWindow:
    """HubSpot's burst limit: every request is answered 429 (no ``Retry-After``) until the
    rolling 10-second window that the first 429 fell in has passed."""

    def __init__(self, fake: FakeHubSpot) -> None:
        self.fake = fake
        self.blocked_until = fake.clock + 10.0
        self.refused = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.fake.clock < self.blocked_until:
            self.refused += 1
            return rate_limited("TEN_SECONDLY_ROLLING", "ten_secondly_rolling")
        return self.fake.handler(request)


def test_a_429_without_retry_after_waits_for_the_window_instead_of_giving_up() -> None:
    fake = FakeHubSpot()
    people = populate(fake)
    window = TenSecondWindow(fake)
    connector = fake.connector(httpx.Client(transport=httpx.MockTransport(window.handler)))
    connector.http.rng = LowestJitter()
    assert contact_ids(connector) == people
    assert window.refused >= 1


def test_a_429_without_retry_after_does_not_hammer_the_portal() -> None:
    fake = FakeHubSpot()
    people = populate(fake)
    window = TenSecondWindow(fake)
    connector = fake.connector(httpx.Client(transport=httpx.MockTransport(window.handler)))
    connector.http.rng = LowestJitter()
    assert contact_ids(connector) == people
    assert window.refused <= 2  # requests sent inside a window HubSpot already closed


def test_a_429_with_retry_after_still_waits_what_hubspot_asks() -> None:
    fake = FakeHubSpot()
    people = populate(fake)
    fake.inject(429, times=1, retry_after=2)
    assert contact_ids(fake.connector()) == people
    assert fake.sleeps[0] == 2


# --- 2. associations past the first page on a single-object re-read ------------------------------


class PagedAssociations:
    """HubSpot's paging of associations: at most 100 per type embedded in ``GET
    /crm/v3/objects/{type}/{id}?associations=`` (with ``paging.next.after``), and the v4 batch
    read answering at most 100 targets per input, with ``paging.next.after`` to continue."""

    def __init__(self, fake: FakeHubSpot) -> None:
        self.fake = fake

    def handler(self, request: httpx.Request) -> httpx.Response:
        response = self.fake.handler(request)
        if response.status_code >= 300 and response.status_code != 207:
            return response
        path = request.url.path
        body = json.loads(response.content)
        if path.startswith("/crm/v4/associations/") and path.endswith("/batch/read"):
            body = self._page_batch(json.loads(request.content), body)
        elif "associations" in request.url.params and isinstance(body.get("associations"), dict):
            body["associations"] = {
                to: _first_page(found) for to, found in body["associations"].items()
            }
        return httpx.Response(response.status_code, json=body, headers=response.headers)

    def _page_batch(self, request_body: Json, body: Json) -> Json:
        starts = {str(i["id"]): int(i.get("after") or 0) for i in request_body["inputs"]}
        for result in body.get("results", []):
            start = starts[str(result["from"]["id"])]
            targets = result["to"]
            result["to"] = targets[start : start + ASSOCIATION_PAGE]
            if start + ASSOCIATION_PAGE < len(targets):
                result["paging"] = {"next": {"after": str(start + ASSOCIATION_PAGE)}}
        return body


def _first_page(found: Json) -> Json:
    results = found["results"]
    if len(results) <= ASSOCIATION_PAGE:
        return found
    after = {"after": "MTAw", "link": "https://api.hubapi.com/...?after=MTAw"}
    return {"results": results[:ASSOCIATION_PAGE], "paging": {"next": after}}


def paged_connector(fake: FakeHubSpot) -> HubSpotConnector:
    transport = httpx.MockTransport(PagedAssociations(fake).handler)
    return fake.connector(httpx.Client(transport=transport))


def test_a_reread_deal_keeps_all_of_its_150_contacts() -> None:
    fake = FakeHubSpot()
    populate(fake)
    deal = fake.add("deals", DAY_AGO_MS, dealname="Big", pipeline="default", dealstage="closedwon")
    contacts = [fake.add("contacts", DAY_AGO_MS)["id"] for _ in range(150)]
    for contact in contacts:
        fake.associate("deals", deal["id"], "contacts", contact)
    fetched = paged_connector(fake).fetch_one("deal", deal["id"])
    assert fetched is not None
    owners = map_record("deal", fetched.payload).activity.owners  # type: ignore[union-attr]
    assert {key.external_id for key in owners} == set(contacts)


def test_a_reread_contact_keeps_its_101st_company() -> None:
    fake = FakeHubSpot()
    contact = fake.add("contacts", DAY_AGO_MS, email="many@example.com")["id"]
    companies = [fake.add("companies", DAY_AGO_MS)["id"] for _ in range(101)]
    for company in companies:
        fake.associate("contacts", contact, "companies", company)
    fetched = paged_connector(fake).fetch_one("contact", contact)
    assert fetched is not None
    attributes = map_record("contact", fetched.payload).person.attributes  # type: ignore[union-attr]
    assert set(attributes["company_ids"].split(",")) == set(companies)


def test_a_reread_with_few_associations_costs_one_request() -> None:
    fake = FakeHubSpot()
    people = populate(fake)
    connector = paged_connector(fake)
    before = len(fake.requests)
    assert connector.fetch_one("contact", people[0]) is not None
    asked = [r.url.path for r in fake.requests[before:]]
    # The contact, the lifecycle stage labels (once: see the next reread), then its primary
    # company's name; no association is read again.
    assert asked == [
        f"/crm/v3/objects/contacts/{people[0]}",
        "/crm/v3/properties/contacts/lifecyclestage",
        "/crm/v3/objects/companies/batch/read",
    ]
    again = len(fake.requests)
    assert connector.fetch_one("contact", people[1]) is not None
    assert [r.url.path for r in fake.requests[again:]] == [
        f"/crm/v3/objects/contacts/{people[1]}",
        "/crm/v3/objects/companies/batch/read",
    ]


# --- 3. pipeline and stage labels on webhook re-reads --------------------------------------------


def _stage_label(connector: HubSpotConnector, deal_id: str) -> str | None:
    fetched = connector.fetch_one("deal", deal_id)
    assert fetched is not None
    return map_record("deal", fetched.payload).activity.stage  # type: ignore[union-attr]


def _pipeline_reads(fake: FakeHubSpot) -> int:
    return sum(r.url.path == "/crm/v3/pipelines/deals" for r in fake.requests)


def _new_stage(stage_id: str, label: str) -> Json:
    return {"id": stage_id, "label": label, "displayOrder": 9, "metadata": {}, "archived": False}


def test_a_deal_moved_to_a_new_stage_shows_its_label_on_reread() -> None:
    fake = FakeHubSpot()
    deal = fake.add("deals", DAY_AGO_MS, dealname="D", pipeline="default", dealstage="closedwon")
    connector = fake.connector()
    assert _stage_label(connector, deal["id"]) == "Closed Won"
    fake.pipelines[0]["stages"].append(_new_stage("contractsent", "Contract sent"))
    fake.touch("deals", deal["id"], DAY_AGO_MS + 1, dealstage="contractsent")
    assert _stage_label(connector, deal["id"]) == "Contract sent"


def test_a_renamed_stage_shows_its_new_label_on_a_later_reread() -> None:
    fake = FakeHubSpot()
    deal = fake.add("deals", DAY_AGO_MS, dealname="D", pipeline="default", dealstage="closedwon")
    connector = fake.connector()
    assert _stage_label(connector, deal["id"]) == "Closed Won"
    fake.pipelines[0]["stages"][1]["label"] = "Won (signed)"
    fake.clock += 3600
    assert _stage_label(connector, deal["id"]) == "Won (signed)"


def test_an_unknown_stage_does_not_reread_the_pipelines_on_every_call() -> None:
    fake = FakeHubSpot()
    deal = fake.add("deals", DAY_AGO_MS, dealname="D", pipeline="default", dealstage="gone-stage")
    connector = fake.connector()
    for _ in range(20):
        assert _stage_label(connector, deal["id"]) == "gone-stage"
    assert _pipeline_reads(fake) <= 2


def test_known_stages_do_not_reread_the_pipelines_within_a_run() -> None:
    fake = FakeHubSpot()
    populate(fake)
    connector = fake.connector()
    [stream] = [s for s in connector.streams() if s.name == "deals"]
    deals = [o for page in stream.pages(None) for o in page.objects]
    assert len(deals) == 4
    for deal in deals:
        connector.fetch_one("deal", str(deal.payload["id"]))
    assert _pipeline_reads(fake) == 1


# --- 4. a re-read of a record merged away ------------------------------------------------------


class MergedAway:
    """HubSpot after a merge: a ``GET`` of the merged-away id answers the surviving record."""

    def __init__(self, fake: FakeHubSpot, gone: str, survivor: str) -> None:
        self.fake, self.gone, self.survivor = fake, gone, survivor

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith(f"/{self.gone}"):
            path = path[: -len(self.gone)] + self.survivor
            request = httpx.Request(
                request.method, request.url.copy_with(path=path), headers=request.headers
            )
        return self.fake.handler(request)


def test_a_reread_of_a_merged_away_contact_is_its_merge_not_the_survivor_under_its_name() -> None:
    fake = FakeHubSpot()
    people = populate(fake)
    gone, survivor = people[0], people[1]
    fake.objects["contacts"].pop(gone)
    connector = fake.connector(
        httpx.Client(transport=httpx.MockTransport(MergedAway(fake, gone, survivor).handler))
    )
    fetched = connector.fetch_one("contact", gone)
    assert fetched is not None
    assert fetched.deleted
    assert fetched.merged_into == survivor
    assert str(fetched.payload["id"]) == gone


# --- a 429 for the daily limit -------------------------------------------------------------------


class DailyLimitReached:
    """Every request answered 429 for the portal's daily limit (no ``Retry-After``)."""

    def __init__(self) -> None:
        self.requests = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return rate_limited("DAILY", "daily")


def test_a_429_for_the_daily_limit_stops_at_once_and_says_so() -> None:
    """Retrying inside the day only spends more of a limit that resets at midnight: the run
    stops after the first answer, naming the daily limit, and resumes from its cursor later."""
    fake = FakeHubSpot()
    populate(fake)
    daily = DailyLimitReached()
    connector = fake.connector(httpx.Client(transport=httpx.MockTransport(daily.handler)))
    with pytest.raises(FatalError, match="daily limit"):
        contact_ids(connector)
    assert daily.requests == 1
    assert not fake.sleeps or sum(fake.sleeps) < 1.0
