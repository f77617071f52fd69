"""Sync: ingest payloads, run connectors page by page, take in webhooks, erase on request."""

from context_service.sync.ingest import (
    IngestContext,
    IngestReport,
    Mapper,
    Mappers,
    RawPayload,
    Rejection,
    apply_mapped,
    drain_snapshots,
    ingest_all,
    ingest_batch,
    utc_now,
)
from context_service.sync.runner import SyncOutcome, run_sync
from context_service.sync.webhooks import InboxPruner, Receipt, apply_pending, receive

__all__ = [
    "InboxPruner",
    "IngestContext",
    "IngestReport",
    "Mapper",
    "Mappers",
    "RawPayload",
    "Receipt",
    "Rejection",
    "SyncOutcome",
    "apply_mapped",
    "apply_pending",
    "drain_snapshots",
    "ingest_all",
    "ingest_batch",
    "receive",
    "run_sync",
    "utc_now",
]
