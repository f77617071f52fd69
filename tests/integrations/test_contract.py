"""The contract every connector meets, run against each vendor's in-memory fake API.

Streams declared; paging to the end; cursors never revisit a position; a second run is a no-op;
good signatures accepted, bad/missing/stale ones rejected; a replayed delivery applied once;
429 honoured; a crash after page N resumes at N with nothing lost and nothing doubled.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from context_service.errors import WebhookRejected
from context_service.store import Store
from context_service.store.cursors import cursors_of
from context_service.sync import IngestContext, apply_pending, receive, run_sync
from tests.integrations.contract import Case


def _discover_cases() -> dict[str, Callable[[], Case]]:
    """Every vendor package here with a ``contract_case`` module takes part."""
    here = Path(__file__).parent
    found: dict[str, Callable[[], Case]] = {}
    for module_file in sorted(here.glob("*/contract_case.py")):
        vendor = module_file.parent.name
        module = importlib.import_module(f"tests.integrations.{vendor}.contract_case")
        found[vendor] = module.make_case
    return found


CASES = _discover_cases()


@pytest.fixture(params=sorted(CASES))
def case(request: pytest.FixtureRequest) -> Case:
    return CASES[request.param]()


def _stored_keys(store: Store, source: str) -> set[tuple[str, str]]:
    rows = store.conn.execute(
        "SELECT kind, external_id FROM records WHERE source = ?", (source,)
    ).fetchall()
    return {(str(kind), str(ext)) for kind, ext in rows}


def test_streams_are_declared(case: Case) -> None:
    names = [stream.name for stream in case.connector(None).streams()]
    assert names
    assert len(names) == len(set(names))


def test_pages_to_the_end_with_cursors_that_never_go_back(
    case: Case, store: Store, ctx: IngestContext
) -> None:
    seen: dict[str, list[str | None]] = {}

    def record_cursor(stream: str, _count: int) -> None:
        seen.setdefault(stream, []).append(cursors_of(store.conn, case.source).get(stream))

    outcome = run_sync(store, case.connector(None), ctx, progress=record_cursor)
    assert outcome.status == "ok", outcome.error
    assert _stored_keys(store, case.source) == case.expected_keys()
    assert any(len(cursors) > 1 for cursors in seen.values()), "expected several pages"
    for stream, cursors in seen.items():
        assert len(cursors) == len(set(cursors)), f"{stream} revisited a cursor: {cursors}"


def test_second_run_is_a_no_op(case: Case, store: Store, ctx: IngestContext) -> None:
    run_sync(store, case.connector(None), ctx)
    versions = store.conn.execute("SELECT id, version FROM profiles ORDER BY id").fetchall()
    again = run_sync(store, case.connector(None), ctx)
    assert again.status == "ok"
    assert again.report.inserted == again.report.updated == 0
    assert store.conn.execute("SELECT id, version FROM profiles ORDER BY id").fetchall() == versions


def test_good_signature_is_accepted_and_bad_ones_rejected(case: Case) -> None:
    connector, now = case.connector(None), case.now()
    headers, body = case.delivery(now)
    connector.verify_webhook(headers, body, "https://example.test/hook", now)
    with pytest.raises(WebhookRejected):
        connector.verify_webhook(headers, body + b" ", "https://example.test/hook", now)
    signature = next(k for k in headers if "signature" in k.lower() or "hmac" in k.lower())
    missing = {k: v for k, v in headers.items() if k != signature}
    with pytest.raises(WebhookRejected):
        connector.verify_webhook(missing, body, "https://example.test/hook", now)
    stale_headers, stale_body = case.stale_delivery(now)
    with pytest.raises(WebhookRejected):
        connector.verify_webhook(stale_headers, stale_body, "https://example.test/hook", now)


def test_replayed_delivery_is_applied_once(case: Case, store: Store, ctx: IngestContext) -> None:
    connector, now = case.connector(None), case.now()
    headers, body = case.delivery(now)
    first = receive(store, connector, headers, body, "https://example.test/hook", now)
    second = receive(store, connector, headers, body, "https://example.test/hook", now)
    assert (first.status, second.status) == ("accepted", "duplicate")
    assert apply_pending(store, {case.source: connector}, ctx) == 1
    assert apply_pending(store, {case.source: connector}, ctx) == 0
    found = store.conn.execute(
        "SELECT count(*) FROM identifiers WHERE kind = 'email' AND value = ?",
        ("new.address@example.com",),
    ).fetchone()[0]
    assert found == 1


def test_429_is_honoured(case: Case, store: Store, ctx: IngestContext) -> None:
    case.fake.inject(429, times=2, retry_after=7)
    outcome = run_sync(store, case.connector(None), ctx)
    assert outcome.status == "ok", outcome.error
    assert case.fake.sleeps.count(7) == 2
    assert _stored_keys(store, case.source) == case.expected_keys()


def test_crash_after_page_n_resumes_at_n_without_loss_or_duplicates(
    case: Case, store: Store, ctx: IngestContext
) -> None:
    calls = {"n": 0}

    def crashing(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 3:
            raise SystemExit("process killed")  # not an HTTP error: the whole run dies
        return case.fake.handler(request)  # type: ignore[no-any-return]

    with pytest.raises(SystemExit):
        run_sync(store, case.connector(httpx.Client(transport=httpx.MockTransport(crashing))), ctx)
    partial = _stored_keys(store, case.source)
    assert partial
    assert partial < case.expected_keys()
    resumed = run_sync(store, case.connector(None), ctx)
    assert resumed.status == "ok", resumed.error
    assert _stored_keys(store, case.source) == case.expected_keys()
    assert resumed.report.inserted == len(case.expected_keys() - partial)
    assert resumed.report.seen < len(case.expected_keys())
