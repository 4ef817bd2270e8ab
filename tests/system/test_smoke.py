import requests

from tests.support.stack import wait_for


def test_vote_round_trip_on_real_services(real_stack):
    s = real_stack
    poll = requests.post(s.url("polls", "polls/"), json={"question": "Tea?"}, headers=s.auth("alice"), timeout=5)
    assert poll.status_code == 201, poll.text
    poll_id = poll.json()["id"]
    choice = requests.post(s.url("choice", f"polls/{poll_id}/choices/"), json={"text": "Yes"}, headers=s.auth("alice"), timeout=5)
    assert choice.status_code == 201, choice.text
    vote = requests.post(
        s.url("vote", f"polls/{poll_id}/votes/"), json={"choice_id": choice.json()["id"]}, headers=s.auth("bob"), timeout=5
    )
    assert vote.status_code == 201, vote.text
    results = requests.get(s.url("vote", f"polls/{poll_id}/results/"), timeout=5).json()
    assert results["total"] == 1
    requests.delete(s.url("polls", f"polls/{poll_id}/"), headers=s.auth("alice"), timeout=5).raise_for_status()
    took = wait_for(lambda: requests.get(s.url("vote", f"polls/{poll_id}/results/"), timeout=5).status_code == 404, what="deletion")
    print(f"poll deletion reached vote in {took:.2f}s")
