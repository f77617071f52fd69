"""What marks kept raw text as being about an erased person: her emails, her phones' digits,
and her record ids however JSON writes them (Shopify ids are unquoted numbers)."""

from __future__ import annotations

import pytest

from context_service.store import Store
from context_service.trust.erasure import Needles
from tests.conftest import Ingest
from tests.trust.helpers import erase_the_only_profile

ZOE = {
    "id": 7000012345,
    "email": "zoe.erased@example.com",
    "first_name": "Zoe",
    "last_name": "Erased",
    "updated_at": "2026-01-01T00:00:00Z",
}


def test_a_kept_payload_naming_her_only_by_numeric_id_is_scrubbed(
    store: Store, ingest: Ingest
) -> None:
    ingest(("shopify", "customer", ZOE))
    unreadable = {  # an order the mapper cannot read, kept raw: it names her by id alone
        "id": 5550001,
        "customer": {"id": 7000012345, "first_name": "Zoe", "last_name": "Erased"},
        "created_at": "garbage",
        "total_price": "5.00",
    }
    assert ingest(("shopify", "order", unreadable)).rejected == 1
    erase_the_only_profile(store)
    payloads = [row[0] for row in store.conn.execute("SELECT payload FROM records")]
    assert not any("7000012345" in payload for payload in payloads)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ('{"customer":{"id":7000012345}}', True),
        ('{"customer_id": 7000012345, "x": 1}', True),
        ('{"id":"7000012345"}', True),
        ('{"id":70000123456}', False),  # a longer number
        ('{"id":17000012345}', False),
        ('{"price":7000012345.5}', False),
        ('{"ref":"abc7000012345"}', False),
    ],
)
def test_a_numeric_id_is_found_as_a_whole_number(text: str, found: bool) -> None:
    needles = Needles({'"7000012345"'}, set(), {"7000012345"})
    assert needles.found_in(text) is found
