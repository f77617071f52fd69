"""A sync run waits out a 429's ``Retry-After`` of minutes instead of stopping.

Zendesk's incremental exports allow 10 requests a minute, so a 429 there asks for up to a
minute, or several after a burst; a run that stopped at any ``Retry-After`` over two minutes
(what the default policy used to wait at most) failed a scheduled sync the vendor had only
asked to slow down. A sync's calls now wait up to ``SYNC_MAX_WAIT`` (their waits together),
saying so in a warning; a longer ``Retry-After`` still stops at once, and a webhook refetch
(``REFETCH_POLICY``) still gives up at once, leaving the delivery to the inbox. Every wait
goes through the injected ``sleep``: nothing here sleeps for real.
"""

from __future__ import annotations

import logging
import random
import time
from email.utils import formatdate

import httpx
import pytest

from context_service.errors import RetriableError
from context_service.store import Store
from context_service.sync import IngestContext, run_sync
from integrations._http import SYNC_MAX_WAIT, VendorHttp
from tests.integrations.zendesk.fake import FakeZendesk

MINUTES_5 = 300.0


def _users(store: Store) -> set[str]:
    rows = store.conn.execute("SELECT external_id FROM records WHERE kind = 'user'")
    return {row[0] for row in rows}


def _first_export_answered_429(fake: FakeZendesk, retry_after: str) -> httpx.Client:
    """A client on ``fake`` whose first export request is answered 429 with ``retry_after``."""
    answered: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/api/v2/incremental/") and not answered:
            answered.append(request)
            return httpx.Response(429, headers={"retry-after": retry_after}, text="Rate limited")
        return fake.handler(request)

    return httpx.Client(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_a_zendesk_sync_waits_out_a_retry_after_of_minutes(
    store: Store, ctx: IngestContext, caplog: pytest.LogCaptureFixture, form: str
) -> None:
    fake = FakeZendesk()
    fake.populate(organizations=1, users=3, tickets=1)
    asked = (
        f"{MINUTES_5:g}"
        if form == "seconds"
        else formatdate(time.time() + MINUTES_5, usegmt=True)  # read on the real clock
    )
    client = _first_export_answered_429(fake, asked)
    with caplog.at_level(logging.WARNING, logger="integrations.http"):
        outcome = run_sync(store, fake.connector(client=client), ctx)
    assert outcome.status == "ok", outcome.error
    assert _users(store) == {str(user) for user in fake.users}
    waits = [seconds for seconds in fake.sleeps if seconds > 60]
    assert len(waits) == 1
    assert MINUTES_5 - 5 <= waits[0] <= MINUTES_5
    said = [r.getMessage() for r in caplog.records if "Retry-After" in r.getMessage()]
    assert said  # the wait is announced, not silent
    assert "waiting" in said[0]


def test_a_retry_after_beyond_what_a_sync_waits_stops_at_once_and_the_next_run_resumes(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeZendesk()
    fake.populate(organizations=1, users=3, tickets=1)
    too_long = SYNC_MAX_WAIT * 4
    client = _first_export_answered_429(fake, f"{too_long:g}")
    outcome = run_sync(store, fake.connector(client=client), ctx)
    assert outcome.status == "failed"
    assert f"{too_long:.0f} s" in (outcome.error or "")
    assert all(seconds < too_long for seconds in fake.sleeps)  # it did not sleep that long
    again = run_sync(store, fake.connector(), ctx)
    assert again.status == "ok", again.error
    assert _users(store) == {str(user) for user in fake.users}


def test_one_call_waits_at_most_the_sync_ceiling_in_all() -> None:
    """Two ``Retry-After`` of two thirds of the ceiling each: the first is waited, the second
    would take the call past the ceiling, so it stops there with what the vendor asked."""
    asked = SYNC_MAX_WAIT * 2 / 3
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(429, headers={"Retry-After": f"{asked:g}"})

    slept: list[float] = []
    http = VendorHttp(
        httpx.Client(transport=httpx.MockTransport(handler)),
        base_url="https://acme.zendesk.com",
        sleep=slept.append,
        rng=random.Random(3),
    )
    with pytest.raises(RetriableError, match="Retry-After") as caught:
        http.get_json("/api/v2/incremental/users/cursor.json")
    assert slept == [asked]
    assert len(calls) == 2
    assert caught.value.extra["retry_after"] == asked


@pytest.mark.parametrize("retry_after", [MINUTES_5, SYNC_MAX_WAIT / 2])
def test_a_webhook_refetch_still_gives_up_at_once_on_a_long_retry_after(
    retry_after: float,
) -> None:
    fake = FakeZendesk()
    fake.populate(organizations=0, users=1, tickets=0)
    fake.inject(429, times=1, retry_after=retry_after)
    with pytest.raises(RetriableError, match="Retry-After"):
        fake.connector().fetch_one("user", str(next(iter(fake.users))))
    assert fake.sleeps == []
