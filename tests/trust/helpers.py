"""Helpers for the trust tests: a private copy of the demo store, scoped keys, a fake clock."""

from __future__ import annotations

import shutil
from pathlib import Path

from context_service.api.keys import KNOWN
from context_service.store import Store
from context_service.trust import KeySpec, create_key

MAYA = "maya.patel@example.com"
MAYA_PHONE = "+14155550134"


def copy_demo(demo_db: Path, tmp_path: Path) -> Path:
    """A copy of the session's demo store that a test may change (or erase from)."""
    target = tmp_path / "demo.db"
    store = Store(demo_db)  # checkpoint, so the copy holds everything
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    shutil.copyfile(demo_db, target)
    return target


def make_key(db: Path, name: str, scopes: list[str], **limits: object) -> str:
    """Create a scoped key in ``db``; return the key."""
    store = Store(db)
    try:
        spec = KeySpec(name=name, scopes=scopes, **limits)  # type: ignore[arg-type]
        return create_key(store, spec, "2026-01-01T00:00:00Z", KNOWN).key
    finally:
        store.close()


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
