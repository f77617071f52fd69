"""The customers stream replayed from a vcrpy cassette built from Stripe's published examples.

vcrpy patches httpx's transports, so these tests use a plain ``httpx.Client`` and never a
``MockTransport`` (fault tests live in ``test_http.py`` and ``test_streams.py``).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import vcr
import yaml

from context_service.models import Address, PersonFacet, RecordKey
from integrations.stripe import StripeConnector, map_record
from tests.integrations.refdata import refdata

CASSETTES = Path(__file__).parent / "cassettes"
REPLAY = vcr.VCR(
    cassette_library_dir=str(CASSETTES),
    record_mode="none",
    filter_headers=["authorization"],
)
PLACEHOLDER_KEY = "sk_test_redacted"


def test_customers_replayed_from_the_cassette_map_to_the_published_values() -> None:
    published = refdata("stripe", "customer.json")
    with REPLAY.use_cassette("customers_list.yaml") as cassette, httpx.Client() as client:
        connector = StripeConnector(
            client, api_key=PLACEHOLDER_KEY, webhook_secret=None, page_size=1, now=lambda: 1e9
        )
        customers = connector.streams()[0]
        pages = list(customers.pages(None))
        assert cassette.all_played
    assert [json.loads(page.cursor or "") for page in pages] == [
        {"starting_after": "cus_QXg1o8vcGmoR32", "created": 1234567890, "at": 1_000_000_000},
        {"done": True, "at": 1_000_000_000},
    ]
    first, second = (page.objects[0] for page in pages)
    assert first.payload == published
    assert map_record(first.kind, first.payload) == map_record("customer", published)
    mapped = map_record(first.kind, first.payload)
    assert mapped.key == RecordKey("stripe", "customer", "cus_QXg1o8vcGmoR32")
    assert mapped.person == PersonFacet(created_at="2009-02-13T23:31:30Z")

    person = map_record(second.kind, second.payload).person
    assert person == PersonFacet(
        emails=["jenny.rosen@example.com"],
        phones=["+14155550123"],
        name="Jenny Rosen",
        company="Rosen Supplies",
        addresses=[
            Address(
                street="510 Townsend St",
                city="San Francisco",
                region="CA",
                postcode="94103",
                country="US",
            )
        ],
        links=[RecordKey("shopify", "customer", "207119551")],
        created_at="2009-02-13T23:33:10Z",
    )


def test_the_cassette_holds_no_secret() -> None:
    text = (CASSETTES / "customers_list.yaml").read_text(encoding="utf-8")
    for interaction in yaml.safe_load(text)["interactions"]:
        assert "authorization" not in {name.lower() for name in interaction["request"]["headers"]}
    for marker in ("sk_live_", "rk_live_", "whsec_", "Bearer"):
        assert marker not in text
    assert "sk_test_" not in text.replace(PLACEHOLDER_KEY, "")
