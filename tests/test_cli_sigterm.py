"""SIGTERM (``timeout``, systemd, ``kill``) stops a `context-service sync` as Ctrl-C does: the
run is recorded as failed, not left ``running``, and the command exits with status 143."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import httpx
import pytest

from context_service.cli import main
from tests.integrations.stripe.fake import API_KEY, FakeStripe
from tests.loopback import serving


def test_sigterm_during_a_sync_records_the_run_as_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeStripe()
    fake.add_customers(3)
    before = signal.getsignal(signal.SIGTERM)
    answered = {"n": 0}

    def terminate_on_the_second_request(request: httpx.Request) -> httpx.Response:
        answered["n"] += 1
        handled = signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, signal.SIG_IGN, None)
        if answered["n"] == 2 and handled:  # never kill the test run itself
            os.kill(os.getpid(), signal.SIGTERM)
        return fake.handler(request)

    with serving(terminate_on_the_second_request) as base_url:
        monkeypatch.setenv("CONTEXT_SERVICE_DB", str(tmp_path / "cli.db"))
        monkeypatch.setenv("CONTEXT_SERVICE_STRIPE_API_KEY", API_KEY)
        monkeypatch.setenv("CONTEXT_SERVICE_STRIPE_BASE_URL", base_url)
        assert main(["sync", "stripe"]) == 143
        assert "SIGTERM" in capsys.readouterr().err
        assert main(["status", "--json"]) == 0
    run = json.loads(capsys.readouterr().out)["stripe"]["last_run"]
    assert run["status"] == "failed"
    assert "SIGTERM" in run["error"]
    assert signal.getsignal(signal.SIGTERM) == before  # put back once the command is done
