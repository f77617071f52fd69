"""A contact's lifecycle stage label, read from HubSpot's properties API.

A contact's ``lifecyclestage`` property holds the stage's internal value (``salesqualifiedlead``,
or a number such as ``1035364862`` for a stage the portal created), not what HubSpot shows. The
labels are the property's options: ``GET /crm/v3/properties/contacts/lifecyclestage`` answers
the property's definition, ``{"name": "lifecyclestage", "type": "enumeration", "options":
[{"label": "Sales Qualified Lead", "value": "salesqualifiedlead", "displayOrder": 3, "hidden":
false, "description": ...}, ...], ...}`` ("Read a property",
developers.hubspot.com/docs/api-reference/crm-properties-v3/core/get-crm-v3-properties-objectType-propertyName).

They are read as the deal pipelines are (``HubSpotConnector._pipelines``): on the first contact
of a run, again once older than ``max_age`` (a connector that applies webhooks outlives runs),
and once more per value they lack (a stage created since the last read). Every contact the
connector emits carries its stage's label under ``_labels`` (``{"lifecyclestage": label}``,
empty when there is none), and the mapper shows the label, else the value.

Reading a property's definition needs the ``crm.schemas.contacts.read`` scope, which a token
made only to read records may lack; HubSpot answers 403 then, category ``MISSING_SCOPES``
(developers.hubspot.com/docs/api-reference/error-handling). That fails nothing: contacts carry
no label (the mapper shows the value), one warning per connector says why, and the options are
asked for again only when they are due anyway (the next run, or ``max_age`` later).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from context_service.errors import FatalError
from integrations.hubspot.mapping import LABELS_KEY

__all__ = ["LIFECYCLE_PROPERTY", "OPTIONS_PATH", "LifecycleStages", "stage_labels"]

log = logging.getLogger("integrations.hubspot")

Json = dict[str, Any]
LIFECYCLE_PROPERTY = "lifecyclestage"
OPTIONS_PATH = f"/crm/v3/properties/contacts/{LIFECYCLE_PROPERTY}"
_REFUSED = 403  # the token lacks the scope that reads property definitions


def stage_labels(definition: Any) -> dict[str, str]:
    """Value -> label of a property definition's options; an option without both is left out
    (its value is shown as it is)."""
    options = definition.get("options") if isinstance(definition, dict) else None
    if not isinstance(options, list):
        return {}
    labels: dict[str, str] = {}
    for option in options:
        value = option.get("value") if isinstance(option, dict) else None
        label = option.get("label") if isinstance(option, dict) else None
        if isinstance(value, str) and isinstance(label, str) and value.strip() and label.strip():
            labels[value.strip()] = label.strip()
    return labels


class LifecycleStages:
    """The lifecycle stage options of the portal, read through ``read`` (a paced ``GET``)
    when due; ``now`` (unix seconds) dates each read."""

    def __init__(
        self, read: Callable[[str], Any], now: Callable[[], float], max_age: float
    ) -> None:
        self._read = read
        self._now = now
        self._max_age = max_age
        self._labels: dict[str, str] | None = None
        self._read_at = float("-inf")
        self._missed: set[str] = set()
        self._refused = False  # the last read was answered 403
        self._warned = False

    def reset(self) -> None:
        """Forget the options: a new run reads them again on its first contact."""
        self._labels = None

    def labelled(self, contact: Json) -> Json:
        """The contact with its stage's label under ``_labels`` (empty: no stage, or no label
        known for it)."""
        properties = contact.get("properties")
        value = properties.get(LIFECYCLE_PROPERTY) if isinstance(properties, dict) else None
        text = value.strip() if isinstance(value, str) else ""
        label = self.label(text) if text else None
        return {**contact, LABELS_KEY: {LIFECYCLE_PROPERTY: label} if label else {}}

    def label(self, value: str) -> str | None:
        """The label of the stage ``value``, or ``None`` when HubSpot names none for it."""
        labels = self._current()
        if value not in labels and value not in self._missed and not self._refused:
            self._missed.add(value)  # read again once per unknown value, not per contact
            labels = self._fetch()
        return labels.get(value)

    def _current(self) -> dict[str, str]:
        if self._labels is None or self._now() - self._read_at >= self._max_age:
            self._missed.clear()
            return self._fetch()
        return self._labels

    def _fetch(self) -> dict[str, str]:
        """The options read now; none when the token may not read them (403)."""
        try:
            labels = stage_labels(self._read(OPTIONS_PATH))
            self._refused = False
        except FatalError as exc:
            if exc.extra.get("status") != _REFUSED:
                raise
            self._refuse(exc)
            labels = {}
        self._labels, self._read_at = labels, self._now()
        return labels

    def _refuse(self, exc: FatalError) -> None:
        self._refused = True
        if not self._warned:
            self._warned = True
            log.warning(
                "hubspot: lifecycle stage labels cannot be read (%s); contacts show the "
                "stage's internal value. Grant the app the crm.schemas.contacts.read scope to "
                "show labels",
                exc.detail,
            )
