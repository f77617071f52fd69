"""GET /v1/context and POST /v1/context/lookup with audience, format, max_tokens and summary."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.audience import count_tokens
from context_service.audience.policy import fingerprint
from tests.conftest import TEST_KEY, make_settings
from tests.llm.helpers import completion, copy_db, mock_client

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
MAYA = "maya.patel@example.com"


@pytest.fixture
def client(demo_db: Path) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(make_settings(demo_db))) as test_client:
        yield test_client


def _get(client: TestClient[Any], **params: Any) -> Any:
    return client.get("/v1/context", params={"email": MAYA, **params}, headers=AUTH)


@pytest.mark.parametrize("audience", ["chatbot", "agent", "sidebar", "escalation"])
@pytest.mark.parametrize(
    ("fmt", "media"),
    [("json", "application/json"), ("text", "text/plain"), ("markdown", "text/markdown")],
)
def test_every_audience_and_format(
    client: TestClient[Any], audience: str, fmt: str, media: str
) -> None:
    response = _get(client, audience=audience, format=fmt, max_tokens=400)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(media)
    assert response.headers["x-context-audience"] == audience
    tokens = int(response.headers["x-context-tokens"])
    assert tokens == count_tokens(response.text) <= 400
    assert "Maya Patel" in response.text


def test_default_request_is_still_the_stored_snapshot(client: TestClient[Any]) -> None:
    plain = _get(client)
    assert plain.status_code == 200
    assert "x-context-audience" not in plain.headers
    assert plain.json()["identity"]["emails"] == [MAYA]


def test_chatbot_json_is_masked_and_says_what_was_left_out(client: TestClient[Any]) -> None:
    body = _get(client, audience="chatbot", max_tokens=200).json()
    assert body["customer"][0]["emails"] == ["m***@example.com"]
    assert body["max_tokens"] == 200
    assert sum(body["omitted"].values()) >= 1


def test_vendor_id_lookup_puts_the_order_in_question_first(client: TestClient[Any]) -> None:
    snap = _get(client).json()
    order = snap["commerce"]["orders"][-1]
    response = client.get(
        "/v1/context",
        params={
            "source": "shopify",
            "external_id": order["external_id"],
            "audience": "chatbot",
            "format": "text",
        },
        headers=AUTH,
    )
    assert response.status_code == 200
    assert response.text.index(f"Order {order['title']}") < response.text.index("Needs attention")


@pytest.mark.parametrize(
    "params",
    [
        {"audience": "robot"},
        {"format": "xml"},
        {"max_tokens": "10"},
        {"max_tokens": "1000000"},
        {"max_tokens": "many"},
        {"summary": "poem"},
    ],
)
def test_bad_options_are_problem_400(client: TestClient[Any], params: dict[str, str]) -> None:
    response = _get(client, **params)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"]


def test_lookup_post_gives_the_same_answer(client: TestClient[Any]) -> None:
    response = client.post(
        "/v1/context/lookup",
        json={"phone": "(415) 555-0134", "audience": "chatbot", "format": "text"},
        headers=AUTH,
    )
    assert response.status_code == 200, response.text
    assert 'customer-written "Maya Patel"' in response.text
    plain = client.post("/v1/context/lookup", json={"email": MAYA}, headers=AUTH)
    assert plain.json()["identity"]["name"] == "Maya Patel"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"email": MAYA, "colour": "blue"}, 400),
        ({"email": MAYA, "max_tokens": 5}, 400),
        ({"email": MAYA, "audience": "robot"}, 400),
        ({}, 400),
        ({"email": MAYA, "profile_id": "prof_00000000000000000000000000"}, 400),
        ({"email": "nobody.here@example.com"}, 404),
        ({"email": "info@silvacosta.example", "audience": "chatbot"}, 409),
    ],
)
def test_lookup_post_bad_bodies(client: TestClient[Any], body: dict[str, Any], status: int) -> None:
    response = client.post("/v1/context/lookup", json=body, headers=AUTH)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_key_limited_to_the_chatbot_gets_403_for_more(demo_db: Path, tmp_path: Path) -> None:
    bot_key = "bot-key-0123456789"
    policy = tmp_path / "policy.toml"
    policy.write_text(f'[keys.{fingerprint(bot_key)}]\naudiences = ["chatbot"]\n')
    settings = make_settings(demo_db, api_keys=[TEST_KEY, bot_key], field_policy=str(policy))
    with TestClient(app=create_app(settings)) as test_client:
        bot = {"Authorization": f"Bearer {bot_key}"}
        ok = test_client.get(
            "/v1/context", params={"email": MAYA, "audience": "chatbot"}, headers=bot
        )
        assert ok.status_code == 200
        for params in ({"email": MAYA}, {"email": MAYA, "audience": "agent"}):
            denied = test_client.get("/v1/context", params=params, headers=bot)
            assert denied.status_code == 403
            assert "Maya" not in denied.text
        # Nobody has this address: the answer is the same 403, so the key cannot probe who
        # is a customer through the audiences it may not use.
        for params in (
            {"email": "nobody@example.com"},
            {"email": "nobody@example.com", "audience": "agent"},
        ):
            assert test_client.get("/v1/context", params=params, headers=bot).status_code == 403
        body = {"email": "nobody@example.com", "audience": "agent"}
        assert test_client.post("/v1/context/lookup", json=body, headers=bot).status_code == 403
        assert (
            test_client.get("/v1/context", params={"email": MAYA}, headers=AUTH).status_code == 200
        )


def test_summary_deterministic_and_llm_without_configuration(client: TestClient[Any]) -> None:
    response = _get(client, audience="agent", format="text", summary="deterministic")
    assert response.headers["x-summary-source"] == "deterministic"
    assert 'Summary: customer-written "Maya Patel"' in response.text
    fallback = _get(client, audience="chatbot", format="json", summary="llm")
    assert fallback.status_code == 200
    assert fallback.headers["x-summary-fallback"] == "no LLM configured"
    assert fallback.json()["summary"][0]["fallback"] == "no LLM configured"


def test_summary_llm_is_cached_across_requests(demo_db: Path, tmp_path: Path) -> None:
    calls: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(request)
        return httpx2.Response(200, json=completion("Maya's Pro plan is past due."))

    db = copy_db(demo_db, tmp_path)
    app = create_app(make_settings(db), llm_client=mock_client(handler))
    with TestClient(app=app) as test_client:
        params = {"email": MAYA, "audience": "chatbot", "format": "text", "summary": "llm"}
        first = test_client.get("/v1/context", params=params, headers=AUTH)
        second = test_client.get("/v1/context", params=params, headers=AUTH)
    assert first.headers["x-summary-source"] == "llm"
    assert second.headers["x-summary-source"] == "llm-cache"
    assert 'llm-generated "Maya\'s Pro plan is past due."' in second.text
    assert len(calls) == 1


def test_summary_llm_timeout_falls_back_flagged(demo_db: Path, tmp_path: Path) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("slow", request=request)

    app = create_app(make_settings(copy_db(demo_db, tmp_path)), llm_client=mock_client(handler))
    with TestClient(app=app) as test_client:
        response = test_client.get(
            "/v1/context",
            params={"email": MAYA, "audience": "agent", "summary": "llm"},
            headers=AUTH,
        )
    assert response.status_code == 200
    assert response.headers["x-summary-fallback"] == "timeout"
    assert response.json()["summary"][0]["source"] == "deterministic"


def test_the_identity_line_says_how_the_customer_was_found(client: TestClient[Any]) -> None:
    by_email = _get(client, audience="chatbot", format="text")
    assert "matched by email" in by_email.text
    searched = client.post(
        "/v1/context/lookup",
        json={
            "name": "Tomas Garcia",
            "order_number": "1004",
            "audience": "chatbot",
            "format": "text",
        },
        headers=AUTH,
    )
    assert searched.status_code == 200, searched.text
    line = next(x for x in searched.text.splitlines() if "matched by" in x)
    assert "confidence" in line
    assert "order_number" in line
