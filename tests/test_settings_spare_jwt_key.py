"""JWT settings: a spare JWT key beside a usable one does not stop ``serve`` (``doctor`` warns of
it), and a key no allowed algorithm fits still does."""

from __future__ import annotations

from context_service.settings import load_settings, setting_problems
from context_service.trust.runtime import jwt_config

PUBLIC_KEY = "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----"


def test_a_spare_jwt_secret_beside_a_usable_public_key_does_not_stop_the_start() -> None:
    """Moving from HS256 to RS256: the secret is still set, the algorithms allow only RS256.
    Tokens signed with the public key's pair verify, so the start must not stop saying that
    no user_token is accepted."""
    settings = load_settings(
        {},
        check=False,
        chatbot_jwt_secret="s" * 40,
        chatbot_jwt_public_key=PUBLIC_KEY,
        chatbot_jwt_issuer="https://idp.example.com",
        chatbot_jwt_audience="context-service",
        chatbot_jwt_algorithms=["RS256"],
    )
    config = jwt_config(settings)
    assert config is not None
    assert config.allowed() == ["RS256"]
    assert setting_problems(settings) == []


def test_a_jwt_key_no_allowed_algorithm_fits_still_stops_the_start() -> None:
    """The check the fix must keep: a lone secret with only public-key algorithms allowed."""
    settings = load_settings(
        {},
        check=False,
        chatbot_jwt_secret="s" * 40,
        chatbot_jwt_issuer="https://idp.example.com",
        chatbot_jwt_audience="context-service",
        chatbot_jwt_algorithms=["RS256"],
    )
    config = jwt_config(settings)
    assert config is not None
    assert config.allowed() == []
    assert any("CHATBOT_JWT_ALGORITHMS" in problem for problem in setting_problems(settings))


def test_doctor_warns_of_a_spare_jwt_key_it_cannot_use() -> None:
    from context_service.doctor import check_verification

    settings = load_settings(
        {},
        check=False,
        chatbot_jwt_secret="s" * 40,
        chatbot_jwt_public_key=PUBLIC_KEY,
        chatbot_jwt_issuer="https://idp.example.com",
        chatbot_jwt_audience="context-service",
        chatbot_jwt_algorithms=["RS256"],
    )
    findings = [f for f in check_verification(settings) if f.level == "warning"]
    assert any("CONTEXT_SERVICE_CHATBOT_JWT_SECRET verifies nothing" in f.text for f in findings)
