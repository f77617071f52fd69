"""A split says only that the records named are not the rest, never that they are one person:
it records ``apart`` across the split and nothing among the records leaving, which then cluster
by their own evidence, as ``resolve --all`` clusters them.

Before, a split also recorded ``together`` among the records leaving, signed by the person who
split: Ann's Shopify record and the HubSpot contact that later became Bea Stone stayed in one
profile for good, and the audit called that link the splitter's manual decision."""

from __future__ import annotations

from context_service.identity.audit import profile_audit
from context_service.identity.decisions import merge_profiles, split_profile
from context_service.models import RecordKey
from context_service.store import Store
from context_service.sync.rebuild import resolve_all
from context_service.wiring import ingest_context
from tests.conftest import Ingest, make_settings
from tests.identity_helpers import pid, rid, write
from tests.payloads import hubspot_contact, shopify_customer, zendesk_user

NOW, LATER = "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z"
CAL = RecordKey("zendesk", "user", "3")
ANN_SHOP = RecordKey("shopify", "customer", "1")
ANN_CRM = RecordKey("hubspot", "contact", "2")


def _resolve_all(store: Store) -> None:
    resolve_all(store, ingest_context(make_settings(store.path)))


def _together_decisions(store: Store) -> list[tuple[int, int]]:
    rows = store.conn.execute("SELECT a, b FROM identity_decisions WHERE decision = 'together'")
    return [(int(a), int(b)) for a, b in rows]


def _mistaken_merge_undone(store: Store, ingest: Ingest) -> None:
    """Cal's profile is the oldest; Ann's two records link by their email; a person merges
    Cal and Ann by mistake, then splits Ann's two records out again."""
    ingest(zendesk_user(3, "Cal Ng", "cal.ng@example.com"))
    ingest(shopify_customer(1, "ann.lee@example.com", "Ann", "Lee"))
    ingest(hubspot_contact("2", "ann.lee@example.com", "Ann", "Lee"))
    write(store, merge_profiles, [pid(store, CAL), pid(store, ANN_SHOP)], "api", NOW, "US")
    write(
        store,
        split_profile,
        pid(store, CAL),
        [ANN_SHOP, ANN_CRM],
        "api",
        LATER,
        "US",
        note="undo: Ann is not Cal",
    )


def test_the_records_split_off_are_held_by_their_evidence_not_by_a_decision(
    store: Store, ingest: Ingest
) -> None:
    _mistaken_merge_undone(store, ingest)

    assert _together_decisions(store) == []
    assert pid(store, ANN_SHOP) == pid(store, ANN_CRM) != pid(store, CAL)
    audit = profile_audit(store.conn, pid(store, ANN_SHOP))
    assert [(link.rule, link.decided_by, link.note) for link in audit.links] == [
        ("email", "auto", None)
    ]
    assert {d.decision for d in audit.decisions} == {"apart"}


def test_a_record_split_off_with_another_leaves_it_when_it_becomes_someone_else(
    store: Store, ingest: Ingest
) -> None:
    _mistaken_merge_undone(store, ingest)
    ingest(
        hubspot_contact(
            "2", "bea.stone@work.example", "Bea", "Stone", lastmodifieddate="2026-02-01T00:00:00Z"
        )
    )
    assert pid(store, ANN_SHOP) != pid(store, ANN_CRM)
    _resolve_all(store)
    assert len({pid(store, ANN_SHOP), pid(store, ANN_CRM), pid(store, CAL)}) == 3
    audit = profile_audit(store.conn, pid(store, ANN_SHOP))
    assert [m.record.record_id for m in audit.members] == [rid(store, ANN_SHOP)]


def test_records_nothing_links_to_each_other_leave_as_several_profiles(
    store: Store, ingest: Ingest
) -> None:
    """Ann's Shopify record links to her HubSpot contact by email and to a Zendesk user by
    phone; the HubSpot contact and the Zendesk user share only a name. Splitting both out of
    the Shopify record's profile says they are not that customer, not that they are one
    person: each leaves alone, ``split_off`` names both, and ``resolve --all`` agrees."""
    shop, crm, desk = ANN_SHOP, ANN_CRM, RecordKey("zendesk", "user", "3")
    ingest(shopify_customer(1, "ann.lee@example.com", "Ann", "Lee", phone="+14155550123"))
    ingest(hubspot_contact("2", "ann.lee@example.com", "Ann", "Lee"))
    ingest(zendesk_user(3, "Ann Lee", None, phone="+14155550123"))
    ann = pid(store, shop)
    assert pid(store, crm) == pid(store, desk) == ann

    result = write(store, split_profile, ann, [crm, desk], "api", NOW, "US")

    assert pid(store, shop) == ann
    assert len({pid(store, shop), pid(store, crm), pid(store, desk)}) == 3
    assert result.split_off == sorted({pid(store, crm), pid(store, desk)})
    assert result.remaining == [ann]
    assert _together_decisions(store) == []
    before = {key: pid(store, key) for key in (shop, crm, desk)}
    _resolve_all(store)
    assert {key: pid(store, key) for key in (shop, crm, desk)} == before
