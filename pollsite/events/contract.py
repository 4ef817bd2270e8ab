"""The contract between roles: every event type, declared once, with its version and payload.

Producers build payloads through these models (:func:`pollsite.events.outbox.event_record`
takes a model, not a dict); consumers parse the wire envelope and the payload through
them (:func:`parse_envelope`, :func:`parse_payload`) and their handlers receive the typed
model. Validation is pydantic v2 in strict mode: a field of the wrong type, too long,
missing or unknown is an error, never coerced. Strings refuse NUL characters, which no
PostgreSQL text column can store.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints


class PollStatus(StrEnum):
    """The poll status vocabulary every role speaks (the polls API, its events, vote's read model)."""

    OPEN = "open"
    CLOSED = "closed"


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def Text(max_length: int, *, min_length: int = 0):
    """A string of at most ``max_length`` characters and no NUL."""
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length), AfterValidator(_no_nul)]


Id = Annotated[int, Field(gt=0, le=2**63 - 1)]


class Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


# --- payloads ------------------------------------------------------------------------


class PollSnapshot(Model):
    """A poll as the polls role saw it when it changed."""

    poll_id: Id
    question: Text(200)
    creator: Text(150)
    status: PollStatus
    closes_at: AwareDatetime | None


class PollDeleted(Model):
    poll_id: Id


class ChoiceSnapshot(Model):
    choice_id: Id
    poll_id: Id
    text: Text(200)
    order: Annotated[int, Field(ge=0, le=2**31 - 1)]


class ChoiceDeleted(Model):
    choice_id: Id
    poll_id: Id


# --- event types ---------------------------------------------------------------------


@dataclass(frozen=True)
class EventType:
    producer: str
    name: str
    version: int
    payload: type[Model]

    @property
    def key(self) -> str:
        """The routing key, and the key of a consumer's handler: ``<producer>.<name>``."""
        return f"{self.producer}.{self.name}"


EVENT_TYPES: dict[str, EventType] = {
    event.key: event
    for event in (
        EventType("polls", "poll.created", 1, PollSnapshot),
        EventType("polls", "poll.updated", 1, PollSnapshot),
        EventType("polls", "poll.closed", 1, PollSnapshot),
        EventType("polls", "poll.deleted", 1, PollDeleted),
        EventType("choice", "choice.created", 1, ChoiceSnapshot),
        EventType("choice", "choice.updated", 1, ChoiceSnapshot),
        EventType("choice", "choice.deleted", 1, ChoiceDeleted),
    )
}


def event_type_of(producer: str, name: str) -> EventType | None:
    return EVENT_TYPES.get(f"{producer}.{name}")


def event_types_of(producer: str) -> list[EventType]:
    return [event for event in EVENT_TYPES.values() if event.producer == producer]


# --- the envelope on the wire --------------------------------------------------------


class Envelope(Model):
    """What every message body holds; ``payload`` is parsed by its event type afterwards.

    The bounds are the inbox's columns, so a valid envelope can always be recorded.
    """

    id: uuid.UUID
    type: Text(100, min_length=1)
    version: Annotated[int, Field(ge=1, le=32767)]
    occurred_at: AwareDatetime
    producer: Text(50, min_length=1)
    request_id: Text(128) = ""
    payload: dict

    @classmethod
    def parse(cls, body: bytes | str) -> Envelope:
        # JSON mode: a UUID and a timestamp arrive as strings, and that is strict enough.
        return cls.model_validate_json(body)


def payload_dump(payload: Model) -> dict:
    """The JSON-ready dict stored in the outbox and sent on the wire."""
    return payload.model_dump(mode="json")


def payload_parse(event: EventType, payload: dict) -> Model:
    """The typed payload; raises pydantic's ValidationError. JSON mode, as on the wire."""
    return event.payload.model_validate_json(json.dumps(payload))
