"""End-user verification settings are checked at start-up, not only by ``doctor``.

A short ``user_hash`` or JWT secret lets anyone who guesses it claim to be any customer and
read their verified context; a JWT key without issuer and audience verifies no token at all.
Such values must stop ``serve`` (and every command) with one clear error that never shows the
secret, as the other bad values do.
"""

from __future__ import annotations

import pytest

from context_service.errors import ConfigurationError
from context_service.settings import load_settings, setting_problems

LONG_JWT = "jwt-secret-that-is-long-enough-0123456789"
LONG_SITE = "site-secret-0123456789"
JWT_PAIR = {
    "CONTEXT_SERVICE_CHATBOT_JWT_ISSUER": "https://shop.example",
    "CONTEXT_SERVICE_CHATBOT_JWT_AUDIENCE": "context-service",
}


def _refused(env: dict[str, str]) -> str:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(env)
    return caught.value.detail


def test_a_short_jwt_secret_stops_the_start_without_showing_it() -> None:
    detail = _refused({"CONTEXT_SERVICE_CHATBOT_JWT_SECRET": "short-jwt-secret", **JWT_PAIR})
    assert "CONTEXT_SERVICE_CHATBOT_JWT_SECRET" in detail
    assert "32" in detail
    assert "short-jwt-secret" not in detail


def test_a_short_user_hash_secret_stops_the_start_without_showing_it() -> None:
    env = {"CONTEXT_SERVICE_CHATBOT_USER_HASH_SECRETS": f"{LONG_SITE},tiny-s3cret"}
    detail = _refused(env)
    assert "CONTEXT_SERVICE_CHATBOT_USER_HASH_SECRETS" in detail
    assert "tiny-s3cret" not in detail
    assert LONG_SITE not in detail


def test_a_jwt_key_without_issuer_and_audience_stops_the_start() -> None:
    detail = _refused({"CONTEXT_SERVICE_CHATBOT_JWT_SECRET": LONG_JWT})
    assert "CONTEXT_SERVICE_CHATBOT_JWT_ISSUER" in detail
    assert "CONTEXT_SERVICE_CHATBOT_JWT_AUDIENCE" in detail


def test_an_unknown_jwt_algorithm_stops_the_start() -> None:
    env = {
        "CONTEXT_SERVICE_CHATBOT_JWT_SECRET": LONG_JWT,
        "CONTEXT_SERVICE_CHATBOT_JWT_ALGORITHMS": "HS256,none,HS257",
        **JWT_PAIR,
    }
    detail = _refused(env)
    assert "CONTEXT_SERVICE_CHATBOT_JWT_ALGORITHMS" in detail
    assert "'none'" in detail
    assert "'HS257'" in detail


def test_every_verification_problem_is_named_at_once() -> None:
    settings = load_settings(
        {
            "CONTEXT_SERVICE_CHATBOT_JWT_SECRET": "short",
            "CONTEXT_SERVICE_CHATBOT_USER_HASH_SECRETS": "tiny",
            "CONTEXT_SERVICE_CHATBOT_JWT_ALGORITHMS": "nope",
        },
        check=False,
    )
    problems = " | ".join(setting_problems(settings))
    for variable in ("JWT_SECRET", "USER_HASH_SECRETS", "JWT_ALGORITHMS", "JWT_ISSUER"):
        assert f"CONTEXT_SERVICE_CHATBOT_{variable}" in problems


def test_sound_verification_settings_start() -> None:
    settings = load_settings(
        {
            "CONTEXT_SERVICE_CHATBOT_JWT_SECRET": LONG_JWT,
            "CONTEXT_SERVICE_CHATBOT_USER_HASH_SECRETS": LONG_SITE,
            "CONTEXT_SERVICE_CHATBOT_JWT_ALGORITHMS": "HS256,ES256",
            **JWT_PAIR,
        }
    )
    assert settings.chatbot_jwt_algorithms == ["HS256", "ES256"]
    assert setting_problems(settings) == []


def test_a_public_key_alone_needs_no_secret_length() -> None:
    settings = load_settings(
        {"CONTEXT_SERVICE_CHATBOT_JWT_PUBLIC_KEY": "-----BEGIN PUBLIC KEY-----", **JWT_PAIR}
    )
    assert setting_problems(settings) == []
