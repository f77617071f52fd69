"""Relatives whose names differ only in a second given name, a male or female form, or a
generational suffix, and namesakes whose mailboxes differ only by punctuation or a birth year:
never one profile, and a lookup with one's name and the other's phone is not the other."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.identity.compare import email_level
from context_service.identity.features import Features
from context_service.identity.model import DEFAULT_MODEL
from context_service.identity.search import PartialIdentity, search
from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, ingest_batch
from context_service.wiring import default_mappers
from tests.conftest import Ingest, copy_store
from tests.payloads import hubspot_contact, shopify_customer, zendesk_user
from tests.review_fixtures import AUTH, app_client

HOME = "+33142603030"


def _together(store: Store, a: str, b: str) -> bool:
    rows = store.conn.execute(
        "SELECT r.source || ':' || r.external_id, m.profile_id FROM records r "
        "JOIN profile_members m ON m.record_id = r.id"
    )
    profile = {str(key): str(pid) for key, pid in rows.fetchall()}
    return profile[a] == profile[b]


def _reviewed(store: Store) -> bool:
    return bool(store.conn.execute("SELECT count(*) FROM review_items").fetchone()[0])


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Jean-Pierre Martin", "Jean-Luc Martin"),  # father and son
        ("María José García", "María Carmen García"),  # sisters
        ("Mary Ann Smith", "Mary Beth Smith"),
        ("Min-jun Kim", "Min-seo Kim"),  # the first syllable alone is no given name
        ("Francesco Rossi", "Francesca Rossi"),  # twins
        ("Jean Dupont", "Jeanne Dupont"),  # husband and wife
        ("Jordan Miller", "Jordyn Miller"),
        ("Joan Smith", "Jo Smith"),  # mother and daughter: Jo is a name of its own
        ("Mary Joan Smith", "Mary Jo Smith"),
        ("Leon Smith", "Leona Smith"),  # a listed name and its -a form
        ("Justin Smith", "Justina Smith"),
        ("Josie Smith", "Rosie Smith"),  # sisters whose names rhyme
        ("Molly Smith", "Polly Smith"),
        ("Lily Smith", "Lila Smith"),  # four letters, the last one apart
        ("Ella Smith", "Elle Smith"),
    ],
)
def test_relatives_on_one_home_phone_are_two_people_a_person_may_look_at(
    store: Store, ingest: Ingest, one: str, other: str
) -> None:
    ingest(zendesk_user(1, one, "first.relative@example.net", HOME))
    ingest(zendesk_user(2, other, "second.relative@example.org", HOME))
    assert not _together(store, "zendesk:1", "zendesk:2")
    assert _reviewed(store)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Mary Smith", "Mary Ann Smith"),  # a second given name on one side only
        ("Mary Beth Smith", "Mary Elizabeth Smith"),  # a nickname
        ("Min-jun Kim", "Mi-njun Kim"),  # one name, a key slipped across the hyphen
        ("Jean-Pierre Martin", "Jean Pierre Martin"),
        ("Maria De Luca", "Maria Luca"),  # a surname particle is no given name
        ("Anna Thea Smith", "Anna Theresa Smith"),  # Thea: Theresa's short form
        ("Karen Smith", "Caren Smith"),  # a first letter that spells the same sound
        ("Sofia Smith", "Zofia Smith"),
        ("Marc Smith", "Mark Smith"),  # four letters, listed as one name's spellings
        ("Micheal Smith", "Michael Smith"),  # a slip inside the name
        ("John Smith", "Johm Smith"),  # a wrong key at the end
        ("Sara Smith", "Saraa Smith"),  # a key held down
        ("Jodi Smith", "Jody Smith"),  # -i and -y: one name's spellings
        ("Toni Smith", "Tony Smith"),
        ("Kate Smith", "Katy Smith"),
        ("Liz Smith", "Liza Smith"),
        ("Gillian Smith", "Jillian Smith"),
        ("Celina Smith", "Selina Smith"),
        ("Ibrahim Smith", "Ebrahim Smith"),  # one Arabic name transliterated two ways
        ("Osman Smith", "Usman Smith"),
        ("Michael Smith", "Nichael Smith"),  # the key beside the first letter
        ("Lily Smith", "Lilu Smith"),  # the key beside the last letter
        ("Hanna Smith", "Ganna Smith"),  # Ukrainian H, Russian G
        ("Javier Smith", "Xavier Smith"),
        ("Leonor Smith", "Leonora Smith"),  # listed as one name
        ("Trish Smith", "Trisha Smith"),
        ("Kate Smith", "Kati Smith"),
    ],
)
def test_one_person_written_two_ways_on_one_phone_is_one_profile(
    store: Store, ingest: Ingest, one: str, other: str
) -> None:
    ingest(zendesk_user(1, one, "first.way@example.net", HOME))
    ingest(zendesk_user(2, other, "second.way@example.org", HOME))
    assert _together(store, "zendesk:1", "zendesk:2")


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("María Fernanda García López", "María García López"),  # a surname, not a given name
        ("João Pedro Silva Santos", "João Silva Santos"),
        ("Anne Smith-Jones", "Anne Marie Smith-Jones"),
        ("Jan Willem van den Berg", "Jan van den Berg"),  # a particle
        ("Hans Peter vom Stein", "Hans vom Stein"),
        ("Ali Mohammed Hassan", "Ali Muhammad Hassan"),  # two spellings of one name
        ("Peter Novak", "Petr Novak"),
        ("Juan Carlos Pérez", "Juan Charles Pérez"),
    ],
)
def test_a_shared_mailbox_links_whatever_the_second_given_names(
    store: Store, ingest: Ingest, one: str, other: str
) -> None:
    ingest(zendesk_user(1, one, "the.one.mailbox@example.net", HOME))
    ingest(zendesk_user(2, other, "the.one.mailbox@example.net"))
    assert _together(store, "zendesk:1", "zendesk:2")


@pytest.mark.parametrize(
    ("one", "other", "mailbox"),
    [
        ("Carlo Rossi", "Carla Rossi", "rossi1980@gmail.com"),  # a parent's mailbox
        ("Julio García", "Julia García", "garcia1975@gmail.com"),
        ("Julio García", "Julia García", "julioyjulia@gmail.com"),  # spelling both
        ("Carlo Rossi", "Carla Rossi", "carlo.rossi@example.net"),  # her brother's mailbox
        ("Francesco Rossi", "Francesca Rossi", "rossi1980@gmail.com"),
        ("Mary Rose Smith", "Mary Rosemary Smith", "smith1975@gmail.com"),  # one starts the other
        ("María Ana López", "María Juliana López", "maria.lopez72@gmail.com"),  # one ends it
        ("Ji-ho Kim", "Ji-hoon Kim", "kim1975@gmail.com"),
        ("Mustafa Karimov", "Mustafo Karimov", "karimov1970@gmail.com"),  # or one, transliterated
        ("Mary Rose Smith", "Mary Rosemary Smith", None),  # a phone alone
        ("Mustafa Karimov", "Mustafo Karimov", None),
    ],
)
def test_names_a_letter_or_an_ending_apart_on_one_mailbox_or_phone_are_reviewed_not_merged(
    store: Store, ingest: Ingest, one: str, other: str, mailbox: str | None
) -> None:
    """A parent's mailbox holds the children's records: a brother's and a sister's names an
    ending apart (Carlo, Carla), or two second given names one of which starts or ends the
    other (Rose, Rosemary; Ana, Juliana), are two people's until a person says otherwise,
    though one person may write a transliterated name two ways (Mustafa, Mustafo)."""
    ingest(zendesk_user(1, one, mailbox or "first.relative@example.net", HOME))
    ingest(zendesk_user(2, other, mailbox or "second.relative@example.org", HOME))
    assert not _together(store, "zendesk:1", "zendesk:2")
    assert _reviewed(store)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("NGUYEN Thi Lan", "NGUYEN Thi Mai"),  # sisters: Thi is no first name to go by
        ("Nguyen, Thi Lan", "Nguyen, Thi Mai"),
        ("NGUYEN Van An", "NGUYEN Van Binh"),
        ("WANG Xiao Hong", "WANG Xiao Yan"),
        ("KIM Min Jun", "KIM Min Seo"),
        ("Xiomara Doe, RN", "Yesenia Doe, RN"),  # colleagues: a credential is no name
        ("Anh Tran, CPA", "Binh Tran, CPA"),
    ],
)
def test_relatives_or_colleagues_written_surname_first_or_with_a_credential_stay_apart(
    store: Store, ingest: Ingest, one: str, other: str
) -> None:
    """A name written surname first, or with a credential after a comma, is not turned
    round: a generation name (Thi, Van, Xiao) or the credential would become the first name
    the two have in common, and the word that tells them apart would count for nothing."""
    ingest(zendesk_user(1, one, "first.relative@example.net", HOME))
    ingest(zendesk_user(2, other, "second.relative@example.org", HOME))
    assert not _together(store, "zendesk:1", "zendesk:2")
    assert _reviewed(store)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Jean-Pierre Martin", "Dr. Jean-Luc Martin"),  # a title before the son's name
        ("Jean-Pierre Martin", "Jean Luc Martin"),  # written without the hyphen
        ("Carlo Rossi", "Carla Rossi"),  # a brother and sister, neither name listed
        ("Mary Ann Smith", "Mary Beth Smith"),
    ],
)
def test_relatives_on_a_family_mailbox_are_reviewed_not_merged(
    store: Store, ingest: Ingest, one: str, other: str
) -> None:
    ingest(zendesk_user(1, one, "martin.family@gmail.com", HOME))
    ingest(zendesk_user(2, other, "martin.family@gmail.com"))
    assert not _together(store, "zendesk:1", "zendesk:2")
    assert _reviewed(store)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("john.smith@yahoo.com", "johnsmith@yahoo.com"),  # two namesakes' natural handles
        ("maria.garcia@hotmail.com", "maria_garcia@hotmail.com"),
        ("maria.garcia@frontier.com", "mariagarcia@frontier.com"),  # an ISP's mail
        ("mgarcia85@gmail.com", "maria.garcia85@yahoo.com"),  # one birth year
    ],
)
def test_namesakes_mailboxes_a_dot_or_a_birth_year_apart_do_not_link_them(
    store: Store, ingest: Ingest, one: str, other: str
) -> None:
    ingest(shopify_customer(1, one, "Maria", "Garcia"))
    ingest(hubspot_contact("2", other, "Maria", "Garcia"))
    assert not _together(store, "shopify:1", "hubspot:2")


def test_a_slip_in_a_mailbox_is_still_a_near_one_and_punctuation_is_not() -> None:
    def level(x: str, y: str) -> str:
        return email_level(Features(emails=(x,)), Features(emails=(y,)))

    assert level("john.smith@yahoo.com", "john.smiht@yahoo.com") == "fuzzy"
    assert level("john.smith@yahoo.com", "johnsmith@yahoo.com") == "different"
    assert level("j.smith48213@yahoo.com", "jsmith48213@yahoo.com") == "local"  # own number
    assert level("maya.patel@acme.example", "mayapatel@acme.example") == "fuzzy"  # a firm's


def test_a_full_name_given_agrees_with_the_customers_own_second_given_name(
    store: Store, ingest: Ingest
) -> None:
    """The name typed into a lookup is read as records are: "Mary Ann Smith" is first name
    Mary, second given name Ann, so her own name agrees outright (it once read "mary" as the
    second given name, and only the full-name check kept it from counting against her)."""
    ingest(zendesk_user(1, "Mary Ann Smith", "maryann.smith@example.net", HOME))
    query = PartialIdentity(name="Mary Ann Smith", phone=HOME)
    (best, *_) = search(store.conn, query, DEFAULT_MODEL, "US")
    assert best.evidence["first_name"] == "exact"


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, blank_store: Path
) -> Iterator[TestClient[Any]]:
    """The home phone is on the father's and the brother's records only: Jean-Pierre Martin
    (father), John Smith Sr. and Francesco Rossi; the son, the Jr. and the sister have an
    email alone."""
    db = copy_store(blank_store, tmp_path_factory.mktemp("household") / "lookup.db")
    store = Store(db)
    items = [
        zendesk_user(1, "Jean-Pierre Martin", "jp.martin@example.net", HOME),
        zendesk_user(2, "Jean-Luc Martin", "jl.martin@example.org"),
        zendesk_user(3, "John Smith Sr.", "john.sr@example.net", "+15125550188"),
        zendesk_user(4, "John Smith Jr.", "john.jr@example.org"),
        zendesk_user(5, "Francesco Rossi", "francesco@example.net", "+390212345678"),
        zendesk_user(6, "Francesca Rossi", "francesca@example.org"),
        zendesk_user(7, "Mary Ann Smith", "maryann.smith@example.net", "+15125550177"),
    ]
    ingest_batch(store, [RawPayload(*item) for item in items], IngestContext(default_mappers()))
    try:
        with app_client(db, store=store) as test_client:
            yield test_client
    finally:
        store.close()


@pytest.mark.parametrize(
    ("name", "phone", "relative"),
    [
        ("Jean-Luc Martin", HOME, "Jean-Pierre Martin"),
        ("John Smith Jr.", "+15125550188", "John Smith Sr."),
        ("Francesca Rossi", "+390212345678", "Francesco Rossi"),
    ],
)
def test_a_name_with_a_relatives_phone_is_not_the_relative(
    client: TestClient[Any], name: str, phone: str, relative: str
) -> None:
    response = client.post("/v1/context/lookup", json={"name": name, "phone": phone}, headers=AUTH)
    assert response.status_code in {404, 409}, response.text
    assert relative not in response.text or response.status_code == 409


@pytest.mark.parametrize(
    ("name", "phone", "own"),
    [
        ("Mary Ann Smith", "+15125550177", "Mary Ann Smith"),  # her second given name too
        ("Jean-Pierre Martin", HOME, "Jean-Pierre Martin"),
    ],
)
def test_ones_own_full_name_and_phone_are_oneself(
    client: TestClient[Any], name: str, phone: str, own: str
) -> None:
    response = client.post("/v1/context/lookup", json={"name": name, "phone": phone}, headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.json()["identity"]["name"] == own


def test_the_relatives_own_name_and_phone_are_still_the_relative(client: TestClient[Any]) -> None:
    response = client.post(
        "/v1/context/lookup", json={"name": "John Smith Sr.", "phone": "+15125550188"}, headers=AUTH
    )
    assert response.status_code == 200, response.text
    assert response.json()["identity"]["name"] == "John Smith Sr."
