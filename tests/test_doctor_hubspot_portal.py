"""``doctor`` reads the HubSpot access token's portal and compares it with
``CONTEXT_SERVICE_HUBSPOT_PORTAL_ID``: a setting naming another portal makes the service refuse
every webhook event of the portal it syncs, which nothing else would say. The account details'
shape (``{"portalId": 62515, ...}``) is HubSpot's "Account information" API
(``GET /account-info/v3/details``)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from context_service.doctor import Finding, PortalReader, diagnose, read_hubspot_portal
from context_service.settings import Settings
from tests.cli_process import run_cli
from tests.conftest import make_settings
from tests.loopback import serving

TOKEN = "pat-na1-0000-test-token"


def _hubspot_findings(tmp_path: Path, portal_id: str | None, read: PortalReader) -> list[Finding]:
    settings = make_settings(
        tmp_path / "c.db", hubspot_access_token=TOKEN, hubspot_portal_id=portal_id
    )
    findings = diagnose(settings, ["hubspot"], probe=lambda url: None, read_portal=read)
    return [f for f in findings if f.text.startswith("hubspot:") and "portal" in f.text]


def _settings(base_url: str) -> Settings:
    return make_settings("unused.db", hubspot_access_token=TOKEN, hubspot_base_url=base_url)


def _reads(portal: str) -> PortalReader:
    return lambda settings: portal


def test_the_configured_portal_being_the_tokens_is_ok(tmp_path: Path) -> None:
    (finding,) = _hubspot_findings(tmp_path, "62515", _reads("62515"))
    assert finding.level == "ok"
    assert "62515" in finding.text


def test_a_configured_portal_that_is_not_the_tokens_is_a_problem_naming_both(
    tmp_path: Path,
) -> None:
    (finding,) = _hubspot_findings(tmp_path, "4242424", _reads("62515"))
    assert finding.level == "problem"
    assert "'4242424'" in finding.text
    assert "portal 62515" in finding.text
    assert "refused" in finding.text


def test_without_the_setting_the_tokens_portal_is_said(tmp_path: Path) -> None:
    (finding,) = _hubspot_findings(tmp_path, None, _reads("62515"))
    assert finding.level == "ok"
    assert "62515" in finding.text


def test_a_portal_that_cannot_be_read_is_a_warning_saying_why(tmp_path: Path) -> None:
    def unreadable(settings: Settings) -> str:
        raise ValueError("HTTP 401")

    (finding,) = _hubspot_findings(tmp_path, "62515", unreadable)
    assert finding.level == "warning"
    assert "HTTP 401" in finding.text
    assert TOKEN not in finding.text


def test_without_a_token_nothing_is_read(tmp_path: Path) -> None:
    def never(settings: Settings) -> str:
        raise AssertionError("read without a token")

    settings = make_settings(tmp_path / "c.db", hubspot_portal_id="62515")
    findings = diagnose(settings, ["hubspot"], probe=lambda url: None, read_portal=never)
    assert not [f for f in findings if f.text.startswith("hubspot:") and "portal" in f.text]


def test_the_portal_is_read_with_the_token_from_the_account_details() -> None:
    asked: list[httpx.Request] = []

    def hubspot(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return httpx.Response(200, json={"portalId": 62515, "timeZone": "US/Eastern"})

    with serving(hubspot) as base_url:
        assert read_hubspot_portal(_settings(base_url + "/")) == "62515"
    (request,) = asked
    assert request.url.path == "/account-info/v3/details"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (httpx.Response(401, json={"status": "error"}), "HTTP 401"),
        (httpx.Response(200, text="<html>"), "malformed JSON"),
        (httpx.Response(200, json={"timeZone": "US/Eastern"}), "no portalId"),
        (httpx.Response(200, json=[62515]), "no portalId"),
    ],
)
def test_an_answer_without_a_portal_says_why(answer: httpx.Response, why: str) -> None:
    with serving(lambda request: answer) as base_url, pytest.raises(ValueError, match=why):
        read_hubspot_portal(_settings(base_url))


def test_doctor_exits_1_on_a_portal_mismatch(tmp_path: Path) -> None:
    def hubspot(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"portalId": 62515})

    with serving(hubspot) as base_url:
        done = run_cli(
            "doctor",
            db=tmp_path / "c.db",
            CONTEXT_SERVICE_API_KEYS="k" * 24,
            CONTEXT_SERVICE_HUBSPOT_ACCESS_TOKEN=TOKEN,
            CONTEXT_SERVICE_HUBSPOT_CLIENT_SECRET="s" * 24,
            CONTEXT_SERVICE_HUBSPOT_BASE_URL=base_url,
            CONTEXT_SERVICE_HUBSPOT_PORTAL_ID="4242424",
        )
    assert done.returncode == 1, done.stdout + done.stderr
    (line,) = [
        line for line in done.stdout.splitlines() if "hubspot: " in line and "portal" in line
    ]
    assert line.startswith("problem")
    assert "portal 62515" in line
    assert TOKEN not in done.stdout + done.stderr
