"""Deciding whether a message is an event this role may apply, and from whom it is.

Nothing a message says about itself is believed. Who sent it comes from what the
sender cannot forge on RabbitMQ:

- the routing key ``<producer>.<event type>``: a producer's broker user is allowed by
  topic permissions to publish only its own ``<producer>.`` keys;
- the ``user_id`` property, which RabbitMQ refuses unless it names the connection's user:
  it must be the user of that producer (``EVENTS_PUBLISHER_USERS``).

The body must then agree with both (its ``producer`` and ``type``), and its envelope and
payload must satisfy the contract (:mod:`pollsite.events.contract`). Anything else is
:class:`Refused` with a reason from :class:`pollsite.models.DeadLetter.Reason`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pydantic
from django.conf import settings

from pollsite.events.broker_users import USER_TEMPLATE
from pollsite.events.contract import Envelope, EventType, Model, event_type_of, payload_parse
from pollsite.models import DeadLetter
from pollsite.roles import get_role

Reason = DeadLetter.Reason
JSON_CONTENT_TYPE = "application/json"


class Refused(Exception):
    """The message is not an event this role may apply; redelivering it would not change that."""

    def __init__(self, reason: Reason, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Delivery:
    """One message as received: its raw body and what the broker said about it."""

    body: bytes
    routing_key: str = ""
    user_id: str = ""
    content_type: str = ""
    properties: dict = field(default_factory=dict)

    @classmethod
    def from_message(cls, message) -> Delivery:
        """Read a kombu message without trusting any part of it to be well-formed."""
        body = message.body
        if isinstance(body, str):
            body = body.encode("utf-8", "surrogateescape")
        properties = dict(getattr(message, "properties", None) or {})
        delivery_info = dict(getattr(message, "delivery_info", None) or {})
        headers = getattr(message, "headers", None)
        return cls(
            body=bytes(body or b""),
            routing_key=str(delivery_info.get("routing_key") or ""),
            user_id=str(properties.get("user_id") or ""),
            content_type=str(getattr(message, "content_type", None) or properties.get("content_type") or ""),
            properties={
                "exchange": delivery_info.get("exchange"),
                "routing_key": delivery_info.get("routing_key"),
                "redelivered": delivery_info.get("redelivered"),
                "user_id": properties.get("user_id"),
                "message_id": properties.get("message_id"),
                "content_type": properties.get("content_type"),
                "content_encoding": properties.get("content_encoding"),
                "headers": headers if isinstance(headers, dict) else repr(headers),
            },
        )


@dataclass(frozen=True)
class Event:
    """An event that passed every check: its envelope, its declaration and its typed payload."""

    envelope: Envelope
    declaration: EventType
    payload: Model


def publisher_user(producer: str) -> str:
    """The broker user allowed to publish ``producer``'s events."""
    return settings.EVENTS_PUBLISHER_USERS.get(producer) or USER_TEMPLATE.format(prefix="pollsite", role=producer, kind="publisher")


def _errors(error: pydantic.ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, item['loc'])) or '(body)'}: {item['msg']}" for item in error.errors()[:5])


def delivery_verify(delivery: Delivery, *, role: str) -> Event:
    """The event this message carries, if ``role`` may apply it; else raises :class:`Refused`."""
    if len(delivery.body) > settings.EVENTS_MAX_MESSAGE_BYTES:
        raise Refused(Reason.TOO_LARGE, f"body is {len(delivery.body)} bytes, the limit is {settings.EVENTS_MAX_MESSAGE_BYTES}")
    if delivery.content_type != JSON_CONTENT_TYPE:
        raise Refused(Reason.CONTENT_TYPE, f"content type is {delivery.content_type!r}, not {JSON_CONTENT_TYPE!r}")
    producer, _, event_name = delivery.routing_key.partition(".")
    if producer not in get_role(role).consumes or not event_name:
        raise Refused(Reason.ROUTING_KEY, f"routing key {delivery.routing_key!r} is not <producer>.<type> of a role {role} consumes")
    if settings.EVENTS_VERIFY_USER_ID:
        if not delivery.user_id:
            raise Refused(Reason.MISSING_USER_ID, "no user_id property: the broker cannot vouch for the sender")
        if delivery.user_id != publisher_user(producer):
            raise Refused(
                Reason.FORGED_PRODUCER,
                f"published by broker user {delivery.user_id!r}, but {producer} events come from {publisher_user(producer)!r}",
            )
    try:
        envelope = Envelope.parse(delivery.body)
    except pydantic.ValidationError as error:
        if any(item["type"] == "json_invalid" for item in error.errors()):
            raise Refused(Reason.BAD_JSON, _errors(error)) from None
        raise Refused(Reason.INVALID_ENVELOPE, _errors(error)) from None
    if envelope.producer != producer or envelope.type != event_name:
        raise Refused(
            Reason.FORGED_PRODUCER,
            f"body says {envelope.producer}.{envelope.type}, the routing key says {delivery.routing_key}",
        )
    declaration = event_type_of(producer, event_name)
    if declaration is None:
        raise Refused(Reason.UNKNOWN_TYPE, f"{producer} declares no event {event_name!r}")
    if envelope.version != declaration.version:
        raise Refused(Reason.UNKNOWN_VERSION, f"{declaration.key} version {envelope.version}; this role reads {declaration.version}")
    try:
        payload = payload_parse(declaration, envelope.payload)
    except pydantic.ValidationError as error:
        raise Refused(Reason.INVALID_PAYLOAD, _errors(error)) from None
    return Event(envelope=envelope, declaration=declaration, payload=payload)
