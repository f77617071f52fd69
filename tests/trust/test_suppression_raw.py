"""After an erasure, a payload about the erased person that cannot be mapped is not kept raw
either: the suppression list checks its record key and the email addresses in its text."""

from __future__ import annotations

from context_service.store import Store
from tests.conftest import Ingest
from tests.payloads import shopify_order
from tests.trust.helpers import erase_the_only_profile

ZOE = {
    "id": 700001,
    "email": "zoe.erased@example.com",
    "first_name": "Zoe",
    "last_name": "Erased",
    "updated_at": "2026-01-01T00:00:00Z",
}


def _erase_zoe(store: Store, ingest: Ingest) -> None:
    ingest(("shopify", "customer", ZOE))
    erase_the_only_profile(store)


def test_her_own_record_unreadable_is_suppressed_not_kept(store: Store, ingest: Ingest) -> None:
    _erase_zoe(store, ingest)
    report = ingest(("shopify", "customer", {**ZOE, "updated_at": "garbage"}))
    assert (report.suppressed, report.rejected) == (1, 0)
    assert store.conn.execute("SELECT count(*) FROM records").fetchone()[0] == 0


def test_another_unreadable_record_with_her_email_is_suppressed(
    store: Store, ingest: Ingest
) -> None:
    _erase_zoe(store, ingest)
    other = {**ZOE, "id": 700002, "email": "ZOE.Erased@example.com", "updated_at": "garbage"}
    assert ingest(("shopify", "customer", other)).suppressed == 1


def test_someone_else_s_unreadable_record_is_still_kept_and_reported(
    store: Store, ingest: Ingest
) -> None:
    _erase_zoe(store, ingest)
    stranger = {**ZOE, "id": 700003, "email": "sam@example.com", "updated_at": "garbage"}
    report = ingest(("shopify", "customer", stranger))
    assert (report.suppressed, report.rejected) == (0, 1)


def test_a_re_created_customers_orders_in_a_later_batch_are_suppressed(
    store: Store, ingest: Ingest
) -> None:
    """A new Shopify customer id with her email is hers: blocked by the email, its key goes on
    the list, so its orders (which name only that key) are blocked in later batches too."""
    _erase_zoe(store, ingest)
    again = {**ZOE, "id": 700009, "updated_at": "2026-02-01T00:00:00Z"}
    assert ingest(("shopify", "customer", again)).suppressed == 1
    report = ingest(shopify_order(5001, 700009, "#5001", "2026-02-02T00:00:00Z"))
    assert report.suppressed == 1
    assert store.conn.execute("SELECT count(*) FROM records").fetchone()[0] == 0
