"""Secrets a customer (or a bot quoting one) types into a chat, a ticket or a note, removed
before anything is stored, shown, posted as a note or sent to an LLM.

``redaction`` removes card numbers and IBANs; this adds what support text also carries: vendor
API keys (``sk_live_...``, ``shpat_...``, ``pat-na1-...``), private key blocks, bearer tokens
and JWTs, passwords written as ``password: ...`` or ``password is ...``, and one-time codes
(``the code is 482913``, ``OTP: 559031``). The label stays (``password: [secret removed]``), so
what the customer was talking about still reads; only the value goes. Ordinary words stay: ``I
forgot my password``, ``zip code 94110``, ``discount code: SAVE20``. The one list of these
shapes: the stored snapshot, the escalation handoff and the LLM prompts all use it.
"""

from __future__ import annotations

import re

SECRET_REMOVED = "[secret removed]"  # noqa: S105 (the marker, not a password)

# Tokens that are secrets whatever surrounds them.
_TOKENS = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"
    r"|(?<![\w-])(?:"
    r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{8,}"  # Stripe secret and restricted keys
    r"|whsec_[A-Za-z0-9]{8,}"  # Stripe webhook secrets
    r"|(?:shpat|shpss|shpca|shppa)_[A-Za-z0-9]{16,}"  # Shopify tokens and secrets
    r"|pat-(?:na|eu)\d-[0-9a-f-]{36}"  # HubSpot private app tokens
    r"|sk-(?:proj-|svcacct-|ant-)?[A-Za-z0-9_-]{20,}"  # OpenAI / Anthropic keys
    r"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{30,}"  # GitHub tokens
    r"|xox[abposr]-[A-Za-z0-9-]{10,}"  # Slack tokens
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"  # AWS access key ids
    r"|AIza[0-9A-Za-z_-]{35}"  # Google API keys
    r"|eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"  # JWTs
    r")"
)
# ``Bearer <token>`` and ``Authorization: Basic <credentials>``: a token has a digit, so
# "Bearer of bad news" stays.
_AUTH_HEADER = re.compile(
    r"(?i)\b(bearer\s+|authorization:\s*basic\s+)(?=[A-Za-z0-9._~+/=-]*\d)([A-Za-z0-9._~+/=-]{8,})"
)
# Not a value already removed (``[secret removed]``, ``[card number removed]``).
_VALUE = r"(?!\[[a-z ]+ removed\])(\"[^\"\n]{1,200}\"|'[^'\n]{1,200}'|[^\s\"']{1,200})"
# A password, key or token named and then given: ``password: x``, ``my password is x``.
_LABELLED = re.compile(
    r"(?i)\b(pass(?:word|wd|phrase|code)?|pwd|pin|api[ _-]?key|secret(?:[ _-]?key)?|"
    r"(?:access[ _-]?|auth[ _-]?)?token)"
    r"(\s*[:=]\s*|\s+(?:is|was)\s*:?\s+)" + _VALUE
)
# A one-time code: named as one, then a code of 4 to 10 digits (or letters with a digit).
_CODE_VALUE = r"(\d{4,10}|(?=[A-Z]*\d)[A-Z0-9]{6,10})(?![\w-])"
_ONE_TIME_CODE = re.compile(
    r"(?i)\b(otp|one[- ]time\s+(?:pass(?:word|code)?|code)|"
    r"(?:verification|security|login|log-in|sign[- ]?in|2fa|mfa|sms|auth(?:entication)?|"
    r"confirmation|access)\s+code)"
    r"(\s*[:=-]?\s*|\s+(?:is|was)\s*:?\s+)" + _CODE_VALUE
)
# A card security code: three or four digits after its name.
_CARD_CODE = re.compile(r"(?i)\b(cvv2?|cvc2?|csc)(\s*[:=-]?\s*|\s+(?:is|was)\s*:?\s+)(\d{3,4})\b")
# A bare "code" only when given as one (``the code is 482913``, ``code: 482913``), digits only,
# and not a zip, post, area, error or status code.
_BARE_CODE = re.compile(r"(?i)\b(code)(\s*[:=]\s*|\s+is\s+)(\d{4,8})\b")
_NOT_SECRET_CODES = ("error", "status", "country", "dial", "zip", "postal", "area", "promo")


# Every pattern above holds one of these (case folded): text without any holds no secret, and
# most support text has none, so a few substring searches spare the six substitutions (one
# case-insensitive regex of the same words took ten times as long as these).
_TRIGGERS = (
    "-----begin", "sk_", "rk_", "sk-", "whsec_", "shp", "pat-", "gh", "xox", "akia", "asia",
    "aiza", "eyj", "bearer", "authorization", "pass", "pwd", "pin", "api", "secret", "token",
    "otp", "one", "code", "cvv", "cvc", "csc",
)  # fmt: skip


def redact_secrets(text: str) -> str:
    """``text`` with API keys, bearer tokens, passwords and one-time codes replaced by
    ``[secret removed]``; everything else as it was."""
    folded = text.casefold()
    if not any(map(folded.__contains__, _TRIGGERS)):  # ``trigger in folded``, without a frame
        return text
    return redact_every_secret(text)


def redact_every_secret(text: str) -> str:
    """``redact_secrets`` without its quick check (the tests compare the two)."""
    text = _TOKENS.sub(SECRET_REMOVED, text)
    text = _AUTH_HEADER.sub(lambda m: m.group(1) + SECRET_REMOVED, text)
    text = _LABELLED.sub(_labelled_value, text)
    text = _ONE_TIME_CODE.sub(_keep_label, text)
    text = _CARD_CODE.sub(_keep_label, text)
    return _BARE_CODE.sub(_bare_code, text)


def _keep_label(match: re.Match[str]) -> str:
    return match.group(1) + match.group(2) + SECRET_REMOVED


def _labelled_value(match: re.Match[str]) -> str:
    """``password: x`` always goes; ``password is x`` only when ``x`` looks like one (a digit,
    a symbol or mixed case), so "my password is wrong" stays."""
    value = match.group(3)
    given_as_is = not match.group(2).strip().startswith((":", "="))
    if given_as_is and value.isalpha() and (value.islower() or value.istitle()):
        return match.group()
    return _keep_label(match)


def _bare_code(match: re.Match[str]) -> str:
    before = match.string[: match.start()].rstrip().lower()
    if before.endswith(_NOT_SECRET_CODES):
        return match.group()
    return _keep_label(match)


def contains_secret(text: str) -> bool:
    """Whether ``text`` holds a credential of a known shape (a key, token or private key)."""
    return _TOKENS.search(text) is not None or _AUTH_HEADER.search(text) is not None
