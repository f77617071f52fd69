"""Migration 0017 queues every stored snapshot once, so snapshots stored before payment numbers
were removed at build time (and with older wording) are rebuilt by the next drain."""

from __future__ import annotations

from pathlib import Path

from context_service.snapshot import lookup
from context_service.store import Store
from context_service.store.migrations import migrate
from context_service.sync import IngestContext, drain_snapshots
from tests.conftest import Ingest
from tests.payloads import zendesk_ticket, zendesk_user

CARD = "4242 4242 4242 4242"


def test_snapshots_stored_before_the_migration_are_rebuilt_once(
    tmp_path: Path, store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    ingest(zendesk_user(3, "Ola Nord", email="ola@example.com"), zendesk_ticket(10, 3, "Help"))
    with store.transaction() as conn:  # as a snapshot stored before 2026-11-30 could read
        conn.execute("UPDATE snapshots SET text = text || ?", (f"\nticket: my card {CARD}",))
        conn.execute("DELETE FROM _migrations WHERE name = '0017_rebuild_snapshots'")
    assert CARD in lookup.by_email(store.conn, "ola@example.com").text
    assert migrate(store.db) == ["0017_rebuild_snapshots"]
    assert drain_snapshots(store, ctx) == 1
    assert CARD not in lookup.by_email(store.conn, "ola@example.com").text
    assert migrate(store.db) == []  # once
    assert drain_snapshots(store, ctx) == 0
