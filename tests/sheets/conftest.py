"""Helpers for spreadsheet tests: write small files, import them, read snapshots back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from context_service.models import Snapshot
from context_service.sheets import ImportReport, import_file
from context_service.snapshot import lookup
from context_service.store import Store
from context_service.sync import IngestContext

Importer = Callable[..., ImportReport]


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """Write text (UTF-8) or bytes to a file under tmp_path and return its path."""

    def run(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return run


@pytest.fixture
def import_sheet(store: Store, ctx: IngestContext) -> Importer:
    """Import a file into the test store as source ``crm`` (keyword arguments pass through)."""

    def run(path: Path, source: str = "crm", **kwargs: Any) -> ImportReport:
        return import_file(store, path, source, ctx, **kwargs)

    return run


def snapshot_for(store: Store, email: str) -> Snapshot:
    """The decoded snapshot of the profile with this email."""
    stored = lookup.by_email(store.conn, email)
    return msgspec.json.decode(stored.json, type=Snapshot)


def profile_versions(store: Store) -> dict[str, int]:
    """Every profile's current version."""
    return dict(store.conn.execute("SELECT id, version FROM profiles").fetchall())
