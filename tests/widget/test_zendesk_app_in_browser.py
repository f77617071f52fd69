"""The sample Zendesk app's page (docs/zendesk-app/assets/iframe.html) in a real headless
Chromium, with a stand-in for the Zendesk Apps framework SDK: what it asks the service for,
and what the agent sees when the service says no.

Needs Debian's ``chromium`` (or ``CHROMIUM_PATH``) and Playwright; skipped without them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

APP_PAGE = Path(__file__).resolve().parents[2] / "docs" / "zendesk-app" / "assets" / "iframe.html"
APP_URL = "https://1234.apps.zdusercontent.com/1234/assets/iframe.html"
SDK_URL = "https://static.zdassets.com/zendesk_app_framework_sdk/2.0/zaf_sdk.min.js"
SERVICE = "https://ctx.example.com"
CARD_URL = f"{SERVICE}/widget?email=maya%40example.com&exp=1&sig=x"

# A stand-in ZAFClient: settings, the requester's email and the proxy's answer come from
# ``window.SCENARIO``; every client.request is kept in ``window.REQUESTS``.
STUB_SDK = """
window.REQUESTS = [];
window.ZAFClient = { init() { const s = window.SCENARIO; return {
  invoke() { return Promise.resolve({}); },
  metadata() { return Promise.resolve({ settings: s.settings }); },
  get(path) {
    const values = { "ticket.requester.email": s.email, "ticket.requester.id": s.requester_id };
    return Promise.resolve({ [path]: values[path] ?? null });
  },
  request(options) {
    window.REQUESTS.push(options);
    if (s.id_fail && options.data.includes("external_id")) return Promise.reject(s.id_fail);
    return s.fail ? Promise.reject(s.fail) : Promise.resolve(s.answer);
  },
  on(name, handler) { if (name === "app.registered") setTimeout(handler, 0); },
}; } };
"""


def _open_app(browser: Any, scenario: dict[str, Any]) -> Any:
    """The app page under ``scenario``; the card URL answers a one-line page, ``/health``
    (which the app asks before it loads the card) an empty 200."""
    page = browser.new_page(viewport={"width": 320, "height": 640})
    page.set_default_timeout(10_000)  # how long to wait for the page, not a limit on it
    page.add_init_script(f"window.SCENARIO = {json.dumps(scenario)};")
    page.route(
        APP_URL, lambda route: route.fulfill(body=APP_PAGE.read_text(), content_type="text/html")
    )
    page.route(SDK_URL, lambda route: route.fulfill(body=STUB_SDK, content_type="text/javascript"))
    page.route(
        f"{SERVICE}/widget?**",
        lambda route: route.fulfill(body="<p id='card'>card</p>", content_type="text/html"),
    )
    page.route(f"{SERVICE}/health", lambda route: route.fulfill(body="{}"))
    page.goto(APP_URL)
    return page


def _status(page: Any) -> str:
    page.wait_for_function(
        "() => !document.getElementById('status').textContent.startsWith('Loading')"
    )
    return str(page.inner_text("#status"))


def _scenario(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "settings": {"service_url": SERVICE},
        "email": "Maya.Patel+vip@example.com",
        "answer": {"url": CARD_URL, "expires_at": "x", "profile_id": "prof_1"},
        "fail": None,
    }
    return {**base, **overrides}


def test_the_app_asks_for_the_requesters_card_through_the_secure_proxy(browser: Any) -> None:
    page = _open_app(browser, _scenario())
    card = page.frame_locator("#holder iframe").locator("#card")
    assert card.inner_text() == "card"  # in a frame of the app's page, which stays
    assert page.url == APP_URL
    assert [frame.url for frame in page.frames[1:]] == [CARD_URL]


def test_the_app_sends_the_requesters_email_with_the_key_left_to_zendesk(browser: Any) -> None:
    scenario = _scenario(settings={"service_url": SERVICE + "/"}, answer={"url": "about:blank"})
    page = _open_app(browser, scenario)
    _status(page)
    (request,) = page.evaluate("() => window.REQUESTS")
    assert request["url"] == f"{SERVICE}/v1/widget/url"
    assert request["type"] == "POST"
    assert request["secure"] is True
    assert request["headers"] == {"Authorization": "Bearer {{setting.api_key}}"}
    assert json.loads(request["data"]) == {"email": scenario["email"]}


@pytest.mark.parametrize(
    ("status", "words"),
    [(404, "no customer"), (409, "several customers"), (403, "refused"), (0, "could not reach")],
)
def test_a_refusal_is_explained_to_the_agent(browser: Any, status: int, words: str) -> None:
    fail = {"status": status, "responseText": json.dumps({"title": "x", "detail": "y"})}
    page = _open_app(browser, _scenario(fail=fail))
    assert words in _status(page).lower()


def test_an_answer_that_is_not_a_web_link_is_not_followed(browser: Any) -> None:
    page = _open_app(browser, _scenario(answer={"url": "javascript:alert(document.domain)"}))
    dialogs: list[str] = []

    def dismiss(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    assert "link" in _status(page).lower()
    assert page.url == APP_URL
    assert not dialogs


def test_the_app_asks_by_the_requesters_zendesk_id_first(browser: Any) -> None:
    """The requester's Zendesk user id is theirs alone: a household's shared email (409) or a
    requester without one still gets their card."""
    page = _open_app(browser, _scenario(requester_id=9201, email="home@example.com"))
    card = page.frame_locator("#holder iframe").locator("#card")
    assert card.inner_text() == "card"
    (request,) = page.evaluate("() => window.REQUESTS")
    assert json.loads(request["data"]) == {"source": "zendesk", "external_id": "9201"}


def test_a_requester_not_synced_yet_is_asked_for_by_email(browser: Any) -> None:
    missing = {"status": 404, "responseText": json.dumps({"title": "x", "detail": "y"})}
    scenario = _scenario(requester_id=9301, id_fail=missing)
    page = _open_app(browser, scenario)
    card = page.frame_locator("#holder iframe").locator("#card")
    assert card.inner_text() == "card"
    asked = [json.loads(r["data"]) for r in page.evaluate("() => window.REQUESTS")]
    assert asked == [{"source": "zendesk", "external_id": "9301"}, {"email": scenario["email"]}]


def test_a_requester_without_an_email_not_synced_yet_is_explained(browser: Any) -> None:
    missing = {"status": 404, "responseText": json.dumps({"title": "x", "detail": "y"})}
    page = _open_app(browser, _scenario(requester_id=9302, email=None, id_fail=missing))
    assert "no customer for this requester" in _status(page).lower()
