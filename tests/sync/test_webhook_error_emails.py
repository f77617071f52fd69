"""A failed delivery's reason loses the email addresses it quotes, and only them: the text
around an address (``email=``, a quote, a URL's path) still says what failed."""

from __future__ import annotations

import pytest

from context_service.snapshot.redaction import EMAIL_REMOVED, redact_emails
from context_service.sync.webhooks import error_text

R = EMAIL_REMOVED


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("bad value 'Maya@Example.COM' for email", f"bad value '{R}' for email"),
        ("field email=maya@example.com is invalid", f"field email={R} is invalid"),
        ("GET https://x.test/c/maya@example.com failed", f"GET https://x.test/c/{R} failed"),
        ("GET https://x.test/c?email=maya%40example.com", f"GET https://x.test/c?email={R}"),
        ("o'brien@example.com", R),
        ("MAYA@EXAMPLE.COM and maya@例え.jp", f"{R} and {R}"),
        ("ssh git@host refused; pointer /a@b", "ssh git@host refused; pointer /a@b"),
    ],
)
def test_only_the_address_is_removed(text: str, kept: str) -> None:
    assert redact_emails(text) == kept
    assert error_text(f"MappingError: {text}") == f"MappingError: {kept}"
