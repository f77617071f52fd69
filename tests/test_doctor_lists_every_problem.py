"""``doctor`` lists each problem and exits 1 (README, "Settings"): a HubSpot portal id that is
no number was an ``error:`` line and exit 2, a padded LLM model name (which ``serve`` refuses)
went unsaid, and one setting out of range hid every other check (a short bootstrap key among
them). Nothing here reaches past the loopback: the URLs point at a closed port."""

from __future__ import annotations

from pathlib import Path

import pytest

from context_service.cli import main

CLOSED = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(tmp_path / "doctor.db"))


def _problems(capsys: pytest.CaptureFixture[str]) -> list[str]:
    out = capsys.readouterr().out
    return [line for line in out.splitlines() if line.startswith("problem")]


def test_a_portal_id_that_is_no_number_is_a_problem_listed_with_the_rest(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_HUBSPOT_ACCESS_TOKEN", "pat-na1-test")
    monkeypatch.setenv("CONTEXT_SERVICE_HUBSPOT_PORTAL_ID", "abc")
    monkeypatch.setenv("CONTEXT_SERVICE_HUBSPOT_BASE_URL", CLOSED)
    assert main(["doctor"]) == 1
    problems = _problems(capsys)
    assert any("CONTEXT_SERVICE_HUBSPOT_PORTAL_ID" in p and "'abc'" in p for p in problems)
    assert any("no API key" in p for p in problems)  # the other checks ran too


def test_a_padded_llm_model_name_is_a_problem(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_LLM_BASE_URL", CLOSED + "/v1")
    monkeypatch.setenv("CONTEXT_SERVICE_LLM_MODEL", " gpt-4o ")
    assert main(["doctor"]) == 1
    (line,) = [p for p in _problems(capsys) if "CONTEXT_SERVICE_LLM_MODEL" in p]
    assert "spaces" in line


def test_a_setting_out_of_range_does_not_hide_the_other_problems(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_PORT", "0")
    monkeypatch.setenv("CONTEXT_SERVICE_API_KEYS", "short")
    assert main(["doctor"]) == 1
    problems = _problems(capsys)
    assert any("CONTEXT_SERVICE_PORT" in p for p in problems)
    assert any("CONTEXT_SERVICE_API_KEYS is under 16" in p for p in problems)


def test_with_bad_settings_no_vendor_is_asked_and_that_is_said(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every other check runs whatever the settings, but no source or LLM is probed with
    settings that cannot work (a URL that is no URL would fail in the probe itself): a
    warning says which were not asked, and why."""
    monkeypatch.setenv("CONTEXT_SERVICE_STRIPE_API_KEY", "sk_test_doctor")
    monkeypatch.setenv("CONTEXT_SERVICE_STRIPE_BASE_URL", "http://[::1")
    monkeypatch.setenv("CONTEXT_SERVICE_LLM_BASE_URL", "http://[::1")
    monkeypatch.setenv("CONTEXT_SERVICE_LLM_MODEL", "gpt-4o")
    assert main(["doctor"]) == 1
    lines = capsys.readouterr().out.splitlines()
    problems = [line.split()[1] for line in lines if line.startswith("problem")]
    assert "CONTEXT_SERVICE_STRIPE_BASE_URL" in problems
    assert "CONTEXT_SERVICE_LLM_BASE_URL" in problems
    assert not any("reachable" in line for line in lines), lines
    (skipped,) = [line for line in lines if "not probed" in line]
    assert skipped.startswith("warning  llm, stripe: not probed until the settings")


def test_a_value_of_the_wrong_type_or_an_unknown_name_hides_no_other_problem(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A review saw ``WORKERS=abc`` make ``doctor`` print that one problem and stop, dropping
    the port out of range, the database and the keys, which ``status`` still listed."""
    monkeypatch.setenv("CONTEXT_SERVICE_WORKERS", "abc")
    monkeypatch.setenv("CONTEXT_SERVICE_NO_SUCH_SETTING", "1")
    monkeypatch.setenv("CONTEXT_SERVICE_PORT", "0")
    assert main(["doctor"]) == 1
    problems = _problems(capsys)
    assert any("CONTEXT_SERVICE_WORKERS must be an integer" in p for p in problems)
    assert any("CONTEXT_SERVICE_NO_SUCH_SETTING" in p for p in problems)
    assert any("CONTEXT_SERVICE_PORT must be between" in p for p in problems)
    assert any("no API key" in p for p in problems)


def test_a_webhook_secret_without_the_api_is_a_warning(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An ops review saw Stripe deliveries accepted then failed for want of the API key (two
    updates in one second are looked up), with nothing from ``doctor`` about it."""
    monkeypatch.setenv("CONTEXT_SERVICE_STRIPE_WEBHOOK_SECRET", "whsec_0123456789abcdef")
    monkeypatch.delenv("CONTEXT_SERVICE_STRIPE_API_KEY", raising=False)
    monkeypatch.setenv("CONTEXT_SERVICE_STRIPE_BASE_URL", CLOSED)
    main(["doctor"])
    out = capsys.readouterr().out
    (line,) = [line for line in out.splitlines() if "webhooks are verified but" in line]
    assert line.startswith("warning")
    assert "stripe" in line
    assert "CONTEXT_SERVICE_STRIPE_API_KEY" in line
