"""Trust: end-user proofs, the read audit and rate limits, as an attacker tries
them (real SQLite copies of the demo store, litestar's TestClient)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from litestar.testing import TestClient

from context_service.trust.verify import user_hash
from tests.review_fixtures import AUTH, app_client
from tests.trust.helpers import (
    AUDIENCE,
    ISSUER,
    JWT_SECRET,
    MAYA,
    SITE_SECRET,
    FakeClock,
    chatbot_app,
)


@pytest.fixture
def world(demo_db: Path, tmp_path: Path) -> Iterator[tuple[TestClient[Any], FakeClock, Path]]:
    with chatbot_app(demo_db, tmp_path) as (client, _bot, clock, db):
        yield client, clock, db


def _chatbot(client: TestClient[Any], email: str = MAYA, **proof: str) -> Any:
    body = {"email": email, "audience": "chatbot", "format": "json", **proof}
    return client.post("/v1/context/lookup", json=body)


def _mode(response: Any) -> str:
    return str(response.headers.get("X-Context-Verification"))


def _raw_token(payload: str) -> str:
    """A token signed with the site's secret whose payload is ``payload`` as written (JSON that
    ``json.loads`` takes but a strict encoder would never write, such as ``NaN``)."""
    header = jwt.utils.base64url_encode(b'{"alg":"HS256","typ":"JWT"}').decode()
    body = jwt.utils.base64url_encode(payload.encode()).decode()
    signing_input = f"{header}.{body}".encode()
    algorithm = jwt.algorithms.HMACAlgorithm(jwt.algorithms.HMACAlgorithm.SHA256)
    signature = algorithm.sign(signing_input, algorithm.prepare_key(JWT_SECRET))
    return f"{header}.{body}.{jwt.utils.base64url_encode(signature).decode()}"


def _claims(clock: FakeClock, **extra: Any) -> dict[str, Any]:
    return {"iss": ISSUER, "aud": AUDIENCE, "exp": int(clock.now) + 300, "email": MAYA, **extra}


@pytest.mark.parametrize("exp", ["NaN", "Infinity", "1e400"])
def test_a_token_whose_expiry_is_not_a_finite_time_verifies_nothing(
    world: tuple[TestClient[Any], FakeClock, Path], exp: str
) -> None:
    client, clock, _db = world
    payload = json.dumps(_claims(clock, exp=0)).replace('"exp": 0', f'"exp": {exp}')
    answer = _chatbot(client, user_token=_raw_token(payload))
    assert answer.status_code == 200
    assert _mode(answer) == "unverified"


@pytest.mark.parametrize("nbf", ['"2999-01-01"', "NaN", "true", "[1]"])
def test_a_token_whose_not_before_is_not_a_number_verifies_nothing(
    world: tuple[TestClient[Any], FakeClock, Path], nbf: str
) -> None:
    client, clock, _db = world
    payload = json.dumps(_claims(clock, nbf=0)).replace('"nbf": 0', f'"nbf": {nbf}')
    answer = _chatbot(client, user_token=_raw_token(payload))
    assert answer.status_code == 200
    assert _mode(answer) == "unverified"


def test_a_well_formed_token_still_verifies(world: tuple[TestClient[Any], FakeClock, Path]) -> None:
    client, clock, _db = world
    token = _raw_token(json.dumps(_claims(clock, nbf=int(clock.now) - 5)))
    assert _mode(_chatbot(client, user_token=token)) == "verified"


def test_a_user_hash_for_another_address_of_the_same_mailbox_does_not_unlock_it(
    world: tuple[TestClient[Any], FakeClock, Path],
) -> None:
    """A site keeps ``maya.patel+x@example.com`` apart from ``maya.patel@example.com`` (an
    attacker can sign up with it); the lookup falls back to the mailbox and finds Maya. The
    attacker's own, genuine proof must not unlock her context."""
    client, _clock, _db = world
    alias = "maya.patel+attacker@example.com"
    answer = _chatbot(client, alias, user_hash=user_hash(SITE_SECRET, alias))
    assert answer.status_code == 200
    assert _mode(answer) == "unverified", answer.text[:300]


@pytest.mark.parametrize("typed", ["maya.patel@gmial.com", "maya.patel@googlemail.com"])
def test_a_proof_for_a_misspelt_domain_does_not_vouch_for_the_corrected_address(typed: str) -> None:
    """The lookup corrects ``gmial.com`` to ``gmail.com`` and finds the Gmail customer; whoever
    holds the misspelt address (anyone may own that domain) is not that customer."""
    from context_service.trust.verify import Claimed, Proof, Verifier

    verifier = Verifier([SITE_SECRET], None, FakeClock())
    verdict = verifier.check(
        Claimed("email", typed), Proof(user_hash=user_hash(SITE_SECRET, typed))
    )
    assert not verdict.verified
    genuine = "maya.patel@gmail.com"
    proof = Proof(user_hash=user_hash(SITE_SECRET, genuine))
    assert verifier.check(Claimed("email", f" {genuine.upper()} "), proof).verified


def test_an_address_that_lower_casing_turns_into_the_customers_vouches_for_no_one() -> None:
    """``\u212aatherine@...`` (the Kelvin sign) is another address, which a site may let
    someone register; lower-cased by the recipe it hashes as ``katherine@...``."""
    from context_service.trust.verify import Claimed, Proof, Verifier

    verifier = Verifier([SITE_SECRET], None, FakeClock())
    typed = "\u212aatherine.c63@example.com"
    proof = Proof(user_hash=user_hash(SITE_SECRET, typed.lower()))
    assert proof.user_hash == user_hash(SITE_SECRET, "katherine.c63@example.com")
    assert not verifier.check(Claimed("email", typed), proof).verified
    assert verifier.check(Claimed("email", "Katherine.C63@example.com"), proof).verified


def _two_profiles(db: Path) -> tuple[str, str]:
    from context_service.store import Store

    store = Store(db)
    try:
        rows = store.conn.execute("SELECT profile_id FROM snapshots ORDER BY profile_id LIMIT 2")
        first, second = (str(row[0]) for row in rows.fetchall())
    finally:
        store.close()
    return first, second


def test_the_audit_of_a_merged_customer_keeps_the_reads_made_under_its_old_id(
    demo_db: Path, tmp_path: Path
) -> None:
    """Who read this customer? After a merge the answer must include the reads recorded under
    the id that was merged away (it resolves to the survivor as an alias)."""
    from tests.trust.helpers import copy_demo

    db = copy_demo(demo_db, tmp_path)
    first, second = _two_profiles(db)
    with app_client(db) as client:
        for profile_id in (first, second):
            read = client.get("/v1/context", params={"profile_id": profile_id}, headers=AUTH)
            assert read.status_code == 200
        merged = client.post(
            "/v1/profiles/merge", json={"profile_ids": [first, second]}, headers=AUTH
        )
        assert merged.status_code == 200, merged.text
        survivor = first if first not in str(merged.json()["merged_away"]) else second
        audits = [
            client.get("/v1/audit/reads", params={"profile_id": named}, headers=AUTH)
            for named in (survivor, first if survivor == second else second)
        ]
    for audit in audits:  # named by the survivor, or by the id merged into it
        assert audit.status_code == 200
        assert {entry["profile_id"] for entry in audit.json()["reads"]} == {first, second}
