"""A sync that stops to be killed: ``python -m tests.snapshot.sync_to_kill DB PAGES MARK FILE``.

It syncs ``PAGES`` pages of 20 Zendesk users into ``DB`` with the snapshot worker started
after the second page; when the connector is asked for page ``MARK`` it creates ``FILE`` and
sleeps for an hour, so the test can kill it while its worker is running.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import context_service.sync.runner as runner
from context_service.models import Delivery, Page, Stream, VendorObject
from context_service.snapshot.links import DashboardLinks
from context_service.store import Store
from context_service.sync import IngestContext, run_sync
from context_service.wiring import default_mappers
from tests.payloads import zendesk_user

PER_PAGE = 20


class _Users:
    name = "users"

    def __init__(self, pages: int, mark: int, mark_file: Path) -> None:
        self.count, self.mark, self.mark_file = pages, mark, mark_file

    def pages(self, cursor: str | None) -> Iterator[Page]:
        start = json.loads(cursor)["next"] if cursor else 0
        for page in range(start, self.count):
            if page == self.mark:
                self.mark_file.touch()
                time.sleep(3600)
            objects = []
            for i in range(PER_PAGE):
                uid = page * 1000 + i
                _, kind, payload = zendesk_user(uid, f"Person{uid} Test", f"p{uid}@example.com")
                objects.append(VendorObject(kind, payload))
            yield Page(objects, json.dumps({"next": page + 1}))


class _Zendesk:
    source = "zendesk"

    def __init__(self, stream: _Users) -> None:
        self.stream = stream

    def streams(self) -> list[Stream]:
        return [self.stream]

    def verify_webhook(self, *_args: object) -> None:
        raise NotImplementedError

    def parse_webhook(self, *_args: object) -> Delivery:
        raise NotImplementedError

    def fetch_one(self, *_args: object) -> None:
        return None


def main(argv: list[str]) -> None:
    db, pages, mark, mark_file = argv
    runner.BACKGROUND_AFTER_PAGES = 2  # the worker starts early, not after 20 pages
    runner.SNAPSHOT_WINDOW = 0.0  # every committed page goes to the worker at once
    store = Store(db)
    ctx = IngestContext(mappers=default_mappers(), links=DashboardLinks())
    connector = _Zendesk(_Users(int(pages), int(mark), Path(mark_file)))
    outcome = run_sync(store, connector, ctx)
    print(outcome.status, outcome.pages, outcome.error)
    store.close()


if __name__ == "__main__":
    main(sys.argv[1:])
