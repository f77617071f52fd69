"""Regression sequences the update-and-deletion property test found
(``test_engine_updates_match_rebuild``), each as a plain test."""

from __future__ import annotations

from context_service.identity.rebuild import rebuild
from context_service.sync import IngestContext, ingest_batch
from context_service.wiring import default_mappers
from tests.identity.test_engine_updates_match_rebuild import (
    Delete,
    Put,
    assert_consistent,
    check_sequence,
    payload_of,
    run_steps,
    stamp,
)


def test_both_records_of_a_review_pair_deleted_in_one_batch_close_the_review() -> None:
    # Maya Patel and Ken Katz share a mailbox and a phone: names conflict, so a review item.
    # Both are deleted at their source in one batch: the item must not stay open on nobody.
    check_sequence([Put(0, 0, 0, 0, 0), Put(1, 1, 0, 0, 0), Delete(0), Delete(1)], batch=2)


def test_resolve_all_closes_an_open_review_left_on_two_deleted_records() -> None:
    # A store written before the fix above still holds the open item of the deleted pair;
    # ``resolve --all`` must not keep serving it to reviewers.
    steps = [Put(0, 0, 0, 0, 0), Put(1, 1, 0, 0, 0)]
    store = run_steps(steps, batch=2)
    left = store.conn.execute("SELECT * FROM review_items WHERE status = 'open'").fetchall()
    assert len(left) == 1
    ingest_batch(
        store,
        [payload_of(Delete(0), stamp(2)), payload_of(Delete(1), stamp(3))],
        IngestContext(mappers=default_mappers()),
    )
    with store.transaction() as conn:  # as the engine before the fix left it
        conn.execute(f"INSERT INTO review_items VALUES ({', '.join('?' * len(left[0]))})", left[0])
    with store.transaction() as conn:
        rebuild(conn, "US", "2026-12-01T00:00:00Z")
    assert_consistent(store)
