"""A deletion notice marked ``only_if_stored`` deletes a stored record and stores nothing else.

A vendor's recycle-bin listing (HubSpot ``archived=true``) names every deleted object, most of
them never held here; a plain deletion notice, by contrast, is kept as a tombstone even for a
record never seen, so a creation delivered after it cannot bring the record back.
"""

from __future__ import annotations

from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, ingest_batch


def _row(store: Store, external_id: str) -> tuple[int, str | None] | None:
    row = store.conn.execute(
        "SELECT deleted, updated_at FROM records WHERE source = 'hubspot' AND kind = 'contact' "
        "AND external_id = ?",
        (external_id,),
    ).fetchone()
    return None if row is None else (int(row[0]), row[1])


def _contact(external_id: str, email: str, at: str) -> RawPayload:
    payload = {"id": external_id, "properties": {"email": email}, "updatedAt": at}
    return RawPayload("hubspot", "contact", payload)


def _gone(external_id: str, at: str, *, only_if_stored: bool) -> RawPayload:
    payload = {"id": external_id, "archived": True}
    return RawPayload(
        "hubspot", "contact", payload, observed_at=at, deleted=True, only_if_stored=only_if_stored
    )


def test_an_only_if_stored_deletion_of_a_record_never_stored_changes_nothing(
    store: Store, ctx: IngestContext
) -> None:
    report = ingest_batch(store, [_gone("501", "2026-11-02T00:00:00Z", only_if_stored=True)], ctx)
    assert _row(store, "501") is None
    assert (report.inserted, report.updated, report.unchanged) == (0, 0, 1)


def test_an_only_if_stored_deletion_deletes_a_stored_record(
    store: Store, ctx: IngestContext
) -> None:
    ingest_batch(store, [_contact("502", "ann.lee@example.com", "2026-11-01T00:00:00Z")], ctx)
    ingest_batch(store, [_gone("502", "2026-11-02T00:00:00Z", only_if_stored=True)], ctx)
    assert _row(store, "502") == (1, "2026-11-02T00:00:00Z")
    emails = store.conn.execute("SELECT value FROM identifiers WHERE kind = 'email'").fetchall()
    assert ("ann.lee@example.com",) not in emails


def test_a_record_stored_earlier_in_the_same_batch_counts_as_stored(
    store: Store, ctx: IngestContext
) -> None:
    batch = [
        _contact("503", "bo.kim@example.com", "2026-11-01T00:00:00Z"),
        _gone("503", "2026-11-02T00:00:00Z", only_if_stored=True),
    ]
    ingest_batch(store, batch, ctx)
    assert _row(store, "503") == (1, "2026-11-02T00:00:00Z")


def test_a_plain_deletion_of_a_record_never_stored_is_still_a_tombstone(
    store: Store, ctx: IngestContext
) -> None:
    ingest_batch(store, [_gone("504", "2026-11-02T00:00:00Z", only_if_stored=False)], ctx)
    assert _row(store, "504") == (1, "2026-11-02T00:00:00Z")
    ingest_batch(store, [_contact("504", "cy.ode@example.com", "2026-11-01T00:00:00Z")], ctx)
    assert _row(store, "504") == (1, "2026-11-02T00:00:00Z")  # the older copy is stale
