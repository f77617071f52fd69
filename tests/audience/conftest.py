"""Fixtures shared by the audience tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from context_service.models import Snapshot
from context_service.store import Store
from tests.audience.helpers import snapshot_of


@pytest.fixture(scope="module")
def maya(demo_db: Path) -> Snapshot:
    """Maya Patel's stored snapshot in the demo store (read once per module)."""
    store = Store(demo_db)
    try:
        return snapshot_of(store)
    finally:
        store.close()
