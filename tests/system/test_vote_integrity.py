"""A vote keeps its meaning: with the three roles as processes on PostgreSQL and RabbitMQ, an
edit of a poll's wording and the poll's first vote sent at the same moment never both
land in the wrong order; once a poll has a vote its question and choices stay as voted."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
import requests

from tests.support.stack import wait_for

pytestmark = pytest.mark.stack

TRIALS = 16
#: The vote leaves this much after the edit, trial by trial: from the same instant into the
#: window in which the edit holds its lease (the edit's own path is the longer one).
VOTE_DELAYS = [0.004 * trial for trial in range(TRIALS)]


def known_to_vote(stack, poll_id: int, choice_id: int) -> bool:
    """Vote learned both the poll and the choice from the events (they come through two relays,
    in either order): the race under test is the edit and the vote, not a read-through."""
    choices = stack.query("vote", "SELECT count(*) FROM vote_knownchoice WHERE choice_id = %s AND poll_id = %s", [choice_id, poll_id])
    polls = stack.query("vote", "SELECT count(*) FROM vote_knownpoll WHERE poll_id = %s", [poll_id])
    return choices[0][0] == 1 and polls[0][0] == 1


def at_once(*calls, delays=()):
    """Send every call at the same moment (a barrier), the i-th ``delays[i]`` seconds later; their responses, in order."""
    barrier = threading.Barrier(len(calls))
    answers: list = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        if index < len(delays):
            time.sleep(delays[index])
        answers[index] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return answers


def edit_question(stack, poll_id: int, question: str):
    return lambda: requests.patch(
        stack.url("polls", f"polls/{poll_id}/"), json={"question": question}, headers=stack.auth("alice"), timeout=15
    )


def edit_choice(stack, choice_id: int, text: str):
    return lambda: requests.patch(
        stack.url("choice", f"choices/{choice_id}/"), json={"text": text}, headers=stack.auth("alice"), timeout=15
    )


def first_vote(stack, poll_id: int, choice_id: int, voter: str):
    return lambda: requests.post(
        stack.url("vote", f"polls/{poll_id}/votes/"), json={"choice_id": choice_id}, headers=stack.auth(voter), timeout=15
    )


def judge(edit: requests.Response, vote: requests.Response) -> str:
    """Which of the allowed outcomes this race had; anything else fails the test."""
    codes = (edit.status_code, vote.status_code)
    if codes == (409, 201):
        assert edit.json()["error"]["code"] == "poll_has_votes", edit.text
        return "vote first, edit refused"
    if codes == (200, 409):
        assert vote.json()["error"]["code"] == "poll_being_edited", vote.text
        return "edit first, vote refused meanwhile"
    if codes == (200, 201):
        return "edit, then the vote after it"
    raise AssertionError(f"edit answered {edit.status_code} {edit.text}, vote {vote.status_code} {vote.text}")


@pytest.mark.parametrize("what", ["question", "choice text"])
def test_an_edit_and_the_first_vote_at_the_same_moment(real_stack, what):
    stack = real_stack
    outcomes = Counter()
    for trial in range(TRIALS):
        poll_id, (choice_id, _) = stack.poll_with_choices(2)
        wait_for(lambda p=poll_id, c=choice_id: known_to_vote(stack, p, c), what="vote learns the poll and the choice")
        before = f"Option 0 (trial {trial})"
        edit = edit_question(stack, poll_id, before) if what == "question" else edit_choice(stack, choice_id, before)
        edited, voted = at_once(edit, first_vote(stack, poll_id, choice_id, f"voter-{trial}"), delays=(0, VOTE_DELAYS[trial]))
        outcome = judge(edited, voted)
        outcomes[outcome] += 1
        # What the vote (if any) was cast under is what every role shows now, and stays so.
        (votes,) = stack.query("vote", "SELECT count(*) FROM vote_vote WHERE poll_id = %s", [poll_id])[0]
        assert votes == (1 if voted.status_code == 201 else 0)
        if votes:
            again = (
                edit_question(stack, poll_id, "Changed after the vote?") if what == "question" else edit_choice(stack, choice_id, "No")
            )()
            assert again.status_code == 409 and again.json()["error"]["code"] == "poll_has_votes", again.text
            deleted = requests.delete(stack.url("choice", f"choices/{choice_id}/"), headers=stack.auth("alice"), timeout=15)
            assert deleted.status_code == 409 and deleted.json()["error"]["code"] == "poll_has_votes", deleted.text
        poll = requests.get(stack.url("polls", f"polls/{poll_id}/"), timeout=10).json()
        choice = requests.get(stack.url("choice", f"choices/{choice_id}/"), timeout=10).json()
        wording = poll["question"] if what == "question" else choice["text"]
        assert wording == (before if edited.status_code == 200 else ("Which?" if what == "question" else "Option 0"))
    print(f"\n{what}: {TRIALS} races of an edit and the first vote: {dict(outcomes)}")
    assert sum(n for outcome, n in outcomes.items() if outcome != "edit, then the vote after it") > 0, "the race never happened"
