"""The project's domain errors and their codes: what services, selectors and the client raise.

They know nothing of HTTP. :func:`pollsite.api.errors.exception_handler` is the one place
that maps them to a status and the error shape; the consumer and the management
commands, which call the same services, see plain exceptions.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


class ErrorCode(StrEnum):
    """Every error code a role answers with, in one place (the API's ``error.code``)."""

    NOT_FOUND = "not_found"
    INVALID = "invalid"
    POLL_NOT_FOUND = "poll_not_found"
    CHOICE_NOT_FOUND = "choice_not_found"
    CHOICE_NOT_IN_POLL = "choice_not_in_poll"
    NOT_POLL_CREATOR = "not_poll_creator"
    POLL_CLOSED = "poll_closed"
    ALREADY_VOTED = "already_voted"
    NOT_YET_KNOWN = "not_yet_known"
    POLL_HAS_VOTES = "poll_has_votes"
    POLL_BEING_EDITED = "poll_being_edited"
    DUPLICATE_CHOICE = "duplicate_choice"
    TOO_MANY_CHOICES = "too_many_choices"
    # what the HTTP layer answers by itself (pollsite.api.errors, pollsite.api.auth)
    BAD_REQUEST = "bad_request"
    PERMISSION_DENIED = "permission_denied"
    CONFLICT = "conflict"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    SERVICE_UNAVAILABLE = "service_unavailable"
    DATABASE_UNAVAILABLE = "database_unavailable"
    SERVER_ERROR = "server_error"
    BAD_AUTHORIZATION_HEADER = "bad_authorization_header"
    TOKEN_EXPIRED = "token_expired"  # noqa: S105 - an error code, not a secret
    TOKEN_WRONG_AUDIENCE = "token_wrong_audience"  # noqa: S105 - an error code, not a secret
    TOKEN_WRONG_ISSUER = "token_wrong_issuer"  # noqa: S105 - an error code, not a secret
    TOKEN_INVALID = "token_invalid"  # noqa: S105 - an error code, not a secret
    IDENTITY_PROVIDER_UNAVAILABLE = "identity_provider_unavailable"

    @classmethod
    def unavailable(cls, role: str) -> str:
        """``<role>_unavailable``: a role this request needs did not answer."""
        return f"{role}_unavailable"


class DomainError(Exception):
    """A refusal a caller can act on: its code and a message for people."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = str(code)


class NotFound(DomainError):
    pass


class NotAllowed(DomainError):
    """The actor may not do this (not the poll's creator)."""


class Conflict(DomainError):
    """The state forbids it (closed poll, second vote, duplicate)."""


class Invalid(DomainError):
    """The input is wrong; ``fields``: the messages per field."""

    def __init__(self, fields: dict[str, list[str]], code: str = ErrorCode.INVALID):
        super().__init__("The request is invalid.", code)
        self.fields = fields


class Unavailable(DomainError):
    """A role or resource this request needs is down; nothing was written."""


def get_or_not_found(queryset: type[M] | QuerySet[M], **lookup) -> M:
    """The one object ``lookup`` matches, or :class:`NotFound` (Django's wording, code ``not_found``)."""
    if not isinstance(queryset, QuerySet):
        queryset = queryset._default_manager.all()
    try:
        return queryset.get(**lookup)
    except queryset.model.DoesNotExist:
        raise NotFound(f"No {queryset.model._meta.object_name} matches the given query.", ErrorCode.NOT_FOUND) from None
