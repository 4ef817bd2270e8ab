"""Per-request context (request id, token subject, the caller's token) for logs, outgoing calls and events."""

import os
import re
from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
subject_var: ContextVar[str] = ContextVar("subject", default="")
#: The caller's verified bearer token: a call another role must judge on the caller's behalf
#: (an edit lease at vote) carries it. Never logged.
bearer_token_var: ContextVar[str] = ContextVar("bearer_token", default="")

REQUEST_ID_HEADER = "X-Request-ID"
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def new_request_id() -> str:
    """32 random hex digits (a random UUID's length, without building one)."""
    return os.urandom(16).hex()


def accept_request_id(candidate: str | None) -> str:
    """The caller's id when it is a sane token, else a fresh one (ids end up in logs)."""
    if candidate and _ACCEPTABLE_ID.match(candidate):
        return candidate
    return new_request_id()


def current_request_id() -> str:
    return request_id_var.get()
