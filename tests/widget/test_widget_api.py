"""GET /widget and POST /v1/widget/url against the demo store."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.audience.policy import fingerprint
from context_service.errors import ConfigurationError
from context_service.widget import security_headers, sign
from tests.conftest import TEST_KEY, make_settings
from tests.widget.link_key import app_key, store_key

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
MAYA = "maya.patel@example.com"
MAX_WIDGET_BYTES = 30 * 1024


@pytest.fixture
def client(demo_db: Path) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(make_settings(demo_db))) as test_client:
        yield test_client


def _mint(client: TestClient[Any], **body: Any) -> str:
    response = client.post("/v1/widget/url", json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    return str(response.json()["url"])


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _signed(client: TestClient[Any], lookup: dict[str, str], expires: int | None = None) -> str:
    """A link signed as the app under ``client`` signs them (tests of links it never mints)."""
    exp = int(time.time()) + 300 if expires is None else expires
    return "/widget?" + urlencode(sign(lookup, app_key(client), exp))


def _assert_html_error(response: Any, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert words in response.text


def test_maya_card_shows_every_section(client: TestClient[Any]) -> None:
    url = _mint(client, email=MAYA)
    response = client.get(_path(url))
    assert response.status_code == 200
    page = response.text
    for expected in (
        "Maya Patel",
        "maya.patel@example.com",
        "merge audit",
        "Pro subscription is past_due",
        "Payment failed for invoice",
        "#1003",
        "unfulfilled",
        "UPS",
        "1ZCFW3P00329484606",
        "(<bdi>delivered</bdi>)",  # each source value isolated from its neighbours
        "past_due",
        "Stage <b><bdi>customer</bdi></b>",
        "owner <bdi>Jordan Reyes</bdi>",
        "Team plan upgrade",
        "1 open",
        "I was charged twice this month",
        "Freshness",
        "hubspot",
        "zendesk",
    ):
        assert expected in page, expected
    assert page.index("Attention") < page.index("Orders") < page.index("Billing")
    # Four sources joined by email and phone links: the weakest link's score and rule.
    assert re.search(r"badge \w+'>(?:weak )?match [01]\.\d\d \([a-z_]+\)</span>", page)
    profile_id = response.headers.get("x-profile-id") or page.split("/v1/profiles/")[1][:31]
    assert f"<code>GET /v1/profiles/{profile_id}/audit</code>" in page


def test_widget_headers_are_strict_but_allow_helpdesk_frames(client: TestClient[Any]) -> None:
    response = client.get(_path(_mint(client, email=MAYA)))
    csp = response.headers["content-security-policy"]
    assert csp.startswith("default-src 'none'; style-src 'sha256-")
    assert "'unsafe-inline'" not in csp
    assert "script-src" not in csp  # falls back to default-src 'none': no script runs at all
    assert "frame-ancestors 'self' https://*.zendesk.com" in csp
    assert "x-frame-options" not in response.headers
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_frame_ancestors_are_configurable(demo_db: Path) -> None:
    settings = make_settings(demo_db, widget_frame_ancestors=["https://acme.zendesk.com"])
    with TestClient(app=create_app(settings)) as client:
        response = client.get(_path(_mint(client, email=MAYA)))
    assert response.headers["content-security-policy"].endswith(
        "frame-ancestors https://acme.zendesk.com"
    )


def test_a_frame_ancestor_that_could_break_the_header_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        security_headers(["https://a.example; script-src *"])


@pytest.mark.parametrize(
    "lookup",
    [
        {"email": MAYA},
        {"email": "tomas.garcia@example.com"},
        {"email": "lee.wong@example.com"},
        {"phone": "+14155550134"},
    ],
)
def test_persona_cards_are_small(client: TestClient[Any], lookup: dict[str, str]) -> None:
    response = client.get(_signed(client, lookup))
    assert response.status_code == 200
    assert len(response.content) < MAX_WIDGET_BYTES


def test_a_single_record_profile_says_single_source(client: TestClient[Any]) -> None:
    page = client.get(_signed(client, {"email": "lee.wong@example.com"})).text
    assert "single source" in page
    assert "Starter" in page


def test_an_expired_link_gets_an_html_403(client: TestClient[Any]) -> None:
    response = client.get(_signed(client, {"email": MAYA}, expires=int(time.time()) - 5))
    _assert_html_error(response, 403, "expired")


def test_a_tampered_signature_gets_an_html_403(client: TestClient[Any]) -> None:
    query = dict(parse_qsl(urlsplit(_mint(client, email=MAYA)).query))
    query["sig"] = "A" * len(query["sig"])
    _assert_html_error(client.get("/widget?" + urlencode(query)), 403, "signature")


def test_a_signature_reused_for_another_customer_gets_an_html_403(
    client: TestClient[Any],
) -> None:
    query = dict(parse_qsl(urlsplit(_mint(client, email=MAYA)).query))
    tomas = dict(parse_qsl(urlsplit(_mint(client, email="tomas.garcia@example.com")).query))
    query["p"] = tomas["p"]  # links name the customer by profile id
    response = client.get("/widget?" + urlencode(query))
    _assert_html_error(response, 403, "signature")
    assert "Tom" not in response.text
    old_style = dict(parse_qsl(urlsplit(_signed(client, {"email": MAYA})).query))
    old_style["email"] = "tomas.garcia@example.com"
    response = client.get("/widget?" + urlencode(old_style))
    _assert_html_error(response, 403, "signature")
    assert "Tom" not in response.text


@pytest.mark.parametrize("query", ["", "?email=maya.patel@example.com", "?exp=1&email=a%40b.co"])
def test_missing_parameters_get_an_html_400(client: TestClient[Any], query: str) -> None:
    _assert_html_error(client.get("/widget" + query), 400, "exp")


def test_a_signed_link_with_no_identifier_gets_an_html_400(client: TestClient[Any]) -> None:
    _assert_html_error(client.get(_signed(client, {})), 400, "exactly one identifier")


def test_a_signed_link_to_nobody_gets_an_html_404(client: TestClient[Any]) -> None:
    _assert_html_error(
        client.get(_signed(client, {"email": "nobody@example.com"})), 404, "no customer"
    )


def test_a_signed_link_to_a_shared_mailbox_gets_an_html_409(client: TestClient[Any]) -> None:
    response = client.get(_signed(client, {"email": "info@silvacosta.example"}))
    _assert_html_error(response, 409, "2 different customers")


def test_an_over_long_signed_value_gets_an_html_400(client: TestClient[Any]) -> None:
    _assert_html_error(
        client.get(_signed(client, {"email": "a" * 400})), 400, "bad lookup parameter"
    )


def test_without_any_api_key_the_stores_own_secret_signs(demo_db: Path) -> None:
    with TestClient(app=create_app(make_settings(demo_db, api_keys=[]))) as client:
        assert client.get(_signed(client, {"email": MAYA})).status_code == 200


def test_a_widget_secret_signs_instead_of_the_stores_secret(demo_db: Path) -> None:
    settings = make_settings(demo_db, widget_secret="widget-only-secret")
    with TestClient(app=create_app(settings)) as client:
        url = _mint(client, email=MAYA)
        assert client.get(_path(url)).status_code == 200
        by_store = sign({"email": MAYA}, store_key(demo_db), int(time.time()) + 300)
        assert client.get("/widget?" + urlencode(by_store)).status_code == 403


def test_minting_needs_an_api_key(client: TestClient[Any]) -> None:
    response = client.post("/v1/widget/url", json={"email": MAYA})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def test_minting_checks_the_customer_first(client: TestClient[Any]) -> None:
    nobody = client.post("/v1/widget/url", json={"email": "nobody@example.com"}, headers=AUTH)
    assert nobody.status_code == 404
    shared = client.post("/v1/widget/url", json={"email": "info@silvacosta.example"}, headers=AUTH)
    assert shared.status_code == 409
    assert len(shared.json()["candidates"]) == 2


@pytest.mark.parametrize(
    "body",
    [{}, {"email": MAYA, "phone": "+14155550134"}, {"email": MAYA, "ttl_seconds": 999_999}],
)
def test_minting_rejects_bad_requests(client: TestClient[Any], body: dict[str, Any]) -> None:
    response = client.post("/v1/widget/url", json=body, headers=AUTH)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_minted_links_use_the_public_url_and_the_ttl(demo_db: Path) -> None:
    settings = make_settings(demo_db, public_url="https://ctx.example.com/", widget_ttl_seconds=60)
    with TestClient(app=create_app(settings)) as client:
        before = int(time.time())
        minted = client.post("/v1/widget/url", json={"email": MAYA}, headers=AUTH).json()
    assert minted["url"].startswith(f"https://ctx.example.com/widget?p={minted['profile_id']}&")
    exp = int(dict(parse_qsl(urlsplit(minted["url"]).query))["exp"])
    assert before + 60 <= exp <= int(time.time()) + 60
    assert minted["profile_id"].startswith("prof_")


def test_the_card_follows_the_sidebar_field_policy(demo_db: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        '[audiences.sidebar]\ncontact = "masked"\n'
        'hide = ["billing.subscriptions", "billing.invoices", "crm.owner", "orders.tracking"]\n'
    )
    settings = make_settings(demo_db, field_policy=str(policy))
    with TestClient(app=create_app(settings)) as client:
        page = client.get(_path(_mint(client, email=MAYA))).text
    assert "m***@example.com" in page
    assert MAYA not in page
    assert "<h2>Billing</h2>" not in page
    assert "Jordan Reyes" not in page
    assert "1ZCFW3P00329484606" not in page
    assert "#1003" in page
    # Signals stay (they are the point), but one about hidden billing names no plan.
    assert "A subscription is past_due" in page
    assert "Pro subscription" not in page


def test_a_key_that_may_not_see_the_sidebar_cannot_mint(demo_db: Path, tmp_path: Path) -> None:
    bot_key = "bot-key-0123456789"
    policy = tmp_path / "policy.toml"
    policy.write_text(f'[keys.{fingerprint(bot_key)}]\naudiences = ["chatbot"]\n')
    settings = make_settings(demo_db, api_keys=[TEST_KEY, bot_key], field_policy=str(policy))
    with TestClient(app=create_app(settings)) as client:
        bot = {"Authorization": f"Bearer {bot_key}"}
        denied = client.post("/v1/widget/url", json={"email": MAYA}, headers=bot)
        assert denied.status_code == 403
        assert client.post("/v1/widget/url", json={"email": MAYA}, headers=AUTH).status_code == 200
