"""Erasure and the suppression list: a person re-created under a new vendor id
that names her only by a link, digests stored under an older email normalization, an erasure
asked by a merged-away id, and a household member who shares a mailbox."""

from __future__ import annotations

import json
import threading
import unicodedata
from pathlib import Path

import pytest

from context_service.identity.normalize import normalize_email
from context_service.models import RecordKey
from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, ingest_batch
from context_service.sync.erase import erase_records
from context_service.trust.erasure import erase_profile
from context_service.trust.subject import subject_export
from context_service.trust.suppression import Guard, person_entries, suppress
from tests.conftest import Ingest
from tests.payloads import (
    hubspot_contact,
    shopify_customer,
    shopify_order,
    stripe_charge,
    stripe_customer,
)
from tests.trust.helpers import (
    erase,
    erase_the_only_profile,
    profile_of_email,
    profile_of_record,
)

ZOE = "zoe.quill@example.com"


def _records(store: Store) -> int:
    return int(store.conn.execute("SELECT count(*) FROM records").fetchone()[0])


def test_a_vendor_record_that_names_her_only_by_a_link_takes_its_charges_with_it(
    store: Store, ingest: Ingest
) -> None:
    """A new Stripe customer whose metadata points at her erased Shopify customer is hers: it
    is blocked by the link, and so are the charges that name only the new customer id."""
    ingest(shopify_customer(700001, ZOE, "Zoe", "Quill"))
    erase_the_only_profile(store)
    again = stripe_customer(
        "cus_NEW0000001", None, "Zoe Q", metadata={"shopify_customer_id": "700001"}
    )
    assert ingest(again).suppressed == 1
    assert ingest(stripe_charge("ch_NEW0000001", "cus_NEW0000001")).suppressed == 1
    assert _records(store) == 0


# The forms an erasure made before email normalization folded IDN domains and NFC stored: the
# address lower-cased as written (an ``xn--`` domain, decomposed accents).
_LEGACY_STORED = [
    ("maya@xn--mnchen-3ya.de", "maya@xn--mnchen-3ya.de"),
    ("maya@xn--mnchen-3ya.de", "Maya@München.de"),
    ("jose\u0301@example.com", "jos\u00e9@example.com"),
    ("jose\u0301@example.com", "jose\u0301@example.com"),
]


@pytest.mark.parametrize(("stored", "arriving"), _LEGACY_STORED)
def test_a_digest_stored_in_the_older_email_form_still_blocks(
    store: Store, stored: str, arriving: str
) -> None:
    assert normalize_email(stored) != stored  # the current form differs from what was stored
    with store.transaction() as conn:
        suppress(conn, [("email", stored)], "era_old", "2026-01-01T00:00:00Z")
        guard = Guard.load(conn, "US")
        assert guard is not None
        assert guard.names_erased(RecordKey("shopify", "customer", "999"), [arriving], [])


def test_a_new_erasure_blocks_the_address_in_every_form(store: Store, ingest: Ingest) -> None:
    ingest(shopify_customer(700001, "maya@münchen.de", "Maya", "Adler"))
    erase_the_only_profile(store)
    for form in ("maya@xn--mnchen-3ya.de", unicodedata.normalize("NFD", "maya@münchen.de")):
        assert ingest(shopify_customer(700002, form, "Maya", "Adler")).suppressed == 1
    assert _records(store) == 0


def test_the_legacy_forms_add_nothing_for_a_plain_address() -> None:
    assert person_entries(["Zoe.Quill@Example.com"], [], "US") == [("email", ZOE)]


def test_erasing_by_a_merged_away_id_erases_the_survivor(store: Store, ingest: Ingest) -> None:
    """The id that was merged away still names the person: erasing by it takes the
    survivor's records and the alias itself."""
    _, merged_away = _merged_zoe(store, ingest)
    aliases = store.conn.execute("SELECT alias FROM profile_aliases").fetchall()
    assert (merged_away,) in aliases
    erase(store, merged_away)
    assert _records(store) == 0
    assert store.conn.execute("SELECT count(*) FROM profile_aliases").fetchone()[0] == 0
    assert store.conn.execute("SELECT count(*) FROM profiles").fetchone()[0] == 0


def _her_batch(n: int) -> list[RawPayload]:
    """Her Shopify customer changed again, and a Stripe customer with her email."""
    return [
        RawPayload(*shopify_customer(700001, ZOE, "Zoe", f"Quill{n}", updated_at=_at(n))),
        RawPayload(*stripe_customer(f"cus_Z{n:08d}", ZOE.upper(), "Zoe Quill")),
    ]


def _at(n: int) -> str:
    return f"2026-01-{n + 1:02d}T00:00:00Z"


def test_an_erasure_racing_a_sync_on_the_same_file_leaves_nothing_of_her(
    tmp_path: Path, ctx: IngestContext
) -> None:
    """A sync (its own connection, in a thread) keeps sending her updates while the erasure
    runs: whichever commits first, she is not in the store afterwards, and a later batch is
    counted as suppressed."""
    db = tmp_path / "race.db"
    setup = Store(db)
    ingest_batch(setup, [RawPayload(*shopify_customer(700001, ZOE, "Zoe", "Quill"))], ctx)
    profile_id = profile_of_email(setup, ZOE)
    assert profile_id is not None
    setup.close()
    started = threading.Event()

    def sync() -> None:
        syncing = Store(db)
        try:
            for n in range(1, 12):
                ingest_batch(syncing, _her_batch(n), ctx)
                started.set()
        finally:
            syncing.close()

    worker = threading.Thread(target=sync)
    worker.start()
    started.wait()
    erasing = Store(db)
    try:
        erase_profile(erasing, profile_id, requested_by="t", reason="t", now=_at(20), region="US")
        worker.join()
        assert profile_of_email(erasing, ZOE) is None
        payloads = [str(r[0]) for r in erasing.conn.execute("SELECT payload FROM records")]
        assert not [p for p in payloads if "zoe" in p.lower()]
        assert ingest_batch(erasing, _her_batch(25), ctx).suppressed == 2
    finally:
        worker.join()
        erasing.close()


def _deliver(store: Store, body: bytes) -> None:
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO webhook_inbox (source, topic, received_at, body, headers, status) "
            "VALUES ('shopify', 'customers/update', '2026-01-01', ?, '{}', 'applied')",
            (body,),
        )


@pytest.mark.parametrize(
    "body",
    [
        b'{"customer": {"email": "Maya@xn--mnchen-3ya.de"}}',
        json.dumps({"customer": {"email": "maya@münchen.de"}}).encode(),  # "m\\u00fcnchen"
        json.dumps({"customer": {"email": "maya@münchen.de"}}, ensure_ascii=False).encode(),
    ],
)
def test_a_delivery_naming_her_idn_address_in_another_form_is_blanked(
    store: Store, ingest: Ingest, body: bytes
) -> None:
    ingest(shopify_customer(700001, "maya@münchen.de", "Maya", "Adler"))
    _deliver(store, body)
    erase_the_only_profile(store)
    (left,) = store.conn.execute("SELECT body FROM webhook_inbox").fetchone()
    assert bytes(left) == b""


def _merged_zoe(store: Store, ingest: Ingest) -> tuple[str, str]:
    """Zoe in two profiles that a later change joins: (the survivor, the merged-away id)."""
    ingest(shopify_customer(700001, ZOE, "Zoe", "Quill"))
    ingest(stripe_customer("cus_ZOE0000001", "zoe.q@example.org", "Zoe Quill"))
    before = {profile_of_email(store, ZOE), profile_of_email(store, "zoe.q@example.org")}
    ingest(stripe_customer("cus_ZOE0000001", ZOE, "Zoe Quill"))
    survivor = profile_of_email(store, ZOE)
    assert survivor is not None
    (merged_away,) = before - {survivor}
    assert merged_away is not None
    return survivor, merged_away


def test_the_subject_export_lists_each_read_once(store: Store, ingest: Ingest) -> None:
    survivor, merged_away = _merged_zoe(store, ingest)
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO read_audit (at, key_name, profile_id, audience, verified, channel) "
            "VALUES ('2026-01-01T00:00:00Z', 'bot', ?, 'agent', 1, 'context')",
            [(survivor,), (merged_away,)],
        )
    reads = subject_export(store.conn, survivor)["reads"]
    assert sorted(r["profile_id"] for r in reads) == sorted([survivor, merged_away])


def test_a_redaction_that_arrives_before_the_record_keeps_it_out(
    store: Store, ingest: Ingest
) -> None:
    """``customers/redact`` (or a HubSpot privacy deletion) for a customer the store has not
    synced yet (a backfill still under way): the key goes on the list, so the backfill's later
    page does not create her, nor her orders."""
    with store.transaction() as conn:
        erase_records(conn, [RecordKey("shopify", "customer", "700001")], "US", _at(0))
    assert ingest(shopify_customer(700001, ZOE, "Zoe", "Quill")).suppressed == 1
    assert ingest(shopify_order(5001, 700001, "#5001", _at(2))).suppressed == 1
    assert _records(store) == 0
    assert ingest(shopify_customer(700002, "sam@example.com", "Sam", "Rivera")).suppressed == 0


FAMILY = "info@silvacosta.example"


def test_erasing_one_of_two_people_on_a_family_mailbox_leaves_the_other_whole(
    store: Store, ingest: Ingest
) -> None:
    ingest(
        hubspot_contact("110", FAMILY, "Ana", "Silva", phone="+14155550111"),
        hubspot_contact("114", FAMILY, "Bruno", "Costa", phone="+14155550114"),
    )
    ana, bruno = (
        profile_of_record(store, "hubspot", "110"),
        profile_of_record(store, "hubspot", "114"),
    )
    assert ana is not None
    assert bruno is not None
    assert ana != bruno
    before = subject_export(store.conn, bruno)
    _deliver(store, json.dumps({"email": FAMILY, "firstname": "Bruno"}).encode())
    erase(store, ana)
    after = subject_export(store.conn, bruno)
    assert after["records"] == before["records"]
    assert after["identifiers"] == before["identifiers"]
    assert after["snapshot"]["identity"] == before["snapshot"]["identity"]
    (body,) = store.conn.execute("SELECT body FROM webhook_inbox").fetchone()
    assert FAMILY.encode() in bytes(body)
    again = hubspot_contact("114", FAMILY, "Bruno", "Costa", phone="(415) 555-0114")
    assert ingest(again).suppressed == 0
    # her own phone, written another way, and her record id stay out
    assert ingest(hubspot_contact("999", None, "A", "S", phone="415.555.0111")).suppressed == 1
    assert ingest(hubspot_contact("110", FAMILY, "Ana", "Silva")).suppressed == 1


def test_the_subject_export_holds_her_own_record_s_rejected_latest_payload(
    store: Store, ingest: Ingest
) -> None:
    """Her record's latest payload could not be read and is kept beside the good one (the
    erasure removes it with the record): it is her data, so the export holds it too."""
    ingest(shopify_customer(700001, ZOE, "Zoe", "Quill"))
    broken = shopify_customer(700001, ZOE, "Zoe", "Quill-Newname", updated_at="garbage")
    assert ingest(broken).rejected == 1
    profile_id = profile_of_email(store, ZOE)
    assert profile_id is not None
    document = json.dumps(subject_export(store.conn, profile_id))
    assert "Quill-Newname" in document
