"""An end user's proof vouches for the records that hold what was proved, not for everything
the identity engine joined to them.

Anyone can type a stranger's name and phone into a web form that makes a HubSpot contact, with
their own email. The engine joins that contact to the stranger's profile (the same phone, the
names agree); the sender then signs in to the site with their own email, and the site proves
that email. A review showed the proof opening the stranger's orders, invoice, card and ticket.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from litestar.testing import TestClient

from context_service.snapshot.links import DashboardLinks
from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, ingest_batch
from context_service.trust.verify import user_hash
from context_service.wiring import default_mappers
from tests.llm.helpers import completion, mock_client
from tests.payloads import hubspot_contact, shopify_customer, shopify_order
from tests.trust.helpers import (
    MAYA,
    MAYA_PHONE,
    SITE_SECRET,
    chatbot_app,
    copy_demo,
    make_key,
    profile_of_email,
)

MALLORY = "mallory@attacker.example"
# What only Maya's own records hold: her orders, her ticket's words, her invoice and card.
MAYAS = ("#1001", "#1003", "charged twice", "KJFEVMTW", "8672", "past_due")


def _planted(demo_db: Path, tmp_path: Path, *records: tuple[str, str, dict[str, Any]]) -> Path:
    """A copy of the demo store with these records ingested (what a web form, a guest
    checkout or an email to support can make)."""
    (tmp_path / "source").mkdir()
    db = copy_demo(demo_db, tmp_path / "source")
    store = Store(db)
    try:
        ctx = IngestContext(mappers=default_mappers(), links=DashboardLinks())
        ingest_batch(store, [RawPayload(*record) for record in records], ctx)
    finally:
        store.close()
    return db


@pytest.fixture
def poisoned(demo_db: Path, tmp_path: Path) -> Path:
    """The demo store plus the contact a web form made with Maya's name and phone."""
    contact = hubspot_contact("990001", MALLORY, "Maya", "Patel", "(415) 555-0134")
    db = _planted(demo_db, tmp_path, contact)
    store = Store(db)
    try:
        assert profile_of_email(store, MALLORY) == profile_of_email(store, MAYA)  # joined
    finally:
        store.close()
    return db


@pytest.fixture
def world(poisoned: Path, tmp_path: Path) -> Iterator[tuple[TestClient[Any], Path]]:
    with chatbot_app(poisoned, tmp_path) as (client, _bot, _clock, db):
        yield client, db


def _verified(client: TestClient[Any], email: str, **extra: Any) -> Any:
    body = {"email": email, "audience": "chatbot", "user_hash": user_hash(SITE_SECRET, email)}
    response = client.post("/v1/context/lookup", json={**body, **extra})
    assert response.status_code == 200, response.text
    assert response.headers["X-Context-Verification"] == "verified"
    return response


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_a_proof_of_the_senders_own_email_opens_only_their_record(world: Any, fmt: str) -> None:
    client, _ = world
    response = _verified(client, MALLORY, format=fmt)
    assert response.headers["X-Context-Part"] == "proved"
    for secret in MAYAS:
        assert secret not in response.text, secret


def test_the_same_proof_over_get_is_scoped_alike(world: Any) -> None:
    client, _ = world
    params = {"email": MALLORY, "audience": "chatbot", "format": "text"}
    params["user_hash"] = user_hash(SITE_SECRET, MALLORY)
    response = client.get("/v1/context", params=params)
    assert response.headers["X-Context-Verification"] == "verified"
    for secret in MAYAS:
        assert secret not in response.text, secret


def test_the_owner_still_sees_her_own_records_and_not_the_forged_one(world: Any) -> None:
    client, _ = world
    response = _verified(client, MAYA, format="text")
    assert response.headers["X-Context-Part"] == "proved"
    for secret in ("#1001", "#1003", "KJFEVMTW", "8672", "past_due"):
        assert secret in response.text, secret
    assert "attacker.example" not in response.text
    # Her Zendesk user holds no email: while another email claims the profile, neither
    # claimant's proof vouches for it (an agent sees it, and can split the profile).
    assert "charged twice" not in response.text


def test_a_phone_proof_vouches_for_the_records_holding_the_phone(world: Any) -> None:
    """The forged contact holds Maya's phone too: a proof of the phone is the phone's owner's
    (whoever the site verified it for), so both records holding it are shown."""
    client, _ = world
    body = {"phone": MAYA_PHONE, "audience": "chatbot", "format": "text"}
    body["user_hash"] = user_hash(SITE_SECRET, MAYA_PHONE)
    response = client.post("/v1/context/lookup", json=body)
    if response.headers.get("X-Context-Verification") != "verified":
        pytest.skip("phone proofs are not accepted by user_hash")
    assert "#1001" in response.text


def test_a_trusted_backend_still_reads_the_whole_profile(world: Any) -> None:
    client, db = world
    backend = make_key(
        db,
        "backend",
        ["context:read", "context:lookup"],
        audiences=["chatbot"],
        trusted_backend=True,
    )
    body = {"email": MALLORY, "audience": "chatbot", "format": "text"}
    response = client.post(
        "/v1/context/lookup", json=body, headers={"Authorization": f"Bearer {backend}"}
    )
    assert response.headers["X-Context-Verification"] == "trusted_backend"
    assert "X-Context-Part" not in response.headers
    assert "charged twice" in response.text


def test_a_customer_whose_records_share_the_email_sees_everything(
    demo_db: Path, tmp_path: Path
) -> None:
    """Maya's Zendesk user holds no email, and no record of hers holds another one: her proof
    vouches for the whole profile, ticket included."""
    with chatbot_app(demo_db, tmp_path) as (client, _bot, _clock, _db):
        response = _verified(client, MAYA, format="text")
    assert "X-Context-Part" not in response.headers
    for secret in MAYAS:
        assert secret in response.text, secret


def _summaries(request: httpx2.Request) -> httpx2.Response:
    """A model that repeats the ticket when its prompt shows it."""
    shown = "charged twice" in request.content.decode()
    return httpx2.Response(200, json=completion("Open ticket: charged twice." if shown else "New."))


def test_a_parts_llm_summary_is_never_the_whole_profiles(poisoned: Path, tmp_path: Path) -> None:
    with chatbot_app(poisoned, tmp_path, mock_client(_summaries)) as (client, _bot, _clock, db):
        backend = make_key(db, "backend", ["context:read", "context:lookup"], trusted_backend=True)
        whole = client.post(
            "/v1/context/lookup",
            json={"email": MAYA, "audience": "chatbot", "format": "text", "summary": "llm"},
            headers={"Authorization": f"Bearer {backend}"},
        )
        assert whole.headers["X-Summary-Source"] == "llm"
        assert "Open ticket: charged twice." in whole.text  # cached for the whole profile
        part = _verified(client, MALLORY, format="text", summary="llm")
    assert part.headers["X-Summary-Source"] == "llm"
    assert "charged twice" not in part.text


def test_a_proof_of_ones_own_phone_proves_no_email_typed_beside_it(
    demo_db: Path, tmp_path: Path
) -> None:
    """A review planted Maya's email beside its own phone: the phone's proof took her email
    for proved and opened her whole profile."""
    own_phone = "+14155550199"
    db = _planted(demo_db, tmp_path, hubspot_contact("990002", MAYA, "Maya", "Patel", own_phone))
    with chatbot_app(db, tmp_path) as (client, _bot, _clock, _db):
        body = {"phone": own_phone, "audience": "chatbot", "format": "text"}
        body["user_hash"] = user_hash(SITE_SECRET, own_phone)
        response = client.post("/v1/context/lookup", json=body)
    assert response.headers["X-Context-Verification"] == "verified"
    assert response.headers["X-Context-Part"] == "proved"
    for secret in MAYAS:
        assert secret not in response.text, secret


def test_an_order_in_question_must_be_the_proved_parts_own(demo_db: Path, tmp_path: Path) -> None:
    """A review's own Shopify customer, joined to Maya by her name and phone, had the id of one
    of her orders: proving that customer id showed her order as the one in question."""
    planted = 5550001
    db = _planted(
        demo_db,
        tmp_path,
        shopify_customer(planted, MALLORY, "Maya", "Patel", MAYA_PHONE),
        shopify_order(planted, 6270000000017, "#1777", "2024-01-05T00:00:00Z", total="777.77"),
    )
    with chatbot_app(db, tmp_path) as (client, _bot, _clock, _db):
        params = {"source": "shopify", "external_id": str(planted), "audience": "chatbot"}
        params |= {"format": "text", "user_hash": user_hash(SITE_SECRET, f"shopify:{planted}")}
        response = client.get("/v1/context", params=params)
    assert response.headers["X-Context-Verification"] == "verified"
    assert response.headers["X-Context-Part"] == "proved"
    assert "#1777" not in response.text
    assert "777.77" not in response.text
