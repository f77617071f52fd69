"""The links ``context-service widget-url`` and ``make demo`` print are URLs on an IPv6 host.

Their base was ``f"http://{host}:{port}"``, so with ``CONTEXT_SERVICE_HOST=::`` (an address the
settings check itself suggests) or ``::1`` the link read ``http://:::8000/widget?...``, which is
not a URL. An IPv6 address is bracketed now, and a wildcard bind (``::``, ``0.0.0.0``), which
opens nothing when put in a link, becomes the loopback address of its family.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from context_service.cli import _print_examples, main
from context_service.cli_widget import demo_widget_url
from context_service.store import Store
from tests.conftest import TEST_KEY, make_settings
from tests.trust.helpers import MAYA, copy_demo

SHOWN = {"::": "::1", "::1": "::1", "0.0.0.0": "127.0.0.1", "127.0.0.1": "127.0.0.1"}


@pytest.fixture
def db(demo_db: Path, tmp_path: Path) -> Path:
    return copy_demo(demo_db, tmp_path)


@pytest.mark.parametrize("host", ["::", "::1", "0.0.0.0"])
def test_the_printed_widget_link_is_a_url_on_any_host(
    db: Path, host: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(db))
    monkeypatch.setenv("CONTEXT_SERVICE_API_KEYS", TEST_KEY)
    monkeypatch.setenv("CONTEXT_SERVICE_HOST", host)
    monkeypatch.setenv("CONTEXT_SERVICE_PORT", "8000")
    monkeypatch.delenv("CONTEXT_SERVICE_PUBLIC_URL", raising=False)
    assert main(["widget-url", "--email", MAYA]) == 0
    url = urlsplit(capsys.readouterr().out.strip())
    assert (url.hostname, url.port, url.path) == (SHOWN[host], 8000, "/widget"), url.geturl()


@pytest.mark.parametrize("host", ["::1", "::"])
def test_the_demo_prints_urls_on_an_ipv6_host(db: Path, host: str, capsys: Any) -> None:
    settings = make_settings(db, host=host, port=8000)
    store = Store(db)
    try:
        link = demo_widget_url(settings, store)
        _print_examples(settings, store)
    finally:
        store.close()
    assert link is not None
    assert (urlsplit(link).hostname, urlsplit(link).port) == ("::1", 8000), link
    assert "curl" in (printed := capsys.readouterr().out)
    assert "http://[::1]:8000/v1/context?" in printed
