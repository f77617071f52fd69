"""The sync runner: pages and cursors commit together, so a crash resumes exactly."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

import pytest

from context_service.errors import RetriableError
from context_service.models import Delivery, Page, Stream, VendorObject
from context_service.store import Store
from context_service.store.cursors import cursors_of, last_runs
from context_service.sync import IngestContext, run_sync
from tests.payloads import zendesk_user


class ListStream:
    """Pages of Zendesk users from a list; the cursor is the index of the next page."""

    name = "users"

    def __init__(self, pages: list[list[VendorObject]], fail_at: int | None = None) -> None:
        self.data = pages
        self.fail_at = fail_at
        self.started_from: list[int] = []

    def pages(self, cursor: str | None) -> Iterator[Page]:
        start = json.loads(cursor)["next"] if cursor else 0
        self.started_from.append(start)
        for index in range(start, len(self.data)):
            if index == self.fail_at:
                self.fail_at = None
                raise RetriableError("vendor kept answering 503")
            yield Page(objects=self.data[index], cursor=json.dumps({"next": index + 1}))


class ListConnector:
    source = "zendesk"

    def __init__(self, stream: ListStream) -> None:
        self.stream = stream

    def streams(self) -> list[Stream]:
        return [self.stream]

    def verify_webhook(
        self, headers: Mapping[str, str], raw_body: bytes, url: str, now: float
    ) -> None:
        raise NotImplementedError

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> Delivery:
        raise NotImplementedError

    def fetch_one(self, kind: str, external_id: str) -> VendorObject | None:
        return None


def _pages(count: int, per_page: int = 3) -> list[list[VendorObject]]:
    pages = []
    for p in range(count):
        users = [
            zendesk_user(p * 100 + i, f"Person{p}x{i} Test", email=f"p{p}x{i}@example.com")
            for i in range(per_page)
        ]
        pages.append([VendorObject(kind, payload) for _, kind, payload in users])
    return pages


def _records(store: Store) -> int:
    return int(store.conn.execute("SELECT count(*) FROM records").fetchone()[0])


def test_full_run_pages_to_the_end_and_stores_the_cursor(store: Store, ctx: IngestContext) -> None:
    stream = ListStream(_pages(4))
    outcome = run_sync(store, ListConnector(stream), ctx)
    assert outcome.status == "ok"
    assert outcome.pages == 4
    assert _records(store) == 12
    assert json.loads(cursors_of(store.conn, "zendesk")["users"] or "{}") == {"next": 4}
    assert last_runs(store.conn)["zendesk"].records_seen == 12


def test_crash_after_page_n_resumes_at_n_with_nothing_lost_or_doubled(
    store: Store, ctx: IngestContext
) -> None:
    stream = ListStream(_pages(5), fail_at=3)
    first = run_sync(store, ListConnector(stream), ctx)
    assert first.status == "failed"
    assert "503" in (first.error or "")
    assert _records(store) == 9
    second = run_sync(store, ListConnector(stream), ctx)
    assert second.status == "ok"
    assert stream.started_from == [0, 3]
    assert second.report.inserted == 6
    assert _records(store) == 15
    assert store.conn.execute("SELECT count(*) FROM profiles").fetchone()[0] == 15


def test_second_run_is_a_no_op(store: Store, ctx: IngestContext) -> None:
    stream = ListStream(_pages(2))
    run_sync(store, ListConnector(stream), ctx)
    versions = store.conn.execute("SELECT id, version FROM profiles ORDER BY id").fetchall()
    again = run_sync(store, ListConnector(stream), ctx)
    assert again.report.seen == 0
    assert store.conn.execute("SELECT id, version FROM profiles ORDER BY id").fetchall() == versions


def test_full_flag_resets_cursors_and_replays_without_changes(
    store: Store, ctx: IngestContext
) -> None:
    stream = ListStream(_pages(2))
    run_sync(store, ListConnector(stream), ctx)
    again = run_sync(store, ListConnector(stream), ctx, full=True)
    assert again.mode == "full"
    assert again.report.seen == 6
    assert again.report.unchanged == 6
    assert again.report.profiles_changed == 0


def test_an_unexpected_exception_is_recorded_and_raised(store: Store, ctx: IngestContext) -> None:
    class Broken(ListStream):
        def pages(self, cursor: str | None) -> Iterator[Page]:
            raise KeyError("bug")

    with pytest.raises(KeyError):
        run_sync(store, ListConnector(Broken([])), ctx)
    run = last_runs(store.conn)["zendesk"]
    assert run.status == "failed"
    assert "KeyError" in (run.error or "")
