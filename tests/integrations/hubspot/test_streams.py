"""HubSpot streams against the in-memory fake: windows, tie-breaks, associations, labels, owners."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from context_service.errors import ConfigurationError, MappingError
from context_service.models import Deal, Page, RecordKey
from integrations.hubspot import HubSpotConnector, map_record
from integrations.hubspot.connector import OBJECTS
from integrations.hubspot.mapping import PROPERTIES
from tests.integrations.hubspot.contract_case import DAY_AGO_MS, populate
from tests.integrations.hubspot.fake import FakeHubSpot


def stream_pages(connector: HubSpotConnector, name: str, cursor: str | None = None) -> list[Page]:
    [stream] = [s for s in connector.streams() if s.name == name]
    return list(stream.pages(cursor))


def ids(pages: list[Page]) -> list[str]:
    return [str(obj.payload["id"]) for page in pages for obj in page.objects]


def searches(fake: FakeHubSpot) -> list[dict[str, Any]]:
    return [json.loads(r.content) for r in fake.requests if r.url.path.endswith("/search")]


def test_streams_in_dependency_order() -> None:
    names = [s.name for s in FakeHubSpot().connector().streams()]
    assert names == [
        "owners",
        "companies",
        "contacts",
        "deals",
        "companies_archived",
        "contacts_archived",
        "deals_archived",
    ]


def test_page_size_is_checked() -> None:
    with pytest.raises(ConfigurationError):
        FakeHubSpot().connector(page_size=201)


def test_12000_contacts_with_one_timestamp_arrive_exactly_once() -> None:
    fake = FakeHubSpot()
    for _ in range(12_000):
        fake.add("contacts", DAY_AGO_MS, email="bulk@example.com")
    fake.add("contacts", DAY_AGO_MS + 1, email="later@example.com")
    pages = stream_pages(fake.connector(page_size=200), "contacts")
    counts = Counter(ids(pages))
    assert len(counts) == 12_001
    assert set(counts.values()) == {1}
    cursors = [page.cursor for page in pages]
    assert len(cursors) == len(set(cursors))
    assert json.loads(cursors[-1] or "") == {"since": DAY_AGO_MS + 1}
    assert all("after" not in body for body in searches(fake))  # never near the 10,000 cap
    tie_break = [b for b in searches(fake) if b["sorts"][0]["propertyName"] == "hs_object_id"]
    assert tie_break[0]["filterGroups"][0]["filters"] == [
        {"propertyName": "lastmodifieddate", "operator": "EQ", "value": str(DAY_AGO_MS)},
        {"propertyName": "hs_object_id", "operator": "GT", "value": "0"},
    ]


def test_a_cursor_in_the_tie_break_resumes_there() -> None:
    fake = FakeHubSpot()
    made = [fake.add("contacts", DAY_AGO_MS)["id"] for _ in range(7)]
    cursor = json.dumps({"since": DAY_AGO_MS, "after_id": int(made[2])})
    pages = stream_pages(fake.connector(page_size=3), "contacts", cursor)
    assert ids(pages) == made[3:]
    assert json.loads(pages[-1].cursor or "") == {"since": DAY_AGO_MS + 1}


def test_search_requests_window_and_sort_by_the_modification_property() -> None:
    fake = FakeHubSpot()
    populate(fake)
    connector = fake.connector(page_size=50, settle_seconds=30)
    for spec in OBJECTS:
        stream_pages(connector, spec.stream)
    upper = str(int(fake.now() * 1000) - 30_000)
    bodies = {b["sorts"][0]["propertyName"]: b for b in searches(fake)}
    assert set(bodies) == {"hs_lastmodifieddate", "lastmodifieddate"}
    contacts = bodies["lastmodifieddate"]
    assert contacts["filterGroups"][0]["filters"] == [
        {"propertyName": "lastmodifieddate", "operator": "GTE", "value": "0"},
        {"propertyName": "lastmodifieddate", "operator": "LTE", "value": upper},
    ]
    assert contacts["properties"] == list(PROPERTIES["contact"])
    assert contacts["limit"] == 50


def test_incremental_run_reads_from_the_cursor_and_keeps_the_boundary() -> None:
    fake = FakeHubSpot()
    people = populate(fake)
    connector = fake.connector(page_size=2)
    first = stream_pages(connector, "contacts")
    assert ids(first) == people
    fake.touch("contacts", people[1], DAY_AGO_MS + 3_600_000, email="moved@example.com")
    again = stream_pages(connector, "contacts", first[-1].cursor)
    assert ids(again) == [people[-1], people[1]]  # the boundary record again, then the change
    assert json.loads(again[-1].cursor or "") == {"since": DAY_AGO_MS + 3_600_000}


def test_records_modified_within_the_settle_time_wait_for_the_next_run() -> None:
    fake = FakeHubSpot()
    fresh = fake.add("contacts", int(fake.now() * 1000) - 5_000)["id"]
    assert ids(stream_pages(fake.connector(), "contacts")) == []
    fake.clock += 60
    assert ids(stream_pages(fake.connector(), "contacts")) == [fresh]


def test_contacts_carry_their_companies_from_one_batch_read_per_page() -> None:
    fake = FakeHubSpot()
    people = populate(fake, contacts=4)
    pages = stream_pages(fake.connector(page_size=4), "contacts")
    reads = [r for r in fake.requests if "/crm/v4/associations/contacts/companies" in r.url.path]
    assert len(reads) == len([p for p in pages if p.objects])
    first = pages[0].objects[0].payload
    company = fake.associations[("contacts", "companies")][people[0]]
    assert first["associations"] == {"companies": {"results": [{"id": company[0]}]}}
    person = map_record("contact", first).person
    assert person is not None
    assert person.attributes["company_ids"] == company[0]


def test_deals_carry_contacts_and_pipeline_labels() -> None:
    fake = FakeHubSpot()
    people = populate(fake)
    connector = fake.connector(page_size=10)
    deals = [obj.payload for page in stream_pages(connector, "deals") for obj in page.objects]
    assert deals[0]["_labels"] == {"pipeline": "Sales Pipeline", "dealstage": "Closed Won"}
    assert deals[2]["_labels"] == {"pipeline": "Partnerships", "dealstage": "Lost partner"}
    mapped = map_record("deal", deals[2])
    assert isinstance(mapped.activity, Deal)
    assert (mapped.activity.pipeline, mapped.activity.stage) == ("Partnerships", "Lost partner")
    assert mapped.activity.status == "lost"
    assert mapped.activity.owners == [RecordKey("hubspot", "contact", people[2])]
    pipeline_reads = [r for r in fake.requests if r.url.path == "/crm/v3/pipelines/deals"]
    assert len(pipeline_reads) == 1


def test_owners_are_listed_each_run_and_emitted_when_changed() -> None:
    fake = FakeHubSpot()
    populate(fake)
    connector = fake.connector(page_size=2)
    first = stream_pages(connector, "owners")
    assert ids(first) == ["41629779", "41629780", "41629781"]
    assert len(first) == 2
    again = stream_pages(connector, "owners", first[-1].cursor)
    assert ids(again) == ["41629781"]  # the newest again (inclusive cursor), nothing else
    assert again[-1].cursor == first[-1].cursor


def test_fetch_one_returns_the_shape_the_stream_emits() -> None:
    fake = FakeHubSpot()
    populate(fake)
    connector = fake.connector(page_size=10)
    synced = {
        obj.payload["id"]: obj.payload
        for p in stream_pages(connector, "deals")
        for obj in p.objects
    }
    for deal_id, payload in synced.items():
        fetched = connector.fetch_one("deal", deal_id)
        assert fetched is not None
        assert fetched.payload == payload
    get = next(r for r in fake.requests if r.url.path.split("/")[-1].isdigit())
    assert get.url.params["associations"] == "contacts,companies"


def test_fetch_one_of_a_missing_owner_is_none() -> None:
    fake = FakeHubSpot()
    populate(fake)
    connector = fake.connector()
    assert connector.fetch_one("owner", "1") is None
    owner = connector.fetch_one("owner", "41629780")
    assert owner is not None
    assert map_record("owner", owner.payload).reference is not None
    with pytest.raises(MappingError):
        connector.fetch_one("ticket", "1")
