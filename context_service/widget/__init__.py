"""The helpdesk sidebar widget: a signed-link HTML customer card (no scripts, strict CSP)."""

from context_service.widget.binding import bind, linked_profile
from context_service.widget.card import WidgetPage, security_headers, widget_page
from context_service.widget.confidence import MatchConfidence, match_confidence
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
    "PROFILE_PARAM",
    "VIEW_PARAMS",
    "MatchConfidence",
    "SignedLink",
    "WidgetLinkInvalid",
    "WidgetLinkRejected",
    "WidgetNotConfigured",
    "WidgetPage",
    "bind",
    "linked_profile",
    "match_confidence",
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
