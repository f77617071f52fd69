"""GET /v1/tools/openai through the OpenAI SDK's own request building (no network)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from litestar.testing import TestClient
from openai.types.chat import ChatCompletionToolUnionParam
from openai.types.responses import FunctionToolParam
from pydantic import TypeAdapter

from context_service.api import create_app
from tests.conftest import TEST_KEY, make_settings

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
NAMES = ["get_customer_context", "find_customer", "create_escalation"]


@pytest.fixture
def api(demo_db: Path) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(make_settings(demo_db))) as client:
        client.headers.update(AUTH)
        yield client


def _completion(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_764_000_000,
        "model": "gpt-test",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
    }


class FakeLlm:
    """Answers like a model: first a tool call for Maya's context, then a reply quoting it."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append(body)
        tool_results = [m for m in body["messages"] if m["role"] == "tool"]
        if not tool_results:
            call = {
                "id": "call_1",
                "type": "function",
                "function": {
                    "name": "get_customer_context",
                    "arguments": json.dumps({"email": "maya.patel@example.com"}),
                },
            }
            message = {"role": "assistant", "content": None, "tool_calls": [call]}
        else:
            latest = "#1003" if "#1003" in tool_results[-1]["content"] else "unknown"
            message = {"role": "assistant", "content": f"Your order {latest} has not shipped."}
        return httpx.Response(200, json=_completion(message))


def _llm(handler: Any) -> openai.OpenAI:
    transport = httpx.MockTransport(handler)
    return openai.OpenAI(
        api_key="sk-test",
        base_url="http://llm.invalid/v1",
        # openai takes an httpx.Client as well as an httpx2.Client; its annotation names only httpx2
        http_client=httpx.Client(transport=transport),  # type: ignore[arg-type]
        max_retries=0,
    )


def test_the_readme_chatbot_loop_runs_with_the_served_tools(api: TestClient[Any]) -> None:
    fake = FakeLlm()
    llm = _llm(fake)
    # The README's ten-line loop, with the test client as `api` and a fake model as `llm`.
    tools = api.get("/v1/tools/openai").json()
    messages: list[Any] = [{"role": "user", "content": "maya.patel@example.com: my lamp?"}]
    while (
        reply := llm.chat.completions.create(model="gpt-test", messages=messages, tools=tools)
        .choices[0]
        .message
    ).tool_calls:
        messages.append(reply)
        for call in reply.tool_calls:
            payload = {"name": call.function.name, "arguments": call.function.arguments}  # type: ignore[union-attr]
            result = api.post("/v1/tools/call", json=payload)
            messages.append({"role": "tool", "tool_call_id": call.id, "content": result.text})
    assert reply.content == "Your order #1003 has not shipped."
    first, second = fake.requests
    assert first["tools"] == tools
    assert [t["function"]["name"] for t in first["tools"]] == NAMES
    tool_message = second["messages"][-1]
    assert tool_message["tool_call_id"] == "call_1"
    assert "Maya Patel" in tool_message["content"]
    assert second["messages"][1]["tool_calls"][0]["function"]["name"] == "get_customer_context"


def test_the_served_definitions_are_valid_sdk_tool_params(api: TestClient[Any]) -> None:
    chat = api.get("/v1/tools/openai").json()
    TypeAdapter(list[ChatCompletionToolUnionParam]).validate_python(chat)
    responses = api.get("/v1/tools/openai", params={"api": "responses"}).json()
    TypeAdapter(list[FunctionToolParam]).validate_python(responses)
    assert [t["name"] for t in responses] == NAMES
    assert [t["parameters"] for t in responses] == [t["function"]["parameters"] for t in chat]


def test_descriptions_fit_openais_limits_and_read_as_one_paragraph(api: TestClient[Any]) -> None:
    """OpenAI answers 400 ``string_above_max_length`` for a function description over 1,024
    characters, and every call that passes the tools fails with it (``find_customer`` had
    1,063). A schema's description is written for the model: no docstring indentation."""
    for tool in api.get("/v1/tools/openai").json():
        function = tool["function"]
        assert re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", function["name"])
        assert len(function["description"]) <= 1024, function["name"]
        assert "\n" not in function["description"]
        assert "\n" not in function["parameters"].get("description", "")
    for tool in api.get("/v1/tools/openai", params={"api": "responses"}).json():
        assert len(tool["description"]) <= 1024, tool["name"]


def test_the_responses_api_request_carries_the_tools_unchanged(api: TestClient[Any]) -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(400, json={"error": {"message": "test stops here"}})

    tools = api.get("/v1/tools/openai", params={"api": "responses"}).json()
    with pytest.raises(openai.BadRequestError):
        _llm(handler).responses.create(model="gpt-test", input="hi", tools=tools)
    assert seen[0]["tools"] == tools


def _schemas(api: TestClient[Any]) -> dict[str, dict[str, Any]]:
    tools = api.get("/v1/tools/openai").json()
    return {t["function"]["name"]: t["function"]["parameters"] for t in tools}


def test_each_parameter_schema_is_valid_json_schema_without_refs(api: TestClient[Any]) -> None:
    for name, schema in _schemas(api).items():
        Draft202012Validator.check_schema(schema)
        assert schema["type"] == "object", name
        assert schema["additionalProperties"] is False, name
        assert "$ref" not in json.dumps(schema), name


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("get_customer_context", {"email": "maya.patel@example.com"}),
        ("get_customer_context", {"phone": "+14155550134", "format": "json"}),
        ("find_customer", {"source": "zendesk", "external_id": "1001"}),
        ("find_customer", {"name": "Maya Patel", "order_number": "1003"}),
        ("create_escalation", {"email": "maya.patel@example.com", "reason": "wants a refund"}),
        (
            "create_escalation",
            {"phone": "+14155550134", "reason": "r", "transcript": [{"role": "bot", "text": "t"}]},
        ),
    ],
)
def test_good_arguments_validate(api: TestClient[Any], name: str, arguments: Any) -> None:
    Draft202012Validator(_schemas(api)[name]).validate(arguments)


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("get_customer_context", {"email": 42}),
        ("get_customer_context", {"email": "a@example.com", "audience": "all"}),
        ("get_customer_context", {"format": "xml"}),
        ("create_escalation", {"email": "maya.patel@example.com"}),
        ("create_escalation", {"email": "maya.patel@example.com", "reason": ""}),
        ("create_escalation", {"email": "a@example.com", "reason": "r", "transcript": "hi"}),
    ],
)
def test_bad_arguments_fail_the_schema_and_the_endpoint_alike(
    api: TestClient[Any], name: str, arguments: Any
) -> None:
    with pytest.raises(ValidationError):
        Draft202012Validator(_schemas(api)[name]).validate(arguments)
    response = api.post("/v1/tools/call", json={"name": name, "arguments": arguments})
    assert response.status_code == 400, response.text
    assert response.json()["title"] == "Invalid tool arguments"


def test_tool_definitions_need_an_api_key(demo_db: Path) -> None:
    with TestClient(app=create_app(make_settings(demo_db))) as client:
        assert client.get("/v1/tools/openai").status_code == 401
        bad = {"Authorization": "Bearer nope"}
        assert client.get("/v1/tools/openai", headers=bad).status_code == 401


def test_an_unknown_api_flavour_is_a_400(api: TestClient[Any]) -> None:
    assert api.get("/v1/tools/openai", params={"api": "anthropic"}).status_code == 400
