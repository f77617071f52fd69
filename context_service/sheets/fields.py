"""The canonical fields a spreadsheet column can map to, and the header spellings they accept.

A row describes one person (kind ``row``); the optional activity fields add an order, a ticket
or a subscription owned by that person. The names here are the contract users see in ``--map``,
mapping files and the README.
"""

from __future__ import annotations

PERSON_KIND = "row"

PERSON_FIELDS = (
    "external_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "name",
    "company",
    "street",
    "city",
    "region",
    "postcode",
    "country",
    "customer_since",
    "updated_at",
    "birth_date",
)
ADDRESS_FIELDS = ("street", "city", "region", "postcode", "country")

# Explicit links to the same person in a built-in source: field -> (source, kind).
LINK_FIELDS: dict[str, tuple[str, str]] = {
    "shopify_customer_id": ("shopify", "customer"),
    "stripe_customer_id": ("stripe", "customer"),
    "hubspot_contact_id": ("hubspot", "contact"),
    "zendesk_user_id": ("zendesk", "user"),
}

# The fields that can say who a row is about: a row without any of them is rejected, and a
# file whose header maps none of them is refused before any row is read.
IDENTIFYING_FIELDS = frozenset(
    ("external_id", "email", "phone", "name", "first_name", "last_name", *LINK_FIELDS)
)

ORDER_FIELDS = (
    "order_number",
    "ordered_at",
    "order_total",
    "currency",
    "order_status",
    "fulfillment_status",
)
TICKET_FIELDS = ("ticket_id", "ticket_subject", "ticket_status", "ticket_priority", "opened_at")
SUBSCRIPTION_FIELDS = ("plan", "plan_status", "plan_interval", "renews_at")

# Activity kind -> (its fields, the field that marks a row as carrying one).
ACTIVITIES: dict[str, tuple[tuple[str, ...], str]] = {
    "order": (ORDER_FIELDS, "order_number"),
    "ticket": (TICKET_FIELDS, "ticket_id"),
    "subscription": (SUBSCRIPTION_FIELDS, "plan"),
}

FIELDS: tuple[str, ...] = (
    *PERSON_FIELDS,
    *LINK_FIELDS,
    *ORDER_FIELDS,
    *TICKET_FIELDS,
    *SUBSCRIPTION_FIELDS,
)
FIELD_SET = frozenset(FIELDS)

# Field -> the kind of record it belongs to (``row`` for the person's own fields).
FIELD_KIND: dict[str, str] = {
    **dict.fromkeys((*PERSON_FIELDS, *LINK_FIELDS), PERSON_KIND),
    **{field: kind for kind, (fields, _) in ACTIVITIES.items() for field in fields},
}

# Fields that may hold several values: several columns may map to them, and a cell may list
# several values separated by ``;`` (emails also by ``,``).
MULTI_VALUED = frozenset({"email", "phone"})

# Normalized header -> field, for common spellings that are not the field name itself.
ALIASES: dict[str, str] = {
    "id": "external_id",
    "customer_id": "external_id",
    "e_mail": "email",
    "email_address": "email",
    "e_mail_address": "email",
    "mail": "email",
    "phone_number": "phone",
    "telephone": "phone",
    "tel": "phone",
    "mobile": "phone",
    "mobile_phone": "phone",
    "cell": "phone",
    "first": "first_name",
    "firstname": "first_name",
    "given_name": "first_name",
    "forename": "first_name",
    "last": "last_name",
    "lastname": "last_name",
    "surname": "last_name",
    "family_name": "last_name",
    "full_name": "name",
    "fullname": "name",
    "customer_name": "name",
    "company_name": "company",
    "organization": "company",
    "organisation": "company",
    "address": "street",
    "street_address": "street",
    "address1": "street",
    "address_1": "street",
    "address_line_1": "street",
    "town": "city",
    "state": "region",
    "province": "region",
    "county": "region",
    "zip": "postcode",
    "zip_code": "postcode",
    "zipcode": "postcode",
    "postal_code": "postcode",
    "post_code": "postcode",
    "country_code": "country",
    "created_at": "customer_since",
    "date_of_birth": "birth_date",
    "dob": "birth_date",
    "birthdate": "birth_date",
    "birthday": "birth_date",
    "signed_up_at": "customer_since",
    "order": "order_number",
    "order_id": "order_number",
    "order_no": "order_number",
    "order_name": "order_number",
    "order_date": "ordered_at",
    "total": "order_total",
    "order_amount": "order_total",
    "payment_status": "order_status",
    "financial_status": "order_status",
    "ticket": "ticket_id",
    "ticket_number": "ticket_id",
    "subject": "ticket_subject",
    "priority": "ticket_priority",
    "subscription": "plan",
    "plan_name": "plan",
    "subscription_status": "plan_status",
    "billing_interval": "plan_interval",
    "interval": "plan_interval",
    "renewal_date": "renews_at",
}
