"""The composition endpoint: poll + choices + results, degraded when a role is down."""

import pytest
import requests

from tests.polls.conftest import API
from tests.support.api import role_api

pytestmark = pytest.mark.django_db


def make_poll(client_as):
    return client_as("alice").post(f"{API}polls/", {"question": "Tea?"}, format="json").json()


def test_overview_combines_the_three_roles(client_as, other_roles):
    poll = make_poll(client_as)
    choices = [{"id": 1, "poll_id": poll["id"], "text": "Yes", "order": 1}]
    results = {"poll_id": poll["id"], "total": 3, "choices": [{"choice_id": 1, "votes": 3}]}
    other_roles.get(role_api("choice") + f"polls/{poll['id']}/choices/", json=choices)
    other_roles.get(role_api("vote") + f"polls/{poll['id']}/results/", json=results)
    body = client_as(None).get(f"{API}polls/{poll['id']}/overview/").json()
    assert body == {"poll": poll | {"status": "open"}, "choices": choices, "results": results, "missing": []}


def test_overview_names_the_missing_part_when_a_role_is_down(client_as, other_roles):
    poll = make_poll(client_as)
    choices = [{"id": 1, "poll_id": poll["id"], "text": "Yes", "order": 1}]
    other_roles.get(role_api("choice") + f"polls/{poll['id']}/choices/", json=choices)
    other_roles.get(role_api("vote") + f"polls/{poll['id']}/results/", body=requests.ConnectionError("refused"))
    response = client_as(None).get(f"{API}polls/{poll['id']}/overview/", HTTP_X_REQUEST_ID="compose-1")
    assert response.status_code == 200
    body = response.json()
    assert body["choices"] == choices and body["results"] is None
    assert [m["part"] for m in body["missing"]] == ["results"]
    assert "vote service is unavailable" in body["missing"][0]["reason"]
    sent = [call.request.headers.get("X-Request-ID") for call in other_roles.calls]
    assert sent and all(value == "compose-1" for value in sent)


def test_overview_of_unknown_poll_is_404(client_as):
    assert client_as(None).get(f"{API}polls/424242/overview/").status_code == 404
