"""Fixtures for spreadsheet tests: write small files and import them into the test store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from context_service.sheets import ImportReport, import_file
from context_service.store import Store
from context_service.sync import IngestContext
from tests.sheets.helpers import Importer


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
