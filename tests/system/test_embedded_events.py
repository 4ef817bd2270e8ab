"""The embedded default (kombu's filesystem transport, SQLite, as `make run`): events flow,
and a bad or forged message is dead-lettered without holding up the ones behind it.

There is no broker here to vouch for a publisher (no ``user_id`` check: see
docs/ARCHITECTURE.md); the routing key, the body's agreement with it and the contract
are still checked. Needs no server.
"""

import json

import requests
from kombu import Connection, Exchange

from tests.support.stack import Stack, wait_for
from tests.support.wire import wire_event

TIMEOUT = 10


def test_embedded_transport_dead_letters_without_stalling(tmp_path):
    s = Stack(tmp_path / "embedded")
    try:
        s.start()
        poll_id, choices = s.poll_with_choices(1)
        folder = s.workdir / "broker"
        options = {
            "data_folder_in": str(folder / "queues"),
            "data_folder_out": str(folder / "queues"),
            "control_folder": str(folder / "control"),
        }
        forged = wire_event("polls", "poll.deleted", {"poll_id": poll_id})
        with Connection("filesystem://localhost/", transport_options=options) as conn:
            producer = conn.Producer()
            exchange = Exchange(f"{s.namespace}.events", type="topic", durable=True)
            exchange(producer.channel).declare()  # this process must know it is a topic exchange to route
            producer.publish(b"{not json", exchange=exchange, routing_key="polls.poll.created", content_type="application/json")
            producer.publish(
                json.dumps(forged).encode(), exchange=exchange, routing_key="choice.choice.deleted", content_type="application/json"
            )
        # A real event behind them: closing the poll must still reach vote.
        assert requests.post(s.url("polls", f"polls/{poll_id}/close/"), headers=s.auth("alice"), timeout=TIMEOUT).status_code == 200

        def closed_for_votes() -> bool:
            late = requests.post(
                s.url("vote", f"polls/{poll_id}/votes/"), json={"choice_id": choices[0]}, headers=s.auth("bob"), timeout=TIMEOUT
            )
            return late.status_code == 409

        wait_for(closed_for_votes, timeout=30, what="poll.closed applied behind the bad messages")
        listed = s.manage("vote", "dead_letters", "list").stdout
        assert "bad_json" in listed and "forged_producer" in listed, listed
        assert requests.get(s.url("vote", f"polls/{poll_id}/results/"), timeout=TIMEOUT).status_code == 200  # not deleted
    finally:
        s.close()
