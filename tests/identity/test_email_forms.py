"""One address written two ways is one email: an internationalized domain in Unicode or in its
ASCII (``xn--``) form, and accented letters composed or decomposed (Unicode NFC)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from context_service.identity.normalize import normalize_email


def test_idn_domain_in_ascii_form_is_the_same_email() -> None:
    assert normalize_email("maya@xn--mnchen-3ya.de") == normalize_email("Maya@München.de")


def test_decomposed_accents_are_the_same_email() -> None:
    composed, decomposed = "jos\u00e9@example.com", "jose\u0301@example.com"
    assert normalize_email(decomposed) == normalize_email(composed)


def test_broken_punycode_label_is_kept_as_written() -> None:
    assert normalize_email("maya@xn--zz-.de") == "maya@xn--zz-.de"


def test_plain_ascii_email_is_unchanged() -> None:
    assert normalize_email("maya.patel@example.com") == "maya.patel@example.com"


@given(st.text(min_size=1, max_size=12), st.text(min_size=1, max_size=12))
def test_normalizing_twice_changes_nothing(local: str, domain: str) -> None:
    once = normalize_email(f"{local}@{domain}.com")
    assert once is None or normalize_email(once) == once
