"""Bearer JWTs, verified statelessly in every role.

The token's subject is the poll creator or the voter. Signature, expiry, issuer and
audience are always checked; the algorithm is fixed by configuration, so a token
cannot choose its own (``alg: none`` and algorithm swaps are refused).
"""

import base64
import binascii
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache

import jwt
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from jwt.algorithms import HMACAlgorithm
from rest_framework import authentication, exceptions

from pollsite.exceptions import ErrorCode
from pollsite.observability.request_context import bearer_token_var, subject_var


@dataclass(frozen=True)
class TokenUser:
    """What ``request.user`` is for a request with a valid token."""

    subject: str
    claims: dict = field(default_factory=dict, compare=False)
    is_authenticated: bool = True
    is_anonymous: bool = False

    def __str__(self) -> str:
        return self.subject


#: Longest token accepted; anything longer is refused before it is parsed.
TOKEN_MAX_LENGTH = 4096
SUBJECT_MAX_LENGTH = 150
#: Claims a token must carry (PyJWT refuses it otherwise).
REQUIRED_CLAIMS = ("exp", "iat", "sub", "iss", "aud")


def verification_configured() -> None:
    """Stop a process that must verify tokens but holds no way to (pollsite.config.wsgi calls it)."""
    if settings.JWT_KEY or (settings.JWT_JWKS_URL and not settings.JWT_ALGORITHM.startswith("HS")):
        return
    needs = "JWT_SECRET" if settings.JWT_ALGORITHM.startswith("HS") else "JWT_PUBLIC_KEY or JWT_JWKS_URL"
    raise ImproperlyConfigured(f"this process verifies {settings.JWT_ALGORITHM} tokens: set {needs}")


@cache
def _jwks_client() -> jwt.PyJWKClient:
    """The identity provider's keys, fetched once and kept (refetched for an unknown key id)."""
    return jwt.PyJWKClient(settings.JWT_JWKS_URL, cache_keys=True, lifespan=3600, timeout=settings.SERVICE_CALL_TIMEOUT)


def _verifying_key(token: str):
    if settings.JWT_KEY or not settings.JWT_JWKS_URL:
        return settings.JWT_KEY
    try:
        return _jwks_client().get_signing_key_from_jwt(token).key
    except jwt.PyJWKClientConnectionError as exc:
        raise IdentityProviderUnavailable() from exc
    except jwt.PyJWKClientError as exc:  # no key with the token's kid, a malformed set
        raise jwt.InvalidTokenError(str(exc)) from exc


class IdentityProviderUnavailable(exceptions.APIException):
    status_code = 503
    default_detail = "The identity provider's keys cannot be fetched right now; try again shortly."
    default_code = ErrorCode.IDENTITY_PROVIDER_UNAVAILABLE


class _KeysPreparedOnce:
    """A PyJWT algorithm whose key, given as text, is prepared (parsed and checked) once per
    process instead of for every token: for HS256 the checks cost more than the HMAC. The
    key's length is judged once too (PyJWT asks for every token; for HMAC by building a
    hash object)."""

    def prepare_key(self, key):
        if not isinstance(key, str | bytes):
            return super().prepare_key(key)
        prepared = self._prepared.get(key)
        if prepared is None:
            prepared = self._prepared[key] = super().prepare_key(key)
            self._length_checks[id(prepared)] = super().check_key_length(prepared)  # kept alive by _prepared
        return prepared

    def check_key_length(self, key):
        try:
            return self._length_checks[id(key)]
        except KeyError:  # a key not prepared here (a JWKS key object)
            return super().check_key_length(key)


class _HMACInOneCall:
    """HMAC signatures computed by one call into OpenSSL (``hmac.digest``) instead of an
    ``hmac.HMAC`` object built for every token: the same bytes."""

    def sign(self, msg: bytes, key: bytes) -> bytes:
        return hmac.digest(key, msg, self.hash_alg)


_BASE64URL = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


class _SegmentsCheckedInC(jwt.PyJWS):
    """PyJWS whose segments are held to PyJWT's own rules (at most two '=', a padded
    segment a multiple of four long, only the base64url alphabet, and canonical: it encodes
    back to itself), with the alphabet checked by ``bytes.translate`` instead of a Python
    loop over every character, which was a third of a token's verification."""

    @staticmethod
    def _decode_base64url_segment(segment: bytes, name: str) -> bytes:
        data = segment.rstrip(b"=")
        padding = len(segment) - len(data)
        if padding > 2 or (padding and len(segment) % 4) or len(data) % 4 == 1 or data.translate(None, _BASE64URL):
            raise jwt.DecodeError(f"Invalid {name} padding")
        try:
            decoded = base64.urlsafe_b64decode(data + b"=" * (-len(data) % 4))
        except (TypeError, binascii.Error) as err:
            raise jwt.DecodeError(f"Invalid {name} padding") from err
        if base64.urlsafe_b64encode(decoded).rstrip(b"=") != data:
            raise jwt.DecodeError(f"Invalid {name} padding")
        return decoded


@cache
def _verifier() -> jwt.PyJWT:
    """PyJWT verifying through :class:`_SegmentsCheckedInC`, with its own algorithms, each
    preparing a configured key once. Every check PyJWT makes is kept."""
    verifier = jwt.PyJWT(options={"require": list(REQUIRED_CLAIMS)})  # merged into PyJWT's defaults once, not per token
    verifier._jws = _SegmentsCheckedInC(options=verifier._get_sig_options())
    for name, algorithm in list(verifier._jws._algorithms.items()):
        mixins = (_KeysPreparedOnce, _HMACInOneCall) if isinstance(algorithm, HMACAlgorithm) else (_KeysPreparedOnce,)
        kind = type(f"Prepared{type(algorithm).__name__}", (*mixins, type(algorithm)), {})
        prepared = object.__new__(kind)
        prepared.__dict__.update(vars(algorithm), _prepared={}, _length_checks={})  # the same hash and settings as PyJWT's own
        verifier._jws.unregister_algorithm(name)
        verifier._jws.register_algorithm(name, prepared)
    return verifier


def token_decode(token: str) -> dict:
    """The token's claims, each checked; ``jwt.InvalidTokenError`` saying what is wrong."""
    if len(token) > TOKEN_MAX_LENGTH:
        raise jwt.InvalidTokenError(f"longer than {TOKEN_MAX_LENGTH} characters")
    claims = _verifier().decode(
        token,
        key=_verifying_key(token),
        algorithms=[settings.JWT_ALGORITHM],
        audience=settings.JWT_AUDIENCE,
        issuer=settings.JWT_ISSUER,
        leeway=settings.JWT_LEEWAY_SECONDS,
    )
    token_claims_check(claims)
    return claims


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def token_claims_check(claims: dict) -> None:
    """Every claim pollsite reads, checked for type, length and characters, and the
    token's lifetime against the configured maximum, so no odd content reaches the
    database or the logs. Raises ``jwt.InvalidTokenError`` naming the claim."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not 0 < len(subject) <= SUBJECT_MAX_LENGTH:
        raise jwt.InvalidTokenError(f"the subject (sub) must be a string of 1 to {SUBJECT_MAX_LENGTH} characters")
    if not subject.isprintable() or subject.split() != [subject]:  # split(): on exactly what isspace() calls white space
        raise jwt.InvalidTokenError("the subject (sub) may hold only printable characters and no white space")
    for name in ("exp", "iat", "nbf"):
        if name in claims and not _is_number(claims[name]):
            raise jwt.InvalidTokenError(f"the {name} claim must be a number")
    if not isinstance(claims.get("iss"), str):
        raise jwt.InvalidTokenError("the issuer (iss) must be a string")
    lifetime = claims["exp"] - claims["iat"]
    if lifetime > settings.JWT_MAX_LIFETIME_SECONDS:
        raise jwt.InvalidTokenError(
            f"its lifetime ({int(lifetime)}s from iat to exp) is longer than the {settings.JWT_MAX_LIFETIME_SECONDS}s allowed"
        )


def token_issue(*, subject: str, ttl: timedelta = timedelta(hours=1), private_key: str | None = None) -> str:
    """Mint a token (development and operations: ``manage.py issue_token``).

    RS*/ES* tokens are signed with ``private_key``, which the caller must hold: no
    setting of a release carries one. HS* tokens (development) use the shared secret.
    """
    if private_key is None:
        if not settings.JWT_ALGORITHM.startswith("HS"):
            raise ValueError(f"{settings.JWT_ALGORITHM} tokens are signed with a private key that pollsite never holds: pass it explicitly")
        private_key = settings.JWT_KEY
    if ttl.total_seconds() > settings.JWT_MAX_LIFETIME_SECONDS:
        raise ValueError(f"a token may live {settings.JWT_MAX_LIFETIME_SECONDS}s at most (JWT_MAX_LIFETIME_SECONDS)")
    now = datetime.now(UTC)
    claims = {"sub": subject, "iss": settings.JWT_ISSUER, "aud": settings.JWT_AUDIENCE, "iat": now, "exp": now + ttl}
    token_claims_check({**claims, "iat": now.timestamp(), "exp": (now + ttl).timestamp()})
    return jwt.encode(claims, private_key, algorithm=settings.JWT_ALGORITHM)


class JWTAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != self.keyword.lower() or not token.strip():
            raise exceptions.AuthenticationFailed("The Authorization header must be 'Bearer <token>'.", ErrorCode.BAD_AUTHORIZATION_HEADER)
        try:
            claims = token_decode(token.strip())
        except jwt.ExpiredSignatureError:
            raise exceptions.AuthenticationFailed("The token has expired.", ErrorCode.TOKEN_EXPIRED) from None
        except jwt.InvalidAudienceError:
            raise exceptions.AuthenticationFailed("The token is not meant for this audience.", ErrorCode.TOKEN_WRONG_AUDIENCE) from None
        except jwt.InvalidIssuerError:
            raise exceptions.AuthenticationFailed("The token was issued by an unknown issuer.", ErrorCode.TOKEN_WRONG_ISSUER) from None
        except jwt.InvalidTokenError as exc:
            raise exceptions.AuthenticationFailed(f"The token is invalid: {exc}.", ErrorCode.TOKEN_INVALID) from None
        subject = claims["sub"]
        subject_var.set(subject)
        bearer_token_var.set(token.strip())
        return TokenUser(subject=subject, claims=claims), token

    def authenticate_header(self, request):
        return f'{self.keyword} realm="pollsite"'
