"""Bearer tokens for the tests and the benchmark: minted one way, here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

#: The issuer and audience every role expects unless configured otherwise (settings/base.py).
ISSUER = AUDIENCE = "pollsite"


def mint(
    subject: str,
    *,
    key,
    algorithm: str = "HS256",
    issuer: str = ISSUER,
    audience: str = AUDIENCE,
    lifetime: timedelta = timedelta(hours=1),
    headers: dict | None = None,
    **claims,
) -> str:
    """A JWT for ``subject``, issued now; ``claims`` add to or replace the standard ones."""
    now = datetime.now(UTC)
    payload = {"sub": subject, "iss": issuer, "aud": audience, "iat": now, "exp": now + lifetime, **claims}
    return jwt.encode(payload, key, algorithm=algorithm, headers=headers)


def local_token(subject: str, **options) -> str:
    """A token the roles that tests.support.stack starts accept (and the benchmark's): HS256, its secret."""
    from tests.support.stack import LOCAL_ENV

    return mint(subject, key=LOCAL_ENV["JWT_SECRET"], **options)
