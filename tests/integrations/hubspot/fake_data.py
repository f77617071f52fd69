"""What the fake HubSpot serves that no test changes by its own calls: deal pipelines, the
``lifecyclestage`` property's options and the 403 body of a token without a scope (shapes from
developers.hubspot.com: the pipelines, properties and error-handling references)."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]


def stage(stage_id: str, label: str, order: int, closed: bool) -> Json:
    return {
        "id": stage_id,
        "label": label,
        "displayOrder": order,
        "metadata": {"isClosed": str(closed).lower(), "probability": "1.0" if closed else "0.2"},
        "createdAt": "2024-01-15T13:01:35.228Z",
        "updatedAt": "2024-01-15T13:01:35.228Z",
        "archived": False,
    }


def missing_scopes(scope: str) -> Json:
    """HubSpot's 403 body for a token without ``scope``: the error shape of
    developers.hubspot.com/docs/api-reference/error-handling (``status``, ``message``,
    ``correlationId``, ``category``), category ``MISSING_SCOPES``, the scopes named in
    ``errors[].context.requiredGranularScopes`` as live portals answer (quoted by client
    libraries that read them)."""
    return {
        "status": "error",
        "message": "This app hasn't been granted all required scopes to make this call.",
        "correlationId": "8a0c1f2e-5b7d-4c3a-9e61-2f4d8b9a0c17",
        "errors": [
            {
                "message": "One or more of the following scopes are required.",
                "context": {"requiredGranularScopes": [scope]},
            }
        ],
        "links": {"scopes": "https://developers.hubspot.com/scopes"},
        "category": "MISSING_SCOPES",
    }


def lifecycle_option(value: str, label: str, order: int) -> Json:
    """One option of the ``lifecyclestage`` property, as ``GET
    /crm/v3/properties/contacts/lifecyclestage`` lists it (``{label, value, displayOrder,
    hidden, description}``; developers.hubspot.com/docs/api-reference/crm-properties-v3/core/
    get-crm-v3-properties-objectType-propertyName)."""
    return {
        "label": label,
        "value": value,
        "displayOrder": order,
        "hidden": False,
        "description": "",
    }


def lifecycle_stages() -> list[Json]:
    """HubSpot's default lifecycle stages (value, label), and one the portal created: a
    custom stage's value is a number."""
    stages = [
        ("subscriber", "Subscriber"),
        ("lead", "Lead"),
        ("marketingqualifiedlead", "Marketing Qualified Lead"),
        ("salesqualifiedlead", "Sales Qualified Lead"),
        ("opportunity", "Opportunity"),
        ("customer", "Customer"),
        ("evangelist", "Evangelist"),
        ("other", "Other"),
        ("1035364862", "Onboarding"),
    ]
    return [lifecycle_option(value, label, n) for n, (value, label) in enumerate(stages)]


def default_pipeline() -> Json:
    return {
        "id": "default",
        "label": "Sales Pipeline",
        "displayOrder": 0,
        "stages": [
            stage("appointmentscheduled", "Appointment Scheduled", 0, False),
            stage("closedwon", "Closed Won", 5, True),
            stage("closedlost", "Closed Lost", 6, True),
        ],
        "createdAt": "2024-01-15T13:01:35.228Z",
        "updatedAt": "2024-01-15T13:01:35.228Z",
        "archived": False,
    }


def custom_pipeline() -> Json:
    return {
        "id": "75400221",
        "label": "Partnerships",
        "displayOrder": 1,
        "stages": [
            stage("118832946", "Intro call", 0, False),
            stage("118832947", "Lost partner", 1, True),
        ],
        "createdAt": "2025-02-01T09:00:00.000Z",
        "updatedAt": "2025-02-01T09:00:00.000Z",
        "archived": False,
    }
