"""Right-to-left text on the card keeps to its own place, in a real headless Chromium.

Stripping explicit bidi controls is not enough: strong right-to-left letters reorder the
neutral and number runs next to them with no control at all (Unicode bidi rules W7 and N1). A
customer with an email on an Arabic IDN domain (which the service accepts, and into which it
decodes punycode) and a phone number had the contacts line drawn as ``user@966501234567+ ·
مثال.إختبار``: the phone number inside the email. A deal with an Arabic title and no stage read
``500.00 · صفقة جديدة USD``. Each value is now isolated in its own ``<bdi>``.

Needs Debian's ``chromium`` (or ``CHROMIUM_PATH``) and Playwright; skipped without them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from context_service.models import CrmSection, Deal, IdentitySection
from context_service.widget import MatchConfidence, render_card
from tests.snapshots import bare_snapshot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

EMAIL = "user@مثال.إختبار"
PHONE = "+966501234567"
DEAL = "صفقة جديدة"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
SINGLE = MatchConfidence(score=None, rule=None, links=0)

# The box of each text, found by the text node holding it (one node per value once values are
# isolated, one shared node before): its leftmost and rightmost pixel on the line.
BOXES = """([selector, parts]) => {
    const root = document.querySelector(selector);
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    return parts.map(part => {
        const node = nodes.find(n => n.data.includes(part));
        if (!node) return null;
        const range = document.createRange();
        const at = node.data.indexOf(part);
        range.setStart(node, at);
        range.setEnd(node, at + part.length);
        const rects = [...range.getClientRects()];
        return [Math.min(...rects.map(r => r.left)), Math.max(...rects.map(r => r.right))];
    });
}"""


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    opened = browser.new_page(viewport={"width": 480, "height": 600})
    try:
        yield opened
    finally:
        opened.close()


def _boxes(page: Any, selector: str, *parts: str) -> list[tuple[float, float]]:
    found = page.evaluate(BOXES, [selector, list(parts)])
    assert None not in found, (parts, found)
    return [tuple(box) for box in found]


def test_each_contact_on_the_card_stays_in_its_own_place(page: Any) -> None:
    identity = IdentitySection(name="عمر حداد", emails=[EMAIL], phones=[PHONE])
    page.set_content(render_card(bare_snapshot(identity=identity), SINGLE, "/audit", NOW))
    email, phone = _boxes(page, "header p.small", EMAIL, PHONE)
    assert email[1] <= phone[0], (
        f"the phone number is drawn inside the email address: email spans {email}, phone {phone}"
    )


def test_a_deals_amount_stays_with_its_currency_after_its_title(page: Any) -> None:
    deal = Deal(title=DEAL, amount="500.00", currency="USD", status="open")
    page.set_content(render_card(bare_snapshot(crm=CrmSection(deals=[deal])), SINGLE, "/a", NOW))
    title, amount, currency = _boxes(page, "section li", DEAL, "500.00", "USD")
    assert title[1] <= amount[0] < currency[0], (
        f"the deal's title is drawn between its amount and currency: title {title}, "
        f"amount {amount}, currency {currency}"
    )
