"""The sidebar widget: Unicode bidi controls in customer-written text, what a
screen reader hears for each signal, and whether the sample Zendesk app would validate."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from context_service.errors import ConfigurationError
from context_service.models import (
    CommerceSection,
    Fulfillment,
    IdentitySection,
    Order,
    Severity,
    Signal,
    SupportSection,
    Ticket,
)
from context_service.settings import load_settings
from context_service.widget import MatchConfidence, WidgetNotConfigured, render_card, signing_key
from tests.snapshots import bare_snapshot

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
SINGLE = MatchConfidence(score=None, rule=None, links=0)
APP = Path(__file__).resolve().parents[2] / "docs" / "zendesk-app"
# Explicit directional embeddings, overrides and isolates (Unicode bidi "X" rules): one left
# open in a customer's value reorders the text that follows it on the same line.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
RLO = "\u202e"


def test_bidi_controls_in_customer_text_cannot_reorder_the_rest_of_the_card() -> None:
    snapshot = bare_snapshot(
        identity=IdentitySection(
            name=f"Eve {RLO}Mallory",
            emails=[f"{RLO}eve@example.com", "second@example.com"],
            phones=["+15551234567"],
        ),
        commerce=CommerceSection(
            order_count=1,
            orders=[
                Order(
                    number=f"10{RLO}01",
                    fulfillments=[
                        Fulfillment(tracking_company="\u2067UPS", tracking_numbers=["1Z9"])
                    ],
                )
            ],
        ),
        support=SupportSection(
            open_count=1, tickets=[Ticket(title=f"refund {RLO}gnp.exe", status="open")]
        ),
    )
    page = render_card(snapshot, SINGLE, "/v1/profiles/prof_1/audit", NOW)
    assert not BIDI_CONTROLS & set(page), "a bidi control reached the page"
    for shown in ("eve@example.com", "second@example.com", "+15551234567", "gnp.exe", "Mallory"):
        assert shown in page, shown


class _SignalText(HTMLParser):
    """The text of each ``sig`` paragraph, as a screen reader reads it (tags dropped)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if self._depth:
            self._depth += 1
        elif tag == "p" and "sig" in classes:
            self._depth = 1
            self.texts.append("")

    def handle_endtag(self, tag: str) -> None:
        if self._depth:
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth:
            self.texts[-1] += data


def test_each_signal_says_its_severity_in_words_not_only_in_colour() -> None:
    severities: tuple[Severity, ...] = ("critical", "warning", "info")
    signals = [
        Signal(code=f"c{n}", severity=severity, message=f"message {n}", source="stripe")
        for n, severity in enumerate(severities)
    ]
    page = render_card(bare_snapshot(signals=signals), SINGLE, "/audit", NOW)
    parser = _SignalText()
    parser.feed(page)
    assert len(parser.texts) == len(severities)
    for severity, text in zip(severities, parser.texts, strict=True):
        assert severity in text.lower(), (severity, text)


def _manifest() -> dict[str, object]:
    return dict(json.loads((APP / "manifest.json").read_text()))


def test_the_zendesk_app_has_the_translation_file_its_default_locale_names() -> None:
    """zcli / zendesk_apps_support refuse a package whose ``defaultLocale`` has no
    ``translations/<locale>.json``; a private app's needs at least ``app.name``."""
    locale = _manifest()["defaultLocale"]
    translation = APP / "translations" / f"{locale}.json"
    assert translation.is_file(), f"missing {translation.relative_to(APP)}"
    app = json.loads(translation.read_text())["app"]
    assert isinstance(app.get("name"), str)
    assert app["name"].strip()


def test_the_zendesk_app_api_key_is_secure_and_only_sent_in_a_header() -> None:
    """A secure setting without ``scopes`` may be inserted anywhere in a proxied request
    (Zendesk warns about it); the key is only ever needed in the Authorization header."""
    parameters = {p["name"]: p for p in _manifest()["parameters"]}  # type: ignore[attr-defined]
    api_key = parameters["api_key"]
    assert api_key["secure"] is True
    assert "default" not in api_key
    assert api_key.get("scopes") == ["header"]


def test_the_zendesk_app_uses_only_declared_settings_on_a_whitelisted_host() -> None:
    manifest = _manifest()
    parameters = {p["name"]: p for p in manifest["parameters"]}  # type: ignore[attr-defined]
    location = manifest["location"]["support"]["ticket_sidebar"]  # type: ignore[index]
    page = (APP / location["url"]).read_text()
    used = set(re.findall(r"\{\{setting\.(\w+)\}\}", page))
    used |= set(re.findall(r"settings\.(\w+)", page))
    assert used
    assert used <= set(parameters), used - set(parameters)
    default_host = urlsplit(parameters["service_url"]["default"]).hostname
    assert default_host in manifest["domainWhitelist"]  # type: ignore[operator]


def _shown_score(page: str) -> tuple[str, float]:
    """The badge's class and the score it shows."""
    found = re.search(r"badge (\w+)'>(?:weak )?match (\d\.\d\d) ", page)
    assert found is not None, page
    return found[1], float(found[2])


def test_the_match_badge_never_shows_more_certainty_than_the_score() -> None:
    """A 0.899 link is flagged (below 0.9), so it must not read "0.90"; a 0.9999 one is not
    certain, so it must not read "1.00"."""
    for score in (0.899, 0.8999, 0.9999, 0.29, 0.82, 0.9):
        confidence = MatchConfidence(score=score, rule="probabilistic", links=1)
        page = render_card(bare_snapshot(), confidence, "/audit", NOW)
        badge, shown = _shown_score(page)
        assert shown <= score, (score, shown)
        assert score - shown < 0.01, (score, shown)
        assert (badge == "ok") == (shown >= 0.9), (score, badge, shown)


def test_one_order_is_not_called_orders() -> None:
    for count, words in ((1, "1 order"), (2, "2 orders")):
        orders = [Order(number=str(n), amount="5.00", currency="USD") for n in range(count)]
        commerce = CommerceSection(order_count=count, orders=orders)
        page = render_card(bare_snapshot(commerce=commerce), SINGLE, "/a", NOW)
        lead = re.search(r"<p class='small muted'>(\d+ orders?)", page)
        assert lead is not None, page
        assert lead[1] == words


def test_a_guessable_widget_secret_signs_nothing() -> None:
    """Whoever guesses the secret from one link (an offline HMAC search) can sign a link to
    any customer; like the chatbot's user_hash secrets, it must be at least 16 characters."""
    with pytest.raises(WidgetNotConfigured, match="at least 16 characters"):
        signing_key("changeme", None)
    with pytest.raises(WidgetNotConfigured, match="at least 16 characters"):
        signing_key("changeme", b"the store's own secret, long enough")
    assert signing_key("x" * 16, None) == b"x" * 16


def test_a_short_widget_secret_is_refused_at_startup() -> None:
    with pytest.raises(ConfigurationError, match="WIDGET_SECRET"):
        load_settings({"CONTEXT_SERVICE_WIDGET_SECRET": "changeme"})


def test_a_weak_match_says_so_in_words_not_only_in_colour() -> None:
    weak = MatchConfidence(score=0.62, rule="probabilistic", links=1)
    strong = MatchConfidence(score=0.99, rule="email", links=1)
    badges = {}
    for name, confidence in (("weak", weak), ("strong", strong)):
        page = render_card(bare_snapshot(), confidence, "/audit", NOW)
        found = re.search(r"<span class='badge \w+'>([^<]*)</span>", page)
        assert found is not None, page
        badges[name] = found[1].lower()
    assert "weak" in badges["weak"]
    assert "weak" not in badges["strong"]
