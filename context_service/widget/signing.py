"""Signed widget URLs: an HMAC over the customer's profile id, the view and an expiry.

A helpdesk iframe cannot send an ``Authorization`` header, so the widget URL itself carries
its authority: ``/widget?p=prof_...&contact=full&hide=crm.owner&exp=1767225600&sig=...``. The
customer is named by profile id (``p``), never by email or phone: a URL lands in the
helpdesk's and proxies' access logs, browser history and error reports, and personal data
must not. The signature covers every lookup parameter, by name and value, the view and the
expiry; changing any of them (another profile id, a shorter ``hide`` list, a later expiry),
adding one or removing one invalidates it. Verification is constant-time.

Links minted before links named profiles (``email=``, ``phone=``, ``profile_id=``,
``source=`` with ``external_id=``) still verify until they expire, so a sidebar already open
keeps working through an upgrade; nothing mints them any more (``sign`` still can, for tests).

The view (``contact`` and ``hide``) is what the minting API key may see in the ``sidebar``
audience, so a link never shows more than the key that minted it could read; ``by`` names
that key (a keyed tag of its fingerprint, ``widget.link_keys``), so revoking the key kills its
links at once. A link without
them (``context-service widget-url``, which an operator runs with the server's own secret, or
a link minted before links carried a view) shows the ``sidebar`` audience's view.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import cast
from urllib.parse import urlencode

import msgspec

from context_service.audience import View
from context_service.audience.policy import FIELDS, Contact
from context_service.errors import ContextServiceError

PROFILE_PARAM = "p"  # the profile id: how every link minted now names its customer
LEGACY_LOOKUP_PARAMS = ("email", "phone", "profile_id", "source", "external_id")  # older links
LOOKUP_PARAMS = (PROFILE_PARAM, *LEGACY_LOOKUP_PARAMS)
BOUND_PARAM = "k"  # with ``p``: the digest of the identifier it was minted for (``binding``)
VIEW_PARAMS = ("contact", "hide", "by")  # ``by``: the minting key's tag (``link_keys``)
_CONTACTS = ("full", "masked", "none")  # most to least shown
_CONTEXT = b"context-service widget url v1\n"
MIN_WIDGET_SECRET = 16  # characters, as for the chatbot's user_hash secrets


class WidgetLinkInvalid(ContextServiceError):
    """The widget URL is malformed: missing or unexpected parameters."""

    status_code = 400
    title = "Invalid widget link"


class WidgetLinkRejected(ContextServiceError):
    """The widget URL's signature does not match, or it has expired."""

    status_code = 403
    title = "Widget link rejected"


class WidgetNotConfigured(ContextServiceError):
    """The widget secret is too short to sign with (or no key to sign with was found)."""

    status_code = 503
    title = "Widget not configured"


def signing_key(widget_secret: str | None, stored: bytes | None) -> bytes:
    """The HMAC key: the widget secret, else ``stored``, the random secret the store keeps
    (``widget.link_keys``), never a key derived from an API key (a link would confirm
    guesses of it).

    A widget secret shorter than ``MIN_WIDGET_SECRET`` signs nothing (``WidgetNotConfigured``):
    one link is enough to search for a short secret offline, and whoever finds it can sign a
    link to any customer."""
    if widget_secret:
        if len(widget_secret) < MIN_WIDGET_SECRET:
            raise WidgetNotConfigured(
                f"CONTEXT_SERVICE_WIDGET_SECRET must be at least {MIN_WIDGET_SECRET} characters "
                "(a short one can be guessed from a single link); set a long random one"
            )
        return widget_secret.encode()
    if not stored:
        raise WidgetNotConfigured("no key to sign widget links: set CONTEXT_SERVICE_WIDGET_SECRET")
    return stored


class SignedLink(msgspec.Struct, frozen=True):
    """A verified link: whom it shows and, when it carries one, the view it was minted with."""

    lookup: dict[str, str]
    view: View | None = None  # None: the link carries no view (the sidebar audience's applies)
    by: str | None = None  # the tag of the API key that minted it, if one did
    bound: str | None = None  # ``k``: the digest of the identifier it was minted for


def sign(
    lookup: Mapping[str, str],
    key: bytes,
    expires: int,
    view: View | None = None,
    by: str | None = None,
    bound: str | None = None,
) -> dict[str, str]:
    """The query parameters of a signed link: the lookup parameters, the view (``contact``
    and ``hide``, when ``view`` is given), the minting key's tag (``by``), ``exp``
    and ``sig``."""
    unknown = set(lookup) - set(LOOKUP_PARAMS)
    if unknown:
        raise WidgetLinkInvalid(f"not a lookup parameter: {', '.join(sorted(unknown))}")
    params = {name: lookup[name] for name in LOOKUP_PARAMS if lookup.get(name)}
    if bound is not None:
        params[BOUND_PARAM] = bound
    _one_customer(params)
    if view is not None:
        params["contact"] = view.contact
        if view.hidden:
            params["hide"] = ",".join(sorted(view.hidden))
    if by is not None:
        params["by"] = by
    params["exp"] = str(expires)
    return {**params, "sig": _mac(params, key)}


def open_link(query: Iterable[tuple[str, str]], key: bytes, now: float) -> SignedLink:
    """The lookup parameters and view of a link whose signature matches and whose expiry is
    ahead.

    ``query`` is the URL's query as (name, value) pairs. Raises ``WidgetLinkInvalid`` for a
    malformed link (or a view this version cannot read) and ``WidgetLinkRejected`` for a bad
    signature or an expired link.
    """
    params = _unique(query)
    signature = params.pop("sig", None)
    if not signature or "exp" not in params:
        raise WidgetLinkInvalid(
            "the widget link needs 'exp' and 'sig': mint one with `context-service widget-url` "
            "or POST /v1/widget/url"
        )
    unknown = set(params) - {*LOOKUP_PARAMS, *VIEW_PARAMS, BOUND_PARAM, "exp"}
    if unknown:
        raise WidgetLinkInvalid(f"unexpected parameter: {', '.join(sorted(unknown))}")
    _one_customer(params)
    if not hmac.compare_digest(_mac(params, key).encode(), signature.encode()):
        raise WidgetLinkRejected("the widget link's signature does not match its parameters")
    if not params["exp"].isdigit() or int(params["exp"]) <= now:
        raise WidgetLinkRejected("the widget link has expired; open the customer again")
    view = _view(params.get("contact"), params.get("hide"))
    lookup = {name: value for name, value in params.items() if name in LOOKUP_PARAMS}
    return SignedLink(lookup=lookup, view=view, by=params.get("by"), bound=params.get(BOUND_PARAM))


def verify(query: Iterable[tuple[str, str]], key: bytes, now: float) -> dict[str, str]:
    """The lookup parameters of a valid link (see ``open_link``, which also gives its view)."""
    return open_link(query, key, now).lookup


def narrow(first: View, second: View | None) -> View:
    """What both views allow: the fewer contact details, every field either hides."""
    if second is None:
        return first
    contact = max(first.contact, second.contact, key=_CONTACTS.index)
    return View(contact=contact, hidden=first.hidden | second.hidden)


def _view(contact: str | None, hide: str | None) -> View | None:
    """The view a signed link carries; refuses one it cannot honour exactly (fail closed)."""
    if contact is None and hide is None:
        return None
    if contact not in _CONTACTS:
        raise WidgetLinkInvalid("the widget link's view is not one this server reads")
    fields = frozenset(hide.split(",")) if hide else frozenset()
    if not fields <= FIELDS:
        raise WidgetLinkInvalid("the widget link hides fields this server does not know")
    return View(contact=cast(Contact, contact), hidden=fields)


def _one_customer(params: Mapping[str, str]) -> None:
    """A link naming its customer by profile id (``p``) names them by nothing else."""
    if PROFILE_PARAM in params and set(params) & set(LEGACY_LOOKUP_PARAMS):
        raise WidgetLinkInvalid(
            f"a widget link names one customer: '{PROFILE_PARAM}' or an identifier, not both"
        )
    if BOUND_PARAM in params and PROFILE_PARAM not in params:
        raise WidgetLinkInvalid(f"'{BOUND_PARAM}' belongs to a link naming a profile id")


def _unique(query: Iterable[tuple[str, str]]) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in query:
        if name in params:
            raise WidgetLinkInvalid(f"parameter {name!r} is given more than once")
        params[name] = value
    return params


def _mac(params: Mapping[str, str], key: bytes) -> str:
    """Base64url HMAC-SHA256 over the parameters in a canonical, unambiguous encoding."""
    message = _CONTEXT + msgspec.json.encode(sorted(params.items()))
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def signed_url(
    base_url: str,
    lookup: Mapping[str, str],
    key: bytes,
    expires: int,
    view: View | None = None,
    by: str | None = None,
    bound: str | None = None,
) -> str:
    """The full widget URL under ``base_url`` for the customer ``lookup`` names, showing at
    most ``view`` (``None``: the ``sidebar`` audience's view when the card is opened), minted
    by the key whose tag is ``by`` (``link_keys.minter_tag``; the link dies with that key).
    Mint with ``profile_url``: a ``lookup`` by email or phone puts personal data in the URL."""
    query = urlencode(sign(lookup, key, expires, view, by, bound))
    return f"{base_url.rstrip('/')}/widget?{query}"


def profile_url(
    base_url: str,
    profile_id: str,
    key: bytes,
    expires: int,
    view: View | None = None,
    by: str | None = None,
    bound: str | None = None,
) -> str:
    """The widget URL for the profile ``profile_id`` (``p=prof_...``): what every link is
    minted as, so no email or phone number reaches a log, a browser history or an error
    report on the way to the card (see ``signed_url`` for ``view`` and ``by``). ``bound``
    (``widget.binding.bind``) is the digest of the identifier it was minted for: the card
    opens only while that profile still holds it (a split never re-targets the link)."""
    return signed_url(base_url, {PROFILE_PARAM: profile_id}, key, expires, view, by, bound)
