"""Delivering events to a role's consumer in-process, through every check a broker message meets."""

import json

from pollsite.events.consumer import EventConsumer
from pollsite.events.contract import ChoiceDeleted, ChoiceSnapshot, Model, PollDeleted, PollSnapshot, event_type_of
from pollsite.events.trust import JSON_CONTENT_TYPE, Delivery, publisher_user
from tests.support.wire import wire_event

#: What a test need not spell out in a snapshot payload (it fills only what it asserts on).
SNAPSHOT_DEFAULTS = {PollSnapshot: {"question": "Which?", "creator": "alice"}, ChoiceSnapshot: {"text": "An option", "order": 1}}
#: A valid payload of every payload type of the contract (tests/common/test_event_contract.py checks it).
EXAMPLE_PAYLOADS = {
    PollSnapshot: {"poll_id": 1, "question": "Which?", "creator": "alice", "status": "open", "closes_at": None},
    PollDeleted: {"poll_id": 1},
    ChoiceSnapshot: {"choice_id": 11, "poll_id": 1, "text": "An option", "order": 1},
    ChoiceDeleted: {"choice_id": 11, "poll_id": 1},
}


def example_payload(payload_type: type[Model]) -> dict:
    return dict(EXAMPLE_PAYLOADS[payload_type])


def envelope(producer: str, event_type: str, payload: dict, *, event_id: str | None = None, **fields) -> dict:
    """A well-formed envelope; a declared snapshot's fields a test leaves out are filled in."""
    declared = event_type_of(producer, event_type)
    if declared is not None:
        payload = {**SNAPSHOT_DEFAULTS.get(declared.payload, {}), **payload}
    return wire_event(producer, event_type, payload, **({"id": event_id} if event_id else {}), **fields)


def delivery(body: dict | bytes, *, routing_key: str, user_id: str | None = None, content_type: str = JSON_CONTENT_TYPE) -> Delivery:
    producer = routing_key.partition(".")[0]
    return Delivery(
        body=body if isinstance(body, bytes) else json.dumps(body).encode(),
        routing_key=routing_key,
        user_id=publisher_user(producer) if user_id is None else user_id,
        content_type=content_type,
    )


def deliver(role: str, producer: str, event_type: str, payload: dict, *, event_id: str | None = None) -> str:
    """Deliver one well-formed event to ``role``'s consumer; the outcome (applied, duplicate, dead_lettered, ...)."""
    body = envelope(producer, event_type, payload, event_id=event_id)
    outcome, _ = EventConsumer(role).deliver(delivery(body, routing_key=f"{producer}.{event_type}"))
    return outcome
