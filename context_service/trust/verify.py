"""Verified end users: did the site that embeds the chatbot vouch for this customer?

Two proofs, both minted by the site's backend after its own login:

* ``user_hash``: hex HMAC-SHA256 of the identifier the bot looks up with the site's secret, as
  Intercom and Chatwoot do: the email, the phone, or for a person's id in a source (looked up
  as ``source`` + ``external_id``) the string ``"<source>:<external_id>"`` (``shopify:123``).
  Emails are hashed lower-cased and trimmed, phones in E.164 (``+14155550134``, as the lookup
  reads the number: ``phone_e164``); the value as given is accepted too.
* ``user_token``: a JWT signed by the site, verified with an explicit algorithm allow-list
  (never ``none``; HMAC algorithms only with a shared secret, RSA/EC only with a public key),
  the configured issuer and audience, and an expiry. Its ``email`` claim (or ``sub``) must name
  the email looked up; for a phone only the ``phone_number`` claim counts (OpenID Connect's,
  read as the lookup reads the number, unless a ``phone_number_verified`` claim is not
  ``true``), never ``sub``, which is the site's own user id and may well be digits; for a
  source id only ``sub`` counts, and it must be ``"<source>:<external_id>"``.

A source id is vouched for only when it names a person record (the caller, ``api.context``,
decides): a proof for ``1001`` in one system never unlocks order, ticket or invoice ``1001`` or
another system's ``1001``.

A proof that fails (forged, expired, for someone else) verifies nothing: the caller gets the
unverified answer and the reason, never the customer's data. Reasons are fixed sentences that
never echo what the token holds (they travel in a response header).
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Callable

import jwt
import msgspec

from context_service.identity.normalize import normalize_email, normalize_phone
from context_service.settings import JWT_HMAC_ALGORITHMS, JWT_PUBLIC_KEY_ALGORITHMS

HMAC_ALGORITHMS = JWT_HMAC_ALGORITHMS
PUBLIC_KEY_ALGORITHMS = JWT_PUBLIC_KEY_ALGORITHMS
LEEWAY_SECONDS = 30


class Claimed(msgspec.Struct, frozen=True):
    """The identifier the lookup used: which kind and the value as given."""

    kind: str  # email, phone, source_id ("<source>:<external_id>"), or one no proof vouches for
    value: str


# What a proof can vouch for, and why not for anything else (fixed text: it becomes a header).
PROVABLE = frozenset({"email", "phone", "source_id"})
_UNPROVABLE = {
    "search": "a search by partial details is never verified by a proof",
    "profile_id": "a proof cannot vouch for a profile_id lookup",
    "record": "a proof vouches only for a person's id in a source (a customer, contact, user or"
    " row), not an order, ticket, invoice or other record",
    "mailbox": "a proof cannot vouch for another address of the customer's mailbox (a +tag or"
    " Gmail dots the customer never gave)",
}
_UNPROVABLE_OTHER = "a proof cannot vouch for this kind of lookup"
_CORRECTED_EMAIL = (
    "a proof cannot vouch for an address the lookup corrected (a misspelt or aliased domain)"
)
# Why a token was refused, most specific first; never the exception's text, which can quote
# the token (its header's ``alg``, a claim).
_REJECTED: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "user_token rejected: the token has expired"),
    (jwt.ImmatureSignatureError, "user_token rejected: the token is not yet valid"),
    (jwt.InvalidAudienceError, "user_token rejected: wrong audience"),
    (jwt.InvalidIssuerError, "user_token rejected: wrong issuer"),
    (jwt.MissingRequiredClaimError, "user_token rejected: exp, iss or aud is missing"),
    (jwt.InvalidAlgorithmError, "user_token rejected: its algorithm is not allowed"),
    (jwt.InvalidSignatureError, "user_token rejected: the signature does not verify"),
    (jwt.DecodeError, "user_token rejected: not a well-formed JWT"),
)
_REJECTED_OTHER = "user_token rejected: invalid token"


def rejection(exc: jwt.PyJWTError) -> str:
    """A fixed reason for a refused token (nothing of the token itself)."""
    for kind, reason in _REJECTED:
        if isinstance(exc, kind):
            return reason
    return _REJECTED_OTHER


class Proof(msgspec.Struct, frozen=True):
    """What the chatbot passed along: an HMAC, a JWT, or nothing."""

    user_hash: str | None = None
    user_token: str | None = None

    def given(self) -> bool:
        """Whether any proof was presented."""
        return bool(self.user_hash or self.user_token)


class Verdict(msgspec.Struct, frozen=True):
    """``verified``, by which ``method``, or why not."""

    verified: bool
    method: str | None = None
    reason: str = ""


class JwtConfig(msgspec.Struct, frozen=True):
    """How the site's tokens are checked."""

    issuer: str
    audience: str
    secret: str | None = None
    public_key: str | None = None
    algorithms: tuple[str, ...] = ("HS256", "RS256", "ES256")

    def allowed(self) -> list[str]:
        """The algorithms a token may use with the configured key material."""
        found = []
        for alg in self.algorithms:
            usable = self.secret if alg in HMAC_ALGORITHMS else None
            if alg in PUBLIC_KEY_ALGORITHMS:
                usable = self.public_key
            if usable:
                found.append(alg)
        return found


def _candidates(claimed: Claimed, region: str | None) -> set[str]:
    value = claimed.value
    if claimed.kind == "phone":
        return phone_forms(value, region)
    found = {value, value.strip()}
    if claimed.kind == "email":
        found.add(value.strip().lower())
    return found


def phone_e164(value: str, region: str | None) -> str | None:
    """The phone number ``value`` in E.164 as a lookup in ``region`` reads it, or ``None``.

    With no region known, only a number written with its country code (``+44 20 7946 0958``)
    is read: any region reads it alike, while ``020 7946 0958`` is one number in London and
    none, or another, elsewhere, and a proof must never vouch for a number the lookup read
    otherwise."""
    given = value.strip()
    if region is None:
        if not given.startswith("+"):
            return None
        region = "US"  # any region: a number with its country code reads the same in each
    return normalize_phone(given, region)


def phone_forms(value: str, region: str | None) -> set[str]:
    """The forms of a phone number a proof may name: as given (and trimmed), and in E.164."""
    found = {value, value.strip()}
    e164 = phone_e164(value, region)
    if e164:
        found.add(e164)
    return found - {""}


def _looked_up_as_given(email: str) -> bool:
    """Whether the lookup searches for ``email`` itself (trimmed, lower-cased), not for an
    address it corrected to: ``maya@gmial.com`` is looked up as ``maya@gmail.com``, and a proof
    for the misspelt address (whose domain anyone may own) says nothing of the Gmail customer.
    Nor for an address that lower-casing turns into another: a character beyond ASCII whose
    lower case is ASCII (the Kelvin sign ``\u212a`` becomes ``k``) makes a site user's own,
    different address hash as the customer's, with the recipe's ``email.lower()``."""
    given = email.strip()
    if any(not char.isascii() and char.lower().isascii() for char in given):
        return False
    return normalize_email(email) == given.lower()


def user_hash(secret: str, value: str) -> str:
    """The ``user_hash`` a site computes for ``value`` (what its backend should run)."""
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()


class Verifier:
    """Checks proofs against the configured secrets; ``clock`` gives POSIX seconds.

    ``region`` is the one lookups read phone numbers in (``CONTEXT_SERVICE_DEFAULT_REGION``):
    a phone proof names the number in E.164 or as the lookup gave it, and the number the
    lookup was given is read in that region. Without it (``None``) only a number written with
    its country code is read, and any other phone proof must name it exactly as given."""

    def __init__(
        self,
        hash_secrets: list[str],
        jwt_config: JwtConfig | None,
        clock: Callable[[], float],
        *,
        region: str | None = None,
    ) -> None:
        self.hash_secrets = [s for s in hash_secrets if s]
        self.jwt = jwt_config
        self.clock = clock
        self.region = region

    def check(self, claimed: Claimed, proof: Proof) -> Verdict:
        """Whether ``proof`` vouches for ``claimed``."""
        if not proof.given():
            return Verdict(False, reason="no user_hash or user_token given")
        if claimed.kind not in PROVABLE or not claimed.value:
            return Verdict(False, reason=_UNPROVABLE.get(claimed.kind, _UNPROVABLE_OTHER))
        if claimed.kind == "email" and not _looked_up_as_given(claimed.value):
            return Verdict(False, reason=_CORRECTED_EMAIL)
        if proof.user_token:
            return self._check_token(claimed, proof.user_token)
        return self._check_hash(claimed, proof.user_hash or "")

    def _check_hash(self, claimed: Claimed, presented: str) -> Verdict:
        if not self.hash_secrets:
            return Verdict(False, reason="user_hash is not configured on this server")
        given = presented.strip().lower().encode()
        matched = False
        for secret in self.hash_secrets:
            for value in _candidates(claimed, self.region):
                matched |= hmac.compare_digest(user_hash(secret, value).encode(), given)
        if matched:
            return Verdict(True, method="user_hash")
        return Verdict(False, reason="user_hash does not match this customer")

    def _check_token(self, claimed: Claimed, token: str) -> Verdict:
        if self.jwt is None:
            return Verdict(False, reason="user_token is not configured on this server")
        try:
            claims = self._decode(token)
        except jwt.PyJWTError as exc:
            return Verdict(False, reason=rejection(exc))
        if claimed.kind == "phone":
            return self._check_phone_claim(claimed, claims)
        names = {str(claims.get("sub") or "")}
        if claimed.kind != "source_id":  # an email claim never names a source id
            names.add(str(claims.get("email") or "").strip().lower())
        if _candidates(claimed, self.region) & (names - {""}):
            return Verdict(True, method="user_token")
        return Verdict(False, reason="user_token names another customer")

    def _check_phone_claim(self, claimed: Claimed, claims: dict[str, object]) -> Verdict:
        """A phone is vouched for by the token's ``phone_number`` claim alone, never by
        ``sub`` (the site's user id, which may be digits that read as someone's number) nor
        ``email``; one the token says is not verified (a ``phone_number_verified`` claim that
        is not ``true``) vouches for nothing."""
        number = claims.get("phone_number")
        if not isinstance(number, str) or not number.strip():
            return Verdict(False, reason="user_token has no phone_number claim")
        if claims.get("phone_number_verified", True) is not True:
            return Verdict(False, reason="user_token says its phone_number is not verified")
        if phone_forms(number, self.region) & _candidates(claimed, self.region):
            return Verdict(True, method="user_token")
        return Verdict(False, reason="user_token names another customer")

    def _decode(self, token: str) -> dict[str, object]:
        config = self.jwt
        assert config is not None
        allowed = config.allowed()
        header = jwt.get_unverified_header(token)
        alg = header.get("alg")
        if alg not in allowed:
            raise jwt.InvalidAlgorithmError("the algorithm is not allowed")
        key = (config.secret if alg in HMAC_ALGORITHMS else config.public_key) or ""
        claims: dict[str, object] = jwt.decode(
            token,
            key,
            algorithms=[alg],
            audience=config.audience,
            issuer=config.issuer,
            options={
                "require": ["exp", "iss", "aud"],
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
        self._check_times(claims)
        return claims

    def _check_times(self, claims: dict[str, object]) -> None:
        """``exp`` (required), ``nbf`` and ``iat`` (optional) must be finite numbers of
        seconds, checked with ``LEEWAY_SECONDS``: ``NaN`` compares false with everything, so a
        token carrying it would never expire (or never be "not yet valid"), and a ``nbf`` that
        is a string would be skipped. A token issued (``iat``) or valid (``nbf``) only in the
        future is refused, as PyJWT's own check would: its issuer's clock is wrong, or the
        token was minted to outlive its stated lifetime."""
        now = self.clock()
        exp = _seconds(claims.get("exp"))
        if exp is None:
            raise jwt.InvalidTokenError("exp must be a number")
        if now > exp + LEEWAY_SECONDS:
            raise jwt.ExpiredSignatureError("the token has expired")
        for name in ("nbf", "iat"):
            if name in claims:
                _refuse_future(name, _seconds(claims[name]), now)


def _refuse_future(name: str, seconds: float | None, now: float) -> None:
    """Raise unless ``seconds`` (a ``nbf`` or ``iat`` claim) is a number not past ``now`` by
    more than ``LEEWAY_SECONDS``."""
    if seconds is None:
        raise jwt.InvalidTokenError(f"{name} must be a number")
    if now + LEEWAY_SECONDS < seconds:
        raise jwt.ImmatureSignatureError("the token is not yet valid")


def _seconds(value: object) -> float | None:
    """A JWT time claim as POSIX seconds, or ``None`` unless it is a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        seconds = float(value)
    except OverflowError:  # an integer of hundreds of digits
        return None
    return seconds if math.isfinite(seconds) else None
