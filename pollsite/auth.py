"""Bearer JWTs, verified statelessly in every role.

The token's subject is the poll creator or the voter. Signature, expiry, issuer and
audience are always checked; the algorithm is fixed by configuration, so a token
cannot choose its own (``alg: none`` and algorithm swaps are refused).
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import jwt
from django.conf import settings
from rest_framework import authentication, exceptions

from pollsite.request_context import subject_var


@dataclass(frozen=True)
class TokenUser:
    """What ``request.user`` is for a request with a valid token."""

    subject: str
    claims: dict = field(default_factory=dict, compare=False)
    is_authenticated: bool = True
    is_anonymous: bool = False

    def __str__(self) -> str:
        return self.subject


def token_decode(token: str) -> dict:
    """The token's claims, or ``jwt.InvalidTokenError`` saying what is wrong."""
    return jwt.decode(
        token,
        key=settings.JWT_KEY,
        algorithms=[settings.JWT_ALGORITHM],
        audience=settings.JWT_AUDIENCE,
        issuer=settings.JWT_ISSUER,
        leeway=settings.JWT_LEEWAY_SECONDS,
        options={"require": ["exp", "iat", "sub", "iss", "aud"]},
    )


def token_issue(*, subject: str, ttl: timedelta = timedelta(hours=1)) -> str:
    """Mint a token (development and operations: ``manage.py issue_token``)."""
    if not settings.JWT_SIGNING_KEY:
        raise ValueError("no signing key configured: set JWT_SECRET (HS*) or JWT_PRIVATE_KEY (RS*/ES*)")
    now = datetime.now(UTC)
    claims = {"sub": subject, "iss": settings.JWT_ISSUER, "aud": settings.JWT_AUDIENCE, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, settings.JWT_SIGNING_KEY, algorithm=settings.JWT_ALGORITHM)


class JWTAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != self.keyword.lower() or not token.strip():
            raise exceptions.AuthenticationFailed("The Authorization header must be 'Bearer <token>'.", "bad_authorization_header")
        try:
            claims = token_decode(token.strip())
        except jwt.ExpiredSignatureError:
            raise exceptions.AuthenticationFailed("The token has expired.", "token_expired") from None
        except jwt.InvalidAudienceError:
            raise exceptions.AuthenticationFailed("The token is not meant for this audience.", "token_wrong_audience") from None
        except jwt.InvalidIssuerError:
            raise exceptions.AuthenticationFailed("The token was issued by an unknown issuer.", "token_wrong_issuer") from None
        except jwt.InvalidTokenError as exc:
            raise exceptions.AuthenticationFailed(f"The token is invalid: {exc}.", "token_invalid") from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject or len(subject) > 150:
            raise exceptions.AuthenticationFailed(
                "The token's subject must be a non-empty string of at most 150 characters.", "token_invalid"
            )
        subject_var.set(subject)
        return TokenUser(subject=subject, claims=claims), token

    def authenticate_header(self, request):
        return f'{self.keyword} realm="pollsite"'
