"""Links that open a record in its vendor's dashboard, where the source is configured."""

from __future__ import annotations

import functools

import msgspec

from context_service.models import RecordKey
from context_service.settings import Settings

_HUBSPOT_OBJECT_TYPES = {"contact": "0-1", "company": "0-2", "deal": "0-3"}
_STRIPE_PATHS = {
    "customer": "customers",
    "subscription": "subscriptions",
    "invoice": "invoices",
    "charge": "payments",
    "dispute": "disputes",
}


class DashboardLinks(msgspec.Struct, frozen=True):
    """What is needed to build vendor dashboard URLs; a ``None`` source gets no links."""

    shopify_shop: str | None = None
    stripe: bool = True
    hubspot_portal_id: str | None = None
    zendesk_subdomain: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> DashboardLinks:
        """Take the relevant settings."""
        return cls(
            shopify_shop=settings.shopify_shop,
            hubspot_portal_id=settings.hubspot_portal_id,
            zendesk_subdomain=settings.zendesk_subdomain,
        )

    def url(self, key: RecordKey) -> str | None:
        """The dashboard URL of a record, or ``None`` when its source has no link configured."""
        if not _builds_links(type(self), key.source):
            return None
        builder = getattr(self, f"_{key.source}", None)
        return None if builder is None else builder(key)

    def _shopify(self, key: RecordKey) -> str | None:
        if not self.shopify_shop or key.kind not in {"customer", "order"}:
            return None
        handle = _without_suffix(self.shopify_shop, ".myshopify.com")
        return f"https://admin.shopify.com/store/{handle}/{key.kind}s/{key.external_id}"

    def _stripe(self, key: RecordKey) -> str | None:
        path = _STRIPE_PATHS.get(key.kind)
        if not self.stripe or path is None:
            return None
        return f"https://dashboard.stripe.com/{path}/{key.external_id}"

    def _hubspot(self, key: RecordKey) -> str | None:
        object_type = _HUBSPOT_OBJECT_TYPES.get(key.kind)
        if not self.hubspot_portal_id or object_type is None:
            return None
        return (
            f"https://app.hubspot.com/contacts/{self.hubspot_portal_id}/record/"
            f"{object_type}/{key.external_id}"
        )

    def _zendesk(self, key: RecordKey) -> str | None:
        if not self.zendesk_subdomain or key.kind not in {"user", "ticket", "organization"}:
            return None
        name = self.zendesk_subdomain  # ``acme``, or the host ``acme.zendesk.com`` as given
        host = name if "." in name else f"{name}.zendesk.com"
        return f"https://{host}/agent/{key.kind}s/{key.external_id}"


def _without_suffix(name: str, suffix: str) -> str:
    """``name`` without ``suffix``, whatever its case (``acme.MyShopify.com`` is ``acme``)."""
    return name[: -len(suffix)] if name.lower().endswith(suffix) else name


@functools.lru_cache(maxsize=256)
def _builds_links(cls: type[DashboardLinks], source: str) -> bool:
    """Whether ``cls`` has a ``_<source>`` attribute: a struct keeps no attributes of its own
    beyond its fields (none starts with ``_``), so an instance has one only when its class
    has it, and ``url`` need not look it up (and miss) for every record of a source without
    links (a spreadsheet's)."""
    return hasattr(cls, f"_{source}")
