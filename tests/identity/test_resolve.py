"""Deterministic, incremental identity resolution against a real SQLite store."""

from __future__ import annotations

import pytest

from context_service.errors import ProfileNotFound
from context_service.snapshot import lookup
from context_service.store import Store
from context_service.store.profiles import canonical_id, count_profiles
from tests.conftest import Ingest
from tests.payloads import (
    hubspot_contact,
    shopify_customer,
    stripe_customer,
    zendesk_user,
)


def _profile(store: Store, source: str, kind: str, external_id: str) -> str | None:
    row = store.conn.execute(
        "SELECT m.profile_id FROM records r JOIN profile_members m ON m.record_id = r.id "
        "WHERE r.source = ? AND r.kind = ? AND r.external_id = ?",
        (source, kind, external_id),
    ).fetchone()
    return None if row is None else str(row[0])


def test_same_email_in_any_case_links(store: Store, ingest: Ingest) -> None:
    ingest(shopify_customer(1, "maya.patel@example.com", "Maya", "Patel"))
    ingest(hubspot_contact("5", "Maya.Patel@Example.com", "Maya", "Patel"))
    assert _profile(store, "shopify", "customer", "1") == _profile(store, "hubspot", "contact", "5")
    assert count_profiles(store.conn) == 1


def test_phone_in_another_format_links_when_names_agree(store: Store, ingest: Ingest) -> None:
    ingest(shopify_customer(1, "maya.patel@example.com", "Maya", "Patel", "+1 415-555-0134"))
    ingest(zendesk_user(9, "Maya Patel", phone="(415) 555-0134"))
    assert _profile(store, "zendesk", "user", "9") == _profile(store, "shopify", "customer", "1")


def test_shared_household_phone_with_different_names_stays_apart(
    store: Store, ingest: Ingest
) -> None:
    ingest(shopify_customer(1, "kim@example.com", "Kim", "Lee", "+1 212-555-0100"))
    ingest(zendesk_user(9, "Robert Jones", phone="(212) 555-0100"))
    assert count_profiles(store.conn) == 2


def test_generic_mailbox_never_merges_two_people(store: Store, ingest: Ingest) -> None:
    ingest(hubspot_contact("1", "info@silvacosta.example", "Ana", "Silva"))
    ingest(hubspot_contact("2", "info@silvacosta.example", "Bruno", "Costa"))
    assert count_profiles(store.conn) == 2


def test_same_email_but_clearly_different_names_stays_apart(store: Store, ingest: Ingest) -> None:
    ingest(shopify_customer(1, "family@example.org", "Priya", "Shah"))
    ingest(stripe_customer("cus_A", "family@example.org", "Daniel Okafor"))
    assert count_profiles(store.conn) == 2


def test_placeholder_values_are_not_merge_keys(store: Store, ingest: Ingest) -> None:
    ingest(shopify_customer(1, "test@test.com", "Ann", "Lee", "0000000000"))
    ingest(shopify_customer(2, "test@test.com", "Ann", "Lee", "0000000000"))
    assert count_profiles(store.conn) == 2


def test_explicit_cross_system_id_links_without_shared_email(store: Store, ingest: Ingest) -> None:
    ingest(shopify_customer(77, "work@example.com", "Lee", "Wong"))
    ingest(
        stripe_customer(
            "cus_X", "home@example.net", "Lee Wong", metadata={"shopify_customer_id": "77"}
        )
    )
    assert _profile(store, "stripe", "customer", "cus_X") == _profile(
        store, "shopify", "customer", "77"
    )
    rules = [r[0] for r in store.conn.execute("SELECT rule FROM identity_links")]
    assert "explicit_id" in rules


def test_explicit_link_arriving_before_its_target_still_links(store: Store, ingest: Ingest) -> None:
    ingest(
        stripe_customer(
            "cus_X", "home@example.net", "Lee Wong", metadata={"shopify_customer_id": "77"}
        )
    )
    ingest(shopify_customer(77, "work@example.com", "Lee", "Wong"))
    assert count_profiles(store.conn) == 1


def test_bridge_record_merges_profiles_and_older_id_survives_as_alias_target(
    store: Store, ingest: Ingest
) -> None:
    ingest(shopify_customer(1, "maya.patel@example.com", "Maya", "Patel"))
    ingest(zendesk_user(9, "Maya Patel", phone="(415) 555-0134"))
    older = _profile(store, "shopify", "customer", "1")
    newer = _profile(store, "zendesk", "user", "9")
    assert older != newer
    assert older is not None
    assert newer is not None
    ingest(stripe_customer("cus_M", "maya.patel@example.com", "Maya Patel", "+14155550134"))
    assert count_profiles(store.conn) == 1
    assert _profile(store, "zendesk", "user", "9") == older
    assert canonical_id(store.conn, newer) == older


def test_the_older_id_survives_a_merge_even_when_the_newer_profile_holds_more_records(
    store: Store, ingest: Ingest
) -> None:
    ingest(zendesk_user(9, "Maya Patel", phone="(415) 555-0134"))  # the older profile: 1 record
    ingest(shopify_customer(1, "maya.patel@example.com", "Maya", "Patel"))
    ingest(hubspot_contact("5", "maya.patel@example.com", "Maya", "Patel"))
    older = _profile(store, "zendesk", "user", "9")
    newer = _profile(store, "shopify", "customer", "1")
    assert older is not None
    assert newer is not None
    assert older != newer
    assert _profile(store, "hubspot", "contact", "5") == newer  # 2 records against 1
    ingest(stripe_customer("cus_M", "maya.patel@example.com", "Maya Patel", "+14155550134"))
    assert count_profiles(store.conn) == 1
    assert _profile(store, "shopify", "customer", "1") == older
    assert canonical_id(store.conn, newer) == older


def test_changed_email_moves_record_out_of_profile(store: Store, ingest: Ingest) -> None:
    ingest(shopify_customer(1, "sam@example.com", "Sam", "Reed"))
    ingest(hubspot_contact("5", "sam@example.com", "Sam", "Reed"))
    assert count_profiles(store.conn) == 1
    moved = hubspot_contact("5", "other.person@example.com", "Sam", "Reed")
    moved[2]["properties"]["lastmodifieddate"] = "2026-02-01T00:00:00Z"
    ingest(moved)
    assert count_profiles(store.conn) == 2


def test_deleted_record_leaves_its_profile(store: Store, ingest: Ingest) -> None:
    ingest(stripe_customer("cus_D", "gone@example.com", "Gone Person"))
    assert count_profiles(store.conn) == 1
    ingest(("stripe", "customer", {"id": "cus_D", "object": "customer", "deleted": True}))
    assert count_profiles(store.conn) == 0


def test_rejected_payload_is_kept_raw_and_reported(store: Store, ingest: Ingest) -> None:
    report = ingest(("zendesk", "user", {"name": "No Id"}))
    assert report.rejected == 1
    assert "id" in report.rejections[0].reason
    row = store.conn.execute("SELECT payload, error FROM records").fetchone()
    assert "No Id" in row[0]
    assert row[1]


def test_a_record_written_twice_in_one_batch_keeps_only_its_last_identifiers(
    store: Store, ingest: Ingest
) -> None:
    """Customer 1 changed its email twice before one page was committed: the old address must
    not keep finding the profile (whoever has it now would see this customer's data)."""
    first = shopify_customer(1, "old.owner@example.com", "Maya", "Patel")
    second = shopify_customer(1, "maya.patel@example.com", "Maya", "Patel", None, "2026-12-01")
    ingest(first, second)
    assert lookup.by_email(store.conn, "maya.patel@example.com").profile_id
    with pytest.raises(ProfileNotFound):
        lookup.by_email(store.conn, "old.owner@example.com")
    third = shopify_customer(1, "third@example.com", "Maya", "Patel", None, "2026-12-02")
    fourth = shopify_customer(1, "fourth@example.com", "Maya", "Patel", None, "2026-12-03")
    ingest(third, fourth)  # two updates of an existing record in one batch
    for gone in ("maya.patel@example.com", "third@example.com"):
        with pytest.raises(ProfileNotFound):
            lookup.by_email(store.conn, gone)
    assert lookup.by_email(store.conn, "fourth@example.com").profile_id
