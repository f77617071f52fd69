"""A phone lookup is vouched for by a ``user_token`` only through its ``phone_number`` claim
(OpenID Connect's), read as the lookup reads the number; never through ``sub``, the site's own
user id, which may be digits that read as someone's phone. A ``user_hash`` of a phone may be of
the number as given or in E.164, so both proofs name a phone alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from litestar.testing import TestClient

from context_service.trust.verify import Claimed, JwtConfig, Proof, Verifier, user_hash
from tests.trust.helpers import (
    AUDIENCE,
    ISSUER,
    JWT_SECRET,
    MAYA_PHONE,
    SITE_SECRET,
    FakeClock,
    chatbot_app,
)

CLOCK = FakeClock()
NATIONAL = "(415) 555-0134"  # Maya's phone as a US customer types it
DIGITS = "4155550134"
SPACED = "+1 415 555 0134"
OTHER_PHONE = "+14155550199"
LONDON = "+442079460958"


def _token(**claims: Any) -> str:
    base = {"iss": ISSUER, "aud": AUDIENCE, "exp": int(CLOCK.now) + 300}
    return jwt.encode({**base, **claims}, JWT_SECRET, algorithm="HS256")


def _verifier(region: str | None) -> Verifier:
    config = JwtConfig(issuer=ISSUER, audience=AUDIENCE, secret=JWT_SECRET)
    if region is None:  # as ``Trust`` builds it from settings
        return Verifier([SITE_SECRET], config, CLOCK)
    return Verifier([SITE_SECRET], config, CLOCK, region=region)


def _by_token(verifier: Verifier, looked_up: str, **claims: Any) -> bool:
    proof = Proof(user_token=_token(**claims))
    return verifier.check(Claimed("phone", looked_up), proof).verified


def _by_hash(verifier: Verifier, looked_up: str, hashed: str) -> bool:
    proof = Proof(user_hash=user_hash(SITE_SECRET, hashed))
    return verifier.check(Claimed("phone", looked_up), proof).verified


@pytest.mark.parametrize("region", ["US", None])
@pytest.mark.parametrize("looked_up", [DIGITS, NATIONAL, MAYA_PHONE, SPACED])
def test_sub_never_vouches_for_a_phone(region: str | None, looked_up: str) -> None:
    """A site whose user ids are digits: user 4155550134 (or one whose id is written as a
    phone) is not the owner of that phone, whatever its email."""
    verifier = _verifier(region)
    for sub in {looked_up, DIGITS, MAYA_PHONE}:
        proof = Proof(user_token=_token(sub=sub, email="mallory@attacker.example"))
        verdict = verifier.check(Claimed("phone", looked_up), proof)
        assert not verdict.verified, (sub, looked_up)
        assert verdict.reason.isascii()


@pytest.mark.parametrize("claimed", [MAYA_PHONE, SPACED, NATIONAL, DIGITS])
@pytest.mark.parametrize("looked_up", [MAYA_PHONE, SPACED, NATIONAL, DIGITS])
def test_the_phone_number_claim_vouches_for_the_number_however_written(
    claimed: str, looked_up: str
) -> None:
    assert _by_token(_verifier("US"), looked_up, phone_number=claimed, sub="user-17")


def test_the_phone_number_claim_must_name_the_number_looked_up() -> None:
    verifier = _verifier("US")
    assert not _by_token(verifier, NATIONAL, phone_number=OTHER_PHONE, sub=MAYA_PHONE)
    assert not _by_token(verifier, NATIONAL, phone_number="not a phone", sub=MAYA_PHONE)
    assert not _by_token(verifier, NATIONAL, phone_number=4155550134)  # not a string
    assert not _by_token(verifier, NATIONAL, email=MAYA_PHONE)  # an email claim neither


def test_a_phone_number_the_token_says_is_unverified_vouches_for_nothing() -> None:
    verifier = _verifier("US")
    assert _by_token(verifier, NATIONAL, phone_number=MAYA_PHONE, phone_number_verified=True)
    for flag in (False, "true", 1, None):
        claims = {"phone_number": MAYA_PHONE, "phone_number_verified": flag}
        assert not _by_token(verifier, NATIONAL, **claims), flag


def test_the_number_is_read_in_the_lookups_region() -> None:
    """``020 7946 0958`` is a London number where lookups read phones as in GB, and no number
    at all in the US: a proof of the London number vouches for it only in the first."""
    national = "020 7946 0958"
    assert _by_token(_verifier("GB"), national, phone_number=LONDON)
    assert _by_hash(_verifier("GB"), national, LONDON)
    assert not _by_token(_verifier("US"), national, phone_number=LONDON)
    assert not _by_hash(_verifier("US"), national, LONDON)


def test_without_a_region_only_a_number_with_its_country_code_is_read() -> None:
    """A verifier not told the lookups' region never guesses one: a number written with its
    country code reads the same everywhere, any other must be named exactly as given."""
    verifier = _verifier(None)
    assert _by_token(verifier, SPACED, phone_number=MAYA_PHONE)
    assert _by_token(verifier, MAYA_PHONE, phone_number=SPACED)
    assert _by_token(verifier, NATIONAL, phone_number=NATIONAL)
    assert not _by_token(verifier, NATIONAL, phone_number=MAYA_PHONE)
    assert not _by_token(verifier, MAYA_PHONE, phone_number=NATIONAL)
    assert _by_hash(verifier, SPACED, MAYA_PHONE)
    assert _by_hash(verifier, NATIONAL, NATIONAL)
    assert not _by_hash(verifier, NATIONAL, MAYA_PHONE)


@pytest.mark.parametrize("looked_up", [MAYA_PHONE, SPACED, NATIONAL, DIGITS])
def test_a_user_hash_of_the_phone_in_e164_or_as_given_vouches_for_it(looked_up: str) -> None:
    verifier = _verifier("US")
    assert _by_hash(verifier, looked_up, MAYA_PHONE)
    assert _by_hash(verifier, looked_up, looked_up)
    assert not _by_hash(verifier, looked_up, OTHER_PHONE)


def test_an_email_lookup_still_takes_email_or_sub() -> None:
    """Only the phone changed: a ``phone_number`` claim names no email."""
    verifier = _verifier(None)
    maya = "maya.patel@example.com"
    for claims in ({"email": maya.upper()}, {"sub": maya}):
        proof = Proof(user_token=_token(**claims))
        assert verifier.check(Claimed("email", maya), proof).verified
    proof = Proof(user_token=_token(phone_number=maya))
    assert not verifier.check(Claimed("email", maya), proof).verified


@pytest.fixture
def client(demo_db: Path, tmp_path: Path) -> Iterator[TestClient[Any]]:
    with chatbot_app(demo_db, tmp_path) as (the_client, _bot, _clock, _db):
        yield the_client


def _verification(client: TestClient[Any], phone: str, **claims: Any) -> str:
    body = {"phone": phone, "audience": "chatbot", "format": "text"}
    response = client.post("/v1/context/lookup", json={**body, "user_token": _token(**claims)})
    assert response.status_code == 200, response.text
    if response.headers["X-Context-Verification"] != "verified":
        assert "charged twice" not in response.text  # Maya's ticket
    return str(response.headers["X-Context-Verification"])


def test_over_http_a_token_vouches_for_a_phone_by_phone_number_only(
    client: TestClient[Any],
) -> None:
    assert _verification(client, MAYA_PHONE, sub=MAYA_PHONE) == "unverified"
    assert _verification(client, DIGITS, sub=DIGITS) == "unverified"
    assert _verification(client, MAYA_PHONE, phone_number=OTHER_PHONE) == "unverified"
    assert _verification(client, MAYA_PHONE, sub="17", phone_number=MAYA_PHONE) == "verified"
    assert _verification(client, MAYA_PHONE, phone_number=SPACED) == "verified"
    # The server reads a number typed without its country code in its default region.
    assert _verification(client, "(415) 555-0134", phone_number=MAYA_PHONE) == "verified"
