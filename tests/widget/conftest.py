"""The widget tests' browser: Debian's Chromium driven by Playwright, one per test module."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def chromium_path() -> str:
    """Chromium's executable (``CHROMIUM_PATH``, ``chromium`` on the path, /usr/bin/chromium);
    the test is skipped, saying why, where there is none."""
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.skip(
            "Chromium not found (looked for CHROMIUM_PATH, `chromium` on PATH and "
            "/usr/bin/chromium): apt-get install -y chromium to run the browser test"
        )
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium shared by a module's tests: each ``browser.new_page()`` opens a
    context of its own (no cookies, storage or routes shared), and a launch takes a second or
    two. Module-scoped, not session-scoped: Playwright's sync API keeps an event loop that no
    other module's asyncio should meet."""
    executable = chromium_path()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable)
        try:
            yield launched
        finally:
            launched.close()
