"""Identifiers typed into a chat lose the characters no reader sees before they are matched:
a bidi override, a right-to-left mark, a zero-width space or a BOM copied along with an email,
phone, name or order number used to make ``POST /v1/context/lookup`` answer 404 where the same
details without it answered 409, and ``GET /v1/context`` answer 404 for a known email. Every
lookup path is held to it: ``GET /v1/context`` (the stored row's fast path and the full path),
``POST /v1/context/lookup``, the tools over HTTP and the widget link."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.tools.typed import typed
from tests.conftest import TEST_KEY, make_settings
from tests.trust.helpers import MAYA, MAYA_PHONE, copy_demo

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
# Format characters (Unicode Cf) a chat or a copy from a web page carries along.
MARKS = ["\u200b", "\u200e", "\u200f", "\u202a", "\u202e", "\u2066", "\u2069", "\ufeff", "\u061c"]


@pytest.fixture(scope="module")
def client(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    db = copy_demo(demo_db, tmp_path_factory.mktemp("invisible"))
    with TestClient(app=create_app(make_settings(db))) as test_client:
        yield test_client


def _maya(client: Any) -> str:
    answer = client.get("/v1/context", params={"email": MAYA}, headers=AUTH)
    assert answer.status_code == 200
    return str(answer.json()["profile_id"])


@pytest.mark.parametrize("mark", MARKS)
@pytest.mark.parametrize("where", ["end", "start", "inside"])
@pytest.mark.parametrize("extra", ["", "&format=text", "&audience=agent"])
def test_get_context_finds_an_email_carrying_an_invisible_mark(
    client: Any, mark: str, where: str, extra: str
) -> None:
    """The stored row (no options, or ``format=text``) and the full path (an audience) alike."""
    local, domain = MAYA.split("@")
    email = {
        "end": MAYA + mark,
        "start": mark + MAYA,
        "inside": f"{local}{mark}@{domain}",
    }[where]
    response = client.get(f"/v1/context?email={quote(email)}{extra}", headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.headers["x-profile-id"] == _maya(client)


def test_get_context_finds_a_phone_carrying_invisible_marks(client: Any) -> None:
    phone = "\u202a" + MAYA_PHONE[:5] + "\u200b" + MAYA_PHONE[5:] + "\u202c"
    response = client.get("/v1/context", params={"phone": phone}, headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.headers["x-profile-id"] == _maya(client)


def _lookup(client: Any, body: dict[str, str]) -> Any:
    return client.post("/v1/context/lookup", json=body, headers=AUTH)


@pytest.mark.parametrize(
    "marked",
    [
        {"name": "\u202eMaya Patel"},
        {"name": "Maya Patel\u200f"},
        {"name": "\u2067Maya Patel\u2069"},
        {"name": "Maya\u200b Patel"},
        {"name": "Maya Patel", "order_number": "1003\u200f"},
        {"name": "\ufeffMaya Patel", "order_number": "\u200e1003"},
        {"email": MAYA + "\u200f", "name": "Maya\u200e Patel"},
    ],
)
def test_lookup_answers_as_for_the_details_without_the_marks(
    client: Any, marked: dict[str, str]
) -> None:
    plain = {field: typed(value) for field, value in marked.items()}
    assert plain != marked
    expected = _lookup(client, plain)
    got = _lookup(client, marked)
    assert got.status_code == expected.status_code, got.text
    assert got.status_code in (200, 409)
    if got.status_code == 200:
        assert got.headers["x-profile-id"] == expected.headers["x-profile-id"]
        assert got.headers.get("x-matched-by") == expected.headers.get("x-matched-by")
    else:
        assert got.json()["candidates"] == expected.json()["candidates"]


def test_a_name_of_marks_only_is_no_name(client: Any) -> None:
    response = _lookup(client, {"name": "\u200b\u202e"})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("tool", ["find_customer", "get_customer_context"])
def test_the_tools_find_an_email_carrying_an_invisible_mark(client: Any, tool: str) -> None:
    arguments = {"email": "\u2066" + MAYA + "\u200f"}
    if tool == "get_customer_context":
        arguments["format"] = "json"
    body = {"name": tool, "arguments": arguments}
    response = client.post("/v1/tools/call", json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    assert _maya(client) in response.text


def test_the_widget_link_finds_an_email_carrying_an_invisible_mark(client: Any) -> None:
    body = {"email": MAYA + "\u200f"}
    response = client.post("/v1/widget/url", json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.json()["profile_id"] == _maya(client)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("\u202eMaya Patel", "Maya Patel"),
        ("Maya\u200dPatel", "MayaPatel"),  # between ASCII letters a joiner only splits a word
        ("\u0915\u094d\u200d\u0937", "\u0915\u094d\u200d\u0937"),  # a script's own joiner
        ("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", None),  # Persian's non-joiner
        ("\u180e1003\u00ad", "1003"),  # a Mongolian vowel separator, a soft hyphen
        ("\U000e0069\U000e0067maya@example.com", "maya@example.com"),  # tag characters
        ("Zoë O'Brien", None),
    ],
)
def test_typed_drops_format_characters_but_a_scripts_joiners(text: str, kept: str | None) -> None:
    assert typed(text) == (text if kept is None else kept)
