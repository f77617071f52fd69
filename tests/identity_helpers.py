"""Helpers for tests of people's identity decisions: run one in a transaction, read a profile."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from context_service.models import RecordKey
from context_service.store import Store
from context_service.store.profiles import profile_of_key

T = TypeVar("T")


def write(store: Store, action: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Run ``action(conn, *args, **kwargs)`` in one write transaction of ``store``; return its
    result."""
    with store.transaction() as conn:
        return action(conn, *args, **kwargs)


def pid(store: Store, key: RecordKey) -> str:
    """The profile id of the record with this key (it must have one)."""
    found = profile_of_key(store.conn, key)
    assert found is not None, key
    return found


def rid(store: Store, key: RecordKey) -> int:
    """The store's row id of the record with this key (it must be stored)."""
    row = store.conn.execute(
        "SELECT id FROM records WHERE source = ? AND kind = ? AND external_id = ?",
        (key.source, key.kind, key.external_id),
    ).fetchone()
    assert row is not None, key
    return int(row[0])
