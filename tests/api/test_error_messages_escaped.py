"""Error messages: what a caller or an operator reads when something is refused.

* ``POST /v1/keys`` with ``"audiences": []`` made a key that may see no audience (it can read
  nothing); it is a 400 naming the field.
* A problem's ``detail`` echoed control and bidirectional characters from the request (they
  forge log lines and reverse text in a UI) and showed a blank profile id as nothing at all;
  they are escaped visibly, like ``repr``, and long values are cut.
* Problems from the mounted ``/mcp`` app said ``"instance": "/"`` (litestar rewrites a mounted
  app's path); ``instance`` is the path the client asked for, percent-encoded.
* The CLI printed every bad setting on one ``error:`` line joined by ``"; "``; each is on its
  own line.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.cli import main
from context_service.errors import ConfigurationError, shown, visible
from context_service.store import Store
from tests.conftest import make_settings
from tests.mcp.messages import ACCEPT_MCP
from tests.review_fixtures import AUTH, app_client

PROBLEM = "application/problem+json"
HIDDEN = "\x00\x11\x1b\n\r\t\x7f\x85\u00ad\u200b\u200e\u202a\u202e\u2066\u2069\u2028\u2029\ufeff"


def _hidden_in(text: str) -> list[str]:
    """The characters of ``text`` a reader cannot see or that change how the rest reads."""
    return [c for c in text if unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp", "Cs"}]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient[Any]]:
    """The app over an empty store, with the test (bootstrap) key."""
    db = tmp_path_factory.mktemp("polish") / "polish.db"
    Store(db).close()
    with app_client(db) as test_client:
        yield test_client


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


# ---------------------------------------------------------------------------------------------
# POST /v1/keys with no audience


def test_a_key_limited_to_no_audience_is_refused_and_not_created(
    client: TestClient[Any],
) -> None:
    body = {"name": "sees-nothing", "scopes": ["context:read"], "audiences": []}
    problem = _problem(client.post("/v1/keys", json=body, headers=AUTH), 400)
    assert "audiences" in problem["detail"]
    names = [key["name"] for key in client.get("/v1/keys", headers=AUTH).json()["keys"]]
    assert "sees-nothing" not in names


def test_a_key_limited_to_one_audience_is_still_created(client: TestClient[Any]) -> None:
    body = {"name": "sees-chatbot", "scopes": ["context:read"], "audiences": ["chatbot"]}
    response = client.post("/v1/keys", json=body, headers=AUTH)
    assert response.status_code == 201, response.text


# ---------------------------------------------------------------------------------------------
# Control and bidirectional characters in details


@pytest.mark.parametrize("hidden", list(HIDDEN))
def test_a_profile_id_with_a_hidden_character_is_shown_escaped(
    client: TestClient[Any], hidden: str
) -> None:
    url = f"/v1/profiles/{quote('prof_' + hidden + 'x', safe='')}/audit"
    problem = _problem(client.get(url, headers=AUTH), 400)  # no profile id's shape: a 400
    assert _hidden_in(problem["detail"]) == [], problem["detail"]
    assert _hidden_in(problem["instance"]) == [], problem["instance"]
    assert repr(hidden)[1:-1] in problem["detail"], problem["detail"]


def test_a_blank_profile_id_is_visible_in_the_detail(client: TestClient[Any]) -> None:
    """``no profile  `` showed nothing where the id was."""
    problem = _problem(client.get("/v1/profiles/%20/audit", headers=AUTH), 400)
    assert repr(" ") in problem["detail"], problem["detail"]


def test_a_long_profile_id_is_cut_in_the_detail(client: TestClient[Any]) -> None:
    asked = "\u202e" * 64
    problem = _problem(client.get(f"/v1/profiles/{quote(asked)}/audit", headers=AUTH), 400)
    assert _hidden_in(problem["detail"]) == []
    assert len(problem["detail"]) < len(repr(asked)), problem["detail"]


@pytest.mark.parametrize("hidden", ["\x11", "\u202e", "\n", "\u2066"])
@pytest.mark.parametrize("parameter", ["email", "phone", "profile_id"])
def test_a_context_lookup_never_echoes_a_hidden_character(
    client: TestClient[Any], hidden: str, parameter: str
) -> None:
    """Messages built outside the API (``snapshot.lookup``, ``identity.normalize``) too."""
    value = {"email": f"a{hidden}b@example.com", "phone": f"+1555{hidden}0100"}.get(
        parameter, f"prof_{hidden}"
    )
    response = client.get("/v1/context", params={parameter: value}, headers=AUTH)
    assert 400 <= response.status_code < 500, response.text
    detail = response.json()["detail"]
    assert _hidden_in(detail) == [], detail


def test_a_long_value_echoed_by_a_lookup_is_bounded(client: TestClient[Any]) -> None:
    email = "\u202e" * 300 + "@example.com"
    response = client.get("/v1/context", params={"email": email}, headers=AUTH)
    detail = response.json()["detail"]
    assert _hidden_in(detail) == []
    assert len(detail) < len(email.encode("unicode_escape")), len(detail)


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("POST", "/v1/keys", {"name": "k", "scopes": ["context:read"], "hi\u202ede": 1}),
        ("GET", "/v1/context?email=a@example.com&na%E2%80%AEme%11=1", None),
        ("GET", "/v1/nope%E2%80%AEx%0A", None),
    ],
)
def test_framework_messages_show_no_hidden_character(
    client: TestClient[Any], method: str, url: str, body: Any
) -> None:
    """Litestar's and msgspec's messages quote what was sent: an unknown field of the body,
    an unknown query parameter, a path with no route."""
    response = client.request(method, url, json=body, headers=AUTH)
    problem = _problem(response, response.status_code)
    assert 400 <= response.status_code < 500
    assert _hidden_in(problem["detail"]) == [], problem["detail"]
    for error in problem.get("errors", []):
        assert _hidden_in(str(error.get("message", ""))) == [], error
        assert _hidden_in(str(error.get("key", ""))) == [], error


def test_visible_escapes_only_what_cannot_be_seen() -> None:
    assert visible("café — ok 'x' \\ /") == "café — ok 'x' \\ /"
    assert visible("a\x11b\u202ec\nd") == "a\\x11b\\u202ec\\nd"


def test_shown_quotes_and_cuts_a_value() -> None:
    assert shown(" ") == "' '"
    assert shown("x" * 500, limit=20).startswith("'xxxx")
    assert len(shown("x" * 500, limit=20)) <= 20
    assert "\u202e" not in shown("\u202e")


# ---------------------------------------------------------------------------------------------
# instance


def test_a_problem_from_mcp_names_the_mcp_path(client: TestClient[Any]) -> None:
    response = client.post("/mcp", content=b"{}", headers=ACCEPT_MCP)  # no key
    assert _problem(response, 401)["instance"] == "/mcp"


def test_instance_is_the_path_asked_without_its_query(client: TestClient[Any]) -> None:
    response = client.get("/v1/profiles/a%11b/audit?x=secret", headers=AUTH)
    assert response.status_code in (400, 404), response.text
    problem = _problem(response, response.status_code)
    assert problem["instance"] == "/v1/profiles/a%11b/audit"


def test_instance_keeps_the_root_path_of_a_proxy(tmp_path: Path) -> None:
    db = tmp_path / "root.db"
    Store(db).close()
    app = create_app(make_settings(db))
    with TestClient(app=app, root_path="/api") as proxied:
        response = proxied.post("/api/mcp", content=b"{}", headers=ACCEPT_MCP)
    assert response.status_code == 401, response.text
    assert response.json()["instance"] == "/api/mcp"


# ---------------------------------------------------------------------------------------------
# The CLI


@pytest.fixture
def bad_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Two bad values (host and log level), nothing else from the environment."""
    for name in list(os.environ):
        if name.startswith("CONTEXT_SERVICE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(tmp_path / "cli.db"))
    monkeypatch.setenv("CONTEXT_SERVICE_HOST", "not; an address")
    monkeypatch.setenv("CONTEXT_SERVICE_LOG_LEVEL", "LOUD")


@pytest.mark.usefixtures("bad_settings")
def test_each_bad_setting_is_on_its_own_error_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status"]) == 2
    lines = capsys.readouterr().err.splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 2, lines
    assert "CONTEXT_SERVICE_HOST" in errors[0]
    assert "'not; an address'" in errors[0]  # a "; " inside a value is no split
    assert "CONTEXT_SERVICE_LOG_LEVEL" in errors[1]
    assert all(line.startswith("error: ") for line in lines), lines


def test_other_errors_keep_their_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_NOPE", "1")
    monkeypatch.setenv("CONTEXT_SERVICE_NOTHER", "1")
    assert main(["status"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: unknown setting(s)")


def test_an_error_carrying_its_problems_prints_each(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A ``ConfigurationError`` may carry the list itself (``problems=[...]``)."""
    problems = ["first; with a semicolon", "second\x1b[2J"]

    def refuse(**_: Any) -> None:
        raise ConfigurationError("; ".join(problems), problems=problems)

    monkeypatch.setattr("context_service.cli.load_settings", refuse)
    assert main(["status"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: first; with a semicolon",
        "error: second\\x1b[2J",
    ]
