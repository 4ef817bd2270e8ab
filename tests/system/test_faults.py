"""Faults: the role's own database stops, or a role it calls is down or hangs.

The database outage uses a private PostgreSQL cluster of the test's own (never the
shared server). Every answer during a fault must be a clear 503 (or a degraded answer)
in the common error shape, fast, with nothing written, and the processes must recover
by themselves.
"""

import os
import socket
import threading
import time

import pytest
import requests

from tests.support.private_postgres import PrivatePostgres, postgres_bindir
from tests.support.services import require
from tests.support.stack import Stack, free_port, wait_for

CALL_TIMEOUT = 1.0  # POLLSITE_CALL_TIMEOUT for the processes under test
BREAKER_FAILURES = 3  # POLLSITE_BREAKER_FAILURES for the polls process whose parts hang
SLACK = 1.5  # process and scheduling overhead on a busy 2-core machine


def timed(method, url, **kwargs):
    started = time.monotonic()
    response = requests.request(method, url, timeout=30, **kwargs)
    return response, time.monotonic() - started


def assert_common_error(response, status, code=None):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "request_id"} and body["error"]["status"] == status, body
    assert "Traceback" not in response.text and 'File "' not in response.text
    if code:
        assert body["error"]["code"] == code, body
    return body


@pytest.fixture
def private_postgres():
    if postgres_bindir() is None:
        reason = "PostgreSQL's server programs (initdb, pg_ctl) are not installed"
        pytest.fail(f"CI must run the outage test, but {reason}") if os.environ.get("CI") == "true" else pytest.skip(reason)
    cluster = PrivatePostgres().init()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.destroy()


def test_database_outage_is_503_then_recovers_by_itself(tmp_path, private_postgres):
    stack = Stack(tmp_path / "stack", postgres_url=private_postgres.url, extra_env={"POLLSITE_CALL_TIMEOUT": str(CALL_TIMEOUT)})
    try:
        stack.prepare()
        webs = {role: stack.start_web(role) for role in ("polls", "choice", "vote")}
        poll_id, choice_ids = stack.poll_with_choices()
        vote_url = stack.url("vote", f"polls/{poll_id}/votes/")
        assert requests.post(vote_url, json={"choice_id": choice_ids[0]}, headers=stack.auth("before"), timeout=10).status_code == 201

        private_postgres.stop()
        print("\n[db outage] PostgreSQL stopped (fast shutdown)")
        for role in ("polls", "choice", "vote"):
            ready, took = timed("GET", f"http://127.0.0.1:{stack.ports[role]}/readyz")
            print(f"[db outage] {role} /readyz: {ready.status_code} in {took * 1000:.0f} ms: {ready.json().get('reason')}")
            assert ready.status_code == 503 and "database unreachable" in ready.json()["reason"]

        writes = [
            ("vote", "POST", vote_url, {"choice_id": choice_ids[1]}, "database_unavailable"),
            ("polls", "POST", stack.url("polls", "polls/"), {"question": "During the outage?"}, "database_unavailable"),
            ("polls", "PATCH", stack.url("polls", f"polls/{poll_id}/"), {"question": "Renamed?"}, "database_unavailable"),
            # choice asks polls first; polls answers 503, so choice says polls is unavailable
            ("choice", "POST", stack.url("choice", f"polls/{poll_id}/choices/"), {"text": "Late"}, None),
            ("vote", "GET", stack.url("vote", f"polls/{poll_id}/results/"), None, "database_unavailable"),
        ]
        attempts = 0
        for round_number in range(3):  # repeated: a broken pooled connection must not turn into a 500 later
            for role, method, url, body, code in writes:
                response, took = timed(method, url, json=body, headers=stack.auth("alice" if role != "vote" else f"during-{round_number}"))
                error = assert_common_error(response, 503, code)
                attempts += 1
                if round_number == 0:
                    print(f"[db outage] {role} {method}: 503 {error['error']['code']} in {took * 1000:.0f} ms: {error['error']['message']}")
                assert took < CALL_TIMEOUT * 3 + SLACK
        for role, web in webs.items():
            assert web.alive(), f"{role} died:\n{web.output()[-2000:]}"
            assert requests.get(f"http://127.0.0.1:{stack.ports[role]}/healthz", timeout=5).status_code == 200
        print(f"[db outage] {attempts} writes and reads during the outage: all 503 in the common shape; every process up")

        private_postgres.start()
        restarted = time.monotonic()
        for role in ("polls", "choice", "vote"):
            wait_for(
                lambda r=role: requests.get(f"http://127.0.0.1:{stack.ports[r]}/readyz", timeout=5).status_code == 200, what=f"{role} ready"
            )
        ready_after = time.monotonic() - restarted
        wait_for(
            lambda: requests.post(vote_url, json={"choice_id": choice_ids[1]}, headers=stack.auth("after"), timeout=10).status_code == 201,
            what="a vote after recovery",
        )
        print(f"[db outage] PostgreSQL back: every role ready again {ready_after:.2f}s later, with the same processes (no restart)")
        assert all(web.alive() for web in webs.values())
        voters = sorted(row[0] for row in stack.query("vote", "SELECT voter FROM vote_vote WHERE poll_id = %s", (poll_id,)))
        polls = stack.query("polls", "SELECT count(*) FROM polls_poll")[0][0]
        print(f"[db outage] stored votes: {voters}; polls: {polls} (the writes refused during the outage left nothing)")
        assert voters == ["after", "before"]
        assert polls == 1
    finally:
        stack.close()


class BlackHole:
    """A server that accepts connections and never answers: a hung role."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.held = []
        threading.Thread(target=self._hold, daemon=True).start()

    def _hold(self):
        while True:
            try:
                self.held.append(self.listener.accept()[0])
            except OSError:
                return

    def close(self):
        self.listener.close()
        for connection in self.held:
            connection.close()


def test_other_role_down_or_hung_is_503_or_degraded_within_the_call_timeout(tmp_path):
    stack = Stack(tmp_path / "stack", postgres_url=require("postgres"), extra_env={"POLLSITE_CALL_TIMEOUT": str(CALL_TIMEOUT)})
    hole = BlackHole()
    try:
        stack.prepare()
        webs = {role: stack.start_web(role) for role in ("polls", "choice", "vote")}
        poll_id, _ = stack.poll_with_choices()
        overview = stack.url("polls", f"polls/{poll_id}/overview/")
        whole, took = timed("GET", overview)
        assert whole.status_code == 200 and "choices" not in {part["part"] for part in whole.json()["missing"]}
        print(f"\n[role down] overview with every role up: {took * 1000:.0f} ms")

        # Hung: choice and vote accept the connection and never answer.
        hung_polls_port = free_port()
        hole_url = f"http://127.0.0.1:{hole.port}"
        stack.start_web(
            "polls", port=hung_polls_port, CHOICE_URL=hole_url, VOTE_URL=hole_url, POLLSITE_BREAKER_FAILURES=str(BREAKER_FAILURES)
        )
        hung_overview = overview.replace(f":{stack.ports['polls']}/", f":{hung_polls_port}/")
        for attempt in range(BREAKER_FAILURES + 2):
            response, took = timed("GET", hung_overview)
            assert response.status_code == 200, response.text
            missing = {part["part"]: part["reason"] for part in response.json()["missing"]}
            print(f"[role hung] polls overview #{attempt + 1}: 200 in {took:.2f}s, missing {sorted(missing)}: {missing.get('choices')}")
            assert set(missing) == {"choices", "results"} and response.json()["poll"]["id"] == poll_id
            assert took < 2 * CALL_TIMEOUT + SLACK, "one timeout per missing part at most"
            if attempt >= BREAKER_FAILURES:
                assert "circuit open" in missing["choices"] and took < CALL_TIMEOUT, "the breaker answers at once"

        hung_choice_port = free_port()
        stack.start_web("choice", port=hung_choice_port, POLLS_URL=f"http://127.0.0.1:{hole.port}")
        url = f"http://127.0.0.1:{hung_choice_port}/choice/api/v1/polls/{poll_id}/choices/"
        response, took = timed("POST", url, json={"text": "While polls hangs"}, headers=stack.auth("alice"))
        error = assert_common_error(response, 503, "polls_unavailable")
        print(f"[role hung] choice write with polls hung: 503 in {took:.2f}s: {error['error']['message']}")
        assert took < CALL_TIMEOUT + SLACK

        # Down: the choice and vote processes are stopped.
        for role in ("choice", "vote"):
            stack.stop(webs[role])
        for attempt in range(3):
            response, took = timed("GET", overview)
            missing = {part["part"]: part["reason"] for part in response.json()["missing"]}
            print(
                f"[role down] polls overview #{attempt + 1} with choice and vote stopped: {response.status_code} in {took:.2f}s: {missing}"
            )
            assert response.status_code == 200 and set(missing) == {"choices", "results"}
            assert took < 2 * CALL_TIMEOUT + SLACK
        stack.stop(webs["polls"])
        alone = stack.start_web("vote", workers=1)
        response, took = timed(
            "POST", stack.url("vote", f"polls/{poll_id + 1000}/votes/"), json={"choice_id": 999}, headers=stack.auth("bob")
        )
        error = assert_common_error(response, 503)
        print(f"[role down] vote for an unknown choice with choice and polls down: 503 {error['error']['code']} in {took:.2f}s")
        assert took < 2 * CALL_TIMEOUT + SLACK
        assert alone.alive()
        choices_written = stack.query("choice", "SELECT count(*) FROM choice_choice WHERE text = %s", ("While polls hangs",))[0][0]
        votes_written = stack.query("vote", "SELECT count(*) FROM vote_vote")[0][0]
        print(f"[role down] written during the faults: {choices_written} choices, {votes_written} votes")
        assert choices_written == 0 and votes_written == 0
    finally:
        hole.close()
        stack.close()
