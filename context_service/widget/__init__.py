"""The helpdesk sidebar widget: a signed-link HTML customer card (no scripts, strict CSP)."""

from context_service.widget.binding import LinkNotBound, bind, linked_profile
from context_service.widget.card import WidgetPage, security_headers, widget_page
from context_service.widget.confidence import MatchConfidence, match_confidence
from context_service.widget.link_keys import (
    OPERATOR_LINK,
    Minter,
    link_key,
    live_minter,
    minter_tag,
)
from context_service.widget.render import render_card, render_error
from context_service.widget.signing import (
    BOUND_PARAM,
    LEGACY_LOOKUP_PARAMS,
    LOOKUP_PARAMS,
    PROFILE_PARAM,
    VIEW_PARAMS,
    SignedLink,
    WidgetLinkInvalid,
    WidgetLinkRejected,
    WidgetNotConfigured,
    narrow,
    open_link,
    profile_url,
    sign,
    signed_url,
    signing_key,
    verify,
)

__all__ = [
    "BOUND_PARAM",
    "LEGACY_LOOKUP_PARAMS",
    "LOOKUP_PARAMS",
    "OPERATOR_LINK",
    "PROFILE_PARAM",
    "VIEW_PARAMS",
    "LinkNotBound",
    "MatchConfidence",
    "Minter",
    "SignedLink",
    "WidgetLinkInvalid",
    "WidgetLinkRejected",
    "WidgetNotConfigured",
    "WidgetPage",
    "bind",
    "link_key",
    "linked_profile",
    "live_minter",
    "match_confidence",
    "minter_tag",
    "narrow",
    "open_link",
    "profile_url",
    "render_card",
    "render_error",
    "security_headers",
    "sign",
    "signed_url",
    "signing_key",
    "verify",
    "widget_page",
]
