"""Which phone numbers are merge keys: a full number is; a local number without its area code
(``555-0134``) is no E.164 number at all, and a number with an extension is a switchboard's,
kept with its extension and never a merge key."""

from __future__ import annotations

import pytest

from context_service.errors import ProfileNotFound
from context_service.identity.normalize import is_merge_phone, normalize_phone
from context_service.snapshot import lookup
from context_service.store import Store
from context_service.store.profiles import count_profiles
from tests.conftest import Ingest
from tests.payloads import hubspot_contact


@pytest.mark.parametrize(
    ("raw", "region"), [("555-0134", "US"), ("5550134", "CA"), ("7946 0958", "GB")]
)
def test_a_local_number_without_its_area_code_is_no_phone(raw: str, region: str) -> None:
    assert normalize_phone(raw, region) is None


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("(415) 555-0134", "US", "+14155550134"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("0044 20 7946 0958", "US", "+442079460958"),
        ("07700 900123", "GB", "+447700900123"),  # a fictional range: possible, not valid
        ("+49 30 23125000", "US", "+493023125000"),
    ],
)
def test_full_numbers_still_normalize(raw: str, region: str, e164: str) -> None:
    assert normalize_phone(raw, region) == e164


@pytest.mark.parametrize(
    "raw",
    ["+1 415-555-0100 ext. 12", "415-555-0100 x12", "+1 415 555 0100 #12", "+14155550100;ext=12"],
)
def test_an_extension_is_kept_and_is_no_merge_key(raw: str) -> None:
    phone = normalize_phone(raw, "US")
    assert phone == "+14155550100;ext=12"
    assert not is_merge_phone(phone)


def test_a_lookup_with_another_extension_or_none_finds_no_one(store: Store, ingest: Ingest) -> None:
    ingest(
        hubspot_contact("1", "ana.silva@acme.example", "Ana", "Silva", "+1 415-555-0100 ext. 12")
    )
    assert lookup.by_phone(store.conn, "+1 (415) 555-0100 x12", "US")
    for other in ("+1 415-555-0100 ext. 34", "+1 415-555-0100"):
        with pytest.raises(ProfileNotFound):
            lookup.by_phone(store.conn, other, "US")


def test_colleagues_on_one_switchboard_stay_apart(store: Store, ingest: Ingest) -> None:
    ingest(
        hubspot_contact("1", "ana.silva@acme.example", "Ana", "Silva", "+1 415-555-0100 ext. 12")
    )
    ingest(hubspot_contact("2", "ana.s@gmail.com", "Ana", "Silva", "+1 415-555-0100 ext. 34"))
    ingest(hubspot_contact("3", "bo.park@acme.example", "Bo", "Park", "+1 415-555-0100"))
    assert count_profiles(store.conn) == 3
