"""The sample sidebar apps keep the card in a frame of their own page and keep it current, in a
real headless Chromium with stand-ins for the helpdesk SDKs and the service.

An app that replaced itself with the card (``location.replace``) left nothing to follow the
ticket: after the agent changed the requester, the sidebar kept showing the previous
requester's orders and billing next to the new requester's ticket; an expired link was never
renewed; and a card that could not load showed the browser's "This site can't be reached"
instead of the app's words. Covered here: the Zendesk app (``docs/zendesk-app``) and the
``card-frame.js`` that ``docs/helpdesk-widget.md`` gives the Chatwoot and Freshdesk examples.

Needs Debian's ``chromium`` (or ``CHROMIUM_PATH``) and Playwright; skipped without them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

DOCS = Path(__file__).resolve().parents[2] / "docs"
APP_URL = "https://1234.apps.zdusercontent.com/1234/assets/iframe.html"
SDK_URL = "https://static.zdassets.com/zendesk_app_framework_sdk/2.0/zaf_sdk.min.js"
SERVICE = "https://ctx.example.com"
ANN, BOB = "ann.lee@example.com", "bob.stone@example.com"
REQUESTER_EVENTS = ["ticket.requester.id.changed", "ticket.requester.email.changed"]

# A stand-in ZAFClient: the requester's email is read from ``window.SCENARIO`` on every call
# (so a test can change it), each handler the app registers is kept in ``window.HANDLERS``,
# and the proxy answers a card link for the email asked with, valid ``SCENARIO.ttl`` ms, after
# failing with ``SCENARIO.fail`` ``SCENARIO.failures`` times.
STUB_SDK = """
window.REQUESTS = []; window.HANDLERS = {};
window.ZAFClient = { init() { const s = window.SCENARIO; return {
  invoke() { return Promise.resolve({}); },
  metadata() { return Promise.resolve({ settings: { service_url: s.service } }); },
  get(path) { return Promise.resolve({ [path]: path === "ticket.requester.email" ? s.email : null }); },
  request(options) {
    window.REQUESTS.push(options);
    if (s.failures > 0) { s.failures--; return Promise.reject({ status: s.fail }); }
    const email = JSON.parse(options.data).email;
    const url = s.service + "/widget?who=" + encodeURIComponent(email) + "&n=" + window.REQUESTS.length;
    return Promise.resolve({ url, expires_at: new Date(Date.now() + s.ttl).toISOString() });
  },
  on(name, handler) {
    (window.HANDLERS[name] = window.HANDLERS[name] || []).push(handler);
    if (name === "app.registered") setTimeout(handler, 0);
  },
}; } };
"""
FIRE = """(names) => {
    if (!window.HANDLERS) return 0;  // the app's page is gone
    let fired = 0;
    for (const name of names) for (const handler of (window.HANDLERS[name] || [])) {
        handler();
        fired++;
    }
    return fired;
}"""


def _card(route: Any) -> None:
    who = parse_qs(urlsplit(route.request.url).query)["who"][0]
    route.fulfill(body=f"<p id='card'>card of {who}</p>", content_type="text/html")


def _refuse(route: Any) -> None:
    route.abort("connectionrefused")


def _page(browser: Any, body: str, service: Callable[[Any], None] = _card) -> Any:
    """A page at ``APP_URL`` serving ``body``, with the service's card and ``/health``
    answered by ``service`` (``_refuse``: the service is down)."""
    page = browser.new_page(viewport={"width": 320, "height": 640})
    page.set_default_timeout(10_000)  # how long to wait for the page, not a limit on it
    page.route(APP_URL, lambda route: route.fulfill(body=body, content_type="text/html"))
    page.route(SDK_URL, lambda route: route.fulfill(body=STUB_SDK, content_type="text/javascript"))
    page.route(f"{SERVICE}/widget?**", service)
    health = (lambda route: route.fulfill(body="{}")) if service is _card else service
    page.route(f"{SERVICE}/health", health)
    return page


def _open_app(
    browser: Any, clock: bool = False, service: Callable[[Any], None] = _card, **scenario: Any
) -> Any:
    """The Zendesk app's page for a ticket requested by ``scenario['email']`` (Ann's)."""
    page = _page(browser, (DOCS / "zendesk-app" / "assets" / "iframe.html").read_text(), service)
    if clock:
        page.clock.install()
    settings = {"email": ANN, "service": SERVICE, "ttl": 300_000, "failures": 0, "fail": 503}
    page.add_init_script(f"window.SCENARIO = {json.dumps({**settings, **scenario})};")
    page.goto(APP_URL)
    return page


def _cards(page: Any) -> list[str]:
    """The card shown in each of the page's child frames."""
    texts: list[str] = []
    for frame in page.main_frame.child_frames:
        if not frame.is_detached():  # a card just removed may still be listed
            texts += frame.eval_on_selector_all("#card", "cards => cards.map(c => c.textContent)")
    return texts


def _wait_for_card(page: Any, email: str) -> None:
    # the card shown: a renewed link loads hidden beside it until it is ready
    page.frame_locator("iframe:not([hidden])").get_by_text(f"card of {email}").wait_for()


def _status(page: Any) -> str:
    return str(page.inner_text("#status"))


def test_the_sidebar_follows_a_change_of_requester(browser: Any) -> None:
    page = _open_app(browser)
    _wait_for_card(page, ANN)
    page.evaluate(f"window.SCENARIO.email = {json.dumps(BOB)}")
    fired = page.evaluate(FIRE, REQUESTER_EVENTS)
    assert fired, "no handler left for a change of requester: the app replaced itself"
    sources = page.locator("iframe").evaluate_all("frames => frames.map(f => f.src)")
    assert not [s for s in sources if quote(ANN, safe="") in s], "the previous card stayed up"
    _wait_for_card(page, BOB)
    page.wait_for_timeout(300)  # a second card would have been asked for by now
    assert _cards(page) == [f"card of {BOB}"]
    assert len(page.evaluate("window.REQUESTS")) == 2  # one change, one new link
    assert page.url == APP_URL


def test_a_card_that_cannot_be_loaded_is_explained_in_words(browser: Any) -> None:
    page = _open_app(browser, service=_refuse)
    page.wait_for_function(
        "() => (document.getElementById('status') || {}).textContent?.includes('reach')"
    )
    assert "cannot reach the context service" in _status(page)
    assert "try" in _status(page).lower()  # and it will try again
    assert page.url == APP_URL
    assert not any(frame.url.startswith("chrome-error:") for frame in page.frames), (
        "the browser's own error page is shown"
    )


def test_the_link_is_renewed_before_it_expires(browser: Any) -> None:
    page = _open_app(browser, clock=True, ttl=300_000)
    _wait_for_card(page, ANN)
    assert len(page.evaluate("window.REQUESTS")) == 1
    page.clock.run_for(240_000)
    assert len(page.evaluate("window.REQUESTS")) == 1  # not before it is due
    page.clock.run_for(40_000)  # 30 s before the five minutes are up
    page.wait_for_function("() => window.REQUESTS.length === 2")
    # the renewed card replaces the first once it has loaded (hidden until then)
    page.wait_for_function(
        "() => [...document.querySelectorAll('iframe')].map(f => f.src.slice(-3)).join() === 'n=2'"
    )
    page.frame_locator("iframe").locator("#card").wait_for()
    assert [urlsplit(frame.url).query[-3:] for frame in page.main_frame.child_frames] == ["n=2"]


def test_no_link_is_renewed_while_the_app_is_off_screen(browser: Any) -> None:
    page = _open_app(browser, clock=True, ttl=300_000)
    _wait_for_card(page, ANN)
    page.evaluate(FIRE, ["app.deactivated"])
    page.clock.run_for(600_000)
    assert len(page.evaluate("window.REQUESTS")) == 1  # no card read nobody looks at
    page.evaluate(FIRE, ["app.activated"])
    page.wait_for_function("() => window.REQUESTS.length === 2")


def test_a_failure_that_may_pass_is_tried_again(browser: Any) -> None:
    page = _open_app(browser, clock=True, failures=1, fail=503)
    page.wait_for_function("() => document.getElementById('status').textContent.includes('busy')")
    assert "again" in _status(page)
    assert _cards(page) == []
    page.clock.run_for(31_000)
    _wait_for_card(page, ANN)
    assert len(page.evaluate("window.REQUESTS")) == 2
    # a refusal that will not pass (no such customer) is said once, not asked again
    page = _open_app(browser, clock=True, failures=5, fail=404)
    page.wait_for_function("() => document.getElementById('status').textContent.includes('No')")
    page.clock.run_for(120_000)
    assert len(page.evaluate("window.REQUESTS")) == 1


# --- card-frame.js, as docs/helpdesk-widget.md gives it --------------------------------------


def _card_frame_js() -> str:
    """The ``card-frame.js`` code block of the helpdesk guide."""
    guide = (DOCS / "helpdesk-widget.md").read_text()
    found = re.search(r"```js\n(// card-frame\.js.*?)```", guide, re.DOTALL)
    assert found is not None, "docs/helpdesk-widget.md has no card-frame.js block"
    return found[1]


# A helpdesk page using card-frame.js: the contact's email is ``window.EMAIL``; ``mint`` asks
# the stand-in service for a link valid five minutes (or says there is no email).
CARD_FRAME_PAGE = """<!doctype html><meta charset="utf-8">
<p id="status"></p><div id="holder"></div>
<script>{code}</script>
<script>
  window.REQUESTS = 0;
  window.card = cardFrame(document.getElementById("holder"), document.getElementById("status"),
    async () => {{
      if (!window.EMAIL) return "This contact has no email address.";
      window.REQUESTS++;
      return {{ url: "{service}/widget?who=" + encodeURIComponent(window.EMAIL),
                expires_at: new Date(Date.now() + 300000).toISOString() }};
    }});
  window.EMAIL = "{email}";
  window.card.change();
</script>"""


def _open_card_frame(browser: Any, service: Callable[[Any], None] = _card) -> Any:
    body = CARD_FRAME_PAGE.format(code=_card_frame_js(), service=SERVICE, email=ANN)
    page = _page(browser, body, service)
    page.goto(APP_URL)
    return page


def test_the_guides_card_frame_follows_the_contact(browser: Any) -> None:
    page = _open_card_frame(browser)
    _wait_for_card(page, ANN)
    page.evaluate(f"window.EMAIL = {json.dumps(BOB)}; window.card.change()")
    # At once, whatever else is already on its way: no frame of the previous contact's card.
    sources = page.locator("iframe").evaluate_all("frames => frames.map(f => f.src)")
    assert not [s for s in sources if quote(ANN, safe="") in s], "the previous card stayed up"
    _wait_for_card(page, BOB)
    page.wait_for_timeout(300)
    assert _cards(page) == [f"card of {BOB}"]
    assert page.url == APP_URL
    page.evaluate("window.EMAIL = ''; window.card.change()")
    page.wait_for_function("() => document.getElementById('status').textContent.includes('no')")
    assert _cards(page) == []


def test_the_guides_card_frame_explains_an_unreachable_service(browser: Any) -> None:
    page = _open_card_frame(browser, service=_refuse)
    page.wait_for_function("() => document.getElementById('status').textContent.includes('reach')")
    assert "cannot reach the context service" in _status(page)
    assert not any(frame.url.startswith("chrome-error:") for frame in page.frames)
