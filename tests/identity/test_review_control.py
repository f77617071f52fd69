"""People's decisions and the review queue against later automatic runs, on a real store.

``context-service resolve --all`` must give the clusters the incremental path reached, and the
review queue's item ids must survive it: a reviewer who listed the queue, then accepts item 12,
must not be told that item 12 no longer exists because the store was re-resolved meanwhile.
"""

from __future__ import annotations

from context_service.identity.audit import list_review, profile_audit
from context_service.identity.decisions import merge_profiles
from context_service.identity.rebuild import rebuild
from context_service.models import RecordKey
from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, ingest_batch
from tests.conftest import Ingest
from tests.identity_helpers import pid, write
from tests.payloads import hubspot_contact, shopify_customer, stripe_customer, zendesk_user

NOW = "2026-03-01T00:00:00Z"
LATER = "2026-06-01T00:00:00Z"
ANN = RecordKey("zendesk", "user", "1")
NAMELESS = RecordKey("stripe", "customer", "cus_2")
CAL = RecordKey("hubspot", "contact", "3")


def _clusters(store: Store) -> list[list[int]]:
    groups: dict[str, list[int]] = {}
    for record_id, profile_id in store.conn.execute(
        "SELECT record_id, profile_id FROM profile_members ORDER BY record_id"
    ):
        groups.setdefault(str(profile_id), []).append(int(record_id))
    return sorted(groups.values())


def _delete(store: Store, ctx: IngestContext, key: RecordKey) -> None:
    payload = {"id": key.external_id}
    notice = RawPayload(key.source, key.kind, payload, observed_at=LATER, deleted=True)
    ingest_batch(store, [notice], ctx)


def test_deleting_a_record_a_merge_tied_in_reclusters_the_rest_as_resolve_all_does(
    store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    # Ann and a nameless record on one mailbox are one profile; Cal is merged in by a person.
    ingest(zendesk_user(1, "Ann Lee", email="bob@example.com"))
    ingest(stripe_customer("cus_2", "bob@example.com", None))
    ingest(hubspot_contact("3", "chris.lee@example.com", "Chris", "Lee"))
    write(store, merge_profiles, [pid(store, ANN), pid(store, CAL)], "tester", NOW, "US")
    # Dana on the same mailbox makes it a household's: it no longer links Ann and the nameless
    # record; only the merge (Cal with each of them) still holds the three together.
    ingest(hubspot_contact("4", "bob@example.com", "Dana", "Desai"))
    assert pid(store, ANN) == pid(store, NAMELESS) == pid(store, CAL)

    _delete(store, ctx, CAL)  # Cal deleted at the source: nothing holds the other two now

    incremental = _clusters(store)
    audit = profile_audit(store.conn, pid(store, ANN))
    members = {m.record.record_id for m in audit.members}
    write(store, rebuild, "US", NOW)
    assert incremental == _clusters(store)
    linked = {r.record_id for link in audit.links for r in (link.record, link.other) if r}
    assert linked <= members  # no link names the deleted record


def test_resolve_all_over_several_chunks_keeps_the_review_item_ids(
    store: Store, ingest: Ingest
) -> None:
    ingest(shopify_customer(1, "desai.family@example.com", "Christopher", "Desai"))
    ingest(hubspot_contact("2", "desai.family@example.com", "Robert", "Petrov"))
    ingest(stripe_customer("cus_3", "desai.family@example.com", None))
    before = {(i.a.record_id, i.b.record_id): i.id for i in list_review(store.conn).items}
    assert len(before) == 3

    # A store of more than 5,000 person records is resolved in several chunks; chunks of one
    # record show the same on three.
    write(store, rebuild, "US", NOW, None, 1)

    after = {(i.a.record_id, i.b.record_id): i.id for i in list_review(store.conn).items}
    assert after == before
