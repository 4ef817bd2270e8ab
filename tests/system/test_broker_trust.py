"""The broker vouches for the producer, on real RabbitMQ with per-role users.

Every relay and consumer runs with its own broker user, created with rabbitmqctl the
way docs/DEPLOY.md says (pollsite.events.broker_users) on a vhost of the test's own;
web processes get no broker credentials at all. The test shows that events flow, that
one role's credentials cannot publish another role's events (nor anything, for a
consumer), and that a forged message is dead-lettered and changes nothing.
"""

import json
import uuid

import pytest
import requests
from amqp.exceptions import AccessRefused, PreconditionFailed
from kombu import Connection

from pollsite.roles import ROLES
from tests.support.rabbitmq import isolated_broker_users
from tests.support.services import require
from tests.support.stack import Stack, wait_for
from tests.support.wire import wire_event

TIMEOUT = 10
NO_BROKER = "amqp://no-credentials:none@127.0.0.1:9//"  # web processes must not need one


@pytest.fixture(scope="module")
def trusted(tmp_path_factory):
    namespace = "t" + uuid.uuid4().hex[:10]
    with isolated_broker_users(namespace) as users:
        stack = Stack(tmp_path_factory.mktemp("trust"), postgres_url=require("postgres"), broker_url=users.admin_url, namespace=namespace)
        try:
            stack.prepare()
            for role in ROLES.values():
                stack.start_web(role.name, EVENTS_BROKER_URL=NO_BROKER)
                if role.publishes:
                    stack.start_relay(role.name, EVENTS_BROKER_URL=users.url(role.name, "publisher"))
                if role.consumes:
                    stack.start_consumer(
                        role.name, EVENTS_BROKER_URL=users.url(role.name, "consumer"), EVENTS_PUBLISHER_USERS=users.publisher_users_env()
                    )
            yield stack, users
        finally:
            stack.close()


def publish(url: str, exchange: str, routing_key: str, body: dict | bytes, **properties) -> None:
    """Publish one message and wait for the broker's confirmation (raises what the broker refused)."""
    with Connection(url, transport_options={"confirm_publish": True}, connect_timeout=5) as conn:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        conn.Producer().publish(
            raw,
            exchange=exchange,
            routing_key=routing_key,
            content_type="application/json",
            content_encoding="utf-8",
            retry=False,
            **properties,
        )


def forged_delete(poll_id: int) -> dict:
    return wire_event("polls", "poll.deleted", {"poll_id": poll_id})


def vote_dead_letters(s) -> list[tuple]:
    return s.query("vote", "SELECT reason, routing_key, user_id, state FROM pollsite_deadletter ORDER BY id")


def test_events_flow_with_per_role_users(trusted):
    s, _ = trusted

    def inbox() -> list[tuple]:
        return s.query("vote", "SELECT producer, event_type, outcome FROM pollsite_inboxevent ORDER BY id")

    poll_id, choices = s.poll_with_choices(2)
    # Through the broker, not the read-through: vote learns the poll and its choices from the events.
    try:
        wait_for(lambda: inbox().count(("choice", "choice.created", "applied")) == 2, timeout=30, what="choice.created reaching vote")
    except TimeoutError:
        consumer = next(p for p in s.processes if p.name == "vote-consumer")
        raise AssertionError(f"inbox {inbox()}; the vote consumer said:\n{consumer.output()[-3000:]}") from None
    assert ("polls", "poll.created", "applied") in inbox()
    vote = requests.post(s.url("vote", f"polls/{poll_id}/votes/"), json={"choice_id": choices[0]}, headers=s.auth("bob"), timeout=TIMEOUT)
    assert vote.status_code == 201, vote.text
    closed = requests.post(s.url("polls", f"polls/{poll_id}/close/"), headers=s.auth("alice"), timeout=TIMEOUT)
    assert closed.status_code == 200, closed.text

    voters = (f"late{n}" for n in range(10_000))  # a new voter each try: one who got in before the event stays voted

    def refused() -> bool:
        late = requests.post(
            s.url("vote", f"polls/{poll_id}/votes/"), json={"choice_id": choices[1]}, headers=s.auth(next(voters)), timeout=TIMEOUT
        )
        assert late.status_code in (201, 409), late.text
        return late.status_code == 409 and late.json()["error"]["code"] == "poll_closed"

    took = wait_for(refused, timeout=30, what="vote applying poll.closed")
    print(f"\npoll.closed applied by vote {took:.3f}s after closing (per-role broker users)")
    assert ("polls", "poll.closed", "applied") in inbox()
    assert vote_dead_letters(s) == []


def test_one_roles_credentials_cannot_publish_another_roles_events(trusted):
    s, users = trusted
    exchange = f"{s.namespace}.events"
    choice_publisher, polls_user = users.url("choice", "publisher"), users.user("polls", "publisher")
    with pytest.raises(AccessRefused, match=r"access to topic"):
        publish(choice_publisher, exchange, "polls.poll.deleted", forged_delete(1))
    with pytest.raises(PreconditionFailed, match="user_id"):
        publish(choice_publisher, exchange, "choice.choice.deleted", forged_delete(1), user_id=polls_user)
    for role in ("vote", "choice"):  # consumers publish nothing, anywhere
        with pytest.raises(AccessRefused):
            publish(users.url(role, "consumer"), exchange, f"{role}.anything", forged_delete(1))
        with pytest.raises(AccessRefused):
            publish(users.url(role, "consumer"), "", f"{s.namespace}.vote.events", forged_delete(1))
    with pytest.raises(AccessRefused):  # nor can a publisher drop a message straight into a queue
        publish(choice_publisher, "", f"{s.namespace}.vote.events", forged_delete(1))
    print("\nrefused by RabbitMQ: another role's routing key, a forged user_id, any publish by a consumer user, the default exchange")


def test_a_forged_message_changes_nothing(trusted):
    s, users = trusted
    poll_id, choices = s.poll_with_choices(2)
    for n, voter in enumerate(("dave", "erin")):
        response = requests.post(
            s.url("vote", f"polls/{poll_id}/votes/"), json={"choice_id": choices[n]}, headers=s.auth(voter), timeout=TIMEOUT
        )
        assert response.status_code == 201, response.text
    exchange, choice_publisher = f"{s.namespace}.events", users.url("choice", "publisher")
    before = len(vote_dead_letters(s))
    # What choice's credentials can do: its own routing key, its own user_id, a body claiming to be polls.
    publish(choice_publisher, exchange, "choice.choice.deleted", forged_delete(poll_id), user_id=users.user("choice", "publisher"))
    # The same without user_id: the broker has not vouched for anything.
    publish(choice_publisher, exchange, "choice.choice.deleted", forged_delete(poll_id))
    wait_for(lambda: len(vote_dead_letters(s)) >= before + 2, timeout=30, what="the forged messages dead-lettered")
    letters = vote_dead_letters(s)[before:]
    assert [letter[0] for letter in letters] == ["forged_producer", "missing_user_id"], letters
    assert all(letter[1] == "choice.choice.deleted" and letter[3] == "dead" for letter in letters)
    results = requests.get(s.url("vote", f"polls/{poll_id}/results/"), timeout=TIMEOUT)
    assert results.status_code == 200 and results.json()["total"] == 2, results.text
    assert requests.get(s.url("polls", f"polls/{poll_id}/"), timeout=TIMEOUT).status_code == 200
    listed = s.manage("vote", "dead_letters", "list", "--reason", "forged_producer").stdout
    assert "forged_producer" in listed and "choice.choice.deleted" in listed
    print(f"\nforged poll.deleted for poll {poll_id}: dead-lettered ({', '.join(letter[0] for letter in letters)}); results unchanged")
