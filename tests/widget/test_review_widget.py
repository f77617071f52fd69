"""Review of the sidebar widget: what the card shows under a key's view, with missing data,
and for a customer with a great deal of it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.audience import View
from context_service.models import (
    BillingSection,
    CommerceSection,
    CrmSection,
    Deal,
    Dispute,
    Fulfillment,
    IdentitySection,
    Invoice,
    Order,
    Signal,
    Subscription,
    SupportSection,
    Ticket,
)
from context_service.widget import MatchConfidence, render_card
from tests.conftest import make_settings
from tests.snapshots import bare_snapshot
from tests.trust.helpers import MAYA, copy_demo, make_key

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
SINGLE = MatchConfidence(score=None, rule=None, links=0)
MAX_WIDGET_BYTES = 30 * 1024  # the card's size budget (README, performance table)
# Vendor dashboards whose links name a vendor record id (the ``records`` field).
DASHBOARDS = ("admin.shopify.com", "dashboard.stripe.com", "app.hubspot.com", ".zendesk.com/")


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@pytest.fixture
def records_hidden(demo_db: Path, tmp_path: Path) -> Iterator[tuple[TestClient[Any], str]]:
    """An app over a demo copy and a context:read key created with ``--hide records``."""
    db = copy_demo(demo_db, tmp_path)
    key = make_key(db, "helpdesk", ["context:read"], hide=["records"])
    with TestClient(app=create_app(make_settings(db))) as client:
        yield client, key


def test_a_key_hiding_records_mints_cards_without_dashboard_links(
    records_hidden: tuple[TestClient[Any], str],
) -> None:
    """``records`` hides vendor record ids and dashboard links: the key's own ``sidebar``
    answer has none, so the card its link shows may not have them either."""
    client, key = records_hidden
    auth = {"Authorization": f"Bearer {key}"}
    answer = client.get("/v1/context", params={"email": MAYA, "audience": "sidebar"}, headers=auth)
    assert answer.status_code == 200
    assert not [d for d in DASHBOARDS if d in answer.text]  # control: the API hides them
    url = client.post("/v1/widget/url", json={"email": MAYA}, headers=auth).json()["url"]
    page = client.get(_path(url)).text
    assert "#1003" in page  # the order number a customer quotes stays
    assert "Pro" in page
    assert "1ZCFW3P00329484606" in page  # the carrier's tracking link is no vendor record
    assert [d for d in DASHBOARDS if d in page] == []
    assert "sub_" not in page  # no Stripe subscription id
    assert "5550000000026" not in page  # no Shopify order id


def test_a_records_hidden_card_shows_no_vendor_id_in_place_of_a_missing_number() -> None:
    snap = bare_snapshot(
        commerce=CommerceSection(
            order_count=1, orders=[Order(external_id="5550000000099", url="https://x.test/o")]
        ),
        billing=BillingSection(
            invoices=[
                Invoice(
                    external_id="in_1ABC", status="open", amount_remaining="5.00", currency="USD"
                )
            ]
        ),
    )
    page = render_card(snap, SINGLE, "/a", NOW, View("full", frozenset({"records"})))
    assert "5550000000099" not in page
    assert "in_1ABC" not in page
    assert "href='https://x.test/o'" not in page


def test_missing_currency_interval_and_total_read_cleanly() -> None:
    """A HubSpot deal without ``deal_currency_code``, a spreadsheet order without a currency
    column, a subscription without an interval: the card must not print ``None``."""
    snap = bare_snapshot(
        identity=IdentitySection(name="Ana Lima"),
        commerce=CommerceSection(
            order_count=1,
            orders=[Order(external_id="7", number="7", amount="120.00", created_at="2026-11-01")],
        ),
        billing=BillingSection(
            subscriptions=[Subscription(plan="Team", status="active", amount="30.00")],
            invoices=[Invoice(number="INV-1", status="open", amount_remaining="30.00")],
        ),
        crm=CrmSection(deals=[Deal(title="Renewal", status="open", amount="5000.00")]),
    )
    page = render_card(snap, SINGLE, "/a", NOW)
    body = page[page.index("<body>") :]
    assert "None" not in body
    assert "120.00" in body
    assert "5000.00" in body
    assert "30.00" in body
    assert "1 orders · <" not in body  # no dangling separator when the total is unknown
    assert "·  ·" not in body  # nor an empty part (the deal has no stage)
    assert "<p></p>" not in body  # nor an empty CRM line (no stage, no owner)


def test_a_customer_with_a_great_deal_of_data_still_gets_a_small_card() -> None:
    """A B2B account with hundreds of open deals and subscriptions, and a customer who pasted
    a whole e-mail into a ticket subject, still fits the sidebar's budget; the card says that
    there is more instead of listing it all."""
    long_text = "Please help " * 1000
    snap = bare_snapshot(
        identity=IdentitySection(name="Acme Buyer " + "x" * 2000),
        commerce=CommerceSection(
            order_count=1,
            orders=[  # a pallet order shipped as 400 parcels
                Order(
                    number="1001",
                    fulfillments=[
                        Fulfillment(
                            tracking_company="UPS",
                            tracking_numbers=[f"1Z{i:016d}" for i in range(400)],
                            tracking_urls=[
                                f"https://www.ups.com/track?n=1Z{i:016d}" for i in range(400)
                            ],
                        )
                    ],
                )
            ],
        ),
        billing=BillingSection(
            subscriptions=[
                Subscription(plan=f"Seat plan {i}", status="active", amount="10.00", currency="USD")
                for i in range(150)
            ],
            disputes=[Dispute(reason="fraudulent", status="needs_response") for _ in range(80)],
        ),
        crm=CrmSection(
            lifecycle_stage="customer",
            deals=[
                Deal(
                    title=f"Expansion {i}", status="open", stage="qualified", url="https://h.test/"
                )
                for i in range(300)
            ],
        ),
        support=SupportSection(
            open_count=1, tickets=[Ticket(title=long_text, status="open", external_id="9")]
        ),
        signals=[
            Signal(code="x", severity="warning", message=long_text, source="zendesk")
            for _ in range(40)
        ],
    )
    page = render_card(snap, SINGLE, "/a", NOW)
    assert len(page.encode()) < MAX_WIDGET_BYTES, len(page.encode())
    assert "Seat plan 0" in page
    assert "Expansion 0" in page
    assert "1Z0000000000000000" in page
    assert "more" in page
