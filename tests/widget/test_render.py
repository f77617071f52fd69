"""The card's HTML: every source-provided string escaped, links only to http(s)."""

from __future__ import annotations

from datetime import UTC, datetime

from context_service.models import (
    BillingSection,
    CommerceSection,
    CrmSection,
    Deal,
    Freshness,
    Fulfillment,
    IdentitySection,
    Member,
    Order,
    Signal,
    Snapshot,
    SupportSection,
    Ticket,
)
from context_service.widget import MatchConfidence, render_card, render_error

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
HOSTILE = "<script>alert('x')</script>"
IMG = '"><img src=x onerror=alert(1)>'


def _hostile_snapshot() -> Snapshot:
    return Snapshot(
        profile_id="prof_01M84WNG0H8HDM3STGG0HV7A7R",
        version=3,
        generated_at="2026-11-29T11:00:00Z",
        identity=IdentitySection(name=HOSTILE, emails=[f"x{IMG}@example.com"]),
        members=[Member(source="shopify", kind="customer", external_id="1")],
        commerce=CommerceSection(
            order_count=1,
            total_spent="10.00",
            currency="USD",
            orders=[
                Order(
                    number=IMG,
                    url="javascript:alert(1)",
                    note=HOSTILE,
                    fulfillments=[
                        Fulfillment(
                            tracking_company=HOSTILE,
                            tracking_numbers=["1Z<b>"],
                            tracking_urls=["javascript:alert(2)"],
                        )
                    ],
                )
            ],
        ),
        billing=BillingSection(),
        crm=CrmSection(
            lifecycle_stage=HOSTILE,
            owner=IMG,
            deals=[Deal(title=HOSTILE, status="open", url="https://app.hubspot.com/x?a=1&b='2'")],
        ),
        support=SupportSection(
            open_count=1,
            tickets=[Ticket(title=HOSTILE, status="open", external_id=IMG)],
        ),
        freshness=[Freshness(source=HOSTILE, as_of="2026-11-29T09:00:00Z")],
        signals=[
            Signal(code="open_tickets", severity="warning", message=HOSTILE, source="zendesk")
        ],
        conflicts=[],
        summary=HOSTILE,
    )


def _card() -> str:
    confidence = MatchConfidence(score=0.82, rule="name_address", links=2)
    return render_card(_hostile_snapshot(), confidence, "/v1/profiles/prof_x/audit", NOW)


def test_customer_written_markup_is_escaped_everywhere() -> None:
    page = _card()
    assert "<script" not in page
    assert "<img" not in page
    assert "1Z&lt;b&gt;" in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page


def test_only_http_links_are_emitted() -> None:
    page = _card()
    assert "href='javascript" not in page
    assert "href='https://app.hubspot.com/x?a=1&amp;b=&#x27;2&#x27;'" in page
    assert "rel='noopener noreferrer'" in page


def test_the_page_has_no_scripts_and_no_external_assets() -> None:
    page = _card()
    for needle in ("<script", "<link", "<img", "<iframe", "<object", "@import", "url("):
        assert needle not in page, needle


def test_a_weak_match_is_flagged_and_the_audit_is_named() -> None:
    """The merge audit needs an admin key: the card names it for an admin, and links nothing
    an agent's click would answer with a 401."""
    page = _card()
    assert "badge warn'>weak match 0.82 (name_address)" in page
    assert "<code>GET /v1/profiles/prof_x/audit</code>" in page
    assert "href='/v1/profiles/prof_x/audit'" not in page


def test_a_profile_of_one_record_says_single_source() -> None:
    confidence = MatchConfidence(score=None, rule=None, links=0)
    assert confidence.label() == "single source"


def test_freshness_is_relative_to_now() -> None:
    assert "3 h ago" in _card()


def test_the_error_page_escapes_its_text_too() -> None:
    page = render_error(404, "Customer not found", f"no customer with email {HOSTILE}")
    assert "<script" not in page
    assert "Customer not found" in page
