"""A widget link shows no more than the API key that minted it may see (its ``sidebar`` view).

The link carries the key's view (``contact`` and ``hide``) under its signature; the card shows
what both that view and the ``sidebar`` audience's current policy allow. A link without a view
(``context-service widget-url``, or one minted before links carried it) shows the audience's.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.audience import View
from context_service.audience.policy import fingerprint
from context_service.models import IdentitySection
from context_service.store import Store
from context_service.trust import revoke_key
from context_service.widget import (
    MatchConfidence,
    WidgetLinkInvalid,
    WidgetLinkRejected,
    minter_tag,
    narrow,
    open_link,
    render_card,
    sign,
    signing_key,
    verify,
)
from context_service.widget.signing import _mac
from tests.conftest import TEST_KEY, make_settings
from tests.snapshots import bare_snapshot
from tests.trust.helpers import MAYA, MAYA_PHONE, copy_demo, make_key
from tests.widget.link_key import store_key

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
KEY = signing_key("a-widget-secret-for-unit-tests", None)  # links signed and opened here
HIDE = ["identity.emails", "identity.phones", "crm.owner", "orders.tracking"]
NOW = 1_800_000_000


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _leaks(page: str) -> dict[str, bool]:
    return {
        "identity.emails": MAYA in page,
        "identity.phones": "+1 415" in page or MAYA_PHONE in page or "4155550134" in page,
        "crm.owner": "Jordan Reyes" in page,
        "orders.tracking": "1ZCFW3P00329484606" in page,
    }


@pytest.fixture
def limited(demo_db: Path, tmp_path: Path) -> Iterator[tuple[TestClient[Any], dict[str, str]]]:
    """An app over a demo copy, and the auth header of a context:read key hiding ``HIDE``."""
    db = copy_demo(demo_db, tmp_path)
    key = make_key(db, "helpdesk", ["context:read"], hide=HIDE)
    with TestClient(app=create_app(make_settings(db))) as client:
        yield client, {"Authorization": f"Bearer {key}"}


def test_widget_link_from_limited_key_shows_hidden_fields(demo_db: Path, tmp_path: Path) -> None:
    """The reviewer's reproduction: the card of a limited key's link hid nothing."""
    db = copy_demo(demo_db, tmp_path)
    key = make_key(db, "helpdesk", ["context:read"], hide=HIDE)
    with TestClient(app=create_app(make_settings(db))) as client:
        auth = {"Authorization": f"Bearer {key}"}
        # control: this key may not read the full snapshot, and its sidebar view hides them
        assert client.get("/v1/context", params={"email": MAYA}, headers=auth).status_code == 403
        side = client.get(
            "/v1/context", params={"email": MAYA, "audience": "sidebar"}, headers=auth
        )
        assert side.status_code == 200
        assert MAYA not in side.text
        assert "Jordan Reyes" not in side.text
        minted = client.post("/v1/widget/url", json={"email": MAYA}, headers=auth)
        assert minted.status_code == 200, minted.text
        parts = urlsplit(minted.json()["url"])
        page = client.get(f"{parts.path}?{parts.query}").text
    leaks = _leaks(page)
    assert not any(leaks.values()), leaks


def test_the_limited_card_still_shows_what_the_key_may_see(
    limited: tuple[TestClient[Any], dict[str, str]],
) -> None:
    client, auth = limited
    url = client.post("/v1/widget/url", json={"email": MAYA}, headers=auth).json()["url"]
    assert _query(url)["contact"] == "full"
    assert _query(url)["hide"] == ",".join(sorted(HIDE))
    response = client.get(_path(url))
    assert response.status_code == 200
    for expected in ("Maya Patel", "#1003", "Stage <b><bdi>customer</bdi></b>", "Pro subscription"):
        assert expected in response.text, expected
    assert "owner " not in response.text


@pytest.mark.parametrize(
    "change",
    [
        {"hide": None},  # the view removed: would fall back to the audience's (full) view
        {"hide": "crm.owner"},  # a shorter list
        {"hide": "", "contact": "full"},
        {"contact": None, "hide": None},
    ],
)
def test_a_link_whose_view_was_edited_is_rejected(
    limited: tuple[TestClient[Any], dict[str, str]], change: dict[str, str | None]
) -> None:
    client, auth = limited
    url = client.post("/v1/widget/url", json={"email": MAYA}, headers=auth).json()["url"]
    params = _query(url)
    for name, value in change.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    response = client.get("/widget?" + urlencode(params))
    assert response.status_code == 403, response.text
    assert not any(_leaks(response.text).values())


def test_a_key_whose_file_grant_masks_contacts_mints_masked_cards(
    demo_db: Path, tmp_path: Path
) -> None:
    masked_key = "masked-key-0123456789"
    policy = tmp_path / "policy.toml"
    policy.write_text(f'[keys.{fingerprint(masked_key)}]\ncontact = "masked"\n')
    settings = make_settings(demo_db, api_keys=[TEST_KEY, masked_key], field_policy=str(policy))
    with TestClient(app=create_app(settings)) as client:
        auth = {"Authorization": f"Bearer {masked_key}"}
        url = client.post("/v1/widget/url", json={"email": MAYA}, headers=auth).json()["url"]
        masked = client.get(_path(url)).text
        full_url = client.post("/v1/widget/url", json={"email": MAYA}, headers=AUTH).json()["url"]
        full = client.get(_path(full_url)).text
    assert _query(url)["contact"] == "masked"
    assert "m***@example.com" in masked
    assert MAYA not in masked
    assert MAYA in full  # the bootstrap key's link is not narrowed by another key's grant


def test_a_key_hiding_names_mints_a_card_without_the_name(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    key = make_key(db, "no-names", ["context:read"], hide=["identity.names"])
    with TestClient(app=create_app(make_settings(db))) as client:
        auth = {"Authorization": f"Bearer {key}"}
        url = client.post("/v1/widget/url", json={"email": MAYA}, headers=auth).json()["url"]
        page = client.get(_path(url)).text
    assert "<title>Customer</title>" in page
    assert "<h1><bdi>Customer</bdi></h1>" in page
    header = page[page.index("<header>") : page.index("</header>")]
    assert "Maya Patel" not in header  # (a deal's own title may still name her: crm.deals)


def test_the_card_also_follows_the_sidebar_policy_of_now(demo_db: Path, tmp_path: Path) -> None:
    """A link minted under a laxer policy shows what today's ``sidebar`` policy allows."""
    policy = tmp_path / "policy.toml"
    policy.write_text('[audiences.sidebar]\ncontact = "none"\nhide = ["crm.owner"]\n')
    settings = make_settings(demo_db, field_policy=str(policy))
    lax = View(contact="full", hidden=frozenset({"orders.tracking"}))
    link = "/widget?" + urlencode(
        sign({"email": MAYA}, store_key(demo_db), int(time.time()) + 300, lax)
    )
    with TestClient(app=create_app(settings)) as client:
        page = client.get(link).text
    assert not any(_leaks(page).values()), _leaks(page)
    assert "#1003" in page


def test_a_link_without_a_view_shows_the_sidebar_audience(demo_db: Path) -> None:
    """What ``context-service widget-url`` mints, and links minted before views were signed."""
    link = "/widget?" + urlencode(sign({"email": MAYA}, store_key(demo_db), int(time.time()) + 300))
    assert "contact" not in link
    assert "hide" not in link
    with TestClient(app=create_app(make_settings(demo_db))) as client:
        response = client.get(link)
    assert response.status_code == 200
    assert all(_leaks(response.text).values())


@pytest.mark.parametrize(
    "view",
    [
        {"contact": "everything"},
        {"contact": "full", "hide": "crm.owner,no.such.field"},
        {"contact": "full", "hide": "crm.owner,,orders"},
        {"hide": "crm.owner"},  # a hide list needs its contact setting
    ],
)
def test_a_signed_view_this_server_cannot_honour_is_malformed(view: dict[str, str]) -> None:
    params = {"email": MAYA, **view}
    link = _sign_raw(params, NOW + 300)
    with pytest.raises(WidgetLinkInvalid):
        open_link(list(link.items()), KEY, NOW)


def test_a_view_round_trips_and_verify_still_gives_the_lookup() -> None:
    view = View(contact="masked", hidden=frozenset(HIDE))
    link = sign({"email": MAYA}, KEY, NOW + 300, view)
    opened = open_link(list(link.items()), KEY, NOW)
    assert opened.lookup == {"email": MAYA}
    assert opened.view == view
    assert verify(list(link.items()), KEY, NOW) == {"email": MAYA}
    assert open_link(list(sign({"email": MAYA}, KEY, NOW + 300).items()), KEY, NOW).view is None


def test_a_view_cannot_be_added_to_a_link_signed_without_one() -> None:
    link = sign({"email": MAYA}, KEY, NOW + 300)
    with pytest.raises(WidgetLinkRejected):
        open_link([*link.items(), ("contact", "full")], KEY, NOW)


def test_narrow_keeps_what_both_views_allow() -> None:
    audience = View(contact="masked", hidden=frozenset({"crm.owner"}))
    key = View(contact="full", hidden=frozenset({"orders.tracking"}))
    assert narrow(audience, key) == View(
        contact="masked", hidden=frozenset({"crm.owner", "orders.tracking"})
    )
    assert narrow(key, View(contact="none", hidden=frozenset())).contact == "none"
    assert narrow(audience, None) == audience


def test_a_view_hiding_names_keeps_them_out_of_the_heading_and_title() -> None:
    snap = bare_snapshot(
        profile_id="prof_01M84WNG0H8HDM3STGG0HV7A7R",
        identity=IdentitySection(name="Maya Patel", emails=[MAYA]),
        summary=None,
    )
    confidence = MatchConfidence(score=None, rule=None, links=0)
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    shown = render_card(snap, confidence, "/a", now, View("full", frozenset()))
    hidden = render_card(snap, confidence, "/a", now, View("none", frozenset({"identity.names"})))
    assert "<title>Maya Patel</title>" in shown
    assert "<h1><bdi>Maya Patel</bdi></h1>" in shown
    assert MAYA in shown
    assert "Maya Patel" not in hidden
    assert MAYA not in hidden
    assert "<title>Customer</title>" in hidden
    assert "<h1><bdi>Customer</bdi></h1>" in hidden


def _sign_raw(params: dict[str, str], expires: int) -> dict[str, str]:
    """A link signed over arbitrary parameters (what a future or buggy minter might send)."""
    signed = {**params, "exp": str(expires)}
    return {**signed, "sig": _mac(signed, KEY)}


def test_revoking_the_key_that_made_a_link_kills_the_link(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    key = make_key(db, "helpdesk", ["context:read"])
    with TestClient(app=create_app(make_settings(db))) as client:
        auth = {"Authorization": f"Bearer {key}"}
        url = client.post("/v1/widget/url", json={"email": MAYA}, headers=auth).json()["url"]
        assert _query(url)["by"] == minter_tag(store_key(db), key)
        assert client.get(_path(url)).status_code == 200
        store = Store(db)
        try:
            assert revoke_key(store, "helpdesk", "2026-11-30T11:00:00Z")
        finally:
            store.close()
        refused = client.get(_path(url))
    assert refused.status_code == 403
    assert "revoked" in refused.text
    assert "Maya Patel" not in refused.text


def test_a_link_made_by_a_configured_key_lives_until_it_expires(
    demo_db: Path, tmp_path: Path
) -> None:
    db = copy_demo(demo_db, tmp_path)
    with TestClient(app=create_app(make_settings(db))) as client:
        url = client.post("/v1/widget/url", json={"email": MAYA}, headers=AUTH).json()["url"]
        assert _query(url)["by"] == minter_tag(store_key(db), TEST_KEY)
        assert client.get(_path(url)).status_code == 200


def test_a_link_claiming_another_key_is_a_forgery(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    with TestClient(app=create_app(make_settings(db))) as client:
        url = client.post("/v1/widget/url", json={"email": MAYA}, headers=AUTH).json()["url"]
        forged = url.replace(_query(url)["by"], "0" * 16)
        assert client.get(_path(forged)).status_code == 403
