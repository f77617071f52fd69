"""What a widget link gives away about the API key that minted it, and whom the read audit
names when its card is opened.

A link is made to travel (helpdesk iframes, access logs, browser history). It used to carry two
offline verifiers of the key that minted it, a bootstrap admin key included: ``by`` was the
first 16 hex digits of the key's unkeyed SHA-256, and without ``CONTEXT_SERVICE_WIDGET_SECRET``
the signature was keyed with an HMAC of the first API key. An 18-character key (long enough for
``doctor``) fell to a ten-word list. Now ``by`` is keyed with the signing key, and the signing
key is a random secret kept in the store. And each card shown was audited as ``signed-link``,
whichever integration's link it was; it is audited under the minting key's name now.
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.audience.policy import fingerprint
from context_service.cli import main
from context_service.widget.signing import _mac
from tests.conftest import TEST_KEY, make_settings
from tests.trust.helpers import MAYA, copy_demo, make_key

GUESSABLE_KEY = "support-admin-2026"  # 18 characters: doctor does not flag it
WORDLIST = ["changeme", "admin", "support-admin-2025", GUESSABLE_KEY, "letmein", "secret"]
OLD_KEY_LABEL = b"context-service widget signing key"  # how the signing key was derived


@pytest.fixture
def db(demo_db: Path, tmp_path: Path) -> Path:
    return copy_demo(demo_db, tmp_path)


@pytest.fixture
def client(db: Path) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(make_settings(db))) as test_client:
        yield test_client


def _mint(client: TestClient[Any], key: str) -> str:
    minted = client.post(
        "/v1/widget/url", json={"email": MAYA}, headers={"Authorization": f"Bearer {key}"}
    )
    assert minted.status_code == 200, minted.text
    return str(minted.json()["url"])


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _widget_reads(client: TestClient[Any], profile_id: str) -> list[dict[str, Any]]:
    reads = client.get(
        "/v1/audit/reads",
        params={"profile_id": profile_id},
        headers={"Authorization": f"Bearer {TEST_KEY}"},
    ).json()["reads"]
    return [read for read in reads if read["channel"] == "widget"]


def _shown_to(client: TestClient[Any], url: str) -> list[str]:
    """Open the card of ``url``; the key names this opening is audited under (the shared demo
    store may hold other tests' reads: only new ones count)."""
    profile_id = dict(parse_qsl(urlsplit(url).query))["p"]
    before = {read["id"] for read in _widget_reads(client, profile_id)}
    page = client.get(_path(url))
    assert page.status_code == 200, page.text
    return [r["key_name"] for r in _widget_reads(client, profile_id) if r["id"] not in before]


def test_a_minted_link_lets_nobody_test_guesses_of_the_key_that_minted_it(db: Path) -> None:
    with TestClient(app=create_app(make_settings(db, api_keys=[GUESSABLE_KEY]))) as client:
        url = _mint(client, GUESSABLE_KEY)
    params = dict(parse_qsl(urlsplit(url).query))
    # What anyone who sees the link (a proxy's log, an agent's history) could do offline:
    by_hash = [g for g in WORDLIST if hashlib.sha256(g.encode()).hexdigest()[:16] == params["by"]]
    assert by_hash == [], f"the link's 'by' gives the admin key away: {by_hash}"
    signature = params.pop("sig")
    by_signature = [
        guess
        for guess in WORDLIST
        if _mac(params, hmac.new(guess.encode(), OLD_KEY_LABEL, hashlib.sha256).digest())
        == signature
    ]
    assert by_signature == [], f"the link's signature confirms the admin key: {by_signature}"


def test_links_are_signed_with_a_secret_of_the_store_not_of_the_api_keys(
    demo_db: Path, tmp_path: Path
) -> None:
    """Rotating the configured keys leaves a stored key's links working, and a link minted
    against one store does not open against another that shares the API keys."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = copy_demo(demo_db, tmp_path / "a"), copy_demo(demo_db, tmp_path / "b")
    for store in (first, second):  # two stores made apart: neither holds a secret yet
        with sqlite3.connect(store) as conn:
            conn.execute("DELETE FROM trust_meta WHERE name = 'widget_link_key'")
    helpdesk = make_key(first, "helpdesk", ["context:read"], audiences=["sidebar"])
    with TestClient(app=create_app(make_settings(first))) as client:
        url = _mint(client, helpdesk)
        assert client.get(_path(url)).status_code == 200
        elsewhere = _mint(client, TEST_KEY)
    rotated = make_settings(first, api_keys=["a-new-bootstrap-key-0123456789"])
    with TestClient(app=create_app(rotated)) as client:
        assert client.get(_path(url)).status_code == 200, "rotating the API keys broke it"
    with TestClient(app=create_app(make_settings(second))) as client:
        assert client.get(_path(elsewhere)).status_code == 403


def test_a_card_opened_is_audited_under_the_key_that_minted_its_link(
    db: Path, client: TestClient[Any]
) -> None:
    key = make_key(db, "zendesk-widget", ["context:read"], audiences=["sidebar"])
    assert _shown_to(client, _mint(client, key)) == ["zendesk-widget"]
    assert "bootstrap-1" in _shown_to(client, _mint(client, TEST_KEY))
    # its name, never the key or anything that tests guesses of it
    names = " ".join(_shown_to(client, _mint(client, key)))
    assert key not in names
    assert fingerprint(key) not in names


def test_a_card_from_an_operators_link_is_audited_as_the_command_line(
    db: Path, client: TestClient[Any], monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(db))
    monkeypatch.setenv("CONTEXT_SERVICE_API_KEYS", TEST_KEY)
    assert main(["widget-url", "--email", MAYA, "--base-url", "https://ctx.example.com"]) == 0
    assert _shown_to(client, capsys.readouterr().out.strip()) == ["cli"]
