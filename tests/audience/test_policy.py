"""Field policy: safe defaults, configuration per audience and per API key, payment numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from context_service.audience import AccessDenied, ContextRequest, build_context, load_policy
from context_service.audience.policy import FieldPolicy, fingerprint
from context_service.errors import ConfigurationError
from context_service.models import Snapshot
from context_service.snapshot.redaction import (
    CARD_REMOVED,
    IBAN_REMOVED,
    redact_payment_numbers,
)


def test_defaults_mask_the_chatbot_and_show_humans_everything() -> None:
    policy = FieldPolicy()
    chatbot = policy.view("chatbot", None)
    assert chatbot.contact == "masked"
    assert not chatbot.shows("crm.deals")
    assert not chatbot.shows("identity.addresses")
    agent = policy.view("agent", None)
    assert agent.contact == "full"
    assert agent.hidden == frozenset()


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    return str(path)


def test_a_key_can_be_allowed_unmasked_contacts_and_limited_audiences(
    tmp_path: Path, maya: Snapshot
) -> None:
    trusted, other = "trusted-key", "other-key"
    policy = load_policy(
        _write(
            tmp_path,
            f"""
[keys.{fingerprint(trusted)}]
audiences = ["chatbot"]
contact = "full"
hide = ["billing.card"]
""",
        )
    )
    view = policy.view("chatbot", trusted)
    body = build_context(maya, ContextRequest("chatbot", "text"), view).body
    assert "maya.patel@example.com" in body
    assert "ending" not in body
    with pytest.raises(AccessDenied):
        policy.view("agent", trusted)
    assert policy.view("chatbot", other).contact == "masked"
    assert policy.allows("full", other)
    assert not policy.allows("full", trusted)


def test_an_audience_rule_can_hide_more(tmp_path: Path, maya: Snapshot) -> None:
    policy = load_policy(
        _write(tmp_path, '[audiences.agent]\nhide = ["orders", "support.comments"]\n')
    )
    body = build_context(maya, ContextRequest("agent", "text"), policy.view("agent", None)).body
    assert "#1002" not in body
    assert "last public comment" not in body
    assert "past_due" in body


@pytest.mark.parametrize(
    "text",
    [
        "[audiences.robot]\nhide = []\n",
        '[audiences.chatbot]\nhide = ["identity.ssn"]\n',
        '[keys.abc]\naudiences = ["everyone"]\n',
        '[audiences.chatbot]\ncontact = "sometimes"\n',
        "not toml at all [",
    ],
)
def test_a_bad_policy_file_is_a_configuration_error(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigurationError):
        load_policy(_write(tmp_path, text))


@pytest.mark.parametrize(
    ("text", "removed"),
    [
        ("my card is 4242 4242 4242 4242, refund it", CARD_REMOVED),
        ("card 4000-0566-5566-5556 exp 12/30", CARD_REMOVED),
        ("amex 378282246310005", CARD_REMOVED),
        ("pay to DE89 3704 0044 0532 0130 00 please", IBAN_REMOVED),
        ("GB82WEST12345698765432", IBAN_REMOVED),
    ],
)
def test_payment_numbers_in_free_text_are_removed(text: str, removed: str) -> None:
    out = redact_payment_numbers(text)
    assert removed in out
    assert not any(run in out for run in ("4242 4242", "0566", "378282", "3704", "WEST1234"))


def test_ordinary_numbers_are_kept() -> None:
    text = "order #1003, tracking 1ZCFW3P00329484606, phone +14155550134, 1234567890123"
    assert redact_payment_numbers(text) == text
