"""A chatbot proof for a vendor id names the source and a person record: a proof for site user
``1001`` (or for ``zendesk:1001``) never unlocks Zendesk ticket 1001, and a refused token's
reason never echoes the token (a non-latin-1 ``alg`` used to fail the response with a 500)."""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from litestar.testing import TestClient

from context_service.trust.chatbot import Decision, header_text
from context_service.trust.verify import Claimed, JwtConfig, Proof, Verifier, user_hash
from tests.trust.helpers import (
    AUDIENCE,
    ISSUER,
    JWT_SECRET,
    MAYA,
    SITE_SECRET,
    FakeClock,
    chatbot_app,
)

TICKET = {"source": "zendesk", "external_id": "1001"}  # Maya Patel's ticket (README)


class World:
    """A client with a public chatbot key, its clock, and Maya's vendor ids by (source, kind)."""

    def __init__(self, client: TestClient[Any], clock: FakeClock, ids: dict[str, str]) -> None:
        self.client = client
        self.clock = clock
        self.ids = ids

    def lookup(self, ids: dict[str, str], **proof: str) -> Any:
        body = {**ids, "audience": "chatbot", "format": "text", **proof}
        response = self.client.post("/v1/context/lookup", json=body)
        assert response.status_code == 200, response.text
        return response

    def token(self, **claims: Any) -> str:
        base = {"iss": ISSUER, "aud": AUDIENCE, "exp": int(self.clock.now) + 300}
        return jwt.encode({**base, **claims}, JWT_SECRET, algorithm="HS256")

    def record(self, key: str) -> dict[str, str]:
        """The lookup of Maya's record ``source/kind`` by its vendor id."""
        source = key.split("/", maxsplit=1)[0]
        return {"source": source, "external_id": self.ids[key]}


def _maya_ids(db: Path) -> dict[str, str]:
    """Maya's records and the records she owns, ``source/kind`` to one vendor id."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT r.source, r.kind, r.external_id FROM records r "
            "JOIN profile_members m ON m.record_id = r.id "
            "WHERE m.profile_id = (SELECT m2.profile_id FROM identifiers i "
            "JOIN profile_members m2 ON m2.record_id = i.record_id "
            "WHERE i.kind = 'email' AND i.value = ?) "
            "UNION SELECT r.source, r.kind, r.external_id FROM records r "
            "JOIN activities a ON a.record_id = r.id "
            "JOIN records o ON o.source = a.owner_source AND o.kind = a.owner_kind "
            "AND o.external_id = a.owner_external_id "
            "JOIN identifiers i ON i.record_id = o.id WHERE i.kind = 'email' AND i.value = ?",
            (MAYA, MAYA),
        ).fetchall()
    finally:
        conn.close()
    return {f"{source}/{kind}": external_id for source, kind, external_id in sorted(rows)}


@pytest.fixture
def world(demo_db: Path, tmp_path: Path) -> Iterator[World]:
    with chatbot_app(demo_db, tmp_path) as (client, _bot, clock, db):
        yield World(client, clock, _maya_ids(db))


def _assert_unverified(response: Any) -> None:
    assert response.headers["X-Context-Verification"] == "unverified", response.text[:400]
    assert "account exists" in response.text
    assert "Maya" not in response.text
    assert "charged twice" not in response.text
    assert "X-Profile-Id" not in response.headers


def test_the_ticket_lookup_without_proof_is_unverified(world: World) -> None:
    _assert_unverified(world.lookup(TICKET))


@pytest.mark.parametrize("sub", ["1001", "zendesk:1001"])
def test_a_token_for_a_site_user_never_unlocks_a_ticket_with_the_same_id(
    world: World, sub: str
) -> None:
    """Site user ``1001`` is not the owner of Zendesk ticket 1001, and a ticket is no person:
    neither the bare id nor the source-qualified one vouches for it."""
    response = world.lookup(TICKET, user_token=world.token(sub=sub, email="mallory@evil.example"))
    _assert_unverified(response)
    assert "person" in response.headers["X-Context-Verification-Reason"]


@pytest.mark.parametrize("value", ["1001", "zendesk:1001"])
def test_a_user_hash_of_the_id_never_unlocks_a_ticket(world: World, value: str) -> None:
    _assert_unverified(world.lookup(TICKET, user_hash=user_hash(SITE_SECRET, value)))


@pytest.mark.parametrize(
    "key", ["shopify/order", "stripe/invoice", "stripe/subscription", "stripe/charge"]
)
def test_no_proof_vouches_for_an_order_invoice_subscription_or_charge(
    world: World, key: str
) -> None:
    looked_up = world.record(key)
    qualified = f"{looked_up['source']}:{looked_up['external_id']}"
    for value in (looked_up["external_id"], qualified):
        _assert_unverified(world.lookup(looked_up, user_hash=user_hash(SITE_SECRET, value)))
        _assert_unverified(world.lookup(looked_up, user_token=world.token(sub=value)))


# What Maya's record in each source owns, shown to a proof of that record; her Zendesk ticket
# ("charged twice") is another record's, which a proof of an id does not vouch for (an email
# proof does: ``test_proof_scope``).
OWN = {"shopify/customer": "#1001", "stripe/customer": "8672", "hubspot/contact": "customer"}


@pytest.mark.parametrize("key", ["shopify/customer", "stripe/customer", "hubspot/contact"])
def test_a_proof_for_source_and_person_id_unlocks(world: World, key: str) -> None:
    looked_up = world.record(key)
    qualified = f"{looked_up['source']}:{looked_up['external_id']}"
    for proof in (
        {"user_hash": user_hash(SITE_SECRET, qualified)},
        {"user_token": world.token(sub=qualified)},
    ):
        response = world.lookup(looked_up, **proof)
        assert response.headers["X-Context-Verification"] == "verified", response.text[:400]
        assert OWN[key] in response.text
        assert response.headers["X-Context-Part"] == "proved"
        assert "charged twice" not in response.text
    by_get = world.client.get(
        "/v1/context",
        params={**looked_up, "audience": "chatbot", "user_hash": user_hash(SITE_SECRET, qualified)},
    )
    assert by_get.headers["X-Context-Verification"] == "verified"


def test_a_zendesk_user_id_is_a_person_too(world: World) -> None:
    looked_up = world.record("zendesk/user")
    proof = user_hash(SITE_SECRET, f"zendesk:{looked_up['external_id']}")
    assert world.lookup(looked_up, user_hash=proof).headers["X-Context-Verification"] == "verified"


def test_a_proof_names_its_source(world: World) -> None:
    """A bare id (what integrations hashed before) or another source's id verifies nothing,
    and an ``email`` claim never names a source id: only ``sub`` does."""
    shopify = world.record("shopify/customer")
    bare = shopify["external_id"]
    hubspot = f"hubspot:{world.ids['hubspot/contact']}"
    for proof in (
        {"user_hash": user_hash(SITE_SECRET, bare)},
        {"user_hash": user_hash(SITE_SECRET, hubspot)},
        {"user_token": world.token(sub=bare)},
        {"user_token": world.token(sub=hubspot)},
        {"user_token": world.token(email=f"shopify:{bare}")},
    ):
        _assert_unverified(world.lookup(shopify, **proof))


def test_email_and_phone_proofs_are_unchanged(world: World) -> None:
    by_email = world.lookup({"email": MAYA}, user_token=world.token(email=MAYA.upper()))
    assert by_email.headers["X-Context-Verification"] == "verified"
    by_sub = world.lookup({"email": MAYA}, user_token=world.token(sub=MAYA))
    assert by_sub.headers["X-Context-Verification"] == "verified"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "header",
    [{"alg": "€", "typ": "JWT"}, {"alg": "HS256\r\nX-Evil: 1"}, {"alg": ["HS256"]}],
)
def test_a_forged_token_header_is_unverified_never_a_500(world: World, header: Any) -> None:
    token = f"{_b64(header)}.{_b64({'email': MAYA})}.c2ln"
    response = world.lookup({"email": MAYA}, user_token=token)
    _assert_unverified(response)
    reason = response.headers["X-Context-Verification-Reason"]
    assert reason == "user_token rejected: its algorithm is not allowed"
    assert "X-Evil" not in response.headers


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"iss": "https://evil.example/€"}, "user_token rejected: wrong issuer"),
        ({"aud": "€ <script>"}, "user_token rejected: wrong audience"),
        ({"exp": None}, "user_token rejected: exp, iss or aud is missing"),
        ({"exp": "soon €"}, "user_token rejected: invalid token"),
    ],
)
def test_a_refusal_reason_never_quotes_the_token(
    world: World, claims: dict[str, Any], reason: str
) -> None:
    token = world.token(email=MAYA, **claims)
    response = world.lookup({"email": MAYA}, user_token=token)
    _assert_unverified(response)
    assert response.headers["X-Context-Verification-Reason"] == reason


def test_the_verifier_vouches_only_for_what_a_proof_can_name() -> None:
    verifier = Verifier([SITE_SECRET], None, FakeClock())
    proof = Proof(user_hash=user_hash(SITE_SECRET, "1001"))
    assert verifier.check(Claimed("source_id", "1001"), proof).verified
    for claimed in (
        Claimed("external_id", "1001"),  # a bare vendor id: never a claim (was, unsafely)
        Claimed("record", ""),
        Claimed("search", ""),
        Claimed("profile_id", ""),
        Claimed("source_id", ""),
    ):
        verdict = verifier.check(claimed, proof)
        assert not verdict.verified
        assert verdict.reason.isascii()
    assert not verifier.check(Claimed("email", MAYA), Proof()).verified
    config = JwtConfig(issuer=ISSUER, audience=AUDIENCE, secret=JWT_SECRET)
    with_jwt = Verifier([], config, FakeClock())
    token = jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "exp": 1_800_000_300, "email": "1001", "sub": "x"},
        JWT_SECRET,
        algorithm="HS256",
    )
    assert not with_jwt.check(Claimed("source_id", "1001"), Proof(user_token=token)).verified


def test_the_reason_header_is_short_printable_ascii() -> None:
    assert header_text("naïve\r\nX-Evil: €") == "na?ve??X-Evil: ?"
    assert len(header_text("x" * 500)) == 200
    headers = Decision("unverified", "über").headers()
    assert headers["X-Context-Verification-Reason"] == "?ber"
