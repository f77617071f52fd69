"""Widget links name the customer by profile id (``p=``), never by email or phone.

A link lands in the helpdesk's and any proxy's access logs, in browser history and in error
reports; an email or phone number in it would leak there. Minted links carry the profile id
under the signature instead; a merged-away id still resolves (as an alias), an erased profile's
link fails closed (404, the small error page), and links minted before the change (``email=``,
``phone=``) keep opening until they expire.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlencode, urlsplit

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.audience import View
from context_service.cli import main
from context_service.store import Store
from context_service.trust import revoke_key
from context_service.widget import (
    BOUND_PARAM,
    PROFILE_PARAM,
    WidgetLinkInvalid,
    WidgetLinkRejected,
    minter_tag,
    open_link,
    profile_url,
    sign,
    signing_key,
)
from tests.conftest import TEST_KEY, make_settings
from tests.trust.helpers import MAYA, MAYA_PHONE, copy_demo, make_key
from tests.widget.link_key import app_key

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
KEY = signing_key("a-widget-secret-for-unit-tests", None)  # links signed and opened here
LEE = "lee.wong@example.com"
TOMAS = "tomas.garcia@example.com"
NOW = 1_800_000_000
PROF_A = "prof_01HZZZZZZZZZZZZZZZZZZZZZZA"
PROF_B = "prof_01HZZZZZZZZZZZZZZZZZZZZZZB"


@pytest.fixture
def db(demo_db: Path, tmp_path: Path) -> Path:
    return copy_demo(demo_db, tmp_path)


@pytest.fixture
def client(db: Path) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(make_settings(db))) as test_client:
        yield test_client


def _mint(client: TestClient[Any], body: dict[str, str], key: str = TEST_KEY) -> Any:
    headers = {"Authorization": f"Bearer {key}"}
    response = client.post("/v1/widget/url", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _with(url: str, **changes: str) -> str:
    return "/widget?" + urlencode({**_query(url), **changes})


def _personal(client: TestClient[Any], email: str) -> list[str]:
    """Every email, phone and name part the customer's snapshot holds."""
    snap = client.get("/v1/context", params={"email": email}, headers=AUTH).json()
    identity = snap["identity"]
    names = [part for name in identity["names"] for part in name.split() if len(part) > 2]
    phones = [p for phone in identity["phones"] for p in (phone, phone.lstrip("+"))]
    locals_ = [address.split("@")[0] for address in identity["emails"]]
    found = [*identity["emails"], *locals_, *phones, *names]
    assert email in found, found
    assert names, found
    return found


def _assert_no_personal_data(url: str, personal: list[str]) -> None:
    """Nothing of ``personal`` in the URL, plain or URL-encoded, in any case. The signature
    (a MAC, 43 random-looking characters) is left out of the case-blind check only."""
    signature = _query(url)["sig"]
    assert len(signature) == 43
    rest = url.replace(signature, "")
    for value in personal:
        for form in {value, quote(value), quote(value, safe=""), quote_plus(value)}:
            assert form not in url, (form, url)
            assert form.lower() not in rest.lower(), (form, url)
            assert form.lower() not in unquote(rest).lower(), (form, url)


def _reads(client: TestClient[Any], profile_id: str) -> list[tuple[str, str]]:
    answer = client.get("/v1/audit/reads", params={"profile_id": profile_id}, headers=AUTH)
    return [(r["key_name"], r["channel"]) for r in answer.json()["reads"]]


# --- minting ---------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [{"email": MAYA}, {"phone": MAYA_PHONE}])
def test_a_minted_link_names_the_customer_by_profile_id_only(
    client: TestClient[Any], body: dict[str, str]
) -> None:
    minted = _mint(client, body)
    params = _query(minted["url"])
    assert params[PROFILE_PARAM] == minted["profile_id"]
    assert set(params) == {PROFILE_PARAM, BOUND_PARAM, "contact", "by", "exp", "sig"}
    assert minted["url"].split("/widget?")[1].startswith(f"{PROFILE_PARAM}=prof_")
    _assert_no_personal_data(minted["url"], _personal(client, MAYA))


def test_a_minted_link_opens_the_card(client: TestClient[Any]) -> None:
    minted = _mint(client, {"email": MAYA})
    page = client.get(_path(minted["url"]))
    assert page.status_code == 200, page.text
    assert "Maya Patel" in page.text
    assert f"/v1/profiles/{minted['profile_id']}/audit" in page.text
    assert page.headers["cache-control"] == "no-store"


def test_minting_and_showing_are_both_in_the_read_audit(client: TestClient[Any]) -> None:
    minted = _mint(client, {"email": MAYA})
    assert client.get(_path(minted["url"])).status_code == 200
    reads = _reads(client, minted["profile_id"])
    assert ("bootstrap-1", "widget") in reads  # under the key that minted the link
    assert any(channel == "widget-link" for _, channel in reads)


def test_the_command_line_mints_links_without_personal_data(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(db))
    monkeypatch.setenv("CONTEXT_SERVICE_API_KEYS", TEST_KEY)
    for flag, value in (("--email", MAYA), ("--phone", MAYA_PHONE)):
        assert main(["widget-url", flag, value, "--base-url", "https://ctx.example.com"]) == 0
        url = capsys.readouterr().out.strip()
        assert url.startswith(f"https://ctx.example.com/widget?{PROFILE_PARAM}=prof_")
        assert set(_query(url)) == {PROFILE_PARAM, "k", "exp", "sig"}  # k: see widget.binding
        with TestClient(app=create_app(make_settings(db))) as client:
            _assert_no_personal_data(url, _personal(client, MAYA))
            page = client.get(_path(url))
        assert page.status_code == 200
        assert "Maya Patel" in page.text


# --- what a profile-id link resolves to --------------------------------------------------------


def test_a_merged_away_profile_id_still_opens_the_merged_card(client: TestClient[Any]) -> None:
    maya, lee = _mint(client, {"email": MAYA}), _mint(client, {"email": LEE})
    ids = [maya["profile_id"], lee["profile_id"]]
    merged = client.post("/v1/profiles/merge", json={"profile_ids": ids}, headers=AUTH)
    assert merged.status_code == 200, merged.text
    survivor = merged.json()["profile_id"]
    gone = next(link for link in (maya, lee) if link["profile_id"] != survivor)
    page = client.get(_path(gone["url"]))
    assert page.status_code == 200, page.text
    assert f"/v1/profiles/{survivor}/audit" in page.text
    assert ("bootstrap-1", "widget") in _reads(client, survivor)  # the live profile is recorded


def test_an_erased_profiles_link_fails_closed(client: TestClient[Any]) -> None:
    maya = _mint(client, {"email": MAYA})
    erased = client.delete(f"/v1/profiles/{maya['profile_id']}", headers=AUTH)
    assert erased.status_code == 200, erased.text
    page = client.get(_path(maya["url"]))
    assert page.status_code == 404, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "Maya" not in page.text
    assert "merge audit" not in page.text  # no card at all, nobody else's either


def test_a_merged_away_id_whose_survivor_was_erased_fails_closed(client: TestClient[Any]) -> None:
    maya, lee = _mint(client, {"email": MAYA}), _mint(client, {"email": LEE})
    ids = [maya["profile_id"], lee["profile_id"]]
    survivor = client.post("/v1/profiles/merge", json={"profile_ids": ids}, headers=AUTH).json()[
        "profile_id"
    ]
    assert client.delete(f"/v1/profiles/{survivor}", headers=AUTH).status_code == 200
    for link in (maya, lee):
        page = client.get(_path(link["url"]))
        assert page.status_code == 404, page.text
        assert "merge audit" not in page.text


def test_a_profile_id_swapped_into_a_signed_link_is_rejected(client: TestClient[Any]) -> None:
    maya, tomas = _mint(client, {"email": MAYA}), _mint(client, {"email": TOMAS})
    swapped = client.get(_with(maya["url"], **{PROFILE_PARAM: tomas["profile_id"]}))
    assert swapped.status_code == 403, swapped.text
    assert "signature" in swapped.text
    assert "Tom" not in swapped.text
    renamed = {**_query(maya["url"])}
    renamed["profile_id"] = renamed.pop(PROFILE_PARAM)  # the id under the old name
    assert client.get("/widget?" + urlencode(renamed)).status_code in (400, 403)


def test_a_profile_id_link_keeps_the_minting_keys_view_and_dies_with_it(
    db: Path, client: TestClient[Any]
) -> None:
    hide = ["crm.owner", "identity.emails"]
    key = make_key(db, "helpdesk", ["context:read"], hide=hide)
    minted = _mint(client, {"email": MAYA}, key)
    params = _query(minted["url"])
    assert (params["hide"], params["by"]) == (",".join(hide), minter_tag(app_key(client), key))
    page = client.get(_path(minted["url"])).text
    assert "Maya Patel" in page
    assert "Jordan Reyes" not in page
    assert MAYA not in page
    shorter = client.get(_with(minted["url"], hide="crm.owner"))
    assert shorter.status_code == 403
    store = Store(db)
    try:
        assert revoke_key(store, "helpdesk", "2026-01-01T00:00:00Z")
    finally:
        store.close()
    assert client.get(_path(minted["url"])).status_code == 403


# --- links minted before the change --------------------------------------------------------------


@pytest.mark.parametrize("lookup", [{"email": MAYA}, {"phone": MAYA_PHONE}])
def test_an_old_style_link_still_opens_until_it_expires(
    client: TestClient[Any], lookup: dict[str, str]
) -> None:
    view = View(contact="full", hidden=frozenset({"crm.owner"}))
    key, by = app_key(client), minter_tag(app_key(client), TEST_KEY)
    fresh = sign(lookup, key, int(time.time()) + 300, view, by)
    page = client.get("/widget?" + urlencode(fresh))
    assert page.status_code == 200, page.text
    assert "Maya Patel" in page.text
    assert "Jordan Reyes" not in page.text
    stale = sign(lookup, key, int(time.time()) - 1, view, by)
    assert client.get("/widget?" + urlencode(stale)).status_code == 403


# --- signing ---------------------------------------------------------------------------------


def test_a_profile_id_link_verifies_to_its_profile_id() -> None:
    link = profile_url("https://ctx.example.com/", PROF_A, KEY, NOW + 300)
    assert link.startswith(f"https://ctx.example.com/widget?{PROFILE_PARAM}={PROF_A}&exp=")
    assert open_link(_query(link).items(), KEY, NOW).lookup == {PROFILE_PARAM: PROF_A}


def test_a_valid_signature_with_another_profile_id_is_rejected() -> None:
    link = sign({PROFILE_PARAM: PROF_A}, KEY, NOW + 300)
    with pytest.raises(WidgetLinkRejected, match="signature"):
        open_link({**link, PROFILE_PARAM: PROF_B}.items(), KEY, NOW)


def test_a_profile_id_link_names_nobody_else() -> None:
    with pytest.raises(WidgetLinkInvalid, match="one customer"):
        sign({PROFILE_PARAM: PROF_A, "email": MAYA}, KEY, NOW + 300)
    link = {PROFILE_PARAM: PROF_A, "email": MAYA, "exp": str(NOW + 300)}
    with pytest.raises(WidgetLinkInvalid, match="one customer"):
        open_link([*link.items(), ("sig", "x")], KEY, NOW)
