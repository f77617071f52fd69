"""The five named people of the demo, with fixed facts that the README, tests and users rely on.

* **Maya Patel** is in all four sources. Shopify has her as ``maya.patel@example.com`` with
  phone ``+14155550134`` in San Francisco and three orders: two delivered, the newest paid but
  not shipped. Stripe: a past-due Pro subscription whose latest invoice is open after a declined
  card. HubSpot writes her email ``Maya.Patel@Example.com`` (lifecycle ``customer``, an owner,
  an open "Team plan upgrade" deal). Zendesk knows her by name and ``(415) 555-0134`` only,
  no email, with one open ticket: "I was charged twice this month".
* **Tomás García** (Shopify and Zendesk, where he is "Tomas Garcia"): one refunded order and a
  solved ticket about it.
* **Ana Silva** and **Bruno Costa**: two different people behind one shared HubSpot address,
  ``info@silvacosta.example`` (company "Silva & Costa"); only Ana has a phone.
* **Lee Wong**: Stripe only, an active Starter subscription with paid invoices.
"""

from __future__ import annotations

from context_service.demo._util import DAY
from context_service.demo.people import Addr, Company, Person

MAYA_NAME = "Maya Patel"
MAYA_EMAIL = "maya.patel@example.com"
MAYA_HUBSPOT_EMAIL = "Maya.Patel@Example.com"
MAYA_PHONE = "+14155550134"
MAYA_ZENDESK_PHONE = "(415) 555-0134"
MAYA_TICKET_SUBJECT = "I was charged twice this month"
MAYA_DEAL_NAME = "Maya Patel \u2013 Team plan upgrade"  # en dash
TOMAS_NAME = "Tomás García"
TOMAS_EMAIL = "tomas.garcia@example.com"
ANA_NAME = "Ana Silva"
BRUNO_NAME = "Bruno Costa"
SILVA_COSTA_EMAIL = "info@silvacosta.example"
SILVA_COSTA_COMPANY = "Silva & Costa"
ANA_PHONE = "+1 617-555-0142"
LEE_NAME = "Lee Wong"
LEE_EMAIL = "lee.wong@example.com"
TOMAS_ORDER_NAME = "#1004"  # Maya's three orders come first
PERSONA_EMAILS = (MAYA_EMAIL, TOMAS_EMAIL, SILVA_COSTA_EMAIL, LEE_EMAIL)

SILVA_COSTA = Company(0, SILVA_COSTA_COMPANY, "silvacosta.example", "DESIGN", None)
MAYA_COMPLAINT = (
    "Hi, my bank statement shows two charges of $49.00 from Lumen Labs this month for my Pro "
    "plan, but the app now says my payment failed and my account is past due. I was charged "
    "twice this month. Can you check and refund the duplicate?"
)


def companies() -> list[Company]:
    """The persona companies (HubSpot companies and Zendesk organizations)."""
    return [SILVA_COSTA]


def people(now: int) -> list[Person]:
    """The personas as ``Person`` records (global indexes 1 to 5)."""
    maya = Person(
        g=1,
        first="Maya",
        last="Patel",
        country="US",
        created=now - 700 * DAY - 41_537,
        address=Addr(
            "742 Valencia St",
            "Apt 3",
            "San Francisco",
            "California",
            "CA",
            "94110",
            "United States",
            "US",
        ),
        shopify=True,
        shopify_email=MAYA_EMAIL,
        shopify_first="Maya",
        shopify_last="Patel",
        shopify_phone=MAYA_PHONE,
        address_phone="+1 415-555-0134",
        shopify_tags="vip, newsletter",
        stripe=True,
        stripe_email=MAYA_EMAIL,
        stripe_name=MAYA_NAME,
        stripe_phone=MAYA_PHONE,
        stripe_address=True,
        hubspot=True,
        hubspot_email=MAYA_HUBSPOT_EMAIL,
        hubspot_first="Maya",
        hubspot_last="Patel",
        hubspot_phone="415-555-0134",
        lifecycle="customer",
        owner=0,
        zendesk=True,
        zendesk_email=None,
        zendesk_name=MAYA_NAME,
        zendesk_phone=MAYA_ZENDESK_PHONE,
    )
    tomas = Person(
        g=2,
        first="Tomás",
        last="García",
        country="US",
        created=now - 300 * DAY - 7_213,
        address=Addr(
            "1450 Brickell Ave", "Unit 12", "Miami", "Florida", "FL", "33131", "United States", "US"
        ),
        shopify=True,
        shopify_email=TOMAS_EMAIL,
        shopify_first="Tomás",
        shopify_last="García",
        address_phone="305-555-0117",
        zendesk=True,
        zendesk_email=TOMAS_EMAIL,
        zendesk_name="Tomas Garcia",
    )
    office = Addr(
        "88 Hanover St", None, "Boston", "Massachusetts", "MA", "02113", "United States", "US"
    )
    ana = Person(
        g=3,
        first="Ana",
        last="Silva",
        country="US",
        created=now - 400 * DAY - 3_371,
        address=office,
        company=SILVA_COSTA,
        hubspot=True,
        hubspot_email=SILVA_COSTA_EMAIL,
        hubspot_first="Ana",
        hubspot_last="Silva",
        hubspot_phone=ANA_PHONE,
        hubspot_address=True,
        lifecycle="customer",
        owner=1,
    )
    bruno = Person(
        g=4,
        first="Bruno",
        last="Costa",
        country="US",
        created=now - 380 * DAY + 9_907,
        address=office,
        company=SILVA_COSTA,
        hubspot=True,
        hubspot_email=SILVA_COSTA_EMAIL,
        hubspot_first="Bruno",
        hubspot_last="Costa",
        lifecycle="salesqualifiedlead",
        owner=1,
    )
    lee = Person(
        g=5,
        first="Lee",
        last="Wong",
        country="US",
        created=now - 130 * DAY - 27_851,
        stripe=True,
        stripe_email=LEE_EMAIL,
        stripe_name=LEE_NAME,
    )
    return [maya, tomas, ana, bruno, lee]
