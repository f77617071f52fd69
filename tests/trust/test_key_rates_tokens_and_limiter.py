"""Keys, rate limits and end-user verification: a key that follows the server's
default rate limit cannot mint a faster one, a token claiming to be issued in the future
verifies nobody, a token's algorithm cannot be switched to HMAC over the public key, a wall
clock set back does not stop ``last_used_at`` from being recorded, the limiter is exact under
threads and forgets idle callers, and a revoked key's name stays taken."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from context_service.api import context as context_api
from context_service.api.keys import KNOWN
from context_service.store import Store
from context_service.trust import KeySpec, create_key, revoke_key
from context_service.trust.keyring import TOUCH_EVERY_SECONDS, Keyring
from context_service.trust.keys import BeyondCaller, InvalidKey, get_key, lookup_key
from context_service.trust.ratelimit import RateLimited, RateLimiter
from context_service.trust.verify import Claimed, JwtConfig, Proof, Verifier
from tests.api.test_serve_review import BOOT, serving
from tests.trust.helpers import FakeClock, copy_demo, make_key

NOW = 1_800_000_000.0
ISSUER, AUDIENCE, SECRET = "https://shop.example", "context-service", "s" * 40
EMAIL = "maya.patel@example.com"


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


# --- minting keys: the server's default rate limit is the caller's limit too -----------------


def test_a_key_on_the_default_rate_cannot_mint_a_faster_key(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    ops = make_key(db, "ops", ["admin"])  # no rate of its own: the server's default applies
    with serving(db, rate_limit_per_minute=100) as client:
        faster = client.post(
            "/v1/keys",
            json={"name": "faster", "scopes": ["admin"], "rate_per_minute": 101},
            headers=_bearer(ops),
        )
        same = client.post(
            "/v1/keys",
            json={"name": "same", "scopes": ["admin"], "rate_per_minute": 100},
            headers=_bearer(ops),
        )
        default = client.post(
            "/v1/keys", json={"name": "default", "scopes": ["admin"]}, headers=_bearer(ops)
        )
        by_boot = client.post(
            "/v1/keys",
            json={"name": "boot", "scopes": ["admin"], "rate_per_minute": 10_000},
            headers=BOOT,
        )
    assert faster.status_code == 403, faster.text
    assert "rate" in faster.json()["detail"]
    assert same.status_code == 201, same.text
    assert default.status_code == 201, default.text
    assert by_boot.status_code == 201, by_boot.text


def test_without_a_default_limit_a_key_on_the_default_is_unlimited(
    demo_db: Path, tmp_path: Path
) -> None:
    db = copy_demo(demo_db, tmp_path)
    ops = make_key(db, "ops", ["admin"])
    with serving(db, rate_limit_per_minute=0) as client:
        fast = client.post(
            "/v1/keys",
            json={"name": "fast", "scopes": ["admin"], "rate_per_minute": 10_000},
            headers=_bearer(ops),
        )
    assert fast.status_code == 201, fast.text


def test_create_key_weighs_the_default_rate(tmp_path: Path) -> None:
    store = Store(tmp_path / "k.db")
    try:
        caller = create_key(store, KeySpec(name="ops", scopes=["admin"]), "t", KNOWN).key
        principal = lookup_key(store.conn, caller)
        assert principal is not None
        spec = KeySpec(name="fast", scopes=["admin"], rate_per_minute=61)
        with pytest.raises(BeyondCaller):
            create_key(store, spec, "t", KNOWN, caller=principal, default_rate=60)
        assert get_key(store.conn, "fast") is None
    finally:
        store.close()


# --- user_token times ---------------------------------------------------------------------


def _verifier(**config: Any) -> Verifier:
    base: dict[str, Any] = {"issuer": ISSUER, "audience": AUDIENCE, "secret": SECRET}
    return Verifier([], JwtConfig(**{**base, **config}), lambda: NOW)


def _token(key: Any = SECRET, algorithm: str = "HS256", **claims: Any) -> str:
    base = {"iss": ISSUER, "aud": AUDIENCE, "exp": int(NOW) + 300, "email": EMAIL}
    return jwt.encode({**base, **claims}, key, algorithm=algorithm)


def _check(verifier: Verifier, token: str) -> Any:
    return verifier.check(Claimed("email", EMAIL), Proof(user_token=token))


def test_a_token_issued_now_or_within_the_leeway_verifies() -> None:
    for iat in (int(NOW), int(NOW) - 3600, int(NOW) + 10):
        assert _check(_verifier(), _token(iat=iat)).verified, iat


@pytest.mark.parametrize("iat", [int(NOW) + 3600, int(NOW) + 10**8])
def test_a_token_issued_in_the_future_verifies_nobody(iat: int) -> None:
    verdict = _check(_verifier(), _token(iat=iat, exp=iat + 300))
    assert not verdict.verified
    assert verdict.reason == "user_token rejected: the token is not yet valid"


@pytest.mark.parametrize("iat", ["yesterday", [1], True])
def test_a_token_whose_iat_is_no_number_verifies_nobody(iat: Any) -> None:
    verdict = _check(_verifier(), _token(iat=iat))
    assert not verdict.verified
    assert verdict.reason.startswith("user_token rejected: ")


# --- algorithm confusion -------------------------------------------------------------------


def _rsa_pair() -> tuple[Any, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public.decode()


def _hs256_by_hand(secret: bytes) -> str:
    """A token signed HS256 with ``secret`` (PyJWT refuses a PEM as an HMAC key)."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = {"iss": ISSUER, "aud": AUDIENCE, "exp": int(NOW) + 300, "email": EMAIL}
    signing = f"{header}.{b64(json.dumps(body).encode())}"
    signature = hmac.new(secret, signing.encode(), hashlib.sha256).digest()
    return f"{signing}.{b64(signature)}"


def test_hmac_over_the_public_key_verifies_nobody() -> None:
    private, public = _rsa_pair()
    confused = _hs256_by_hand(public.encode())
    only_rsa = _verifier(secret=None, public_key=public, algorithms=("HS256", "RS256"))
    assert _check(only_rsa, _token(private, "RS256")).verified
    assert not _check(only_rsa, confused).verified
    both = _verifier(public_key=public, algorithms=("HS256", "RS256"))
    assert not _check(both, confused).verified


# --- last_used_at when the wall clock is set back -------------------------------------------


def test_last_used_is_recorded_after_the_wall_clock_is_set_back(tmp_path: Path) -> None:
    store = Store(tmp_path / "k.db")
    wall, steady = FakeClock(NOW), FakeClock(100.0)
    keyring = Keyring(store, [], wall, steady)
    try:
        key = create_key(store, KeySpec(name="bot", scopes=["context:read"]), "t", KNOWN).key
        assert keyring.principal(key) is not None
        keyring.touches.write()
        first = get_key(store.conn, "bot")
        wall.now -= 3600  # an NTP step back an hour
        steady.now += TOUCH_EVERY_SECONDS + 1
        assert keyring.principal(key) is not None
        keyring.close()
        later = get_key(store.conn, "bot")
    finally:
        store.close()
    assert first is not None
    assert later is not None
    assert first.last_used_at is not None
    assert later.last_used_at is not None
    assert later.last_used_at < first.last_used_at  # the use after the step was written


# --- the rate limiter: exact under threads, and it forgets idle callers ----------------------


def test_the_limiter_admits_exactly_the_limit_from_many_threads() -> None:
    limiter = RateLimiter(100, FakeClock(50.0))
    admitted: list[int] = []

    def spend() -> None:
        for _ in range(40):
            try:
                limiter.take("shared")
            except RateLimited:
                continue
            admitted.append(1)

    threads = [threading.Thread(target=spend) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(admitted) == 100


def test_the_limiter_forgets_callers_idle_for_a_minute() -> None:
    clock = FakeClock(50.0)
    limiter = RateLimiter(60, clock)
    for n in range(5000):
        limiter.take(f"key-{n}")
    assert len(limiter) == 5000
    clock.now += 61
    limiter.take("key-0")
    assert len(limiter) == 1
    for _ in range(59):  # key-0's bucket was full again: a fresh minute of requests
        limiter.take("key-0")
    with pytest.raises(RateLimited):
        limiter.take("key-0")


# --- names: a revoked key keeps its name, and the refusal says so ------------------------


def test_a_revoked_keys_name_stays_taken_and_the_refusal_says_so(tmp_path: Path) -> None:
    store = Store(tmp_path / "k.db")
    try:
        spec = KeySpec(name="bot", scopes=["context:read"])
        first = create_key(store, spec, "t", KNOWN).key
        assert revoke_key(store, "bot", "t2")
        with pytest.raises(InvalidKey) as refused:
            create_key(store, spec, "t3", KNOWN)
        assert lookup_key(store.conn, first) is None
    finally:
        store.close()
    assert "revoke it" not in refused.value.detail
    assert "revoked" in refused.value.detail


# --- the read audit: a read is recorded before the answer is built ------------------------


def test_a_read_whose_answer_fails_midway_is_still_audited(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = copy_demo(demo_db, tmp_path)
    agent = make_key(db, "agent-desk", ["context:read"])

    def broken(_raw: bytes) -> Any:
        raise RuntimeError("rendering failed")

    monkeypatch.setattr(context_api, "_decode_snapshot", broken)
    with serving(db) as client:
        failed = client.get(
            "/v1/context", params={"email": EMAIL, "audience": "agent"}, headers=_bearer(agent)
        )
    store = Store(db)
    try:
        # Only this key's reads: the shared demo store may hold other tests' reads already.
        rows = store.conn.execute(
            "SELECT key_name, profile_id, audience, verified FROM read_audit "
            "WHERE key_name = 'agent-desk'"
        ).fetchall()
    finally:
        store.close()
    assert failed.status_code == 500
    assert len(rows) == 1
    key_name, profile_id, audience, verified = rows[0]
    assert (key_name, audience, verified) == ("agent-desk", "agent", 1)
    assert str(profile_id).startswith("prof_")
