"""An export is the store as at one moment, even while a sync writes between its chunks."""

from __future__ import annotations

import io

import pytest

from context_service.export import exported_profiles, write_export
from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, ingest_batch
from tests.payloads import shopify_customer, zendesk_user


def _ann_and_fillers(store: Store, ctx: IngestContext) -> None:
    """Ann (Zendesk and Shopify, one profile), then more than one export chunk of others."""
    ingest_batch(
        store,
        [
            RawPayload(*zendesk_user(1, "Ann Lee", "ann@example.com")),
            RawPayload(*shopify_customer(1, "ann@example.com", "Ann", "Lee")),
        ],
        ctx,
    )
    fillers = [
        RawPayload(*zendesk_user(100 + i, f"Filler{i} Person", f"f{i}@example.com"))
        for i in range(520)
    ]
    ingest_batch(store, fillers, ctx)


def test_an_export_taken_during_a_sync_lists_each_record_once(
    store: Store, ctx: IngestContext
) -> None:
    _ann_and_fillers(store, ctx)
    members = store.conn.execute("SELECT count(*) FROM profile_members").fetchone()[0]
    exported = exported_profiles(store.conn)
    seen = [next(exported)]  # the first chunk is read, Ann's profile in it
    # Meanwhile a sync brings Ann's Zendesk user with another person's details: it moves
    # to a new profile, after the first chunk.
    moved = zendesk_user(1, "Zed Quill", "zed@example.com", updated_at="2026-11-29T00:00:00Z")
    ingest_batch(store, [RawPayload(*moved)], ctx)
    seen += list(exported)
    listed = [(m.source, m.external_id) for p in seen for m in p.members]
    assert len(set(listed)) == len(listed), sorted(k for k in set(listed) if listed.count(k) > 1)
    assert len(listed) == members  # as the store was when the export started
    assert not store.conn.in_transaction


class _StopsAfterOneLine(io.StringIO):
    def write(self, text: str) -> int:
        if self.tell():
            raise BrokenPipeError
        return super().write(text)


def test_an_export_stopped_early_ends_its_read_transaction(
    store: Store, ctx: IngestContext
) -> None:
    _ann_and_fillers(store, ctx)
    with pytest.raises(BrokenPipeError):
        write_export(store.conn, _StopsAfterOneLine(), "jsonl")
    assert not store.conn.in_transaction
