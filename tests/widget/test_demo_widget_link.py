"""The widget link `make demo` prints names Maya by profile id, like every minted link."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from context_service.cli_widget import demo_widget_url
from context_service.snapshot import lookup
from context_service.store import Store
from context_service.widget import open_link
from tests.conftest import make_settings
from tests.widget.link_key import store_key


def test_the_demo_link_opens_mayas_card_without_her_email(
    demo_store: Store, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path / "unused.db")
    url = demo_widget_url(settings, demo_store)
    assert url is not None
    assert "maya" not in url.lower()
    assert "%40" not in url
    assert "@" not in url
    key = store_key(demo_store.path)  # the secret the demo's store keeps, as the server reads it
    link = open_link(parse_qsl(urlsplit(url).query), key, now=0)
    maya = lookup.by_email(demo_store.conn, "maya.patel@example.com")
    assert link.lookup["p"] == maya.profile_id
    assert link.bound  # bound to her email (a split never re-targets it)


def test_a_store_without_maya_prints_no_link(store: Store, tmp_path: Path) -> None:
    assert demo_widget_url(make_settings(tmp_path / "unused.db"), store) is None
