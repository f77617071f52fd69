"""Signals that depend on the time are refreshed when their moment passes.

An unpaid ``send_invoice`` invoice falls overdue after its due date, and a paid order not shipped
that the lists left out stops warning once out of ``UNSHIPPED_WINDOW_DAYS``: each snapshot row
stores when its signals next change (``refresh_at``, ``snapshot.moments.next_change``), a read
after that moment builds it again with a new version (so no cache keyed by the old version is
served), and ``serve``'s background pass (``refresh_due``, planned by the ``RetryWaker``) does
the same without a read. The clock is injected; nothing sleeps.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from context_service.api.webhooks import RetryWaker
from context_service.models import (
    BillingSection,
    CommerceSection,
    Invoice,
    Order,
    Signal,
    SupportSection,
)
from context_service.snapshot import lookup
from context_service.snapshot.moments import format_time, next_change
from context_service.snapshot.signals import UNSHIPPED_WINDOW_DAYS, Held, derive_signals
from context_service.store import Store
from context_service.store.migrations import migrate
from context_service.sync import IngestContext
from context_service.sync.ingest import utc_now
from context_service.sync.snapshot_queue import build_queued_on_read, refresh_due
from tests.conftest import Ingest
from tests.payloads import shopify_customer, shopify_order, stripe_customer, stripe_invoice

EMAIL = "lee.wong@example.com"
DAY = 86_400


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _codes(json: bytes) -> list[str]:
    return [s["code"] for s in msgspec.json.decode(json)["signals"]]


def _stored(store: Store, profile_id: str) -> tuple[int, str | None]:
    row = store.conn.execute(
        "SELECT version, refresh_at FROM snapshots WHERE profile_id = ?", (profile_id,)
    ).fetchone()
    return int(row[0]), row[1]


def _invoice_due(ingest: Ingest, due: int) -> None:
    invoice = stripe_invoice("in_1", "cus_1", "open", 0, 4900)
    invoice[2]["due_date"] = due
    invoice[2]["collection_method"] = "send_invoice"
    ingest(stripe_customer("cus_1", EMAIL, "Lee Wong"), invoice)


@pytest.fixture
def reads_build(store: Store, ctx: IngestContext) -> None:
    build_queued_on_read(store, ctx)  # as ``serve`` and the read commands do


# --- end to end: read path -------------------------------------------------------------------


@pytest.mark.usefixtures("reads_build")
def test_an_invoice_whose_due_date_passes_is_served_overdue_with_a_new_version(
    store: Store, ingest: Ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    due = int(time.time()) + 3 * DAY
    _invoice_due(ingest, due)
    before = lookup.by_email(store.conn, EMAIL)
    assert "invoice_overdue" not in _codes(before.json)
    assert before.refresh_at == _iso(due + 1)  # the first second the invoice is overdue

    monkeypatch.setattr(lookup, "clock", lambda: float(due))  # at the due date: not yet
    assert lookup.by_email(store.conn, EMAIL).version == before.version

    monkeypatch.setattr(lookup, "clock", lambda: float(due + 1))
    after = lookup.by_email(store.conn, EMAIL)
    assert "invoice_overdue" in _codes(after.json)
    assert after.version > before.version
    assert after.generated_at == _iso(due + 1)
    assert after.refresh_at is None  # nothing else changes with time
    assert _stored(store, after.profile_id) == (after.version, None)
    assert "overdue" in after.text
    # read again: the stored row, not another rebuild
    assert lookup.by_email(store.conn, EMAIL).version == after.version
    assert lookup.by_profile_id(store.conn, after.profile_id).version == after.version


@pytest.mark.usefixtures("reads_build")
def test_a_due_row_is_served_as_stored_while_another_process_holds_the_write_lock(
    store: Store, ingest: Ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only out of date, not queued: a read does not wait out the busy timeout (30 s, then a
    503) behind a long import; it serves the stored row and a later read refreshes it."""
    due = int(time.time()) + DAY
    _invoice_due(ingest, due)
    before = lookup.by_email(store.conn, EMAIL)
    monkeypatch.setattr(lookup, "clock", lambda: float(due + 60))
    other = sqlite3.connect(store.path, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")  # a long import's transaction
        served = lookup.by_email(store.conn, EMAIL)
        assert served.version == before.version
        other.rollback()
    finally:
        other.close()
    assert "invoice_overdue" in _codes(lookup.by_email(store.conn, EMAIL).json)


@pytest.mark.usefixtures("reads_build")
def test_a_due_row_is_served_as_stored_while_another_thread_writes(
    store: Store, ingest: Ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In ``serve`` the drain, the refresh pass and webhooks write from threads of the same
    store: one holding the lock past the read's short wait gave a 500, not the stored row."""
    due = int(time.time()) + DAY
    _invoice_due(ingest, due)
    before = lookup.by_email(store.conn, EMAIL)
    monkeypatch.setattr(lookup, "clock", lambda: float(due + 60))
    holding, release = threading.Event(), threading.Event()

    def write() -> None:
        with store.transaction():
            holding.set()
            release.wait(10)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert holding.wait(10)
        assert lookup.by_email(store.conn, EMAIL).version == before.version
    finally:
        release.set()
        writer.join()
    assert "invoice_overdue" in _codes(lookup.by_email(store.conn, EMAIL).json)


@pytest.mark.usefixtures("reads_build")
def test_a_due_row_is_rebuilt_on_read_by_profile_id_too(
    store: Store, ingest: Ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    due = int(time.time()) + DAY
    _invoice_due(ingest, due)
    before = lookup.by_email(store.conn, EMAIL)
    monkeypatch.setattr(lookup, "clock", lambda: float(due + 60))
    after = lookup.by_profile_id(store.conn, before.profile_id)
    assert "invoice_overdue" in _codes(after.json)
    assert after.version == before.version + 1


@pytest.mark.usefixtures("reads_build")
def test_an_unlisted_unshipped_order_stops_warning_when_it_leaves_the_window(
    store: Store, ingest: Ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = time.time()
    # Eleven paid orders not shipped: ten are listed (they always warn), the oldest is not
    # and warns only while placed within the window (counted beyond the five that warn).
    placed = [now - (20 - n) * DAY for n in range(11)]
    orders = [
        shopify_order(100 + n, 7, f"#{1000 + n}", _iso(t), fulfillment="unfulfilled")
        for n, t in enumerate(placed)
    ]
    ingest(shopify_customer(7, EMAIL, "Lee", "Wong"), *orders)
    before = lookup.by_email(store.conn, EMAIL)
    counted = [
        s for s in msgspec.json.decode(before.json)["signals"] if s["code"] == "orders_unfulfilled"
    ]
    assert counted
    assert counted[0]["message"].startswith("6 more")
    oldest = datetime.fromtimestamp(placed[0], UTC).date()
    leaves = datetime.combine(
        oldest + timedelta(days=UNSHIPPED_WINDOW_DAYS + 1), datetime.min.time(), UTC
    )
    assert before.refresh_at == format_time(leaves)

    monkeypatch.setattr(lookup, "clock", lambda: leaves.timestamp() - 1)
    assert lookup.by_email(store.conn, EMAIL).version == before.version
    monkeypatch.setattr(lookup, "clock", leaves.timestamp)
    after = lookup.by_email(store.conn, EMAIL)
    assert after.version == before.version + 1
    counted = [
        s for s in msgspec.json.decode(after.json)["signals"] if s["code"] == "orders_unfulfilled"
    ]
    assert counted
    assert counted[0]["message"].startswith("5 more")
    assert after.refresh_at is None  # the listed ones warn whatever their age


def test_a_profile_with_nothing_time_dependent_stores_no_moment(
    store: Store, ingest: Ingest
) -> None:
    paid = stripe_invoice("in_2", "cus_1", "paid", 1, 0)
    ingest(stripe_customer("cus_1", EMAIL, "Lee Wong"), paid)
    row = lookup.by_email(store.conn, EMAIL)
    assert row.refresh_at is None
    assert _stored(store, row.profile_id)[1] is None


def test_an_overdue_invoice_stores_no_moment(store: Store, ingest: Ingest) -> None:
    _invoice_due(ingest, int(time.time()) - DAY)
    row = lookup.by_email(store.conn, EMAIL)
    assert "invoice_overdue" in _codes(row.json)
    assert row.refresh_at is None


# --- serve's background pass -----------------------------------------------------------------


def test_the_background_pass_rebuilds_due_profiles_with_a_new_version(
    store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    due = int(time.time()) + DAY
    _invoice_due(ingest, due)
    before = lookup.by_email(store.conn, EMAIL)  # no rebuilder registered: the stored row
    assert refresh_due(store, ctx, _iso(due)) == 0  # not yet
    assert refresh_due(store, ctx, _iso(due + 5)) == 1
    version, refresh_at = _stored(store, before.profile_id)
    assert version == before.version + 1
    assert refresh_at is None
    assert "invoice_overdue" in _codes(lookup.by_email(store.conn, EMAIL).json)
    assert refresh_due(store, ctx, _iso(due + 10)) == 0  # once
    assert store.conn.execute("SELECT count(*) FROM snapshot_queue").fetchone()[0] == 0


def test_the_retry_waker_plans_a_pass_for_the_next_moment(store: Store, ingest: Ingest) -> None:
    due = int(time.time()) + DAY
    _invoice_due(ingest, due)
    waker, app_pass = RetryWaker(), lambda: None
    waker.start(app_pass)
    try:
        assert waker.plan(store, time.time()) == float(due + 1)
    finally:
        waker.stop(app_pass)


def test_due_profiles_are_found_through_the_index(store: Store) -> None:
    plan = store.conn.execute(
        "EXPLAIN QUERY PLAN SELECT profile_id FROM snapshots WHERE refresh_at <= ? "
        "ORDER BY refresh_at LIMIT ?",
        (utc_now(), 10),
    ).fetchall()
    steps = [str(row[-1]) for row in plan]
    assert any("snapshots_refresh_at" in step for step in steps), steps
    assert not any(step.startswith("SCAN snapshots") and "INDEX" not in step for step in steps)


# --- the migration -----------------------------------------------------------------------------


def test_the_migration_marks_old_rows_that_may_hold_a_time_dependent_signal(
    tmp_path: Path, store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    due = int(time.time()) + DAY
    _invoice_due(ingest, due)
    ingest(stripe_customer("cus_9", "other@example.com", "Ann Other"))
    with store.transaction() as conn:  # as a store before 0035 holds them
        conn.execute("DROP INDEX snapshots_refresh_at")
        conn.execute("ALTER TABLE snapshots DROP COLUMN refresh_at")
        conn.execute("DELETE FROM _migrations WHERE name = '0035_snapshot_refresh_at'")
    assert migrate(store.db) == ["0035_snapshot_refresh_at"]
    assert migrate(store.db) == []  # once
    rows = dict(
        store.conn.execute(
            "SELECT s.profile_id, s.refresh_at = s.generated_at FROM snapshots s"
        ).fetchall()
    )
    invoiced = lookup.by_email(store.conn, EMAIL)
    other = lookup.by_email(store.conn, "other@example.com")
    assert rows[invoiced.profile_id] == 1  # due now: built again once, with its moment
    assert rows[other.profile_id] is None
    assert refresh_due(store, ctx, utc_now()) == 1
    assert _stored(store, invoiced.profile_id) == (invoiced.version + 1, _iso(due + 1))
    indexes = {r[1] for r in store.conn.execute("PRAGMA index_list(snapshots)")}
    assert "snapshots_refresh_at" in indexes


# --- the pure function ---------------------------------------------------------------------------

_BASE = datetime(2026, 1, 1, tzinfo=UTC)
_seconds = st.integers(min_value=0, max_value=200 * DAY)
Drawn = tuple[CommerceSection, BillingSection, list[Order], Held]


def _at(seconds: int) -> str:
    return format_time(_BASE + timedelta(seconds=seconds))


@st.composite
def _sections(draw: st.DrawFn) -> Drawn:
    """Invoices (some listed) and orders (the newest listed) of every kind that matters."""
    invoices = [
        Invoice(
            external_id=f"in_{n}",
            status=draw(st.sampled_from(["open", "uncollectible", "paid", "draft"])),
            amount="49.00",
            amount_remaining=draw(st.sampled_from(["49.00", "0.00"])),
            currency="USD",
            attempt_count=draw(st.integers(0, 1)),
            due_date=draw(st.none() | _seconds.map(_at)),
        )
        for n in range(draw(st.integers(0, 4)))
    ]
    orders = [
        Order(
            external_id=str(n),
            financial_status=draw(st.sampled_from(["paid", "pending"])),
            fulfillment_status=draw(st.sampled_from(["unfulfilled", "partial", "fulfilled"])),
            created_at=_at(draw(_seconds)),
        )
        for n in range(draw(st.integers(0, 9)))
    ]
    orders.sort(key=lambda o: o.created_at or "", reverse=True)
    listed = orders[: draw(st.integers(0, len(orders)))]
    shown = invoices[: draw(st.integers(0, len(invoices)))]
    commerce = CommerceSection(order_count=len(orders), orders=listed)
    return commerce, BillingSection(invoices=shown), orders, Held(invoices=invoices)


def _signals_at(drawn: Drawn, now: str) -> list[Signal]:
    commerce, billing, orders, held = drawn
    return derive_signals(commerce, billing, SupportSection(), orders=orders, now=now, held=held)


def _moment_of(drawn: Drawn, now: str) -> str | None:
    commerce, billing, orders, held = drawn
    return next_change(commerce, billing, now=now, orders=orders, held=held)


@settings(max_examples=300, deadline=None)
@given(_sections(), _seconds, st.integers(min_value=1, max_value=100 * DAY))
def test_signals_stay_the_same_until_the_moment_and_change_at_it(
    drawn: Drawn, built: int, later: int
) -> None:
    now = _at(built)
    moment = _moment_of(drawn, now)
    at_build = _signals_at(drawn, now)
    if moment is None:
        assert _signals_at(drawn, _at(built + later)) == at_build
        return
    assert moment > now
    step = datetime.fromisoformat(moment.replace("Z", "+00:00")) - _BASE
    first = int(step.total_seconds())
    assert _signals_at(drawn, _at(first - 1)) == at_build
    assert _signals_at(drawn, _at(min(built + later, first - 1))) == at_build
    assert _signals_at(drawn, moment) != at_build


def test_the_moment_of_an_invoice_is_the_second_after_its_due_date() -> None:
    owed = Invoice(external_id="in_1", status="open", amount="49.00", due_date=_at(DAY))
    billing = BillingSection(invoices=[owed])
    assert next_change(CommerceSection(), billing, now=_at(0)) == _at(DAY + 1)
    assert next_change(CommerceSection(), billing, now=_at(DAY)) == _at(DAY + 1)
    assert next_change(CommerceSection(), billing, now=_at(DAY + 1)) is None  # overdue now
    failed = msgspec.structs.replace(owed, attempt_count=1)  # warns as failed, whatever the date
    assert next_change(CommerceSection(), BillingSection(invoices=[failed]), now=_at(0)) is None
    assert next_change(CommerceSection(), billing, now="not a time") is None
