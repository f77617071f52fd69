"""``CONTEXT_SERVICE_LOG_LEVEL`` holds for what the libraries the app runs log, too.

Litestar sets the root logger to INFO when an app starts, whatever it is told, so with the
level at ``warning`` every ``serve`` worker still printed the MCP SDK's INFO line "StreamableHTTP
session manager started" (a review reproduced it)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.store import Store
from tests.conftest import make_settings


@pytest.fixture
def root_level() -> Iterator[None]:
    """Give the root logger its level back: other tests read INFO records."""
    level = logging.getLogger().level
    yield
    logging.getLogger().setLevel(level)


@pytest.mark.usefixtures("root_level")
@pytest.mark.parametrize(
    ("setting", "level"), [("WARNING", logging.WARNING), ("INFO", logging.INFO)]
)
def test_the_app_logs_at_the_configured_level(tmp_path: Path, setting: str, level: int) -> None:
    db = tmp_path / "log.db"
    Store(db).close()
    with TestClient(app=create_app(make_settings(db, log_level=setting))) as client:
        assert client.get("/health").status_code == 200
        assert logging.getLogger().level == level
        sdk = logging.getLogger("mcp.server.streamable_http_manager")
        assert sdk.isEnabledFor(logging.INFO) == (level <= logging.INFO)
