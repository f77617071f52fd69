"""The sidebar widget and the export, as a demanding agent and an attacker see them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import msgspec

from context_service.audience.policy import fingerprint
from context_service.export import exported_profiles
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
    Snapshot,
    Subscription,
    SupportSection,
    Ticket,
)
from context_service.store import Store
from context_service.trust.erasure import erase_profiles
from context_service.widget import MatchConfidence, render_card
from tests.conftest import TEST_KEY
from tests.review_fixtures import AUTH, app_client
from tests.snapshots import bare_snapshot
from tests.trust.helpers import MAYA, copy_demo

HELPDESK_KEY = "helpdesk-key-0123456789"


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _mint(db: Path, key: str) -> str:
    """A widget link for Maya minted by ``key`` under no policy file."""
    with app_client(db, api_keys=[TEST_KEY, key]) as client:
        auth = {"Authorization": f"Bearer {key}"}
        response = client.post("/v1/widget/url", json={"email": MAYA}, headers=auth)
        assert response.status_code == 200, response.text
        return _path(response.json()["url"])


def _open(db: Path, link: str, policy: Path) -> tuple[int, str]:
    keys = [TEST_KEY, HELPDESK_KEY]
    with app_client(db, api_keys=keys, field_policy=str(policy)) as client:
        response = client.get(link)
    return response.status_code, response.text


def test_a_link_follows_its_keys_grant_tightened_after_minting(
    demo_db: Path, tmp_path: Path
) -> None:
    """The key's own limits of now apply to its earlier links, not only the ones it had."""
    db = copy_demo(demo_db, tmp_path)
    link = _mint(db, HELPDESK_KEY)
    lax = tmp_path / "lax.toml"
    lax.write_text("")
    status, before = _open(db, link, lax)
    assert status == 200
    assert "Jordan Reyes" in before
    assert MAYA in before
    strict = tmp_path / "strict.toml"
    strict.write_text(
        f'[keys.{fingerprint(HELPDESK_KEY)}]\ncontact = "none"\nhide = ["crm.owner"]\n'
    )
    status, after = _open(db, link, strict)
    assert status == 200
    assert "Jordan Reyes" not in after
    assert MAYA not in after


def test_a_link_dies_when_its_key_may_no_longer_ask_for_the_sidebar(
    demo_db: Path, tmp_path: Path
) -> None:
    db = copy_demo(demo_db, tmp_path)
    link = _mint(db, HELPDESK_KEY)
    policy = tmp_path / "agent-only.toml"
    policy.write_text(f'[keys.{fingerprint(HELPDESK_KEY)}]\naudiences = ["agent"]\n')
    status, page = _open(db, link, policy)
    assert status == 403
    assert "Maya Patel" not in page


def _order(number: int, parcel_url: str, text: str) -> Order:
    parcel = Fulfillment(
        status="success",
        shipment_status=text,
        tracking_company=text,
        tracking_numbers=[f"{text}{n}" for n in range(6)],
        tracking_urls=[parcel_url] * 6,
    )
    return Order(
        external_id=str(number),
        number=f"{number}{text}",
        url=parcel_url,
        amount="12.00",
        currency="USD",
        financial_status=text,
        fulfillment_status="fulfilled",
        fulfillments=[parcel],
    )


def _ticket(number: int, subject: str) -> Ticket:
    return Ticket(external_id=str(number), title=subject, status="open", priority="high")


def _crowded_snapshot() -> Snapshot:
    """A customer at every bound the card lists: long carrier tracking URLs full of ``&``
    and customer-written subjects and names full of quotes (each escapes to 5-6 bytes)."""
    text = 'Tom & Jerry\'s "order" <b>' * 10
    url = "https://track.example/t?" + "id=1&lang=en&" * 150
    return bare_snapshot(
        profile_id="prof_01M84WNG0H8HDM3STGG0HV7A7R",
        identity=IdentitySection(name=text, emails=["o'brien&co@example.com"] * 3),
        commerce=CommerceSection(orders=[_order(n, url, text) for n in range(5)], order_count=5),
        support=SupportSection(tickets=[_ticket(n, text) for n in range(6)], open_count=6),
    )


def test_the_card_stays_under_30_kb_whatever_the_customer_wrote() -> None:
    confidence = MatchConfidence(score=None, rule=None, links=0)
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    page = render_card(_crowded_snapshot(), confidence, "/v1/profiles/p/audit", now)
    assert len(page.encode()) <= 30_000
    assert page.startswith("<!doctype html>")
    assert page.endswith("</html>")
    assert "<h1><bdi>Tom &amp; Jerry&#x27;s" in page  # still names the customer, escaped
    assert "<b>" not in page.split("</style>", 1)[1].replace("<b>Stage", "")


def _erase(db: Path, profile_id: str) -> None:
    store = Store(db)
    try:
        with store.transaction() as conn:
            erase_profiles(
                conn, [profile_id], requested_by="t", reason="asked", now="2026-11-30", region="US"
            )
    finally:
        store.close()


def test_a_link_to_an_erased_customer_shows_nothing_of_them(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    with app_client(db) as client:
        minted = client.post("/v1/widget/url", json={"email": MAYA}, headers=AUTH).json()
        by_id = client.post(
            "/v1/widget/url", json={"profile_id": minted["profile_id"]}, headers=AUTH
        ).json()
        _erase(db, minted["profile_id"])
        pages = [client.get(_path(minted["url"])), client.get(_path(by_id["url"]))]
    for page in pages:
        assert page.status_code == 404, page.text
        assert "Maya Patel" not in page.text  # (the 404 repeats the link's own email only)
        assert "frame-ancestors" in page.headers["content-security-policy"]


def test_an_export_holds_a_profile_erased_while_it_runs_whole(
    demo_db: Path, tmp_path: Path
) -> None:
    """The export is the store as at its start: a profile erased mid-way is either there
    whole (members and identity) or absent, never half."""
    db = copy_demo(demo_db, tmp_path)
    reader = Store(db)
    try:
        stream = exported_profiles(reader.conn)
        first = next(stream)
        ids = [first.profile_id]
        last = reader.conn.execute("SELECT id FROM profiles ORDER BY rowid DESC LIMIT 1")
        victim = str(last.fetchone()[0])
        _erase(db, victim)
        rest = list(stream)
    finally:
        reader.close()
    ids += [p.profile_id for p in rest]
    erased = [p for p in rest if p.profile_id == victim]
    assert len(erased) == 1
    assert erased[0].members
    assert erased[0].identity.emails
    assert len(ids) == len(set(ids))


def test_a_card_too_big_even_compact_still_names_the_customer_within_budget() -> None:
    """Every listed section at its bound with text that escapes to six bytes a character."""
    text = "'" * 300
    url = "https://x.example/?" + "'" * 280
    crowded = _crowded_snapshot()
    snap = msgspec.structs.replace(
        crowded,
        identity=IdentitySection(name="Maya 'MP' Patel", emails=[MAYA]),
        commerce=CommerceSection(orders=[_order(n, url, text) for n in range(5)], order_count=5),
        support=SupportSection(tickets=[_ticket(n, text) for n in range(6)], open_count=6),
        billing=BillingSection(
            subscriptions=[Subscription(plan=text, status=text, url=url) for _ in range(6)],
            invoices=[
                Invoice(number=text, status="open", amount_remaining="1", currency=text)
                for _ in range(6)
            ],
            disputes=[Dispute(reason=text, status=text) for _ in range(6)],
        ),
        crm=CrmSection(
            lifecycle_stage=text,
            owner=text,
            deals=[Deal(title=text, status="open", stage=text, url=url) for _ in range(6)],
        ),
    )
    confidence = MatchConfidence(score=0.5, rule=text, links=1)
    page = render_card(snap, confidence, "/v1/profiles/p/audit", datetime(2026, 11, 30, tzinfo=UTC))
    assert len(page.encode()) <= 30_000
    assert "<h1><bdi>Maya &#x27;MP&#x27; Patel</bdi></h1>" in page
    assert "merge audit" in page
