"""Signed widget links: what verifies, and every way a link is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from context_service.widget import (
    WidgetLinkInvalid,
    WidgetLinkRejected,
    WidgetNotConfigured,
    sign,
    signing_key,
    verify,
)

KEY = b"k" * 32
NOW = 1_800_000_000
MAYA = {"email": "maya.patel@example.com"}


def _pairs(params: dict[str, str]) -> list[tuple[str, str]]:
    return list(params.items())


def test_a_fresh_link_verifies_to_its_lookup_parameters() -> None:
    link = sign(MAYA, KEY, NOW + 300)
    assert verify(_pairs(link), KEY, NOW) == MAYA


def test_an_expired_link_is_rejected() -> None:
    link = sign(MAYA, KEY, NOW - 1)
    with pytest.raises(WidgetLinkRejected, match="expired"):
        verify(_pairs(link), KEY, NOW)


def test_a_link_expiring_exactly_now_is_rejected() -> None:
    with pytest.raises(WidgetLinkRejected, match="expired"):
        verify(_pairs(sign(MAYA, KEY, NOW)), KEY, NOW)


def test_a_tampered_signature_is_rejected() -> None:
    link = sign(MAYA, KEY, NOW + 300)
    link["sig"] = link["sig"][:-2] + ("AA" if not link["sig"].endswith("AA") else "BB")
    with pytest.raises(WidgetLinkRejected, match="signature"):
        verify(_pairs(link), KEY, NOW)


def test_a_valid_signature_reused_with_another_customer_is_rejected() -> None:
    link = sign(MAYA, KEY, NOW + 300)
    link["email"] = "tomas.garcia@example.com"
    with pytest.raises(WidgetLinkRejected, match="signature"):
        verify(_pairs(link), KEY, NOW)


def test_a_signature_moved_to_another_identifier_kind_is_rejected() -> None:
    link = sign({"phone": "+14155550134"}, KEY, NOW + 300)
    moved = {"email": "+14155550134", "exp": link["exp"], "sig": link["sig"]}
    with pytest.raises(WidgetLinkRejected):
        verify(_pairs(moved), KEY, NOW)


def test_an_extended_expiry_is_rejected() -> None:
    link = sign(MAYA, KEY, NOW + 300)
    link["exp"] = str(NOW + 86_400 * 365)
    with pytest.raises(WidgetLinkRejected, match="signature"):
        verify(_pairs(link), KEY, NOW)


def test_a_link_signed_with_another_key_is_rejected() -> None:
    link = sign(MAYA, b"other" * 8, NOW + 300)
    with pytest.raises(WidgetLinkRejected):
        verify(_pairs(link), KEY, NOW)


def test_an_added_lookup_parameter_is_rejected() -> None:
    link = sign(MAYA, KEY, NOW + 300)
    link["phone"] = "+14155550134"
    with pytest.raises(WidgetLinkRejected):
        verify(_pairs(link), KEY, NOW)


@pytest.mark.parametrize("missing", ["exp", "sig"])
def test_a_link_without_expiry_or_signature_is_malformed(missing: str) -> None:
    link = sign(MAYA, KEY, NOW + 300)
    del link[missing]
    with pytest.raises(WidgetLinkInvalid, match="'exp' and 'sig'"):
        verify(_pairs(link), KEY, NOW)


def test_an_unknown_parameter_is_malformed() -> None:
    link = sign(MAYA, KEY, NOW + 300)
    with pytest.raises(WidgetLinkInvalid, match="unexpected parameter: audience"):
        verify([*_pairs(link), ("audience", "agent")], KEY, NOW)


def test_a_repeated_parameter_is_malformed() -> None:
    link = sign(MAYA, KEY, NOW + 300)
    with pytest.raises(WidgetLinkInvalid, match="more than once"):
        verify([*_pairs(link), ("email", "tomas.garcia@example.com")], KEY, NOW)


def test_a_non_numeric_expiry_never_verifies() -> None:
    link = sign(MAYA, KEY, NOW + 300)
    link["exp"] = "soon"
    with pytest.raises(WidgetLinkRejected):
        verify(_pairs(link), KEY, NOW)


def test_only_lookup_parameters_can_be_signed() -> None:
    with pytest.raises(WidgetLinkInvalid):
        sign({"email": "a@example.com", "admin": "1"}, KEY, NOW)


def test_the_key_is_the_widget_secret_else_the_stores_own_secret() -> None:
    assert signing_key("s3cret-widget-0123", b"kept" * 8) == b"s3cret-widget-0123"
    assert signing_key(None, b"kept" * 8) == b"kept" * 8  # widget.link_keys keeps it
    with pytest.raises(WidgetNotConfigured):
        signing_key(None, None)


lookup_values = st.text(min_size=1, max_size=40)


@given(
    original=st.fixed_dictionaries({"email": lookup_values}),
    forged=lookup_values,
)
def test_no_other_value_verifies_under_a_signature(original: dict[str, str], forged: str) -> None:
    link = sign(original, KEY, NOW + 300)
    if forged == original["email"]:
        assert verify(_pairs(link), KEY, NOW) == original
        return
    with pytest.raises(WidgetLinkRejected):
        verify(_pairs({**link, "email": forged}), KEY, NOW)
