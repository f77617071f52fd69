"""A merged-away profile id follows the records it named when a split moves them on.

Merge Cal's profile into Ann's, then split Cal's record out again: Cal's old id must name Cal,
not Ann. It used to stay an alias of Ann's profile, so a client that kept Cal's id was shown
Ann's context, and erasing Cal by that id erased Ann.
"""

from __future__ import annotations

from context_service.identity.decisions import merge_profiles, split_profile
from context_service.models import RecordKey
from context_service.store import Store
from context_service.store.profiles import canonical_id, profile_of_key
from context_service.trust.erasure import erase_profiles
from tests.conftest import Ingest
from tests.identity_helpers import pid, write
from tests.payloads import hubspot_contact, shopify_customer

NOW = "2026-03-01T00:00:00Z"
T1 = "2026-03-02T00:00:00Z"
ANN = RecordKey("shopify", "customer", "1")
CAL = RecordKey("hubspot", "contact", "2")


def _two_people(ingest: Ingest, store: Store) -> tuple[str, str]:
    ingest(shopify_customer(1, "ann.lee@example.com", "Ann", "Lee"))
    ingest(hubspot_contact("2", "cal.moss@example.com", "Cal", "Moss"))
    return pid(store, ANN), pid(store, CAL)


def test_a_split_takes_the_merged_away_id_with_its_records(store: Store, ingest: Ingest) -> None:
    ann, cal = _two_people(ingest, store)
    merged = write(store, merge_profiles, [ann, cal], "tester", NOW, "US")
    gone = cal if merged.profile_id == ann else ann
    assert canonical_id(store.conn, gone) == merged.profile_id
    write(store, split_profile, merged.profile_id, [CAL], "tester", NOW, "US")
    assert canonical_id(store.conn, cal) == pid(store, CAL)
    assert canonical_id(store.conn, ann) == pid(store, ANN)
    assert pid(store, CAL) != pid(store, ANN)


def test_erasing_by_the_old_id_after_a_split_erases_the_right_person(
    store: Store, ingest: Ingest
) -> None:
    ann, cal = _two_people(ingest, store)
    merged = write(store, merge_profiles, [ann, cal], "tester", NOW, "US")
    write(store, split_profile, merged.profile_id, [CAL], "tester", NOW, "US")
    target = canonical_id(store.conn, cal)
    assert target is not None
    with store.transaction() as conn:
        erase_profiles(conn, [target], requested_by="test", reason="asked", now=NOW, region="US")
    assert profile_of_key(store.conn, CAL) is None
    assert profile_of_key(store.conn, ANN) is not None  # Ann is untouched


def test_an_alias_stays_put_while_its_records_do(store: Store, ingest: Ingest) -> None:
    ann, cal = _two_people(ingest, store)
    merged = write(store, merge_profiles, [ann, cal], "tester", NOW, "US")
    ingest(shopify_customer(1, "ann.lee@example.com", "Ann", "Lee", "+1 415 555 0100", T1))
    assert canonical_id(store.conn, ann) == canonical_id(store.conn, cal) == merged.profile_id


def test_a_split_leaves_the_surviving_id_with_its_own_records_not_the_larger_part(
    store: Store, ingest: Ingest
) -> None:
    """Ann's profile is older, so it survives the merge with Cal's two records; splitting Ann
    back out must leave Ann's id with Ann, though Cal's part is larger. It used to stay with
    the larger part, so a bot holding Ann's id read Cal's orders."""
    ann, _ = _two_people(ingest, store)
    cal_shop = RecordKey("shopify", "customer", "3")
    ingest(shopify_customer(3, "cal.moss@example.com", "Cal", "Moss"))
    cal = pid(store, CAL)
    assert pid(store, cal_shop) == cal  # Cal's two records, one profile
    merged = write(store, merge_profiles, [ann, cal], "tester", NOW, "US")
    assert merged.profile_id == ann  # the older id survives
    write(store, split_profile, ann, [ANN], "tester", NOW, "US")
    assert canonical_id(store.conn, ann) == pid(store, ANN)
    assert canonical_id(store.conn, cal) == pid(store, CAL) == pid(store, cal_shop)
    assert pid(store, ANN) != pid(store, CAL)
