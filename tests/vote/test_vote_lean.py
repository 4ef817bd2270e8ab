"""The vote cast's lean path (pollsite.api.lean) answers exactly as DRF's request cycle does.

Each case is sent twice, to two fresh polls in the same state: once as it comes (a
well-formed cast takes the lean path), once with the lean path switched off (DRF's own
request cycle). Status, body (apart from ids and times) and the headers that matter must
be the same; and the lean path must really be the one that served the well-formed ones.
"""

import json
import re

import pytest
from rest_framework.views import APIView

from tests.support import events
from tests.support.api import client_for
from tests.support.lean import drf_cycle_only

API = "/vote/api/v1/"
pytestmark = pytest.mark.django_db
HEADERS = ("Content-Type", "Allow", "Retry-After", "WWW-Authenticate", "Cache-Control", "X-Frame-Options", "Vary")


@pytest.fixture
def drf_calls(monkeypatch):
    """How many requests DRF's own dispatch served."""
    calls = []
    original = APIView.dispatch

    def counting(self, request, *args, **kwargs):
        calls.append(request.path)
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(APIView, "dispatch", counting)
    return calls


_polls = iter(range(100, 10_000))


def deliver_poll(poll_id: int, event_type: str, **payload) -> None:
    events.deliver("vote", "polls", event_type, {"poll_id": poll_id, **payload})


def fresh_poll() -> int:
    poll_id = next(_polls)
    events.deliver("vote", "polls", "poll.created", {"poll_id": poll_id, "status": "open", "closes_at": None})
    events.deliver("vote", "choice", "choice.created", {"choice_id": poll_id * 10 + 1, "poll_id": poll_id})
    return poll_id


def send(poll_id: int, *, subject="bob", body=None, content_type="application/json", raw=None, **headers):
    client = client_for(subject)
    if callable(body):
        body = body(poll_id)
    payload = raw if raw is not None else json.dumps({"choice_id": poll_id * 10 + 1} if body is None else body)
    return client.generic("POST", f"{API}polls/{poll_id}/votes/", payload, content_type=content_type, **headers)


def comparable(response, poll_id: int) -> tuple:
    """What must be the same either way: status, body (ids, times and the request id aside), headers."""
    body = json.loads(response.content) if response.content else None
    if isinstance(body, dict):
        body.pop("request_id", None)
        for key in ("id", "created_at"):
            body.pop(key, None)
        names = {poll_id: "<poll>", poll_id * 10 + 1: "<choice>"}
        body = {key: names.get(value, value) if isinstance(value, int) else value for key, value in body.items()}
        if "error" in body:
            body["error"] = {**body["error"], "message": body["error"]["message"].replace(str(poll_id), "<poll>")}
    return response.status_code, body, {name: response.get(name) for name in HEADERS}


def both_ways(monkeypatch, prepare=lambda poll_id: None, **request) -> tuple:
    """(lean answer, DRF answer) to the same request in the same state."""
    first, second = fresh_poll(), fresh_poll()
    prepare(first)
    lean = comparable(send(first, **request), first)
    with drf_cycle_only(monkeypatch):
        prepare(second)
        drf = comparable(send(second, **request), second)
    return lean, drf


def test_a_well_formed_cast_takes_the_lean_path_and_answers_as_drf_does(monkeypatch, drf_calls):
    lean, drf = both_ways(monkeypatch)
    assert lean == drf and lean[0] == 201
    assert lean[1] == {"poll_id": "<poll>", "choice_id": "<choice>", "voter": "bob"}
    assert len(drf_calls) == 1, "only the request with the lean path switched off went through DRF's dispatch"


@pytest.mark.parametrize(
    "prepare",
    [
        pytest.param(lambda poll_id: send(poll_id), id="second vote: 409 already_voted"),
        pytest.param(lambda poll_id: deliver_poll(poll_id, "poll.closed", status="closed", closes_at=None), id="closed"),
        pytest.param(lambda poll_id: deliver_poll(poll_id, "poll.deleted"), id="deleted: 404"),
    ],
)
def test_refusals_on_the_lean_path_answer_as_drf_does(monkeypatch, drf_calls, prepare):
    lean, drf = both_ways(monkeypatch, prepare)
    assert lean == drf and lean[0] in (404, 409)


def test_a_throttled_cast_answers_as_drf_does(monkeypatch, settings, drf_calls):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**rates, "vote_voter": "1/hour"}}
    lean, drf = both_ways(monkeypatch, prepare=lambda poll_id: send(fresh_poll(), subject="carol"), subject="carol")
    assert lean[0] == drf[0] == 429

    def seconds_apart(answer: dict) -> tuple[dict, int]:
        """The body with the seconds left in the window taken out: the two requests may straddle a second."""
        message = answer["error"]["message"]
        left = int(re.search(r"(\d+) seconds?", message).group(1))
        return {**answer, "error": {**answer["error"], "message": re.sub(r"\d+ seconds?", "N seconds", message)}}, left

    (lean_body, lean_left), (drf_body, drf_left) = seconds_apart(lean[1]), seconds_apart(drf[1])
    assert lean_body == drf_body and abs(lean_left - drf_left) <= 1
    assert lean[2]["Allow"] == drf[2]["Allow"]
    assert abs(int(lean[2]["Retry-After"]) - int(drf[2]["Retry-After"])) <= 1


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param({"subject": None}, id="no token"),
        pytest.param({"subject": None, "HTTP_AUTHORIZATION": "Bearer not-a-token"}, id="bad token"),
        pytest.param({"HTTP_ACCEPT": "text/html"}, id="an Accept DRF refuses"),
        pytest.param({"HTTP_ACCEPT": "application/*"}, id="an Accept DRF serves"),
        pytest.param({"content_type": "text/plain"}, id="not JSON"),
        pytest.param({"raw": '{"choice_id": '}, id="broken JSON"),
        pytest.param({"raw": '{"choice_id": NaN}'}, id="NaN"),
        pytest.param({"raw": '\ufeff{"choice_id": 1}'}, id="a byte-order mark"),
        pytest.param({"raw": '{"choice_id": 1} []'}, id="trailing data"),
        pytest.param({"body": [1, 2]}, id="a list"),
        pytest.param({"body": {}}, id="no choice_id"),
        pytest.param({"body": {"choice_id": 0}}, id="below the minimum"),
        pytest.param({"body": {"choice_id": True}}, id="a boolean"),
    ],
)
def test_anything_else_is_drfs_to_answer(monkeypatch, drf_calls, request_):
    lean, drf = both_ways(monkeypatch, **request_)
    assert lean == drf
    assert len(drf_calls) == 2, "the lean path handed the request to DRF"


def test_what_drfs_fields_accept_the_lean_path_accepts_too(monkeypatch, drf_calls):
    """The lean path validates with the serializer's own fields: "12" is an integer to both."""
    lean, drf = both_ways(monkeypatch, body=lambda poll_id: {"choice_id": str(poll_id * 10 + 1), "unknown": "ignored"})
    assert lean == drf and lean[0] == 201
    assert len(drf_calls) == 1
