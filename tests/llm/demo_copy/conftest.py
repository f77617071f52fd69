"""The tests in this folder each get ``store``: a private copy of the demo store (they write the
summary cache and its leases), where the other tests get an empty one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from context_service.store import Store
from tests.llm.helpers import copy_db


@pytest.fixture
def store(demo_db: Path, tmp_path: Path) -> Iterator[Store]:
    the_store = Store(copy_db(demo_db, tmp_path))
    yield the_store
    the_store.close()
