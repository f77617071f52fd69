"""Zendesk export streams against ``FakeZendesk`` (MockTransport): cursors, dedup, comments."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx
import pytest

from context_service.errors import FatalError
from context_service.models import Ticket, VendorObject
from integrations.zendesk import map_record
from tests.integrations.contract import ids, pages, run_all
from tests.integrations.zendesk.fake import START, FakeZendesk, iso

STREAMS = ["organizations", "users", "tickets"]


def export_params(fake: FakeZendesk, resource: str) -> list[dict[str, str]]:
    return [
        dict(r.url.params)
        for r in fake.requests
        if r.url.path.startswith(f"/api/v2/incremental/{resource}")
    ]


@pytest.fixture
def fake() -> FakeZendesk:
    zendesk = FakeZendesk()
    zendesk.populate(organizations=3, users=5, tickets=4)
    return zendesk


def test_streams_are_declared_in_dependency_order(fake: FakeZendesk) -> None:
    assert [s.name for s in fake.connector().streams()] == STREAMS


def test_a_full_run_reads_everything_once(fake: FakeZendesk) -> None:
    found = run_all(fake.connector(page_size=2), {})
    assert sorted(ids(found["organizations"])) == sorted(fake.organizations)
    assert sorted(ids(found["users"])) == sorted(fake.users)
    assert sorted(ids(found["tickets"])) == sorted(fake.tickets)


def test_the_first_run_sends_start_time_and_later_runs_only_the_persisted_cursor(
    fake: FakeZendesk,
) -> None:
    cursors: dict[str, str | None] = {}
    run_all(fake.connector(page_size=2), cursors)
    first = export_params(fake, "users")
    sideloads = "identities,organizations"
    assert first[0] == {"start_time": "0", "per_page": "2", "include": sideloads}
    assert all("start_time" not in params for params in first[1:])
    stored = json.loads(cursors["users"] or "")
    assert set(stored) == {"after_cursor"}

    fake.requests.clear()
    fake.clock += 7 * 86_400  # a week later: the clock must not re-seed the cursor
    fake.update("user", 384002, name="Renamed")
    found = run_all(fake.connector(page_size=2), cursors)
    again = export_params(fake, "users")
    assert again == [{"cursor": stored["after_cursor"], "per_page": "2", "include": sideloads}]
    assert ids(found["users"]) == [384002]
    assert json.loads(cursors["users"] or "")["after_cursor"] != stored["after_cursor"]


def test_a_configured_start_is_clamped_to_a_minute_ago(fake: FakeZendesk) -> None:
    connector = fake.connector(start_time=START + 3600)
    pages(connector, "users")
    pages(connector, "organizations")
    assert export_params(fake, "users")[0]["start_time"] == str(START - 60)
    assert export_params(fake, "organizations")[0]["start_time"] == str(START - 60)


def test_a_time_cursor_within_the_last_minute_waits_for_the_next_run(fake: FakeZendesk) -> None:
    cursor = json.dumps({"start_time": START - 30, "ids": []})
    assert pages(fake.connector(), "organizations", cursor) == []
    assert export_params(fake, "organizations") == []


def test_a_quiet_second_run_commits_nothing(fake: FakeZendesk) -> None:
    cursors: dict[str, str | None] = {}
    run_all(fake.connector(page_size=2), cursors)
    found = run_all(fake.connector(page_size=2), cursors)
    assert found == {name: [] for name in STREAMS}


def test_organizations_skip_the_boundary_duplicate_and_resume_from_end_time(
    fake: FakeZendesk,
) -> None:
    found = pages(fake.connector(page_size=2), "organizations")
    assert ids(found) == [360001, 360002, 360003]  # 360002 came back on page 2, emitted once
    assert len(export_params(fake, "organizations")) == 3
    last = fake.organizations[360003]
    assert json.loads(found[-1].cursor or "") == {
        "start_time": int(datetime.fromisoformat(last["updated_at"]).timestamp()),
        "ids": ["360003"],
    }
    fake.clock += 600
    fake.update("organization", 360003, name="Org 3 renamed")
    again = pages(fake.connector(page_size=2), "organizations", found[-1].cursor)
    organizations = [o for page in again for o in page.objects if o.kind == "organization"]
    assert [o.payload["id"] for o in organizations] == [360003]
    assert organizations[0].payload["name"] == "Org 3 renamed"


def test_organizations_sharing_one_second_are_not_lost(fake: FakeZendesk) -> None:
    second = START - 7200
    for k in range(4):
        fake.put_organization(370000 + k, f"Same second {k}", second)
    found = pages(fake.connector(page_size=2), "organizations")
    assert sorted(ids(found)) == sorted(fake.organizations)
    assert len(ids(found)) == len(set(ids(found)))


def test_a_time_export_that_makes_no_progress_is_stopped(fake: FakeZendesk) -> None:
    def stuck(request: httpx.Request) -> httpx.Response:
        org = fake.organizations[360001]
        body = {"organizations": [org], "end_time": 1000, "end_of_stream": False, "count": 1}
        return httpx.Response(200, json=body)

    connector = fake.connector(httpx.Client(transport=httpx.MockTransport(stuck)))
    with pytest.raises(FatalError, match="repeated"):
        pages(connector, "organizations")


def test_a_repeated_after_cursor_trips_the_loop_guard(fake: FakeZendesk) -> None:
    fake.stuck.add("users")
    with pytest.raises(FatalError, match="repeated"):
        pages(fake.connector(page_size=2), "users")
    assert len(export_params(fake, "users")) == 2  # start_time, then the cursor that came back


def test_an_export_page_without_its_list_is_fatal(fake: FakeZendesk) -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"after_cursor": "x", "end_of_stream": True})

    connector = fake.connector(httpx.Client(transport=httpx.MockTransport(broken)))
    with pytest.raises(FatalError, match="no `users` list"):
        pages(connector, "users")


def test_one_copy_per_id_keeps_the_newest_generated_timestamp(fake: FakeZendesk) -> None:
    older = dict(fake.tickets[35001], generated_timestamp=1, subject="old")
    newer = dict(fake.tickets[35001], subject="new")

    def twice(request: httpx.Request) -> httpx.Response:
        if "comments" in request.url.path:
            return fake.handler(request)
        body = {"tickets": [newer, older], "after_cursor": "c1", "end_of_stream": True}
        return httpx.Response(200, json=body)

    connector = fake.connector(httpx.Client(transport=httpx.MockTransport(twice)))
    [page] = pages(connector, "tickets")
    assert [obj.payload["subject"] for obj in page.objects] == ["new"]
    assert json.loads(page.cursor or "")["generated"] == newer["generated_timestamp"]


def test_tickets_carry_their_newest_comments_for_the_last_public_comment(
    fake: FakeZendesk,
) -> None:
    fake.add_comment(35002, "Any news?", public=True, at=START - 100)
    fake.add_comment(35002, "Escalated internally", public=False, at=START - 90)
    found = pages(fake.connector(), "tickets")
    ticket = next(o for p in found for o in p.objects if o.payload["id"] == 35002)
    bodies = [c["body"] for c in ticket.payload["comments"]]
    assert bodies == ["Question 2", "Internal note 2", "Any news?", "Escalated internally"]
    assert set(ticket.payload["comments"][0]) == {"id", "author_id", "public", "body", "created_at"}
    activity = map_record("ticket", ticket.payload).activity
    assert isinstance(activity, Ticket)
    assert activity.last_public_comment == "Any news?"


def test_the_last_public_comment_is_the_newest_of_several_public_ones(fake: FakeZendesk) -> None:
    fake.add_comment(35002, "Any news?", public=True, at=START - 100)
    fake.add_comment(35002, "Shipped today, sorry for the wait", public=True, at=START - 90)
    obj = fake.connector().fetch_one("ticket", "35002")
    comment_calls = [r for r in fake.requests if r.url.path.endswith("/comments.json")]
    assert [r.url.params.get("sort") for r in comment_calls] == ["-created_at"]
    assert obj is not None
    activity = map_record("ticket", obj.payload).activity
    assert isinstance(activity, Ticket)
    assert activity.last_public_comment == "Shipped today, sorry for the wait"


def test_comments_come_back_oldest_first_whatever_order_zendesk_sends(fake: FakeZendesk) -> None:
    stamps = ["2026-01-01T10:00:00Z", "2026-01-01T09:00:00Z", "2026-01-01T11:00:00Z"]
    shuffled = [
        {"id": 9100 + k, "public": True, "body": f"at {stamp}", "created_at": stamp}
        for k, stamp in enumerate(stamps)
    ]

    def unordered(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/comments.json"):
            return httpx.Response(200, json={"comments": shuffled, "meta": {"has_more": False}})
        return fake.handler(request)

    connector = fake.connector(httpx.Client(transport=httpx.MockTransport(unordered)))
    obj = connector.fetch_one("ticket", "35002")
    assert obj is not None
    assert [c["created_at"] for c in obj.payload["comments"]] == sorted(stamps)
    activity = map_record("ticket", obj.payload).activity
    assert isinstance(activity, Ticket)
    assert activity.last_public_comment == "at 2026-01-01T11:00:00Z"


def test_comments_are_paged_until_a_public_one_is_found(fake: FakeZendesk) -> None:
    for k in range(3):
        fake.add_comment(35001, f"Private {k}", public=False, at=START - 50 + k)
    fake.comments_page_cap = 2
    obj = fake.connector().fetch_one("ticket", "35001")
    comment_calls = [r for r in fake.requests if r.url.path.endswith("/comments.json")]
    assert [r.url.params.get("page[after]") for r in comment_calls] == [None, "2", "4"]
    assert obj is not None
    assert len(obj.payload["comments"]) == 5
    activity = map_record("ticket", obj.payload).activity
    assert isinstance(activity, Ticket)
    assert activity.last_public_comment == "Question 1"


def test_comments_stop_at_the_first_page_holding_a_public_one(fake: FakeZendesk) -> None:
    fake.comments_page_cap = 1
    obj = fake.connector().fetch_one("ticket", "35001")
    comment_calls = [r for r in fake.requests if r.url.path.endswith("/comments.json")]
    assert len(comment_calls) == 2  # the private note, then the public question
    assert obj is not None
    assert [c["body"] for c in obj.payload["comments"]] == ["Question 1", "Internal note 1"]


def test_one_comments_request_per_changed_ticket_and_none_for_deleted_ones(
    fake: FakeZendesk,
) -> None:
    fake.update("ticket", 35003, status="deleted")
    run_all(fake.connector(page_size=2), {})
    fetched = [r.url.path for r in fake.requests if r.url.path.endswith("/comments.json")]
    assert sorted(fetched) == [f"/api/v2/tickets/{t}/comments.json" for t in (35001, 35002, 35004)]
    params = next(r.url.params for r in fake.requests if r.url.path.endswith("/comments.json"))
    assert dict(params) == {"sort": "-created_at", "page[size]": "100"}


def test_comments_can_be_turned_off(fake: FakeZendesk) -> None:
    found = pages(fake.connector(fetch_comments=False), "tickets")
    assert all("comments" not in obj.payload for page in found for obj in page.objects)
    assert not any(r.url.path.endswith("/comments.json") for r in fake.requests)


def test_a_ticket_deleted_before_its_comments_are_read_keeps_no_comments(
    fake: FakeZendesk,
) -> None:
    def vanishing(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/comments.json"):
            return httpx.Response(404, json={"error": "RecordNotFound"})
        return fake.handler(request)

    connector = fake.connector(httpx.Client(transport=httpx.MockTransport(vanishing)))
    found = pages(connector, "tickets")
    assert ids(found)
    assert all("comments" not in o.payload for p in found for o in p.objects)


@pytest.mark.parametrize(
    ("kind", "ident", "key"),
    [
        ("user", "384001", "email"),
        ("organization", "360001", "name"),
        ("ticket", "35001", "subject"),
    ],
)
def test_fetch_one_reads_the_object_by_id(
    fake: FakeZendesk, kind: str, ident: str, key: str
) -> None:
    obj = fake.connector().fetch_one(kind, ident)
    assert obj is not None
    assert obj.kind == kind
    stores: dict[str, dict[int, dict[str, Any]]] = {
        "user": fake.users,
        "organization": fake.organizations,
        "ticket": fake.tickets,
    }
    assert obj.payload[key] == stores[kind][int(ident)][key]
    assert ("comments" in obj.payload) is (kind == "ticket")


@pytest.mark.parametrize("kind", ["user", "organization", "ticket"])
def test_fetch_one_of_an_object_zendesk_answers_404_for_is_a_deletion(
    fake: FakeZendesk, kind: str
) -> None:
    assert fake.connector().fetch_one(kind, "99999") == VendorObject(
        kind,
        {"id": "99999"},
        observed_at=iso(fake.clock),
        deleted=True,
        only_if_stored=True,
        from_lookup=True,  # dated when the 404 was seen: never dates a stored deletion forward
    )


def test_fetch_one_of_something_that_is_no_zendesk_id_is_none(fake: FakeZendesk) -> None:
    assert fake.connector().fetch_one("user", "../tickets") is None


def test_deleted_tickets_in_the_export_map_to_tombstones(fake: FakeZendesk) -> None:
    fake.update("ticket", 35004, status="deleted")
    found = pages(fake.connector(), "tickets")
    deleted = next(o for p in found for o in p.objects if o.payload["id"] == 35004)
    assert map_record("ticket", deleted.payload).deleted
    assert deleted.payload["updated_at"] == iso(fake.clock)
