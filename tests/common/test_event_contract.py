"""The contract between roles holds for every producer/consumer pair of the registry.

Each role's suite checks its own side: as a producer, every event type it declares is
really produced by its services and each outbox row passes every consumer's check; as
a consumer, every handler reads an event a role it consumes declares, with that
event's payload type.
"""

import inspect
import json
import typing

import pytest
from django.conf import settings

from pollsite.events.consumer import role_handlers
from pollsite.events.contract import EVENT_TYPES, event_types_of, payload_parse
from pollsite.events.outbox import envelope
from pollsite.events.trust import JSON_CONTENT_TYPE, Delivery, delivery_verify, publisher_user
from pollsite.models import OutboxEvent
from pollsite.roles import ROLES, get_role
from tests.support.events import example_payload
from tests.support.facts import facts_of

pytestmark = pytest.mark.django_db
#: The role this suite runs under: each side of the contract is tested only where it exists.
THIS_ROLE = get_role(settings.ROLE)


def test_every_publishing_role_can_produce_every_event_it_declares():
    producing = {role.name for role in ROLES.values() if facts_of(role.name).produce_events is not None}
    assert producing == {role.name for role in ROLES.values() if role.publishes}, "tests/<role>/facts.py: produce_events"
    assert {event.producer for event in EVENT_TYPES.values()} == producing, "an event declared by a role that does not publish"


def test_every_payload_type_has_a_valid_example():
    """tests.support.events.example_payload: what a new role's handler tests deliver."""
    for event in EVENT_TYPES.values():
        assert isinstance(payload_parse(event, example_payload(event.payload)), event.payload), event.key


def _producer_side_passes_every_consumers_check():
    role = THIS_ROLE
    facts_of(role.name).produce_events()
    rows = list(OutboxEvent.objects.order_by("id"))
    assert {row.event_type for row in rows} == {event.name for event in event_types_of(role.name)}, "a declared event never produced"
    consumers = [other.name for other in ROLES.values() if role.name in other.consumes]
    assert consumers, f"nobody consumes {role.name}'s events"
    for row in rows:
        delivery = Delivery(
            body=json.dumps(envelope(row)).encode(),
            routing_key=f"{row.producer}.{row.event_type}",
            user_id=publisher_user(row.producer),
            content_type=JSON_CONTENT_TYPE,
        )
        for consumer in consumers:
            event = delivery_verify(delivery, role=consumer)
            assert event.declaration.key == f"{role.name}.{row.event_type}"
            assert event.envelope.id == row.event_id
            assert json.loads(event.payload.model_dump_json()) == row.payload


def _consumer_side_reads_declared_events_with_their_payload_types():
    role = THIS_ROLE
    handlers = role_handlers(role.name)
    assert handlers
    for key, handler in handlers.items():
        declared = EVENT_TYPES.get(key)
        assert declared is not None, f"{role.name} handles {key}, which no role declares"
        assert declared.producer in role.consumes, f"{role.name} handles {key} but does not consume {declared.producer}"
        parameters = list(inspect.signature(handler).parameters)
        assert len(parameters) == 1, f"{handler.__qualname__} must take the payload only"
        hinted = typing.get_type_hints(handler)[parameters[0]]
        assert hinted is declared.payload, f"{handler.__qualname__} reads {hinted}, {key} carries {declared.payload.__name__}"


if THIS_ROLE.publishes:  # the producer's side: what this role's services write to the outbox
    test_what_this_role_produces_passes_every_consumers_check = _producer_side_passes_every_consumers_check
if THIS_ROLE.consumes:  # the consumer's side: what this role's handlers read
    test_every_handler_reads_a_declared_event_of_a_role_it_consumes_with_its_payload_type = (
        _consumer_side_reads_declared_events_with_their_payload_types
    )
