"""Typed settings from ``CONTEXT_SERVICE_*`` environment variables and an optional TOML file.

Settings are loaded once by the entry point (``cli.py``) and passed into ``create_app(settings)``
and everything below it; nothing reads the environment at import time.

Precedence, highest first: environment variables, the TOML file named by
``CONTEXT_SERVICE_CONFIG``, the defaults below. In TOML use the field names without the prefix
(``db = "context.db"``, ``api_keys = ["..."]``). An unknown name is an error in either place
(a misspelt ``CONTEXT_SERVICE_DBB`` must not leave ``./context.db`` in use without a word).
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from context_service.errors import ConfigurationError

ENV_PREFIX = "CONTEXT_SERVICE_"
CONFIG_VARIABLE = ENV_PREFIX + "CONFIG"  # names the TOML file; the one variable not a setting
# Helpdesk origins allowed to embed the sidebar widget by default (CSP frame-ancestors).
WIDGET_FRAME_ANCESTORS = (
    "'self'",
    "https://*.zendesk.com",
    "https://*.zdusercontent.com",
    "https://*.freshdesk.com",
    "https://*.freshworks.com",
    "https://app.chatwoot.com",
)


class Settings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Every setting of the service. The README documents each one; a test checks that."""

    db: str = "./context.db"
    api_keys: list[str] = []
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    default_region: str = "US"
    log_level: str = "INFO"
    identity_link_threshold: float = 0.99
    identity_review_threshold: float = 0.5

    shopify_shop: str | None = None
    shopify_access_token: str | None = None
    shopify_webhook_secret: str | None = None
    shopify_previous_webhook_secret: str | None = None  # accepted too, while a rotation settles
    shopify_base_url: str | None = None

    stripe_api_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_base_url: str = "https://api.stripe.com"
    stripe_dashboard_account: str | None = None

    hubspot_access_token: str | None = None
    hubspot_client_secret: str | None = None
    hubspot_base_url: str = "https://api.hubapi.com"
    hubspot_portal_id: str | None = None
    # How often an incremental sync re-reads HubSpot's archived (deleted) objects; a full sync
    # always does. The same default as ``integrations.hubspot.connector.ARCHIVED_EVERY_SECONDS``.
    hubspot_archived_every_seconds: int = 3600

    zendesk_subdomain: str | None = None
    zendesk_email: str | None = None
    zendesk_api_token: str | None = None
    zendesk_webhook_secret: str | None = None
    zendesk_base_url: str | None = None

    llm_base_url: str | None = None
    llm_api_key: str | None = None
    llm_model: str | None = None
    llm_timeout_seconds: int = 10
    field_policy: str | None = None

    widget_secret: str | None = None
    widget_ttl_seconds: int = 300
    widget_frame_ancestors: list[str] = msgspec.field(
        default_factory=lambda: list(WIDGET_FRAME_ANCESTORS)
    )
    public_url: str | None = None

    rate_limit_per_minute: int = 600
    max_body_bytes: int = 65_536
    audit_retention_days: int = 365
    inbox_retention_days: int = 30
    chatbot_user_hash_secrets: list[str] = []
    chatbot_jwt_secret: str | None = None
    chatbot_jwt_public_key: str | None = None
    chatbot_jwt_issuer: str | None = None
    chatbot_jwt_audience: str | None = None
    chatbot_jwt_algorithms: list[str] = msgspec.field(
        default_factory=lambda: ["HS256", "RS256", "ES256"]
    )
    chatbot_unverified_guidance: str | None = None


_LIST_FIELDS = {
    "api_keys",
    "widget_frame_ancestors",
    "chatbot_user_hash_secrets",
    "chatbot_jwt_algorithms",
}
_FLOAT_FIELDS = {"identity_link_threshold", "identity_review_threshold"}
_INT_FIELDS = {
    "port",
    "workers",
    "widget_ttl_seconds",
    "llm_timeout_seconds",
    "rate_limit_per_minute",
    "max_body_bytes",
    "audit_retention_days",
    "inbox_retention_days",
    "hubspot_archived_every_seconds",
}
_POSITIVE_FIELDS = ("hubspot_archived_every_seconds",)
SECRET_FIELDS = frozenset(
    {
        "api_keys",
        "shopify_access_token",
        "shopify_webhook_secret",
        "shopify_previous_webhook_secret",
        "stripe_api_key",
        "stripe_webhook_secret",
        "hubspot_access_token",
        "hubspot_client_secret",
        "zendesk_api_token",
        "zendesk_webhook_secret",
        "llm_api_key",
        "widget_secret",
        "chatbot_user_hash_secrets",
        "chatbot_jwt_secret",
    }
)


def setting_names() -> list[str]:
    """The environment variable name of every setting, in declaration order."""
    return [ENV_PREFIX + name.upper() for name in Settings.__struct_fields__]


def check_env_names(environ: Mapping[str, str]) -> None:
    """Raise ``ConfigurationError`` naming every ``CONTEXT_SERVICE_*`` variable that is no
    setting (nor ``CONTEXT_SERVICE_CONFIG``), with the likely intended name when one is close."""
    known = [*setting_names(), CONFIG_VARIABLE]
    unknown = sorted(n for n in environ if n.startswith(ENV_PREFIX) and n not in known)
    if unknown:
        raise ConfigurationError(
            "unknown setting(s) in the environment: "
            + "; ".join(_with_hint(name, known) for name in unknown)
            + " (see 'Settings' in the README)"
        )


def _with_hint(name: str, known: list[str]) -> str:
    """``name``, and the known name it is closest to, compared without the shared prefix."""
    size = len(ENV_PREFIX)
    close = difflib.get_close_matches(name[size:], [k[size:] for k in known], n=1, cutoff=0.7)
    return f"{name} (did you mean {ENV_PREFIX}{close[0]}?)" if close else name


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in Settings.__struct_fields__:
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is None:
            continue
        if name in _LIST_FIELDS:
            values[name] = [part.strip() for part in raw.split(",") if part.strip()]
        elif name in _INT_FIELDS:
            try:
                values[name] = int(raw)
            except ValueError as exc:
                raise ConfigurationError(f"{ENV_PREFIX}{name.upper()} must be an integer") from exc
        elif name in _FLOAT_FIELDS:
            try:
                values[name] = float(raw)
            except ValueError as exc:
                raise ConfigurationError(f"{ENV_PREFIX}{name.upper()} must be a number") from exc
        else:
            values[name] = raw
    return values


def _from_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read config file {path}: {exc}") from exc


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from the environment (default ``os.environ``), the TOML file and overrides."""
    env = os.environ if environ is None else environ
    check_env_names(env)
    values: dict[str, Any] = {}
    config_path = env.get(CONFIG_VARIABLE)
    if config_path:
        values.update(_from_toml(Path(config_path)))
    values.update(_from_env(env))
    values.update(overrides)
    try:
        settings = msgspec.convert(values, Settings)
    except msgspec.ValidationError as exc:
        raise ConfigurationError(f"invalid setting: {exc}") from exc
    _check_thresholds(settings)
    _check_positive(settings)
    return settings


def _check_thresholds(settings: Settings) -> None:
    review, link = settings.identity_review_threshold, settings.identity_link_threshold
    if not 0 < review <= link <= 1:
        raise ConfigurationError(
            "identity thresholds must satisfy 0 < CONTEXT_SERVICE_IDENTITY_REVIEW_THRESHOLD <= "
            f"CONTEXT_SERVICE_IDENTITY_LINK_THRESHOLD <= 1 (got {review} and {link})"
        )


def _check_positive(settings: Settings) -> None:
    for name in _POSITIVE_FIELDS:
        value = getattr(settings, name)
        if value <= 0:
            raise ConfigurationError(
                f"{ENV_PREFIX}{name.upper()} must be a positive integer (got {value})"
            )


def to_environ(settings: Settings) -> dict[str, str]:
    """The settings as ``CONTEXT_SERVICE_*`` variables (for a server process that reloads them)."""
    env: dict[str, str] = {}
    for name in Settings.__struct_fields__:
        value = getattr(settings, name)
        if value is None:
            continue
        env[ENV_PREFIX + name.upper()] = ",".join(value) if isinstance(value, list) else str(value)
    return env


def redacted(settings: Settings) -> dict[str, Any]:
    """Settings as a dict with every secret replaced by ``***`` (safe to log or print)."""
    out = msgspec.structs.asdict(settings)
    for name in SECRET_FIELDS:
        if out.get(name):
            out[name] = "***"
    return out
