"""A public chatbot without end-user proof learns that an account exists, nothing more; a valid
``user_hash`` or ``user_token`` unlocks the chatbot context; forged or mismatched proofs do not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from litestar.testing import TestClient

from context_service.trust.verify import user_hash
from tests.trust.helpers import (
    AUDIENCE,
    ISSUER,
    JWT_SECRET,
    MAYA,
    SITE_SECRET,
    FakeClock,
    chatbot_app,
    make_key,
)

# What Maya's context holds that a stranger must not learn: order numbers, her street and
# city, amounts, her ticket's words.
SECRETS = (
    "#1001",
    "#1003",
    "1003",
    "49.00",
    "160.92",
    "charged twice",
    "Valencia",
    "San Francisco",
    "8672",
    "KJFEVMTW",
    "Maya",
)


@pytest.fixture
def world(demo_db: Path, tmp_path: Path) -> Iterator[tuple[TestClient[Any], str, FakeClock]]:
    with chatbot_app(demo_db, tmp_path) as (client, bot, clock, _db):
        yield client, bot, clock


def _chatbot(client: TestClient[Any], **extra: Any) -> Any:
    body = {"email": MAYA, "audience": "chatbot", "format": "text", **extra}
    response = client.post("/v1/context/lookup", json=body)
    assert response.status_code == 200, response.text
    return response


def _token(clock: FakeClock, **claims: Any) -> str:
    base = {"iss": ISSUER, "aud": AUDIENCE, "exp": int(clock.now) + 300, "email": MAYA}
    return jwt.encode({**base, **claims}, JWT_SECRET, algorithm="HS256")


def _assert_unverified(response: Any) -> None:
    assert response.headers["X-Context-Verification"] == "unverified"
    assert "account exists" in response.text
    for secret in SECRETS:
        assert secret not in response.text, secret
    assert "X-Profile-Id" not in response.headers
    assert response.headers["X-Context-Audience"] == "chatbot"  # as every audience rendering


def test_unverified_lookup_reveals_no_order_address_amount_or_ticket(world: Any) -> None:
    client, _, _ = world
    _assert_unverified(_chatbot(client))
    as_json = client.get("/v1/context", params={"email": MAYA, "audience": "chatbot"}).json()
    assert as_json == {
        "verification": "unverified",
        "account_exists": True,
        "guidance": as_json["guidance"],
        "reason": "no user_hash or user_token given",
    }


def test_valid_user_hash_unlocks_the_chatbot_context(world: Any) -> None:
    client, _, _ = world
    proof = user_hash(SITE_SECRET, MAYA)
    response = _chatbot(client, user_hash=proof)
    assert response.headers["X-Context-Verification"] == "verified"
    assert "charged twice" in response.text
    assert "past_due" in response.text
    upper = client.get(
        "/v1/context",
        params={"email": MAYA.upper(), "audience": "chatbot", "user_hash": proof},
    )
    assert upper.headers["X-Context-Verification"] == "verified"


@pytest.mark.parametrize(
    "proof",
    [
        user_hash("another-site-secret-0123456789", MAYA),  # forged with the wrong secret
        user_hash(SITE_SECRET, "tomas.garcia@example.com"),  # someone else's hash
        "0" * 64,
        "not-hex",
    ],
)
def test_forged_or_mismatched_user_hash_stays_unverified(world: Any, proof: str) -> None:
    client, _, _ = world
    response = _chatbot(client, user_hash=proof)
    _assert_unverified(response)
    assert "does not match" in response.headers["X-Context-Verification-Reason"]


def test_valid_jwt_unlocks(world: Any) -> None:
    client, _, clock = world
    response = _chatbot(client, user_token=_token(clock))
    assert response.headers["X-Context-Verification"] == "verified"
    assert "charged twice" in response.text


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"exp": 1_800_000_000 - 3600}, "expired"),
        ({"email": "tomas.garcia@example.com"}, "another customer"),
        ({"aud": "someone-else"}, "audience"),
        ({"iss": "https://evil.example"}, "issuer"),
    ],
)
def test_bad_jwt_claims_stay_unverified(world: Any, claims: dict[str, Any], why: str) -> None:
    client, _, clock = world
    response = _chatbot(client, user_token=_token(clock, **claims))
    _assert_unverified(response)
    assert why in response.headers["X-Context-Verification-Reason"].lower()


# PyJWT warns that the 37-byte secret is short for HS512: the token below must be signed with the
# right secret to show that an algorithm off the allow-list is refused even then.
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_jwt_with_none_alg_or_wrong_key_is_refused(world: Any) -> None:
    client, _, clock = world
    claims = {"iss": ISSUER, "aud": AUDIENCE, "exp": int(clock.now) + 300, "email": MAYA}
    # alg "none" takes the key None; PyJWT's annotation of ``key`` leaves None out
    unsigned = jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
    response = _chatbot(client, user_token=unsigned)
    _assert_unverified(response)
    assert "not allowed" in response.headers["X-Context-Verification-Reason"]
    forged = jwt.encode(claims, "wrong-secret-0123456789abcdef0123", algorithm="HS256")
    _assert_unverified(_chatbot(client, user_token=forged))
    hs512 = jwt.encode(claims, JWT_SECRET, algorithm="HS512")  # not on the allow-list
    _assert_unverified(_chatbot(client, user_token=hs512))


def test_a_trusted_backend_key_needs_no_proof(world: Any, tmp_path: Path) -> None:
    client, _, _ = world
    db = Path(client.app.state.settings.db)
    backend = make_key(db, "backend", ["context:lookup"], trusted_backend=True)
    response = client.post(
        "/v1/context/lookup",
        json={"email": MAYA, "audience": "chatbot", "format": "text"},
        headers={"Authorization": f"Bearer {backend}"},
    )
    assert response.headers["X-Context-Verification"] == "trusted_backend"
    assert "charged twice" in response.text


def test_a_chatbot_only_key_cannot_ask_for_the_full_snapshot(world: Any) -> None:
    client, _, _ = world
    assert client.get("/v1/context", params={"email": MAYA}).status_code == 403
    agent = client.get("/v1/context", params={"email": MAYA, "audience": "agent"})
    assert agent.status_code == 403


def test_tools_give_an_untrusted_key_only_the_unverified_answer(world: Any) -> None:
    client, _, _ = world
    call = {"name": "get_customer_context", "arguments": {"email": MAYA}}
    text = client.post("/v1/tools/call", json=call).text
    assert "account exists" in text
    for secret in SECRETS:
        assert secret not in text
    found = client.post(
        "/v1/tools/call", json={"name": "find_customer", "arguments": {"email": MAYA}}
    ).json()
    assert found == {"verification": "unverified", "account_exists": True}


def test_reads_are_audited_with_their_mode(world: Any) -> None:
    client, _, _clock = world
    _chatbot(client)
    _chatbot(client, user_hash=user_hash(SITE_SECRET, MAYA))
    db = Path(client.app.state.settings.db)
    admin = make_key(db, "auditor", ["admin"])
    profile = client.get(
        "/v1/context", params={"email": MAYA, "audience": "chatbot"}
    )  # a third, unverified read
    assert profile.status_code == 200
    reads = client.get("/v1/audit/reads", headers={"Authorization": f"Bearer {admin}"}).json()[
        "reads"
    ]
    mine = [r for r in reads if r["key_name"] == "public-bot"]
    assert [r["verified"] for r in mine[:3]] == [False, True, False]
    assert {r["audience"] for r in mine} == {"chatbot"}
    assert mine[0]["at"] == "2027-01-15T08:00:00Z"


def test_an_unverified_chatbot_never_learns_who_else_matched(world: Any) -> None:
    client, _, _ = world
    by_mailbox = client.get(
        "/v1/context", params={"email": "info@silvacosta.example", "audience": "chatbot"}
    )
    assert by_mailbox.status_code == 409, by_mailbox.text
    assert by_mailbox.json().get("candidates", []) == []
    for name in ("Ana", "Bruno", "Silva", "Costa", "prof_"):
        assert name not in by_mailbox.text
    assert "2 customers" in by_mailbox.json()["detail"]


def test_a_name_alone_does_not_tell_an_unverified_chatbot_who_is_a_customer(world: Any) -> None:
    """Maya Patel's name alone was a 409 ("these details match 1 customers") where an unknown
    name was a 404: a public chatbot key could tell customers from others by name, which
    ``find_customer`` refuses to say. A match too faint to say an account exists now answers
    as finding no one does."""
    client, _, _ = world
    answers = [
        client.post("/v1/context/lookup", json={"name": name, "audience": "chatbot"})
        for name in ("Maya Patel", "Zed Quux")
    ]
    assert [a.status_code for a in answers] == [404, 404], [a.text for a in answers]
    assert answers[0].json()["detail"] == answers[1].json()["detail"]
    assert "Maya" not in answers[0].text
    found = [
        client.post(
            "/v1/tools/call", json={"name": "find_customer", "arguments": {"name": name}}
        ).json()
        for name in ("Maya Patel", "Zed Quux")
    ]
    assert found[0] == found[1]
