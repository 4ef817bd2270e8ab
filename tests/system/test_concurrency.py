"""Concurrent votes on real PostgreSQL through gunicorn: nothing lost, nothing counted twice."""

import requests

from tests.support.load import Call, burst, send_all, summary
from tests.support.services import require
from tests.support.stack import Stack

SAME_VOTER_CLIENTS = 50
DISTINCT_VOTERS = 10_000


def test_concurrent_votes(tmp_path):
    stack = Stack(tmp_path / "stack", postgres_url=require("postgres"))
    try:
        stack.prepare()
        for role in ("polls", "choice"):
            stack.start_web(role)
        stack.start_web("vote", workers=4)
        same_voter_casts_exactly_once(stack)
        distinct_voters_all_count(stack)
    finally:
        stack.close()


def same_voter_casts_exactly_once(stack):
    """50 clients, one voter, one poll, all at once (cold read model): one 201, 49 409."""
    poll_id, choice_ids = stack.poll_with_choices(2)
    headers = stack.auth("carol")
    calls = [
        Call("POST", stack.url("vote", f"polls/{poll_id}/votes/"), {"choice_id": choice_ids[n % 2]}, headers)
        for n in range(SAME_VOTER_CLIENTS)
    ]
    answers = burst(calls)
    print(f"\n[same voter x{SAME_VOTER_CLIENTS}] " + summary(answers, max(a.seconds for a in answers)))
    statuses = sorted(answer.status for answer in answers)
    assert statuses == [201] + [409] * (SAME_VOTER_CLIENTS - 1), statuses
    assert {answer.body["error"]["code"] for answer in answers if answer.status == 409} == {"already_voted"}
    rows = stack.query("vote", "SELECT count(*) FROM vote_vote WHERE poll_id = %s AND voter = %s", (poll_id, "carol"))
    results = requests.get(stack.url("vote", f"polls/{poll_id}/results/"), timeout=10).json()
    print(f"[same voter] rows in vote_vote: {rows[0][0]}, results total: {results['total']}")
    assert rows[0][0] == 1
    assert results["total"] == 1


def distinct_voters_all_count(stack):
    """10,000 voters into one hot poll, 64 in flight: results == 201s == rows, to the vote."""
    poll_id, choice_ids = stack.poll_with_choices(4)
    url = stack.url("vote", f"polls/{poll_id}/votes/")
    calls = [
        Call("POST", url, {"choice_id": choice_ids[n % len(choice_ids)]}, stack.auth(f"voter-{n}"), tag=n) for n in range(DISTINCT_VOTERS)
    ]
    answers, seconds = send_all(calls, concurrency=64)
    print(f"[distinct voters x{DISTINCT_VOTERS}] " + summary(answers, seconds))
    created = [answer for answer in answers if answer.status == 201]
    failed = [answer for answer in answers if answer.status != 201]
    results = requests.get(stack.url("vote", f"polls/{poll_id}/results/"), timeout=10).json()
    rows = stack.query("vote", "SELECT count(*), count(DISTINCT voter) FROM vote_vote WHERE poll_id = %s", (poll_id,))[0]
    per_choice = dict(stack.query("vote", "SELECT choice_id, count(*) FROM vote_vote WHERE poll_id = %s GROUP BY choice_id", (poll_id,)))
    print(f"[distinct voters] 201s: {len(created)}, results total: {results['total']}, rows: {rows[0]} ({rows[1]} voters)")
    assert not failed, [(a.status, a.body or a.error) for a in failed[:5]]
    assert results["total"] == len(created) == rows[0] == rows[1] == DISTINCT_VOTERS
    assert {c["choice_id"]: c["votes"] for c in results["choices"]} == per_choice
