"""``context-service widget-url`` and the link ``make demo`` prints: sidebar widget links that
name the customer by profile id, bound to the identifier they were minted for."""

from __future__ import annotations

import argparse
import ipaddress
import sys
import time

from context_service.cli_runs import hint_if_empty, open_for_reading
from context_service.cli_trust import record_reads
from context_service.errors import ContextServiceError
from context_service.settings import Settings, load_settings, url_fault
from context_service.snapshot import lookup
from context_service.store import Store


def local_base_url(host: str, port: int) -> str:
    """``http://host:port`` for the address the server listens on, as a browser can open it:
    an IPv6 address in brackets (``http://::1:8000`` is no URL), and a wildcard bind (``0.0.0.0``,
    ``::``) as the loopback address of its family (a link to a wildcard opens nothing)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:  # a host name: as it is
        return f"http://{host}:{port}"
    if address.is_unspecified:
        address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
    shown = f"[{address}]" if address.version == 6 else str(address)
    return f"http://{shown}:{port}"


def cmd_widget_url(args: argparse.Namespace) -> int:
    """Print a signed, short-lived sidebar widget link for one customer, named in it by
    profile id (no email or phone in a URL that logs and browser history keep); the minting
    is recorded in the read audit (``cli``, channel ``widget-link``), as the API records it."""
    from context_service.tools import CustomerRef, find_stored
    from context_service.trust import Read
    from context_service.widget import OPERATOR_LINK, bind, link_key, profile_url

    settings = load_settings()
    if args.base_url is not None and (fault := url_fault(args.base_url)):
        print(f"error: --base-url {fault}", file=sys.stderr)
        return 2
    lookup = {k: v for k, v in (("email", args.email), ("phone", args.phone)) if v}
    store = open_for_reading(settings, build_all=False)  # a queued profile is built first
    try:
        ref = CustomerRef(**lookup)
        stored = find_stored(store.conn, ref, settings.default_region)
        # the store's own secret when no widget secret is set: the server checks with it too
        key = link_key(settings.widget_secret, store, mint=True)
        # the link opens only while the profile holds what it was asked for (a split never
        # re-targets it: ``widget.binding``)
        bound = bind(store.conn, ref, stored.profile_id, key, settings.default_region)
        read = Read(OPERATOR_LINK, stored.profile_id, "sidebar", True, "widget-link")
        record_reads(store, settings.audit_retention_days, [read])
    except ContextServiceError:
        hint_if_empty(store, settings)
        raise
    finally:
        store.close()
    base = args.base_url or settings.public_url or local_base_url(settings.host, settings.port)
    ttl = settings.widget_ttl_seconds if args.ttl is None else args.ttl
    print(profile_url(base, stored.profile_id, key, int(time.time()) + ttl, bound=bound))
    return 0


def demo_widget_url(settings: Settings, store: Store) -> str | None:
    """A signed sidebar link for Maya Patel, naming her by profile id as every minted link
    does (``None`` when the store being served does not hold her)."""

    from context_service.tools import CustomerRef
    from context_service.widget import bind, link_key, profile_url

    try:
        maya = lookup.by_email(store.conn, "maya.patel@example.com")
    except ContextServiceError:
        return None
    key = link_key(settings.widget_secret, store, mint=True)
    ref = CustomerRef(email="maya.patel@example.com")
    bound = bind(store.conn, ref, maya.profile_id, key, settings.default_region)
    base = settings.public_url or local_base_url(settings.host, settings.port)
    return profile_url(base, maya.profile_id, key, int(time.time()) + 3600, bound=bound)
