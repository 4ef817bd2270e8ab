"""No message can stall vote's queue: refused ones are dead-lettered at once, failing
handlers are retried later without holding the queue, and recording never crashes."""

import json
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.vote import handlers
from apps.vote.models import KnownPoll
from pollsite.events.consumer import EventConsumer
from pollsite.models import DeadLetter, InboxEvent
from pollsite.observability.metrics import EVENTS_DEAD_LETTERED
from tests.support.events import delivery, envelope

pytestmark = pytest.mark.django_db

POLL = {"poll_id": 5, "status": "open", "closes_at": None}
CREATED = "polls.poll.created"


def valid(**fields) -> dict:
    return {**envelope("polls", "poll.created", POLL), **fields}


def with_payload(**payload) -> dict:
    body = valid()
    body["payload"] = {**body["payload"], **payload}
    return body


INVALID = {
    "bad_json": (b'{"id": "1", "type": ', {}, "bad_json"),
    "not_utf8": (b"\xff\xfe{}", {}, "bad_json"),
    "a_list": ([1, 2], {}, "invalid_envelope"),
    "content_type": (valid(), {"content_type": "application/x-python-serialize"}, "content_type"),
    "oversized": (with_payload(question="x" * 70_000), {}, "too_large"),
    "no_payload": ({k: v for k, v in valid().items() if k != "payload"}, {}, "invalid_envelope"),
    "id_not_uuid": (valid(id="x"), {}, "invalid_envelope"),
    "naive_timestamp": (valid(occurred_at="2026-01-01T00:00:00"), {}, "invalid_envelope"),
    "request_id_nul": (valid(request_id="a\x00b"), {}, "invalid_envelope"),
    "request_id_too_long": (valid(request_id="r" * 500), {}, "invalid_envelope"),
    "extra_envelope_field": (valid(sneaky=True), {}, "invalid_envelope"),
    "wrong_type_field": (with_payload(poll_id="5"), {}, "invalid_payload"),
    "question_too_long": (with_payload(question="q" * 201), {}, "invalid_payload"),
    "status_unknown": (with_payload(status="reopened"), {}, "invalid_payload"),
    "negative_id": (with_payload(poll_id=-1), {}, "invalid_payload"),
    "unknown_type": (envelope("polls", "poll.exploded", POLL), {"routing_key": "polls.poll.exploded"}, "unknown_type"),
    "unknown_version": (valid(version=2), {}, "unknown_version"),
    "body_claims_other_producer": (valid(producer="choice"), {"routing_key": "polls.poll.created"}, "forged_producer"),
    "body_claims_other_type": (envelope("polls", "poll.deleted", {"poll_id": 5}), {}, "forged_producer"),
    "routing_key_not_consumed": (valid(), {"routing_key": "vote.poll.created"}, "routing_key"),
    "routing_key_bare": (valid(), {"routing_key": "polls"}, "routing_key"),
    "missing_user_id": (valid(), {"user_id": "", "verify": True}, "missing_user_id"),
    "user_of_another_role": (valid(), {"user_id": "pollsite-choice-publisher", "verify": True}, "forged_producer"),
}


class FakeMessage:
    """What the consumer uses of a kombu message."""

    def __init__(self, d):
        self.body, self.content_type = d.body, d.content_type
        self.properties = {"user_id": d.user_id, "content_type": d.content_type}
        self.delivery_info = {"routing_key": d.routing_key, "exchange": "t.events"}
        self.headers = {}
        self.acked = False

    def ack(self):
        self.acked = True


def dead_lettered(reason: str) -> float:
    return EVENTS_DEAD_LETTERED.labels(reason=reason)._value.get()


@pytest.mark.parametrize("kind", INVALID)
def test_an_invalid_message_is_dead_lettered_at_once_with_its_reason(kind, settings):
    body, meta, reason = INVALID[kind]
    settings.EVENTS_VERIFY_USER_ID = meta.pop("verify", False)
    message = FakeMessage(
        delivery(body, routing_key=meta.get("routing_key", CREATED), **{k: v for k, v in meta.items() if k != "routing_key"})
    )
    before = dead_lettered(reason)
    EventConsumer("vote").on_message(message)
    assert message.acked
    letter = DeadLetter.objects.get()
    assert (letter.state, letter.reason) == ("dead", reason), letter.detail
    assert letter.detail and letter.body_size == len(message.body)
    assert not InboxEvent.objects.exists() and not KnownPoll.objects.exists()
    assert dead_lettered(reason) == before + 1


def test_the_valid_message_behind_an_invalid_one_is_applied(settings):
    consumer = EventConsumer("vote")
    for body in (with_payload(poll_id="5"), valid()):
        consumer.on_message(FakeMessage(delivery(body, routing_key=CREATED)))
    assert KnownPoll.objects.get().poll_id == 5
    assert DeadLetter.objects.get().reason == "invalid_payload"


def test_a_broker_vouched_message_is_applied(settings):
    settings.EVENTS_VERIFY_USER_ID = True
    settings.EVENTS_PUBLISHER_USERS = {"polls": "polls-relay"}
    message = FakeMessage(delivery(valid(), routing_key=CREATED, user_id="polls-relay"))
    EventConsumer("vote").on_message(message)
    assert message.acked and KnownPoll.objects.filter(poll_id=5).exists()


def test_a_failing_handler_is_retried_with_backoff_then_dead_lettered(monkeypatch, settings):
    settings.EVENTS_MAX_ATTEMPTS = 3
    calls = []

    def broken(payload):
        calls.append(payload)
        raise RuntimeError("bug")

    monkeypatch.setitem(handlers.HANDLERS, CREATED, broken)
    consumer = EventConsumer("vote")
    message = FakeMessage(delivery(valid(), routing_key=CREATED))
    consumer.on_message(message)
    assert message.acked  # the queue moves on at once
    letter = DeadLetter.objects.get()
    assert (letter.state, letter.reason, letter.attempts) == ("retrying", "handler_error", 1)
    assert letter.next_attempt_at > timezone.now()
    assert consumer.retry_due(force=True) == 0  # not due yet
    delays = []
    for _ in range(2):
        letter.refresh_from_db()
        delays.append(letter.next_attempt_at - timezone.now())
        DeadLetter.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        assert consumer.retry_due(force=True) == 1
    letter.refresh_from_db()
    assert (letter.state, letter.attempts, len(calls)) == ("dead", 3, 3)
    assert delays[1] > delays[0]  # back-off grows
    assert "RuntimeError: bug" in letter.detail and not InboxEvent.objects.exists()

    monkeypatch.undo()  # the bug is fixed: an operator requeues it
    call_command("dead_letters", "requeue", str(letter.pk))
    assert consumer.retry_due(force=True) == 1
    assert not DeadLetter.objects.exists()
    assert InboxEvent.objects.get().outcome == "applied" and KnownPoll.objects.filter(poll_id=5).exists()


def test_recording_a_failure_never_crashes_on_what_the_message_holds(monkeypatch):
    original = DeadLetter.objects.create
    attempts = []

    def fails_with_a_body(**fields):
        attempts.append(fields)
        if fields.get("body"):
            raise ValueError("unstorable")
        return original(**fields)

    monkeypatch.setattr(DeadLetter.objects, "create", fails_with_a_body)
    message = FakeMessage(delivery(b"\x00\xff not json", routing_key=CREATED))
    EventConsumer("vote").on_message(message)
    assert message.acked and len(attempts) == 2
    letter = DeadLetter.objects.get()
    assert letter.reason == "bad_json" and letter.body == "" and len(letter.body_sha256) == 64


def test_dead_letters_command_lists_shows_and_discards(capsys):
    consumer = EventConsumer("vote")
    marker = str(uuid.uuid4())
    consumer.on_message(FakeMessage(delivery(valid(request_id="x" * 200, id=marker), routing_key=CREATED)))
    letter = DeadLetter.objects.get()
    call_command("dead_letters", "list", "--state", "dead")
    listed = capsys.readouterr().out
    assert f"{letter.pk:>6}  dead" in listed and "invalid_envelope" in listed
    call_command("dead_letters", "show", str(letter.pk))
    shown = capsys.readouterr().out
    meta, body = shown.split("--- body ---\n")
    assert json.loads(meta)["reason"] == "invalid_envelope" and marker in body
    call_command("dead_letters", "discard", str(letter.pk))
    assert not DeadLetter.objects.exists()


def test_a_message_that_cannot_even_be_read_is_dead_lettered_not_fatal():
    class Unreadable(FakeMessage):
        @property
        def delivery_info(self):
            raise RuntimeError("broken frame")

        @delivery_info.setter
        def delivery_info(self, value):
            pass

    message = Unreadable(delivery(valid(), routing_key=CREATED))
    EventConsumer("vote").on_message(message)
    assert message.acked and DeadLetter.objects.get().reason == "content_type"
    assert "broken frame" in DeadLetter.objects.get().properties
