"""The webhook intake's wait for the write lock: bounded, then 503 for the vendor to retry.

Storing a delivery takes the store's write lock, which another process may hold for long (an
import's batch, ``resolve --all``, an erasure's ``VACUUM``). Waiting out the store's 30-second
busy timeout would outlast every vendor's own (Shopify 5 s, Zendesk 10 s) and then answer
500 with nothing stored. The intake waits ``LOCK_WAIT_S`` instead and answers 503 with
``Retry-After``: every vendor retries a 5xx, and nothing was acknowledged that is not stored.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from context_service.errors import StoreBusy
from context_service.models import Delivery
from context_service.store import Store
from context_service.store.db import is_busy

log = logging.getLogger("context_service.webhooks")
LOCK_WAIT_S = 4.0  # under Shopify's 5-second timeout
RETRY_AFTER_S = 30


@contextmanager
def stored_or_busy(store: Store, what: str = "a webhook delivery") -> Iterator[sqlite3.Connection]:
    """``store.transaction()``, waiting at most ``LOCK_WAIT_S`` for the write lock; past it,
    ``StoreBusy`` (503, ``Retry-After``), logged naming ``what`` was refused (its source, topic
    and the vendor's delivery id: which one to look for when the vendor retries it)."""
    try:
        with store.transaction(wait_s=LOCK_WAIT_S) as conn:
            yield conn
    except sqlite3.OperationalError as exc:
        if not is_busy(exc):
            raise
        log.warning("%s was refused with 503: the store stayed locked %g s", what, LOCK_WAIT_S)
        raise StoreBusy(
            "the store is busy with another writer; the delivery was not stored: send it again",
            retry_after_s=RETRY_AFTER_S,
        ) from exc


def named(source: str, delivery: Delivery) -> str:
    """A delivery as a log line names it: source, topic and the vendor's first delivery id
    (printable ASCII, bounded: they are the vendor's words)."""
    first = delivery.dedup_ids[0] if delivery.dedup_ids else "no id"
    said = f"{source} {delivery.topic} delivery {first}"
    return "".join(c if " " <= c <= "~" else "?" for c in said[:160])
