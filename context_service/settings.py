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
import ipaddress
import os
import re
import string
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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
# The lifetime a widget link may be given, in seconds: ``POST /v1/widget/url``'s ``ttl_seconds``,
# ``widget-url --ttl`` and ``CONTEXT_SERVICE_WIDGET_TTL_SECONDS`` alike.
WIDGET_TTL_RANGE = (10, 86_400)
# Inclusive (lowest, highest) of each integer setting; ``None``: no upper bound. A widget
# link's lifetime has the bounds of ``POST /v1/widget/url``'s ``ttl_seconds``; a retention
# longer than a century would take the purge's cutoff before year 1.
_INT_RANGES: dict[str, tuple[int, int | None]] = {
    "port": (1, 65_535),
    "workers": (1, None),
    "widget_ttl_seconds": WIDGET_TTL_RANGE,
    "llm_timeout_seconds": (1, None),
    "rate_limit_per_minute": (0, None),
    "max_body_bytes": (1, None),
    "audit_retention_days": (0, 36_500),
    "inbox_retention_days": (0, 36_500),
    "hubspot_archived_every_seconds": (1, None),
}
_URL_FIELDS = (
    "shopify_base_url",
    "stripe_base_url",
    "hubspot_base_url",
    "zendesk_base_url",
    "llm_base_url",
    "public_url",
)
# The levels both granian (``serve``) and ``logging`` know, compared in lower case.
LOG_LEVELS = frozenset({"critical", "error", "warning", "warn", "info", "debug", "notset"})
# What a CSP source expression may hold: checked here, so that a bad entry stops the start
# instead of failing every ``GET /widget``, and again by ``widget.card`` as it builds the header.
FRAME_SOURCE_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._:/*'"
)
_QUOTES = ('"', "'")
JWT_HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
JWT_PUBLIC_KEY_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
JWT_ALGORITHMS = JWT_HMAC_ALGORITHMS | JWT_PUBLIC_KEY_ALGORITHMS
MIN_JWT_SECRET = 32  # an HMAC key for HS256 tokens: RFC 7518 section 3.2 asks for 256 bits
MIN_USER_HASH_SECRET = 16

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
    problems = unknown_env_problems(environ)
    if problems:
        raise ConfigurationError(problems[0], problems=problems)


def unknown_env_problems(environ: Mapping[str, str]) -> list[str]:
    """The line naming the ``CONTEXT_SERVICE_*`` variables that are no setting, if any."""
    known = [*setting_names(), CONFIG_VARIABLE]
    unknown = sorted(n for n in environ if n.startswith(ENV_PREFIX) and n not in known)
    if not unknown:
        return []
    return [
        "unknown setting(s) in the environment: "
        + "; ".join(_with_hint(name, known) for name in unknown)
        + " (see 'Settings' in the README)"
    ]


def _with_hint(name: str, known: list[str]) -> str:
    """``name``, and the known name it is closest to, compared without the shared prefix."""
    size = len(ENV_PREFIX)
    close = difflib.get_close_matches(name[size:], [k[size:] for k in known], n=1, cutoff=0.7)
    return f"{name} (did you mean {ENV_PREFIX}{close[0]}?)" if close else name


def _from_env(environ: Mapping[str, str], problems: list[str]) -> dict[str, Any]:
    """The settings the environment sets; a number that does not parse is added to
    ``problems`` (by its variable, never its value) and left out."""
    values: dict[str, Any] = {}
    for name in Settings.__struct_fields__:
        raw = environ.get(_var(name))
        if raw is None:
            continue
        if name in _LIST_FIELDS:
            values[name] = [part.strip() for part in raw.split(",") if part.strip()]
        elif name in _INT_FIELDS:
            parsed = _parsed(int, raw)
            why = f"{_var(name)} must be an integer{_non_ascii(raw)}"
            _keep_or_note(values, name, parsed, why, problems)
        elif name in _FLOAT_FIELDS:
            parsed = _parsed(float, raw)
            why = f"{_var(name)} must be a number{_non_ascii(raw)}"
            _keep_or_note(values, name, parsed, why, problems)
        else:
            values[name] = raw
    return values


# A number in the environment: ASCII digits, a sign and (a threshold) one decimal point, with
# ASCII spaces around. ``int`` and ``float`` alone take Arabic-Indic, full-width and other
# Unicode digits too (almost always a paste accident), and ``1e3``, ``1_000``, ``nan``, ``inf``.
_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)", re.ASCII)


def _parsed(kind: type[int] | type[float], raw: str) -> int | float | None:
    text = raw.strip(string.whitespace)  # ASCII whitespace only, unlike ``str.strip()``
    return kind(text) if (_INTEGER if kind is int else _DECIMAL).fullmatch(text) else None


def _non_ascii(raw: str) -> str:
    """What a problem adds when a number holds non-ASCII characters (never the value)."""
    if raw.isascii():
        return ""
    return " in ASCII digits 0-9 (it holds other characters: pasted from a document?)"


def _keep_or_note(
    values: dict[str, Any], name: str, parsed: object, problem: str, problems: list[str]
) -> None:
    if parsed is None:
        problems.append(problem)
    else:
        values[name] = parsed


def _from_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read config file {path}: {exc}") from exc
    except UnicodeDecodeError as exc:  # saved as UTF-16 (Notepad, PowerShell) or cp1252
        # Said without the bytes it quotes: they may be part of a secret.
        raise ConfigurationError(
            f"cannot read config file {path}: it is not UTF-8 text (byte {exc.start + 1} is "
            "no UTF-8): save it as UTF-8, as TOML requires"
        ) from None


def _toml_settings(path: Path, problems: list[str]) -> dict[str, Any]:
    """The settings the TOML file sets; an unknown name (with the likely intended one) or a
    value of the wrong type is added to ``problems`` by its variable (never its value, which
    may be a secret) and left out."""
    values: dict[str, Any] = {}
    fields = list(Settings.__struct_fields__)
    for name, value in _from_toml(path).items():
        if name not in fields:
            close = difflib.get_close_matches(name, fields, n=1, cutoff=0.7)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(f"unknown setting {name!r} in {path}{hint}")
            continue
        try:
            msgspec.convert({name: value}, Settings)
        except msgspec.ValidationError as exc:
            why = str(exc).split(" - at ", 1)[0]
            problems.append(f"{_var(name)} ({name} in {path}): {why}")
            continue
        values[name] = value
    return values


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    check: bool = True,
    given_as: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build settings from the environment (default ``os.environ``), the TOML file and overrides;
    with ``check`` (the default) every value is checked too (``check_settings``). One
    ``ConfigurationError`` names every problem found (its ``problems``, one a line): unknown
    names, values of the wrong type and, with ``check``, values that cannot work (the host by
    ``given_as["host"]`` when given, a flag such as ``--host``, else by its variable)."""
    settings, problems = parsed_settings(environ, **overrides)
    if check:
        problems.extend(setting_problems(settings, given_as))
    if problems:
        raise ConfigurationError("; ".join(problems), problems=problems)
    return settings


def parsed_settings(
    environ: Mapping[str, str] | None = None, **overrides: Any
) -> tuple[Settings, list[str]]:
    """The settings of every value that could be read, and what could not (unknown names,
    values of the wrong type, left at their defaults): ``doctor`` checks the rest with them."""
    env = os.environ if environ is None else environ
    problems = unknown_env_problems(env)
    values: dict[str, Any] = {}
    config_path = env.get(CONFIG_VARIABLE)
    if config_path:
        values.update(_toml_settings(Path(config_path), problems))
    values.update(_from_env(env, problems))
    values.update(overrides)
    try:
        settings = msgspec.convert(values, Settings)
    except msgspec.ValidationError as exc:  # an override of the wrong type: a bug of the caller
        raise ConfigurationError(f"invalid setting: {exc}") from exc
    return settings, problems


def check_settings(settings: Settings) -> None:
    """Raise one ``ConfigurationError`` naming every setting whose value cannot work (each by
    its variable, never a secret's value): a bad value stops the start, not requests later."""
    problems = setting_problems(settings)
    if problems:
        raise ConfigurationError("; ".join(problems), problems=problems)


def setting_problems(settings: Settings, given_as: Mapping[str, str] | None = None) -> list[str]:
    """What is wrong with the settings' values, one line a problem (``doctor`` lists them)."""
    return [
        *_threshold_problems(settings),
        *_range_problems(settings),
        *_address_problems(settings, (given_as or {}).get("host", ENV_PREFIX + "HOST")),
        *_url_problems(settings),
        *_name_problems(settings),
        *_secret_problems(settings),
        *_list_problems(settings),
        *_path_problems(settings),
        *_verification_problems(settings),
    ]


def _var(name: str) -> str:
    return ENV_PREFIX + name.upper()


def _threshold_problems(settings: Settings) -> Iterator[str]:
    review, link = settings.identity_review_threshold, settings.identity_link_threshold
    if not 0 < review <= link <= 1:
        yield (
            "identity thresholds must satisfy 0 < CONTEXT_SERVICE_IDENTITY_REVIEW_THRESHOLD <= "
            f"CONTEXT_SERVICE_IDENTITY_LINK_THRESHOLD <= 1 (got {review} and {link})"
        )


def _range_problems(settings: Settings) -> Iterator[str]:
    for name, (low, high) in _INT_RANGES.items():
        value = getattr(settings, name)
        if low <= value and (high is None or value <= high):
            continue
        if high is not None:
            yield f"{_var(name)} must be between {low} and {high} (got {value})"
        elif low == 1:
            yield f"{_var(name)} must be a positive integer (got {value})"
        else:
            yield f"{_var(name)} must be {low} or more (got {value})"


def _address_problems(settings: Settings, host_name: str) -> Iterator[str]:
    """The bind address (named ``host_name``), the log level and the phone region, as
    ``serve`` and the phone parser need them."""
    import phonenumbers

    try:
        ipaddress.ip_address(settings.host)
    except ValueError:
        yield (
            f"{host_name} must be an IP address to bind, such as 127.0.0.1, 0.0.0.0 "
            f"or :: (got {settings.host!r})"
        )
    if settings.log_level.lower() not in LOG_LEVELS:
        levels = "CRITICAL, ERROR, WARNING, INFO or DEBUG"
        yield f"CONTEXT_SERVICE_LOG_LEVEL must be {levels} (got {settings.log_level!r})"
    if settings.default_region not in phonenumbers.SUPPORTED_REGIONS:
        yield (
            "CONTEXT_SERVICE_DEFAULT_REGION must be an upper-case region code such as US or GB "
            f"(got {settings.default_region!r})"
        )


def _url_problems(settings: Settings) -> Iterator[str]:
    """Each base URL is ``http(s)://host...`` without a user or password (which would end up
    in logs); the URL itself is never repeated, since it might hold one."""
    for name in _URL_FIELDS:
        url = getattr(settings, name)
        if url is None:
            continue
        why = url_fault(url)
        if why:
            yield f"{_var(name)} {why}"


# A shop handle or Zendesk subdomain (``acme``), or a host name (``acme.myshopify.com``).
_HOST_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*")
_NAME_FIELDS = {
    "shopify_shop": "a shop handle such as acme or a domain such as acme.myshopify.com",
    "zendesk_subdomain": "a subdomain such as acme or a host such as acme.zendesk.com",
}


def _shop_host(value: str) -> bool:
    """Whether a shop is a handle (``acme``) or a ``*.myshopify.com`` domain."""
    return "." not in value or value.lower().endswith(".myshopify.com")


def _name_problems(settings: Settings) -> Iterator[str]:
    """The Shopify shop and the Zendesk subdomain are names, not URLs: an empty one (``FOO=``
    in a ``.env`` file) would leave the source quietly unconfigured, a pasted URL would be
    called as ``https://https://...``. They are not secrets, so the value is shown."""
    for name, expected in _NAME_FIELDS.items():
        value = getattr(settings, name)
        if value is not None and not _HOST_NAME.fullmatch(value):
            yield f"{_var(name)} must be {expected}, not a URL (got {value!r})"
        elif name == "shopify_shop" and value and not _shop_host(value):
            # The Admin API's host, which the access token goes to: never another domain.
            yield f"{_var(name)} must be {expected}, not another domain (got {value!r})"


def url_fault(url: str) -> str | None:
    """Why ``url`` cannot serve as a base URL (not ``http(s)://`` with a host, or carrying a
    user or password), in words that never repeat it; ``None`` when it can."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is no number or out of range
    except ValueError:
        return "is not a valid URL"
    if not _ascii_port(parts.netloc):
        return "is not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname or url != url.strip():
        return "must be an http:// or https:// URL with a host, such as https://example.com"
    if parts.username is not None or parts.password is not None:
        return "must not hold a user name or password (they would end up in logs)"
    return None


def _ascii_port(netloc: str) -> bool:
    """Whether the port, if any, is ASCII digits, whatever the Python patch release: older
    ``urlsplit`` versions read ``http://host:٨٠`` as port 80."""
    port = netloc.rpartition("@")[2].rpartition("]")[2].partition(":")[2]
    return not port or (port.isascii() and port.isdigit())


def _secret_problems(settings: Settings) -> Iterator[str]:
    """A secret with spaces or quotes around it (a common ``.env`` mistake) never matches what
    the vendor signs with; the value is never shown."""
    for name in sorted(SECRET_FIELDS):
        value = getattr(settings, name)
        values = value if isinstance(value, list) else [value] if value else []
        if any(_padded(v) for v in values):
            yield (
                f"{_var(name)} has spaces or quotes around it (a quoting mistake in a .env "
                "file?); the value is not shown"
            )


def _padded(value: str) -> bool:
    stripped = value.strip()
    quoted = len(stripped) >= 1 and (stripped[0] in _QUOTES or stripped[-1] in _QUOTES)
    return stripped != value or quoted


def _verification_problems(settings: Settings) -> Iterator[str]:
    """End-user verification that cannot work or can be forged: a short ``user_hash`` or JWT
    secret can be guessed, and whoever guesses it reads any customer's verified context; a JWT
    key without issuer and audience verifies no token; an algorithm name outside the known ones
    (``none`` among them) is never accepted. Secrets are named, never shown."""
    if any(len(s) < MIN_USER_HASH_SECRET for s in settings.chatbot_user_hash_secrets):
        yield (
            f"{_var('chatbot_user_hash_secrets')}: every secret must be at least "
            f"{MIN_USER_HASH_SECRET} characters"
        )
    if settings.widget_secret and len(settings.widget_secret) < MIN_USER_HASH_SECRET:
        yield (
            f"{_var('widget_secret')} must be at least {MIN_USER_HASH_SECRET} characters: one "
            "signed link is enough to guess a shorter one offline"
        )
    if settings.chatbot_jwt_secret and len(settings.chatbot_jwt_secret) < MIN_JWT_SECRET:
        yield f"{_var('chatbot_jwt_secret')} must be at least {MIN_JWT_SECRET} characters"
    has_key = settings.chatbot_jwt_secret or settings.chatbot_jwt_public_key
    if has_key and not (settings.chatbot_jwt_issuer and settings.chatbot_jwt_audience):
        yield (
            f"a JWT key needs {_var('chatbot_jwt_issuer')} and {_var('chatbot_jwt_audience')}: "
            "without both, no user_token is accepted"
        )
    yield from _unfitting_jwt_keys(settings)
    unknown = sorted(set(settings.chatbot_jwt_algorithms) - JWT_ALGORITHMS)
    if unknown:
        yield (
            f"{_var('chatbot_jwt_algorithms')}: unknown algorithm(s) "
            f"{', '.join(repr(a) for a in unknown)} (known: {', '.join(sorted(JWT_ALGORITHMS))})"
        )


def _unfitting_jwt_keys(settings: Settings) -> Iterator[str]:
    """JWT keys that no allowed algorithm uses verify no token: the secret needs an HMAC one
    (``HS256``...), the public key an RSA, EC or EdDSA one. The start stops only when no
    configured key has an allowed algorithm; a spare key beside a usable one (a secret kept
    while moving to RS256) stops nothing (``doctor`` warns about it, ``unused_jwt_keys``)."""
    keys = [(name, example) for name, _, example in _unusable_jwt_keys(settings)]
    configured = _configured_jwt_keys(settings)
    if not keys or len(keys) < len(configured):
        return
    for name, example in keys:
        yield (
            f"{_var('chatbot_jwt_algorithms')} allows no algorithm for {_var(name)} "
            f"(add {example}): without one, no user_token is accepted"
        )


def unused_jwt_keys(settings: Settings) -> list[str]:
    """The configured JWT keys no allowed algorithm uses, beside a usable one (``doctor``)."""
    unusable = [name for name, _, _ in _unusable_jwt_keys(settings)]
    configured = _configured_jwt_keys(settings)
    return [_var(name) for name in unusable] if len(unusable) < len(configured) else []


def _configured_jwt_keys(settings: Settings) -> list[str]:
    return [n for n in ("chatbot_jwt_secret", "chatbot_jwt_public_key") if getattr(settings, n)]


def _unusable_jwt_keys(settings: Settings) -> list[tuple[str, frozenset[str], str]]:
    allowed = set(settings.chatbot_jwt_algorithms)
    keys = (
        ("chatbot_jwt_secret", JWT_HMAC_ALGORITHMS, "HS256"),
        ("chatbot_jwt_public_key", JWT_PUBLIC_KEY_ALGORITHMS, "RS256 or ES256"),
    )
    return [
        (name, frozenset(fitting), example)
        for name, fitting, example in keys
        if getattr(settings, name) and not allowed & fitting
    ]


def _list_problems(settings: Settings) -> Iterator[str]:
    """List entries must survive the comma-separated environment ``serve`` hands its workers
    (``to_environ``), and frame ancestors must be CSP source expressions."""
    for name in sorted(_LIST_FIELDS):
        if any(not entry or "," in entry for entry in getattr(settings, name)):
            yield f"{_var(name)}: an entry is empty or holds a comma"
    bad = [s for s in settings.widget_frame_ancestors if not set(s) <= FRAME_SOURCE_CHARS]
    if bad:
        yield (
            "CONTEXT_SERVICE_WIDGET_FRAME_ANCESTORS: not CSP sources (letters, digits and "
            f"-._:/*' only): {', '.join(repr(s) for s in bad)}"
        )


def _path_problems(settings: Settings) -> Iterator[str]:
    if not settings.db or Path(settings.db).is_dir():
        yield f"CONTEXT_SERVICE_DB must name a database file (got {settings.db!r})"
    if settings.field_policy is not None and not Path(settings.field_policy).is_file():
        yield f"CONTEXT_SERVICE_FIELD_POLICY: no such file {settings.field_policy!r}"


def to_environ(settings: Settings) -> dict[str, str]:
    """The settings as ``CONTEXT_SERVICE_*`` variables (for a server process that reloads them)."""
    env: dict[str, str] = {}
    for name in Settings.__struct_fields__:
        value = getattr(settings, name)
        if value is None:
            continue
        env[ENV_PREFIX + name.upper()] = ",".join(value) if isinstance(value, list) else str(value)
    return env
