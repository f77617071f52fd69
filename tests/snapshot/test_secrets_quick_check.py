"""``redact_secrets`` skips text that cannot hold a secret: the skip must never change an answer."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from context_service.snapshot.secrets import redact_every_secret, redact_secrets

SAMPLES = [
    "my password: Sup3rS3cret!",
    "PASSWORD IS Hunter22",
    "key sk_live_51Habcdefghijklmnop and whsec_abcdefgh12345678",
    "Authorization: Basic dXNlcjpwYXNzd29yZDEy",
    "Bearer abc123def456ghi789",
    "the code is 482913",
    "OTP: 559031, CVV 123, one-time code 7781",
    "shpat_0123456789abcdef0123 pat-na1-12345678-1234-1234-1234-123456789012",
    "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
    "AKIAABCDEFGHIJKLMNOP AIza" + "x" * 35,
    "ghp_" + "a" * 30 + " xoxb-1234567890-abc",
    "Order #1003 placed 2026-11-18 is paid but not fulfilled yet (on hold)",
    "I forgot my password, zip code 94110, discount code: SAVE20",
]
ALPHABET = st.sampled_from(
    [
        *"abcdeinoprstvwxyzACEIKPSTZ0123456789 :=_-.'\"\n",
        *("password", "pin", "code", "token", "sk_live_", "Bearer ", "otp", "cvv", "eyJ", "is "),
        *("\u017f", "\u212a", "PA\u017f\u017fWORD", "O\u0301TP", "\u0130"),  # long s, Kelvin
    ]
)


def test_the_quick_check_never_changes_what_is_removed() -> None:
    for text in SAMPLES:
        assert redact_secrets(text) == redact_every_secret(text), text


@settings(max_examples=400, derandomize=True)
@given(st.lists(ALPHABET, max_size=40).map("".join))
def test_the_quick_check_agrees_on_any_text(text: str) -> None:
    assert redact_secrets(text) == redact_every_secret(text)


def test_text_without_a_trigger_is_returned_as_it_is() -> None:
    summary = "Maya Patel, 4 orders, 312.40 USD in total; ticket 1001 open"
    assert redact_secrets(summary) is summary
