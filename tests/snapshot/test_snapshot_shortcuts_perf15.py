"""The shortcuts that make a snapshot rebuild cheaper never change what it makes.

Each quick path is compared with the long way round it skips: the payment-number check with
the full redaction, the clean-snapshot check with the copy it spares, the quoting and line
folding with ``json.dumps`` and the full substitution, the one-record identity with
``precedence.choose``, and the stored JSON with an encoding of the final snapshot.
"""

from __future__ import annotations

import gc
import json
import threading
from collections import Counter

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from context_service.models import (
    Address,
    Order,
    PersonFacet,
    RecordKey,
    Refund,
    Snapshot,
    Ticket,
)
from context_service.snapshot import signals
from context_service.snapshot.assemble import (
    ProfileData,
    _addresses,
    _choose,
    _distinct,
    _distinct_found,
    _emails,
    _Found,
    _Person,
    _with_bounded_text,
    build_snapshot,
)
from context_service.snapshot.links import DashboardLinks
from context_service.snapshot.materialize import collector_paused, snapshot_rows
from context_service.snapshot.precedence import Candidate, choose, normalize_for, source_rank
from context_service.snapshot.quoting import _BREAKS, _LINE_BREAKS, one_line, quoted
from context_service.snapshot.quoting import strip_bidi_controls as strip_bidi
from context_service.snapshot.redaction import (
    CARD_REMOVED,
    IBAN_REMOVED,
    OwnContacts,
    redact_every_payment_number,
    redact_free_text,
    redact_payment_numbers,
    without_other_contacts,
    without_payment_numbers,
)
from context_service.store.records import StoredRecord

NOW = "2026-06-01T00:00:00Z"
_replace = msgspec.structs.replace

# --- payment numbers: the quick check ---------------------------------------------------------

PAYMENT_SAMPLES = [
    "card 4242 4242 4242 4242 exp 12/30",
    "card 4242-4242-4242-4242",
    "order 1001 4242424242424242 thanks",
    "IBAN DE89 3704 0044 0532 0130 00 please",
    "please refund to de89 3704 0044 0532 0130 00 thanks",
    "GB82WEST12345698765432",
    # IBAN shapes with no run of 13 digits: only the IBAN half of the check lets them through
    "pay gb94 nwbk abcd efgh.",  # lower case, right check digits: removed
    "pay e\u017f61 nwbk abcd efgh.",  # a long s is an s under IGNORECASE: removed
    "pay GB00 NWBK ABCD EFGH.",  # capitals: removed whatever the check digits
    "souza10@example.com, customer since 2026-01",
    "Order #1003 placed 2026-11-18 is paid, 2026-11-18 10 11 12",
    "call +1 415 555 0134 or 415-555-0134",
    "\u017f\u212a89 3704 0044 0532 0130 00",  # long s and Kelvin sign: letters under IGNORECASE
    "\u0131\u013089 3704 0044 0532 0130 00",  # dotless i, dotted capital I
    "\u0664\u0662\u0664\u0662 \u0664\u0662\u0664\u0662 \u0664\u0662\u0664\u0662 4242",
    "x4242424242424242",
    "",
]
PAYMENT_ALPHABET = st.sampled_from(
    [
        *"0123456789 -_.#/abDEGBzZ\n",
        *("4242 ", "4242-", "DE89", "de89", "GB82", "3704", "0532 0130 00", "\u0664", "\uff15"),
        *("\u017f", "\u212a", "\u0131", "\u0130", "\u00e9", "[card number removed]"),
    ]
)


def test_the_payment_quick_check_never_changes_what_is_removed() -> None:
    for text in PAYMENT_SAMPLES:
        assert redact_payment_numbers(text) == redact_every_payment_number(text), text
    assert CARD_REMOVED in redact_payment_numbers(PAYMENT_SAMPLES[0])
    assert IBAN_REMOVED in redact_payment_numbers(PAYMENT_SAMPLES[3])
    for text in PAYMENT_SAMPLES:
        if text.startswith("pay "):
            assert redact_payment_numbers(text) == f"pay {IBAN_REMOVED}.", text


@settings(max_examples=600, derandomize=True)
@given(st.lists(PAYMENT_ALPHABET, max_size=40).map("".join))
def test_the_payment_quick_check_agrees_on_any_text(text: str) -> None:
    assert redact_payment_numbers(text) == redact_every_payment_number(text)


def test_text_without_a_payment_number_is_returned_as_it_is() -> None:
    summary = (
        "Maya Patel <maya10@example.com>; Orders: 2, 712.42 USD; latest #17221 placed 2026-11-26"
    )
    assert redact_payment_numbers(summary) is summary


# --- the clean-snapshot check -----------------------------------------------------------------


def _reference_without_payment_numbers(snap: Snapshot) -> Snapshot:
    """What ``without_payment_numbers`` made before its quick check: the copy, every time."""

    def clean(text: str | None) -> str | None:
        return redact_free_text(text) if text else text

    support = _replace(
        snap.support,
        tickets=[
            _replace(t, title=clean(t.title), last_public_comment=clean(t.last_public_comment))
            for t in snap.support.tickets
        ],
    )
    orders = [
        _replace(
            o, note=clean(o.note), refunds=[_replace(r, note=clean(r.note)) for r in o.refunds]
        )
        for o in snap.commerce.orders
    ]
    return _replace(
        snap,
        support=support,
        commerce=_replace(snap.commerce, orders=orders),
        crm=_replace(snap.crm, deals=[_replace(d, title=clean(d.title)) for d in snap.crm.deals]),
        signals=[_replace(s, message=redact_free_text(s.message)) for s in snap.signals],
        summary=redact_free_text(snap.summary),
    )


def _record(rid: int, source: str, kind: str, ext: str) -> StoredRecord:
    return StoredRecord(
        id=rid,
        key=RecordKey(source, kind, ext),
        payload="",
        updated_at=f"2026-01-0{rid % 9 + 1}T00:00:00Z",
        fetched_at="2026-01-01T00:00:00Z",
        deleted=False,
        mapped=None,
        error=None,
    )


def _data(notes: list[str | None], comment: str | None = None) -> ProfileData:
    person = _Person(
        record=_record(1, "shopify", "customer", "c1"),
        facet=PersonFacet(
            emails=["maya@example.com"],
            phones=["(415) 555-0134"],
            first_name="Maya",
            last_name="Patel",
            addresses=[Address(street="1 Main St", postcode="94110")],
        ),
    )
    acts: list[tuple[StoredRecord, Order | Ticket]] = [
        (
            _record(10 + i, "shopify", "order", f"o{i}"),
            Order(
                external_id=f"o{i}",
                title=f"#{1000 + i}",
                created_at=f"2026-05-0{i + 1}T00:00:00Z",
                amount="10.00",
                currency="USD",
                financial_status="paid",
                fulfillment_status="unfulfilled",
                note=note,
                refunds=[Refund(external_id=f"r{i}", amount="1.00", note=note)] if note else [],
            ),
        )
        for i, note in enumerate(notes)
    ]
    acts.append(
        (
            _record(30, "zendesk", "ticket", "t1"),
            Ticket(external_id="t1", title="Help", status="open", last_public_comment=comment),
        )
    )
    return ProfileData("p1", 3, [person], list(acts), {})


PROFILES = [
    _data([None]),
    _data([None, "leave at the door"]),
    _data(["my card is 4242 4242 4242 4242"], "password: hunter22"),
    _data([None], "IBAN DE89 3704 0044 0532 0130 00, call me on +44 20 7946 0958"),
    _data(["\u202eevil\u202c note"], "ok"),
]


def test_a_clean_snapshot_is_kept_and_a_dirty_one_copied_as_before() -> None:
    for data in PROFILES:
        snap = build_snapshot(data, DashboardLinks(), NOW, "US")
        expected = _reference_without_payment_numbers(snap)
        cleaned = without_payment_numbers(snap)
        assert cleaned == expected
        assert (cleaned is snap) == (expected == snap)
    dirty = build_snapshot(PROFILES[2], DashboardLinks(), NOW, "US")
    assert without_payment_numbers(dirty) is not dirty


def test_stored_json_is_the_encoding_of_the_stored_snapshot() -> None:
    links = DashboardLinks(shopify_shop="demo", zendesk_subdomain="acme")
    loaded = {f"p{i}": _replace(data, profile_id=f"p{i}") for i, data in enumerate(PROFILES)}
    for row in snapshot_rows(loaded, links, NOW, "US"):
        snap = without_payment_numbers(build_snapshot(loaded[row.profile_id], links, NOW, "US"))
        assert row.json == msgspec.json.encode(snap)
        assert "\u202e" not in row.json.decode()


def test_an_order_without_free_text_is_kept_as_it_is() -> None:
    own = OwnContacts.of(["maya@example.com"], ["+14155550134"], "US")
    bare = Order(external_id="o1", title="#1", amount="5.00")
    assert without_other_contacts(bare, own) is bare
    assert _with_bounded_text(bare) is bare
    assert without_other_contacts(bare, own) == _replace(bare, note=None, refunds=[])
    noted = _replace(bare, note="call bob@example.org")
    assert without_other_contacts(noted, own).note == "call [email removed]"  # type: ignore[union-attr]


def test_billing_signals_skipped_without_billing_items_would_say_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    snaps = [build_snapshot(data, DashboardLinks(), NOW, "US") for data in PROFILES]
    monkeypatch.setattr(signals, "_holds_billing", lambda billing, held: True)
    assert [build_snapshot(data, DashboardLinks(), NOW, "US") for data in PROFILES] == snaps


# --- quoting and line folding ------------------------------------------------------------------

TEXT = st.text(
    alphabet=st.sampled_from(
        [*'ab "\\/\n\r\t\x00\x1f\x7f\x85\u2028\u2029\u202a\u202e\u2066\u2069\u00e9\U0001f600\ud800']
    ),
    max_size=30,
)


@settings(max_examples=400, derandomize=True)
@given(TEXT)
def test_quoted_is_the_json_string_it_was(text: str) -> None:
    literal = json.dumps(text, ensure_ascii=False).translate(_LINE_BREAKS)
    assert quoted(text) == "customer-written " + literal


@settings(max_examples=400, derandomize=True)
@given(TEXT)
def test_one_line_folds_as_it_did(text: str) -> None:
    expected = text if text.isprintable() else strip_bidi(_BREAKS.sub(" ", text))
    assert one_line(text) == expected


def test_quoted_none_is_an_empty_string() -> None:
    assert quoted(None) == 'customer-written ""'


# --- dashboard links ------------------------------------------------------------------------------


def test_links_are_the_builder_lookups_they_were() -> None:
    links = DashboardLinks(shopify_shop="demo", hubspot_portal_id="42", zendesk_subdomain="acme")
    sources = ["shopify", "stripe", "hubspot", "zendesk", "customer-export", "shopify_shop", ""]
    for source in sources:
        for kind in ("customer", "order", "charge", "contact", "ticket", "row"):
            key = RecordKey(source, kind, "1")
            builder = getattr(links, f"_{source}", None)
            assert links.url(key) == (None if builder is None else builder(key))


# --- one record's identity ----------------------------------------------------------------------


def _person(source: str, facet: PersonFacet, rid: int = 1) -> _Person:
    return _Person(record=_record(rid, source, "customer", str(rid)), facet=facet)


def test_one_value_is_chosen_as_precedence_chooses_it() -> None:
    for field in ("name", "company"):
        for value in ("Maya Patel", "ACME Inc.", "  ", "Tomás"):
            found: list[_Found] = [("hubspot", value, "2026-01-01T00:00:00Z")]
            candidate = Candidate("hubspot", value, normalize_for(field, value), found[0][2])
            assert _choose(field, found) == choose(field, [candidate])
            assert _distinct_found(found) == _distinct([value])
    phone: list[_Found] = [("stripe", "+14155550134", None)]
    assert _choose("phone", phone) == choose("phone", [Candidate(*phone[0][:2], phone[0][1])])
    two: list[_Found] = [("stripe", "+14155550134", None), ("shopify", "+14155550199", None)]
    assert _choose("phone", two) == choose("phone", [Candidate(s, p, p, u) for s, p, u in two])
    assert _choose("name", []) == (None, None)


def _reference_emails(people: list[_Person]) -> list[str]:
    from context_service.identity.normalize import normalize_email

    counts: Counter[str] = Counter()
    for p in people:
        counts.update(list(dict.fromkeys(e for e in map(normalize_email, p.facet.emails) if e)))
    return [email for email, _ in counts.most_common()]


def _reference_addresses(people: list[_Person]) -> list[Address]:
    newest_first = sorted(people, key=lambda p: p.record.updated_at or "", reverse=True)
    ranked = sorted(newest_first, key=lambda p: source_rank("address", p.record.key.source))
    seen: dict[str, Address] = {}
    for p in ranked:
        for address in p.facet.addresses:
            key = normalize_for("address", f"{address.street or ''} {address.postcode or ''}")
            if key and key not in seen:
                seen[key] = address
    return list(seen.values())[:3]


ADDRESSES = [
    Address(street="1 Main St", postcode="94110"),
    Address(street="", postcode=""),
    Address(street=None, postcode=None),
    Address(street="...", postcode="-"),
    Address(street="_", postcode=None),
    Address(street="+", postcode=None),
    Address(street="\u0301\u0301", postcode=None),  # combining marks only: no word once folded
    Address(street="Straße 5", postcode="10115"),
    Address(street="\u00bd", postcode=None),
]


def test_one_record_emails_and_addresses_are_what_the_ranking_made() -> None:
    emails = ["B@Example.com", "b@example.com", "not an email", "", "a@example.org"]
    one = [_person("shopify", PersonFacet(emails=emails))]
    assert _emails(one) == _reference_emails(one) == ["b@example.com", "a@example.org"]
    for address in ADDRESSES:
        people = [_person("stripe", PersonFacet(addresses=[address]))]
        assert _addresses(people) == _reference_addresses(people), address
    two = [_person("stripe", PersonFacet(addresses=ADDRESSES[:2])), _person("x", PersonFacet())]
    assert _addresses(two) == _reference_addresses(two)


# --- the collector pause ------------------------------------------------------------------------


def test_the_collector_runs_again_after_a_pause_and_stays_off_if_it_was() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_overlapping_threads_leave_the_collector_running() -> None:
    inside = threading.Barrier(2)

    def build() -> None:
        with collector_paused():
            inside.wait(timeout=10)

    threads = [threading.Thread(target=build) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert gc.isenabled()
