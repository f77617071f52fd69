"""Secrets a customer (or a bot quoting one) types into a chat, a ticket or a note, removed
before anything is stored, shown, posted as a note or sent to an LLM.

``redaction`` removes card numbers and IBANs; this adds what support text also carries: vendor
API keys in any case (``sk_live_...``, ``shpat_...``, ``pat-na1-...``, ``glpat-...``,
``SG....``, ``hf_...``, ``gsk_...``) and this service's own (``csk_...``), private key blocks,
bearer tokens and JWTs, the password in a URL (``https://user:...@host``), passwords written
as ``password: ...``, ``pw: ...``, ``password is ...`` or in German, French, Spanish,
Portuguese or Dutch (``Passwort: ...``, ``mot de passe : ...``, ``contraseña: ...``), PINs
(``my PIN 4821``), one-time codes (``the code is 482913``, ``OTP: 559031``) and card security
codes (``CVV 123``, ``security code 123``, ``the 3 digits on the back are 123``). The label
stays (``password: [secret removed]``), so what the customer was talking about still reads;
only the value goes. Ordinary words stay: ``I forgot my password``, ``my password is wrong``,
``zip code 94110``, ``PIN code 560001`` (an Indian postcode), ``discount code: SAVE20``.
The one list of these shapes: the stored snapshot, the escalation handoff and the LLM prompts
all use it.
"""

from __future__ import annotations

import re

SECRET_REMOVED = "[secret removed]"  # noqa: S105 (the marker, not a password)

# Tokens that are secrets whatever surrounds them.
_TOKENS = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"
    r"|(?<![\w-])(?:"
    r"(?i:sk|rk)_(?i:live|test)_[A-Za-z0-9]{8,}"  # Stripe secret and restricted keys
    r"|(?i:whsec)_[A-Za-z0-9]{8,}"  # Stripe webhook secrets
    r"|(?i:shpat|shpss|shpca|shppa)_[A-Za-z0-9]{16,}"  # Shopify tokens and secrets
    r"|pat-(?:na|eu|ap)\d-[0-9a-f-]{36}"  # HubSpot private app tokens
    r"|gl(?:pat|dt|rt|ptt|ft|soat|cbt|imt)-[A-Za-z0-9_-]{20,}(?:\.[A-Za-z0-9_-]+)*"  # GitLab
    r"|SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"  # SendGrid API keys
    r"|hf_[A-Za-z0-9]{30,}"  # Hugging Face tokens
    r"|gsk_[A-Za-z0-9]{30,}"  # Groq API keys
    r"|sk-(?:proj-|svcacct-|ant-)?[A-Za-z0-9_-]{20,}"  # OpenAI / Anthropic keys
    r"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{30,}"  # GitHub tokens
    r"|xox[abposr]-[A-Za-z0-9-]{10,}"  # Slack tokens
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"  # AWS access key ids
    r"|AIza[0-9A-Za-z_-]{35}"  # Google API keys
    r"|eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"  # JWTs
    r"|(?i:csk)_[0-9a-fA-F]{12}_[A-Za-z0-9_-]{16,}"  # this service's own API keys
    r")"
)
# ``Bearer <token>`` and ``Authorization: Basic <credentials>``: a token has a digit, so
# "Bearer of bad news" stays.
_AUTH_HEADER = re.compile(
    r"(?i)\b(bearer\s+|authorization:\s*basic\s+)(?=[A-Za-z0-9._~+/=-]*\d)([A-Za-z0-9._~+/=-]{8,})"
)
# The password in a URL's user information (``https://admin:S3cret@shop.example.com``): the
# scheme and user stay. A port (``host:8080/``) has no ``@`` after it, so it stays.
_URL_PASSWORD = re.compile(
    r"(?i)\b([a-z][a-z0-9+.-]{0,30}://[^\s:/?#@\[\]]{0,200}:)([^\s/?#@]{1,200})(?=@)"
)
# Not a value already removed (``[secret removed]``, ``[card number removed]``).
_VALUE = r"(?!\[[a-z ]+ removed\])(\"[^\"\n]{1,200}\"|'[^'\n]{1,200}'|[^\s\"']{1,200})"
# A password, key or token named and then given: ``password: x``, ``my password is x``,
# ``my password's x``, ``pw: x``, and the word for password in German, French, Spanish,
# Portuguese and Dutch (``Passwort: x``, ``mot de passe : x``, ``contraseña es x``).
_LABELLED = re.compile(
    r"(?i)\b(passwort|kennwort|mot\s+de\s+passe|contrase(?:ñ|n\u0303|n)a|senha|wachtwoord|"
    r"pass(?:word|wd|phrase|code)?|pwd|pw|pin|api[ _-]?key|secret(?:[ _-]?key)?|"
    r"(?:access[ _-]?|auth[ _-]?)?token)"
    r"(\s*[:=]\s*|['\u2019]s\s+|\s+(?:is|was|ist|war|est|es|era|é)\s*:?\s+)" + _VALUE
)
# A PIN given without a colon (``my PIN 4821``, ``PIN number 4821``): four digits after
# ``PIN`` in capitals, or a ``pin`` that is someone's or a card's (``enamel pin 2024`` stays),
# and never six (``PIN code 560001`` is an Indian postcode).
_PIN = re.compile(
    r"(?<![\w-])((?i:(?:my|your|card|debit|atm|bank)\s+pin(?:\s+(?:number|code))?"
    r"|pin\s+(?:number|code))|PIN(?:\s+(?i:number|code))?)"
    r"(\s*[:=-]?\s*|\s+(?i:is|was)\s*:?\s+)(\d{4})(?![\w-])"
)
# A one-time code: named as one, then a code of 4 to 10 digits (or letters with a digit).
_CODE_VALUE = r"(\d{4,10}|(?=[A-Z]*\d)[A-Z0-9]{6,10})(?![\w-])"
_ONE_TIME_CODE = re.compile(
    r"(?i)\b(otp|one[- ]time\s+(?:pass(?:word|code)?|code)|"
    r"(?:verification|security|login|log-in|sign[- ]?in|2fa|mfa|sms|auth(?:entication)?|"
    r"confirmation|access)\s+code)"
    r"(\s*[:=-]?\s*|\s+(?:is|was)\s*:?\s+)" + _CODE_VALUE
)
# A card security code: three or four digits after its name (``CVV 123``, ``security code
# 123``) or after where it is (``the 3 digits on the back are 123``).
_DIGITS_ON_THE_BACK = (
    r"(?:3|4|three|four)[ -]digits?(?:\s+(?:security\s+)?(?:code|number))?"
    r"(?:\s+on\s+the\s+back(?:\s+of\s+(?:the|my)\s+card)?)"
    r"|(?:3|4|three|four)[ -]digit\s+(?:security\s+)?code"
)
_CARD_CODE = re.compile(
    r"(?i)\b((?:cvv2?|cvc2?|csc)(?:\s+(?:code|number))?|(?:card\s+)?security\s+code"
    r"|card\s+verification\s+(?:code|value|number)|" + _DIGITS_ON_THE_BACK + r")"
    r"(\s*[:=-]?\s*|\s+(?:is|are|was|were)\s*:?\s+)(\d{3,4})\b"
)
# A bare "code" only when given as one (``the code is 482913``, ``code: 482913``), digits only,
# and not a zip, post, area, error or status code.
_BARE_CODE = re.compile(r"(?i)\b(code)(\s*[:=]\s*|\s+is\s+)(\d{4,8})\b")
_NOT_SECRET_CODES = ("error", "status", "country", "dial", "zip", "postal", "area", "promo")


# Every pattern above holds one of these (case folded): text without any holds no secret, and
# most support text has none, so a few substring searches spare the six substitutions (one
# case-insensitive regex of the same words took ten times as long as these).
_TRIGGERS = (
    "-----begin", "sk_", "rk_", "sk-", "whsec_", "shp", "pat-", "gh", "xox", "akia", "asia",
    "aiza", "eyj", "bearer", "authorization", "pass", "pw", "pin", "api", "secret", "token",
    "otp", "one", "code", "cvv", "cvc", "csc", "glpat-", "gldt-", "glrt-", "glptt-", "glft-",
    "glsoat-", "glcbt-", "glimt-", "sg.", "hf_", "kennwort", "contrase", "senha", "wachtwoord",
    "digit", "csk_",
)  # fmt: skip


def redact_secrets(text: str) -> str:
    """``text`` with API keys, bearer tokens, passwords and one-time codes replaced by
    ``[secret removed]``; everything else as it was."""
    folded = text.casefold()
    if not any(map(folded.__contains__, _TRIGGERS)) and not ("://" in text and "@" in text):
        return text  # ``trigger in folded``, without a frame; a URL's password needs both
    return redact_every_secret(text)


def redact_every_secret(text: str) -> str:
    """``redact_secrets`` without its quick check (the tests compare the two)."""
    text = _TOKENS.sub(SECRET_REMOVED, text)
    text = _URL_PASSWORD.sub(lambda m: m.group(1) + SECRET_REMOVED, text)
    text = _AUTH_HEADER.sub(lambda m: m.group(1) + SECRET_REMOVED, text)
    text = _LABELLED.sub(_labelled_value, text)
    text = _PIN.sub(_keep_label, text)
    text = _ONE_TIME_CODE.sub(_keep_label, text)
    text = _CARD_CODE.sub(_keep_label, text)
    return _BARE_CODE.sub(_bare_code, text)


def redact_tokens(text: str) -> str:
    """``text`` with the tokens that are secrets whatever surrounds them (``_TOKENS``)
    replaced: ``redaction.redact_free_text`` takes them out before card numbers, so digits
    inside a token (``pat-na2-12345678-1234-...``) are not read as a card's."""
    if not any(map(text.casefold().__contains__, _TRIGGERS)):
        return text
    return _TOKENS.sub(SECRET_REMOVED, text)


def _keep_label(match: re.Match[str]) -> str:
    return match.group(1) + match.group(2) + SECRET_REMOVED


def _labelled_value(match: re.Match[str]) -> str:
    """``password: x`` always goes; ``password is x`` only when ``x`` looks like one (a digit,
    a symbol or mixed case), so "my password is wrong" stays."""
    value = match.group(3).rstrip(".,;!?)")  # ``my password is wrong, ...``
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
