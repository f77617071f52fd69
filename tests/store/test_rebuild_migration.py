"""Migrations 0017 and 0018: every stored snapshot is queued once, so snapshots stored before
payment numbers were removed at build time (and with older wording) are rebuilt by the next
drain, and the LLM summaries made from them, cached by a version the rebuild keeps, go."""

from __future__ import annotations

from pathlib import Path

from context_service.snapshot import lookup
from context_service.store import Store
from context_service.store.migrations import migrate
from context_service.sync import IngestContext, drain_snapshots
from tests.conftest import Ingest
from tests.payloads import zendesk_ticket, zendesk_user

CARD = "4242 4242 4242 4242"
MIGRATIONS_UNDER_TEST = ("0017_rebuild_snapshots", "0018_drop_stale_summaries")


def test_snapshots_stored_before_the_migration_are_rebuilt_once(
    tmp_path: Path, store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    ingest(zendesk_user(3, "Ola Nord", email="ola@example.com"), zendesk_ticket(10, 3, "Help"))
    with store.transaction() as conn:  # as a snapshot stored before 2026-11-30 could read
        conn.execute("UPDATE snapshots SET text = text || ?", (f"\nticket: my card {CARD}",))
        conn.execute("DELETE FROM _migrations WHERE name IN (?, ?)", MIGRATIONS_UNDER_TEST)
        conn.execute(
            "INSERT INTO llm_summaries (profile_id, version, audience, prompt_version, model, "
            "text, created_at, view) SELECT profile_id, version, 'agent', 'p', 'm', "
            "'mentions her card', generated_at, 'v' FROM snapshots"
        )
    assert CARD in lookup.by_email(store.conn, "ola@example.com").text
    assert migrate(store.db) == list(MIGRATIONS_UNDER_TEST)
    assert store.conn.execute("SELECT count(*) FROM llm_summaries").fetchone()[0] == 0
    assert drain_snapshots(store, ctx) == 1
    assert CARD not in lookup.by_email(store.conn, "ola@example.com").text
    assert migrate(store.db) == []  # once
    assert drain_snapshots(store, ctx) == 0


def test_snapshots_with_a_card_beside_other_digits_are_redacted_again(
    store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    """Migration 0022: a card number typed beside an expiry, which redaction before
    2026-11-30 evening missed, leaves the stored snapshots and the summaries made from them."""
    ingest(zendesk_user(3, "Ola Nord", email="ola@example.com"), zendesk_ticket(10, 3, "Help"))
    typed = f"my card {CARD} 12/30 cvc 123"
    with store.transaction() as conn:  # as such a snapshot was stored before
        conn.execute("UPDATE snapshots SET text = text || ?", (f"\nticket: {typed}",))
        conn.execute("DELETE FROM _migrations WHERE name = '0022_redact_again'")
        conn.execute(
            "INSERT INTO llm_summaries (profile_id, version, audience, prompt_version, model, "
            "text, created_at, view) SELECT profile_id, version, 'agent', 'p', 'm', "
            "'mentions her card', generated_at, 'v' FROM snapshots"
        )
    assert migrate(store.db) == ["0022_redact_again"]
    assert store.conn.execute("SELECT count(*) FROM llm_summaries").fetchone()[0] == 0
    assert drain_snapshots(store, ctx) == 1
    assert CARD not in lookup.by_email(store.conn, "ola@example.com").text


def test_snapshots_quoting_someone_elses_contact_are_built_again(
    store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    """Migration 0024: snapshots stored before session 13 could quote another customer's
    email in free text and carry bidi controls; they are built again, summaries dropped."""
    ingest(zendesk_user(3, "Ola Nord", email="ola@example.com"), zendesk_ticket(10, 3, "Help"))
    other = "tomas.other@example.net"
    with store.transaction() as conn:  # as such a snapshot was stored before
        conn.execute("UPDATE snapshots SET text = text || ?", (f"\nticket: ask {other}\u202e",))
        conn.execute("DELETE FROM _migrations WHERE name = '0024_snapshots_bounded'")
        conn.execute(
            "INSERT INTO llm_summaries (profile_id, version, audience, prompt_version, model, "
            "text, created_at, view) SELECT profile_id, version, 'agent', 'p', 'm', "
            "'quotes the other address', generated_at, 'v' FROM snapshots"
        )
    assert other in lookup.by_email(store.conn, "ola@example.com").text
    assert migrate(store.db) == ["0024_snapshots_bounded"]
    assert store.conn.execute("SELECT count(*) FROM llm_summaries").fetchone()[0] == 0
    assert drain_snapshots(store, ctx) == 1
    rebuilt = lookup.by_email(store.conn, "ola@example.com").text
    assert other not in rebuilt
    assert "\u202e" not in rebuilt


def test_snapshots_with_a_card_split_by_other_separators_are_redacted_again(
    store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    """Migration 0032: a card number whose groups a customer separated by a no-break space,
    which redaction before 2026-12-02 kept, leaves the stored snapshots and the summaries."""
    ingest(zendesk_user(3, "Ola Nord", email="ola@example.com"), zendesk_ticket(10, 3, "Help"))
    typed = "my card 4242\u00a04242\u00a04242\u00a04242"
    with store.transaction() as conn:  # as such a snapshot was stored before
        conn.execute("UPDATE snapshots SET text = text || ?", (f"\nticket: {typed}",))
        conn.execute("DELETE FROM _migrations WHERE name = '0032_redact_and_invoices_again'")
        conn.execute(
            "INSERT INTO llm_summaries (profile_id, version, audience, prompt_version, model, "
            "text, created_at, view) SELECT profile_id, version, 'agent', 'p', 'm', "
            "'mentions her card', generated_at, 'v' FROM snapshots"
        )
    assert typed in lookup.by_email(store.conn, "ola@example.com").text
    assert migrate(store.db) == ["0032_redact_and_invoices_again"]
    assert store.conn.execute("SELECT count(*) FROM llm_summaries").fetchone()[0] == 0
    assert drain_snapshots(store, ctx) == 1
    assert "4242\u00a04242" not in lookup.by_email(store.conn, "ola@example.com").text
