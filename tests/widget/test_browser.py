"""A real headless Chromium loads Maya Patel's card from a live server at 320 px.

Needs Debian's ``chromium`` (``apt-get install -y chromium``) or ``CHROMIUM_PATH``; without
it this test is skipped with that reason. The screenshot lands in ``tests/artifacts/``.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_KEY
from tests.widget.conftest import chromium_path
from tests.widget.live import live_server

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
WIDTH = 320


def test_maya_card_renders_readably_at_320px(demo_db: Path) -> None:
    executable = chromium_path()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "widget-maya.png"
    with live_server(demo_db) as base:
        minted = httpx.post(
            f"{base}/v1/widget/url",
            json={"email": "maya.patel@example.com"},
            headers={"Authorization": f"Bearer {TEST_KEY}"},
        )
        assert minted.status_code == 200, minted.text
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable)
            try:
                page = browser.new_page(viewport={"width": WIDTH, "height": 700})
                errors: list[str] = []
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                response = page.goto(minted.json()["url"])
                assert response is not None
                assert response.status == 200
                text = page.inner_text("body")
                measures = page.evaluate(
                    """() => ({
                        scrollWidth: document.documentElement.scrollWidth,
                        widest: Math.max(...[...document.querySelectorAll('body *')]
                            .map(e => e.getBoundingClientRect().right)),
                        fontSize: getComputedStyle(document.body).fontSize,
                        critical: getComputedStyle(document.querySelector('.sig.critical'))
                            .backgroundColor,
                        scripts: document.scripts.length,
                    })"""
                )
                page.screenshot(path=str(shot), full_page=True)
            finally:
                browser.close()
    for expected in (
        "Maya Patel",
        "maya.patel@example.com",
        "merge audit",
        "ATTENTION",
        "Pro subscription is past_due",
        "#1003",
        "UPS 1ZCFW3P00329484606 (delivered)",
        "owner Jordan Reyes",
        "I was charged twice this month",
        "FRESHNESS",
    ):
        assert expected in text, expected
    assert measures["scrollWidth"] <= WIDTH, measures
    assert measures["widest"] <= WIDTH + 0.5, measures
    assert measures["fontSize"] == "13px"
    # The style block ran under the CSP's hash (no violation, the colours applied).
    assert measures["critical"] == "rgb(255, 235, 233)"
    assert measures["scripts"] == 0
    assert not [e for e in errors if "Content Security Policy" in e], errors
    assert shot.stat().st_size > 10_000
