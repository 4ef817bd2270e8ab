"""``manage.py check --deploy``: pollsite's own weak settings, next to Django's."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

#: Longer-lived tokens are a stolen token's lifetime; a day is plenty for a bearer token.
LIFETIME_WARNING_SECONDS = 7 * 86400


@register(Tags.security, deploy=True)
def check_token_settings(app_configs, **kwargs):
    problems = []
    if "PRIVATE KEY" in settings.JWT_KEY:
        problems.append(
            Error(
                "JWT_PUBLIC_KEY holds a private key: this process could sign tokens for anyone.",
                hint="Give pods the public key only (openssl pkey -pubout).",
                id="pollsite.E001",
            )
        )
    if settings.JWT_MAX_LIFETIME_SECONDS > LIFETIME_WARNING_SECONDS:
        problems.append(
            Warning(
                f"JWT_MAX_LIFETIME_SECONDS is {settings.JWT_MAX_LIFETIME_SECONDS}: tokens may live over a week.",
                hint="Keep bearer tokens short-lived (the default is 86400) and let the identity provider refresh them.",
                id="pollsite.W001",
            )
        )
    return problems
