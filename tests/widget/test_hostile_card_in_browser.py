"""A hostile customer's card in a real headless Chromium, served with the widget's own headers:
nothing a customer wrote runs, loads or escapes a 320 px sidebar, in light or dark mode.

Needs Debian's ``chromium`` (or ``CHROMIUM_PATH``) and Playwright; skipped without them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from context_service.models import (
    CommerceSection,
    CrmSection,
    Deal,
    Freshness,
    Fulfillment,
    IdentitySection,
    Member,
    Order,
    Signal,
    SupportSection,
    Ticket,
)
from context_service.widget import MatchConfidence, render_card, security_headers
from tests.snapshots import bare_snapshot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
CARD_URL = "https://ctx.example.com/widget?email=x&exp=1&sig=x"
WIDTH = 320
PAYLOADS = (
    "<img src=x onerror=alert(1)>",
    "</script><script>alert(2)</script>",
    "<svg onload=alert(3)>",
    "<style>body{display:none}</style>",
    "' onmouseover='alert(4)",
    "\u202egnp.exe",
    "W" * 180,  # one unbroken word wider than the sidebar
)


def _hostile(tag: str) -> str:
    return " ".join(f"{tag}{payload}" for payload in PAYLOADS)


def _card() -> str:
    snapshot = bare_snapshot(
        identity=IdentitySection(
            name=_hostile("name"),
            emails=["a" * 120 + "@example.com", "<img src=x onerror=alert(5)>@example.com"],
            phones=["+1" + "5" * 60],
        ),
        members=[Member(source="shopify", kind="customer", external_id="1")],
        commerce=CommerceSection(
            order_count=1,
            orders=[
                Order(
                    number=_hostile("order"),
                    url="javascript:alert(6)",
                    note=_hostile("note"),
                    fulfillments=[
                        Fulfillment(
                            tracking_company=_hostile("carrier"),
                            tracking_numbers=["1Z" + "9" * 150],
                            tracking_urls=["https://track.example/" + "x" * 300],
                        )
                    ],
                )
            ],
        ),
        crm=CrmSection(
            lifecycle_stage=_hostile("stage"),
            owner=_hostile("owner"),
            deals=[Deal(title=_hostile("deal"), status="open", url="data:text/html,<b>x</b>")],
        ),
        support=SupportSection(
            open_count=1, tickets=[Ticket(title=_hostile("subject"), status="open", url=None)]
        ),
        freshness=[Freshness(source=_hostile("src"), as_of="2026-11-29T09:00:00Z")],
        signals=[
            Signal(code="x", severity="critical", message=_hostile("signal"), source="stripe")
        ],
    )
    confidence = MatchConfidence(score=0.5, rule=_hostile("rule"), links=1)
    return render_card(snapshot, confidence, "/v1/profiles/prof_1/audit", NOW)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_hostile_card_stays_inert_and_inside_the_sidebar(browser: Any, scheme: str) -> None:
    page = browser.new_page(viewport={"width": WIDTH, "height": 700}, color_scheme=scheme)
    page.set_default_timeout(10_000)
    headers = {**security_headers(["'self'"]), "Content-Type": "text/html; charset=utf-8"}
    page.route(CARD_URL, lambda route: route.fulfill(status=200, headers=headers, body=_card()))
    dialogs: list[str] = []

    def dismiss(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.goto(CARD_URL)
    page.hover("h1")
    found = page.evaluate(
        """() => ({
            injected: document.querySelectorAll('img, svg, script, iframe, object, body style')
                .length,
            hrefs: [...document.querySelectorAll('a')].map(a => a.getAttribute('href')),
            withHandlers: [...document.querySelectorAll('*')].filter(
                e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
            scrollWidth: document.documentElement.scrollWidth,
            colour: getComputedStyle(document.body).color,
            background: getComputedStyle(document.body).backgroundColor,
            bodyShown: getComputedStyle(document.body).display,
        })"""
    )
    assert not dialogs
    assert found["injected"] == 0
    assert found["withHandlers"] == 0
    assert all(href.startswith(("https://", "/v1/")) for href in found["hrefs"]), found["hrefs"]
    assert found["scrollWidth"] <= WIDTH, found
    assert found["bodyShown"] == "block"
    # dark or light, the card keeps its own dark-on-white colours
    assert (found["colour"], found["background"]) == ("rgb(31, 35, 40)", "rgb(255, 255, 255)")
