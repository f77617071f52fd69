"""A look-alike letter in free text (the Kelvin sign, U+212A, matches ``k`` when case is
ignored) must not stop a snapshot from being built: it fits the lower-case IBAN pattern, and
the check of an IBAN's digits could not read it as a letter (``ValueError``)."""

from __future__ import annotations

from context_service.snapshot.redaction import IBAN_REMOVED, redact_payment_numbers
from context_service.store import Store
from tests.audience.helpers import snapshot_of
from tests.conftest import Ingest
from tests.payloads import zendesk_ticket, zendesk_user

KELVIN = "\u212a"


def test_a_kelvin_sign_in_an_iban_shape_is_kept_not_a_crash() -> None:
    for text in (f"x ab12 cdef ghi{KELVIN}", f"IBAN de89 3704 0044 0532 0130 0{KELVIN}"):
        assert redact_payment_numbers(text) == text


def test_a_right_iban_is_still_removed_in_any_case() -> None:
    assert redact_payment_numbers("to de89 3704 0044 0532 0130 00 ok") == f"to {IBAN_REMOVED} ok"


def test_a_ticket_with_a_kelvin_sign_still_gets_its_snapshot(store: Store, ingest: Ingest) -> None:
    subject = f"refund to gb29 nwbk 6016 1331 9268 1{KELVIN} please"
    ingest(zendesk_user(501, "Kel Vin", "kel@example.com"), zendesk_ticket(9001, 501, subject))
    snap = snapshot_of(store, "kel@example.com")
    assert [t.title for t in snap.support.tickets] == [subject]
