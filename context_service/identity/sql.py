"""Small helpers for the engine's set-based queries: ids in chunks, one placeholder each (the
store's own, ``store.keys``, under the names the engine uses)."""

from __future__ import annotations

from context_service.store.keys import CHUNK, chunks
from context_service.store.keys import marks as placeholders

__all__ = ["CHUNK", "chunks", "placeholders"]
