"""Eventual consistency between the roles, on real PostgreSQL (a database per role) and
real RabbitMQ, with each role's web, relay and consumer as separate processes.

Each test prints how long propagation took.
"""

import time
import uuid

import requests

from tests.support.stack import wait_for
from tests.system.observability import json_lines

TIMEOUT = 5


def cast(s, poll_id: int, choice_id: int, voter: str) -> requests.Response:
    return requests.post(s.url("vote", f"polls/{poll_id}/votes/"), json={"choice_id": choice_id}, headers=s.auth(voter), timeout=TIMEOUT)


def results(s, poll_id: int) -> requests.Response:
    return requests.get(s.url("vote", f"polls/{poll_id}/results/"), timeout=TIMEOUT)


def vote_knows(s, poll_id: int, choice_ids: list[int]) -> bool:
    """The vote role learned the poll and these choices from the events (no read-through)."""
    known = s.query("vote", "SELECT choice_id FROM vote_knownchoice WHERE poll_id = %s AND NOT deleted", (poll_id,))
    polls = s.query("vote", "SELECT 1 FROM vote_knownpoll WHERE poll_id = %s", (poll_id,))
    return bool(polls) and {row[0] for row in known} >= set(choice_ids)


def stop_role(s, role: str) -> None:
    for process in s.processes:
        if process.name.startswith(f"{role}-") and process.alive():
            assert s.stop(process) == 0, process.output()[-2000:]


def test_votes_go_through_with_polls_and_choice_stopped(real_stack):
    s = real_stack
    poll_id = s.create_poll()
    choices = [s.add_choice(poll_id, text) for text in ("Tea", "Coffee")]
    took = wait_for(lambda: vote_knows(s, poll_id, choices), what="vote learning the poll and its choices")
    print(f"\npoll.created + choice.created reached vote in {took:.3f}s")
    stop_role(s, "polls")
    started = time.monotonic()
    refused = requests.post(s.url("choice", f"polls/{poll_id}/choices/"), json={"text": "Milk"}, headers=s.auth("alice"), timeout=TIMEOUT)
    print(f"choice answered {refused.status_code} {time.monotonic() - started:.3f}s after polls stopped")
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "polls_unavailable", refused.text
    assert s.query("choice", "SELECT count(*) FROM choice_choice")[0][0] == 2  # nothing written
    stop_role(s, "choice")
    for n in range(6):
        response = cast(s, poll_id, choices[n % 2], f"voter{n}")
        assert response.status_code == 201, response.text
    assert results(s, poll_id).json()["total"] == 6
    outsider = cast(s, poll_id + 1000, choices[0], "voter0")  # unknown here, and its roles are down
    assert outsider.status_code == 503, outsider.text


def test_a_choice_of_another_poll_is_refused(real_stack):
    s = real_stack
    first, second = s.create_poll(), s.create_poll()
    mine, theirs = s.add_choice(first, "Mine"), s.add_choice(second, "Theirs")
    wait_for(lambda: vote_knows(s, first, [mine]) and vote_knows(s, second, [theirs]), what="read model")
    response = cast(s, first, theirs, "bob")
    assert response.status_code == 400, response.text
    assert s.query("vote", "SELECT count(*) FROM vote_vote")[0][0] == 0


def test_closing_a_poll_makes_vote_refuse_once_the_event_arrived(real_stack):
    s = real_stack
    poll_id = s.create_poll()
    choice = s.add_choice(poll_id, "Tea")
    wait_for(lambda: vote_knows(s, poll_id, [choice]), what="read model")
    assert cast(s, poll_id, choice, "early").status_code == 201
    requests.post(s.url("polls", f"polls/{poll_id}/close/"), headers=s.auth("alice"), timeout=TIMEOUT).raise_for_status()
    voters = (f"late{n}" for n in range(10_000))
    took = wait_for(lambda: cast(s, poll_id, choice, next(voters)).status_code == 409, what="vote refusing the closed poll")
    print(f"\npoll.closed reached vote in {took:.3f}s")
    refused = cast(s, poll_id, choice, "later")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "poll_closed"


def test_deleting_a_choice_then_the_poll_propagates(real_stack):
    s = real_stack
    poll_id = s.create_poll()
    tea, coffee, milk = s.add_choice(poll_id, "Tea"), s.add_choice(poll_id, "Coffee"), s.add_choice(poll_id, "Milk")
    wait_for(lambda: vote_knows(s, poll_id, [tea, coffee, milk]), what="read model")
    requests.delete(s.url("choice", f"choices/{milk}/"), headers=s.auth("alice"), timeout=TIMEOUT).raise_for_status()
    took = wait_for(lambda: not vote_knows(s, poll_id, [milk]), what="choice deletion in vote")
    print(f"\nchoice.deleted reached vote in {took:.3f}s")
    gone = cast(s, poll_id, milk, "a")
    assert gone.status_code == 400 and gone.json()["error"]["details"] == {"choice_id": [f"Choice {milk} does not exist."]}, gone.text
    for voter, choice in (("a", tea), ("b", tea), ("c", coffee)):
        assert cast(s, poll_id, choice, voter).status_code == 201
    # Once the poll has votes its choices stay (issue 13): the deletion is refused, nothing changes.
    kept = requests.delete(s.url("choice", f"choices/{tea}/"), headers=s.auth("alice"), timeout=TIMEOUT)
    assert kept.status_code == 409 and kept.json()["error"]["code"] == "poll_has_votes", kept.text
    assert results(s, poll_id).json()["choices"] == [{"choice_id": tea, "votes": 2}, {"choice_id": coffee, "votes": 1}]

    requests.delete(s.url("polls", f"polls/{poll_id}/"), headers=s.auth("alice"), timeout=TIMEOUT).raise_for_status()
    took = wait_for(
        lambda: (
            results(s, poll_id).status_code == 404 and not s.query("choice", "SELECT 1 FROM choice_choice WHERE poll_id = %s", (poll_id,))
        ),
        what="poll deletion in choice and vote",
    )
    print(f"poll.deleted reached choice and vote in {took:.3f}s")
    assert s.query("vote", "SELECT count(*) FROM vote_vote WHERE poll_id = %s", (poll_id,))[0][0] == 0
    assert s.query("vote", "SELECT count(*) FROM vote_tallyshard WHERE poll_id = %s", (poll_id,))[0][0] == 0
    assert requests.get(s.url("choice", f"polls/{poll_id}/choices/"), timeout=TIMEOUT).json() == []


def test_broker_down_writes_succeed_and_every_event_arrives_after(real_stack, broker_proxy):
    s = real_stack
    broker_proxy.cut()
    down_at = time.monotonic()
    poll_id = s.create_poll()
    choices = [s.add_choice(poll_id, f"Option {n}") for n in range(10)]
    time.sleep(2)  # the relays try, fail and back off
    waiting = s.query("choice", "SELECT count(*) FROM pollsite_outboxevent WHERE published_at IS NULL")[0][0]
    assert waiting == 10, "events wait in the outbox while the broker is down"
    assert not vote_knows(s, poll_id, choices[:1])
    broker_proxy.restore()
    outage = time.monotonic() - down_at
    took = wait_for(lambda: vote_knows(s, poll_id, choices), timeout=60, what="every event after the outage")
    print(f"\nbroker down {outage:.1f}s with 11 writes; all events arrived {took:.2f}s after it came back")
    assert s.query("choice", "SELECT count(*) FROM pollsite_outboxevent WHERE published_at IS NULL")[0][0] == 0


def test_consumer_killed_mid_stream_loses_nothing_and_applies_nothing_twice(real_stack):
    s = real_stack
    consumer = next(p for p in s.processes if p.name == "vote-consumer")
    s.stop(consumer)
    polls = [s.create_poll(question=f"Q{n}") for n in range(5)]
    for poll_id in polls:
        for n in range(30):
            s.add_choice(poll_id, f"Option {n}")
    produced = {row[0] for row in s.query("polls", "SELECT event_id::text FROM pollsite_outboxevent")}
    produced |= {row[0] for row in s.query("choice", "SELECT event_id::text FROM pollsite_outboxevent")}
    wait_for(
        lambda: not s.query("choice", "SELECT 1 FROM pollsite_outboxevent WHERE published_at IS NULL"),
        what="relays publishing the backlog",
    )

    def applied() -> int:
        return s.query("vote", "SELECT count(*) FROM pollsite_inboxevent")[0][0]

    started = time.monotonic()
    victim = s.start_consumer("vote")
    wait_for(lambda: applied() >= len(produced) // 3, timeout=60, interval=0.005, what="a third of the events")
    s.stop(victim, sig=9)  # SIGKILL, mid-stream
    at_kill = applied()
    assert at_kill < len(produced), "the consumer must be killed before it finished"
    s.start_consumer("vote")
    wait_for(lambda: applied() == len(produced), timeout=90, what="every event after the restart")
    print(f"\n{len(produced)} events; consumer SIGKILLed after {at_kill}; all applied {time.monotonic() - started:.2f}s after start")
    inbox = s.query("vote", "SELECT event_id::text, count(*) FROM pollsite_inboxevent GROUP BY event_id")
    assert {event_id for event_id, _ in inbox} == produced
    assert all(count == 1 for _, count in inbox)
    assert s.query("vote", "SELECT count(*) FROM vote_knownchoice")[0][0] == 5 * 30
    time.sleep(1)
    assert applied() == len(produced)


def test_the_same_event_delivered_twice_changes_nothing(real_stack):
    s = real_stack
    poll_id = s.create_poll()
    tea, coffee = s.add_choice(poll_id, "Tea"), s.add_choice(poll_id, "Coffee")
    wait_for(lambda: vote_knows(s, poll_id, [tea, coffee]), what="read model")
    requests.delete(s.url("choice", f"choices/{coffee}/"), headers=s.auth("alice"), timeout=TIMEOUT).raise_for_status()
    wait_for(lambda: not vote_knows(s, poll_id, [coffee]), what="choice.deleted applied")
    assert cast(s, poll_id, tea, "a").status_code == 201
    before = s.query("vote", "SELECT (SELECT count(*) FROM vote_vote), (SELECT coalesce(sum(count), 0) FROM vote_tallyshard)")
    (event_id,) = s.query("choice", "SELECT event_id::text FROM pollsite_outboxevent WHERE event_type = 'choice.deleted'")[0]
    # What a relay that crashed after publishing but before stamping does: publish it again.
    s.query("choice", "UPDATE pollsite_outboxevent SET published_at = NULL WHERE event_id = %s", (event_id,))
    consumer_log = next(p for p in s.processes if p.name == "vote-consumer")
    wait_for(
        lambda: any(r.get("message") == "event duplicate" and r.get("event_id") == event_id for r in json_lines(consumer_log)),
        what="the duplicate being seen",
    )
    after = s.query("vote", "SELECT (SELECT count(*) FROM vote_vote), (SELECT coalesce(sum(count), 0) FROM vote_tallyshard)")
    assert after == before
    assert s.query("vote", "SELECT count(*) FROM pollsite_inboxevent WHERE event_id = %s", (event_id,))[0][0] == 1
    print(f"\nduplicate {uuid.UUID(event_id)} absorbed; votes and tallies unchanged {after}")
