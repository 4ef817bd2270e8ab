"""Optional OpenTelemetry tracing: off by default; switched on by environment, a call from
choice to polls yields spans of one trace in both processes (traceparent propagated)."""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from tests.support.stack import Stack, wait_for
from tests.system.observability import json_lines

pytestmark = pytest.mark.stack

TRACING = {"POLLSITE_TRACING": "true", "OTEL_TRACES_EXPORTER": "console"}


def spans(process) -> list[dict]:
    """The spans a process printed (console exporter: one JSON object per line, among the logs)."""
    return [record for record in json_lines(process) if "context" in record and "kind" in record]


def _attribute(span: dict, *names: str):
    """A span attribute under its current semantic-convention name or the older one."""
    return next((span["attributes"][name] for name in names if name in span["attributes"]), None)


@pytest.fixture
def traced_stack(tmp_path):
    """polls and choice only (SQLite, no events needed): polls traced, choice traced or not."""
    stack = Stack(tmp_path / "stack")
    try:
        stack.manage("polls", "migrate", "--noinput", "-v", "0")
        stack.manage("choice", "migrate", "--noinput", "-v", "0")
        yield stack
    finally:
        stack.close()


def _create_poll_and_choice(stack: Stack, request_id: str) -> tuple[int, requests.Response]:
    poll = requests.post(stack.url("polls", "polls/"), json={"question": "Traced?"}, headers=stack.auth("tess"), timeout=10)
    assert poll.status_code == 201, poll.text
    poll_id = poll.json()["id"]
    choice = requests.post(
        stack.url("choice", f"polls/{poll_id}/choices/"),
        json={"text": "Yes"},
        headers={**stack.auth("tess"), "X-Request-ID": request_id},
        timeout=10,
    )
    assert choice.status_code == 201, choice.text
    return poll_id, choice


def test_a_call_between_roles_is_one_trace(traced_stack):
    stack = traced_stack
    polls = stack.start_web("polls", **TRACING)
    choice = stack.start_web("choice", **TRACING)
    request_id = "traced-" + uuid.uuid4().hex
    poll_id, _ = _create_poll_and_choice(stack, request_id)

    def choice_server_span():
        return [
            s for s in spans(choice) if s["kind"] == "SpanKind.SERVER" and _attribute(s, "http.request.method", "http.method") == "POST"
        ]

    wait_for(choice_server_span, timeout=10, what="choice's server span")
    [server] = choice_server_span()
    trace_id = server["context"]["trace_id"]
    [client] = [s for s in spans(choice) if s["kind"] == "SpanKind.CLIENT"]
    assert client["context"]["trace_id"] == trace_id
    assert client["parent_id"] == server["context"]["span_id"]
    assert server["resource"]["attributes"]["service.name"] == "pollsite-choice"

    # polls' side of the call: its server span continues the same trace, under choice's client span.
    wait_for(lambda: [s for s in spans(polls) if s["context"]["trace_id"] == trace_id], timeout=10, what="polls' span of the call")
    [continued] = [s for s in spans(polls) if s["context"]["trace_id"] == trace_id]
    assert continued["kind"] == "SpanKind.SERVER"
    assert continued["parent_id"] == client["context"]["span_id"]
    assert _attribute(continued, "url.path", "http.target") == f"/polls/api/v1/polls/{poll_id}/"
    assert continued["resource"]["attributes"]["service.name"] == "pollsite-polls"

    # The log lines of the request carry the trace id too, next to the request id.
    polls_access = [r for r in json_lines(polls) if r.get("request_id") == request_id and r.get("logger") == "pollsite.access"]
    assert [r["trace_id"] for r in polls_access] == [trace_id.removeprefix("0x")]
    # No probe is traced.
    assert not [s for s in spans(polls) + spans(choice) if "/readyz" in json.dumps(s["attributes"])]


def test_tracing_is_off_by_default(traced_stack):
    stack = traced_stack
    polls = stack.start_web("polls")
    choice = stack.start_web("choice")
    request_id = "untraced-" + uuid.uuid4().hex
    _create_poll_and_choice(stack, request_id)
    wait_for(lambda: any(r.get("request_id") == request_id for r in json_lines(polls)), timeout=10, what="polls' access line")
    assert spans(polls) == [] and spans(choice) == []
    assert "traceparent" not in json.dumps(json_lines(polls))
    assert not any("trace_id" in record for record in json_lines(polls) + json_lines(choice))
