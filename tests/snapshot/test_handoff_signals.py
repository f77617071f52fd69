"""The escalation handoff's next step and of the snapshot's signals and members:
the next step for an order that waits for a reason (on hold, scheduled), a suspended Zendesk
user, paid orders left unshipped behind the listed ten, and shown records linked by source.

Snapshots are built through the real path: vendor payloads ingested into a store, then read
back (the stored snapshot, or ``assemble`` at a fixed time where the time matters).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from context_service.audience import FieldPolicy, View
from context_service.handoff import Turn, Who, build_handoff
from context_service.models import RecordKey, Signal, Snapshot
from context_service.sheets.mapping import WithSheetSources, row_payloads
from context_service.snapshot.assemble import RECENT_ORDERS, RECENT_TICKETS, assemble
from context_service.snapshot.links import DashboardLinks
from context_service.snapshot.summary import waiting_words
from context_service.store import Store
from context_service.store.profiles import profile_of_key
from context_service.sync import IngestContext, RawPayload, ingest_batch
from context_service.wiring import default_mappers
from tests.audience.helpers import snapshot_of
from tests.conftest import Ingest
from tests.payloads import shopify_customer, shopify_order, zendesk_ticket, zendesk_user

EMAIL = "review13@example.com"
ESCALATION = FieldPolicy().view("escalation", None)
SHIPPING_TURNS = [Turn("customer", "Where is my order? It has not shipped.")]
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _next_step(snap: Snapshot, view: View = ESCALATION) -> str:
    who = Who(snap.profile_id, snap.identity.name, [], [], "email", "high", "email matched")
    return build_handoff(snap, who, SHIPPING_TURNS, "customer asks about shipping", view).next_step


def _order_with(ingest: Ingest, store: Store, **fields: Any) -> Snapshot:
    """One paid, unshipped Shopify order with ``fields`` set on its REST body."""
    source, kind, body = shopify_order(
        1, 1, "#1001", "2026-11-20T00:00:00Z", fulfillment=None, total="40.00"
    )
    body.update(fields)
    ingest(shopify_customer(1, EMAIL, "Hana", "Old"), (source, kind, body))
    return snapshot_of(store, EMAIL)


# --- 1. the handoff's next step for an order that waits for a reason ----------------------------


def test_the_next_step_for_an_order_on_hold_is_to_find_out_why(
    store: Store, ingest: Ingest
) -> None:
    snap = _order_with(ingest, store, display_fulfillment_status="on_hold")
    words = waiting_words(snap.commerce.orders[0])  # the summary's words: "on hold"
    step = _next_step(snap)
    assert words is not None
    assert words in step
    assert "why" in step.lower()
    assert "give the customer a ship date" not in step


def test_the_next_step_for_a_scheduled_order_is_its_scheduled_date(
    store: Store, ingest: Ingest
) -> None:
    snap = _order_with(ingest, store, display_fulfillment_status="scheduled")
    step = _next_step(snap)
    assert "scheduled" in step
    assert "scheduled date" in step
    assert "give the customer a ship date" not in step


def test_a_plain_unshipped_order_still_asks_for_a_ship_date(store: Store, ingest: Ingest) -> None:
    snap = _order_with(ingest, store)
    assert snap.commerce.orders[0].fulfillment_detail is None
    assert "ship date" in _next_step(snap)


def test_a_next_step_hiding_orders_does_not_read_the_hold(store: Store, ingest: Ingest) -> None:
    snap = _order_with(ingest, store, display_fulfillment_status="on_hold")
    hiding = msgspec.structs.replace(ESCALATION, hidden=ESCALATION.hidden | {"orders"})
    step = _next_step(snap, hiding)
    assert "on hold" not in step
    assert "#1001" not in step


# --- 2. a suspended Zendesk user -----------------------------------------------------------------


def _suspended_user(
    uid: int, email: str, *, active: bool = True
) -> tuple[str, str, dict[str, Any]]:
    source, kind, user = zendesk_user(uid, "Cheap Watches", email=email)
    user.update(suspended=True, active=active)
    return source, kind, user


def _profile_snapshot(
    store: Store, ctx: IngestContext, source: str, kind: str, uid: str
) -> Snapshot:
    profile_id = profile_of_key(store.conn, RecordKey(source, kind, uid))
    assert profile_id is not None
    snap = assemble(store.conn, profile_id, ctx.links, _stamp(NOW), "US")
    assert snap is not None
    return snap


def _suspension_signals(snap: Snapshot) -> list[Signal]:
    return [s for s in snap.signals if "suspended" in s.message.lower()]


def test_a_suspended_zendesk_user_gets_a_warning_signal(
    store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    ingest(_suspended_user(7, "spam@bulk.example"), zendesk_ticket(35001, 7, "Buy now"))
    snap = _profile_snapshot(store, ctx, "zendesk", "user", "7")
    (signal,) = _suspension_signals(snap)
    assert signal.severity == "warning"
    assert signal.source == "zendesk"
    assert signal.ref == "7"
    assert signal.message.startswith("Zendesk user 7")
    assert signal.message.endswith("is suspended")
    assert "(suspended) is" not in signal.message  # the name's mark is not said twice


def test_an_active_zendesk_user_gets_no_suspension_signal(
    store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    ingest(zendesk_user(8, "Hana Old", EMAIL), zendesk_ticket(35002, 8, "Hello"))
    snap = _profile_snapshot(store, ctx, "zendesk", "user", "8")
    assert snap.signals  # the open ticket warns: signals are derived
    assert not _suspension_signals(snap)


def test_a_suspended_user_outside_the_profile_does_not_warn_in_it(
    store: Store, ingest: Ingest
) -> None:
    """The suspended user's contacts are not matched on: the customer's profile does not hold
    that record and says nothing of it."""
    ingest(shopify_customer(1, EMAIL, "Hana", "Old"), _suspended_user(7, EMAIL))
    assert not _suspension_signals(snapshot_of(store, EMAIL))


def test_a_user_no_longer_suspended_does_not_warn(
    store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    ingest(_suspended_user(7, "spam@bulk.example"), zendesk_ticket(35001, 7, "Hi"))
    assert _suspension_signals(_profile_snapshot(store, ctx, "zendesk", "user", "7"))
    ingest(zendesk_user(7, "Cheap Watches", "spam@bulk.example", updated_at="2026-02-01T00:00:00Z"))
    assert not _suspension_signals(_profile_snapshot(store, ctx, "zendesk", "user", "7"))


# --- 3. paid orders left unshipped behind the listed ten -----------------------------------------


def _orders(ingest: Ingest, ages_and_fulfilment: list[tuple[int, str | None]]) -> None:
    """One Shopify customer with an order per ``(days before NOW, fulfillment_status)``."""
    payloads = [shopify_customer(1, EMAIL, "Hana", "Old")]
    for n, (age, fulfilment) in enumerate(ages_and_fulfilment, start=1):
        placed = _stamp(NOW - timedelta(days=age))
        payloads.append(shopify_order(n, 1, f"#{1000 + n}", placed, fulfillment=fulfilment))
    ingest(*payloads)


def _unshipped(snap: Snapshot) -> list[Signal]:
    return [s for s in snap.signals if s.code == "order_unfulfilled"]


def _assembled(store: Store, ctx: IngestContext) -> Snapshot:
    return _profile_snapshot(store, ctx, "shopify", "customer", "1")


def test_an_older_unshipped_order_within_sixty_days_warns(
    store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    """Signals used to come from the ten listed orders only, so a paid order left unshipped
    behind ten newer (shipped) ones never warned.

    The choice: every order the assembler loads is considered, and one behind the listed ten
    warns when it was placed within the last 60 days (of the snapshot's time), the span in
    which a customer still waits for a parcel; an older one behind them is more likely stale
    vendor data (fulfilled or settled outside the shop) than news. Listed orders warn as
    before, whatever their age. At most a few orders warn (one signal each, newest first), so a
    wholesale customer with dozens of open orders does not bury the other signals.
    """
    recent_shipped = [(day, "fulfilled") for day in range(1, RECENT_ORDERS + 1)]
    _orders(ingest, [*recent_shipped, (40, None), (90, None)])
    snap = _assembled(store, ctx)
    listed = {o.external_id for o in snap.commerce.orders}
    assert len(listed) == RECENT_ORDERS
    (signal,) = _unshipped(snap)  # the 40-day-old one; not the 90-day-old one
    assert signal.ref not in listed
    assert "#1011" in signal.message


def test_unshipped_orders_warn_once_each_and_only_a_few(
    store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    _orders(ingest, [(day, None) for day in range(1, 16)])
    snap = _assembled(store, ctx)
    refs = [s.ref for s in _unshipped(snap)]
    assert 0 < len(refs) <= 5
    assert len(set(refs)) == len(refs)
    newest = [o.external_id for o in snap.commerce.orders[: len(refs)]]
    assert refs == newest  # the newest ones are the ones named


def test_a_listed_old_unshipped_order_still_warns(
    store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    _orders(ingest, [(300, None)])
    assert len(_unshipped(_assembled(store, ctx))) == 1


# --- 4. shown records are linked by source too ---------------------------------------------------


SHEET = "crm-export"


def _sheet_ticket(store: Store, ticket_id: str) -> None:
    row = {
        "email": EMAIL,
        "name": "Hana Old",
        "ticket_id": ticket_id,
        "ticket_subject": "Spreadsheet note",
        "ticket_status": "open",
        "opened_at": "2026-06-01",
    }
    ctx = IngestContext(mappers=WithSheetSources(default_mappers()), links=DashboardLinks())
    ingest_batch(store, [RawPayload(SHEET, k, p) for k, p in row_payloads(SHEET, row)], ctx)


def test_a_shown_ticket_is_linked_to_its_own_source_only(store: Store, ingest: Ingest) -> None:
    """A spreadsheet ticket numbered like an unlisted (solved) Zendesk ticket of the same
    profile: the Zendesk record is not a member, and the handoff does not post to it."""
    open_zendesk = [zendesk_ticket(500 + n, 9, f"Open {n}") for n in range(RECENT_TICKETS - 1)]
    ingest(
        zendesk_user(9, "Hana Old", EMAIL), zendesk_ticket(123, 9, "Old", "solved"), *open_zendesk
    )
    _sheet_ticket(store, "123")
    snap = snapshot_of(store, EMAIL)
    assert "123" in {t.external_id for t in snap.support.tickets}  # the sheet's, listed
    assert len(snap.support.tickets) == RECENT_TICKETS  # the solved Zendesk one is not
    members = {(m.source, m.kind, m.external_id) for m in snap.members}
    assert (SHEET, "ticket", "123") in members
    assert ("zendesk", "ticket", "123") not in members
    who = Who(snap.profile_id, snap.identity.name, [], [], "email", "high", "email matched")
    # Named last, 123 is read first: it is no Zendesk ticket of hers, so 500 is the one.
    turns = [Turn("customer", "About ticket 500, or was it ticket 123?")]
    handoff = build_handoff(snap, who, turns, "help", ESCALATION)
    assert handoff.open_ticket == "500"
    # Several open and none named: no ticket is guessed (the note is not posted).
    assert build_handoff(snap, who, SHIPPING_TURNS, "help", ESCALATION).open_ticket is None


def test_a_listed_zendesk_ticket_stays_a_member(store: Store, ingest: Ingest) -> None:
    ingest(zendesk_user(9, "Hana Old", EMAIL), zendesk_ticket(123, 9, "Where?"))
    snap = snapshot_of(store, EMAIL)
    members = {(m.source, m.kind, m.external_id) for m in snap.members}
    assert ("zendesk", "ticket", "123") in members
