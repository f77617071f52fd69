"""Toll-free numbers are a company's line, never one person's: no merge key (DESIGN: a company
switchboard is not a merge key). Colleagues who each give their employer's 1-800 number must
not become one profile."""

from __future__ import annotations

import pytest

from context_service.identity.normalize import is_merge_phone, normalize_phone


@pytest.mark.parametrize(
    "toll_free",
    ["+18005550199", "+18885550123", "+18335550100", "+18445550100", "+18555550100",
     "+18665550100", "+18775550100", "+448001234567", "+448081570000", "+611800123456",
     "+498001234567", "+33805123456"],
)  # fmt: skip
def test_a_toll_free_number_is_no_merge_key(toll_free: str) -> None:
    assert not is_merge_phone(toll_free)


@pytest.mark.parametrize(
    "personal", ["+14155550134", "+12125550187", "+447911123456", "+61412345678", "+4915112345678"]
)
def test_a_personal_number_stays_a_merge_key(personal: str) -> None:
    assert is_merge_phone(personal)


def test_a_vanity_toll_free_number_is_no_merge_key_either() -> None:
    phone = normalize_phone("1-800-FLOWERS", "US")
    assert phone is not None
    assert not is_merge_phone(phone)
