"""Observing the roles as real processes: metrics summed across gunicorn workers, the role
label, domain metrics, JSON logs, one request id followed across roles, and the Grafana
dashboard's queries checked against what the roles really export."""

from __future__ import annotations

import json
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from pollsite.roles import ROLES
from tests.support.services import require
from tests.support.stack import ROOT, Stack, free_port, wait_for
from tests.support.wire import wire_event
from tests.system.observability import json_lines, scrape, value, with_request_id

pytestmark = pytest.mark.stack

DASHBOARD = ROOT / "helm" / "pollsite" / "files" / "grafana-dashboard.json"
ACCESS_FIELDS = {"time", "level", "role", "request_id", "method", "path", "status", "duration_ms", "pid", "logger", "message"}


# --- one role, several gunicorn workers ---------------------------------------------------


@pytest.fixture
def polls_two_workers(tmp_path):
    """The polls role alone: gunicorn with 2 workers, no relay (so its outbox only grows)."""
    stack = Stack(tmp_path / "stack", postgres_url=require("postgres"))
    try:
        stack.create_databases()
        stack.manage("polls", "migrate", "--noinput", "-v", "0")
        web = stack.start_web("polls", workers=2)
        yield stack, web
    finally:
        stack.close()


def test_request_count_is_summed_across_workers(polls_two_workers):
    stack, web = polls_two_workers
    requests_sent = 60
    ids = [f"sum-{i}-{uuid.uuid4().hex[:8]}" for i in range(requests_sent)]

    def get(request_id):
        return requests.get(stack.url("polls", "polls/"), headers={"X-Request-ID": request_id}, timeout=10).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(get, ids))
    assert statuses == [200] * requests_sent

    samples = scrape(stack.ports["polls"])
    counted = value(samples, "django_http_requests_total_by_view_transport_method_total", view="v1:poll-list", method="GET")
    assert counted == requests_sent
    responses = value(samples, "django_http_responses_total_by_status_view_method_total", view="v1:poll-list", status="200")
    assert responses == requests_sent

    # The requests really were spread over both workers (the pid is in each access line).
    time.sleep(0.3)
    served_by = {record["pid"] for record in json_lines(web) if record.get("request_id") in ids and record["logger"] == "pollsite.access"}
    assert len(served_by) == 2, f"all {requests_sent} requests went to one worker: {served_by}"

    # One mechanism labels every series with the role, django-prometheus's included.
    assert samples and all(sample.labels.get("role") == "polls" for sample in samples)
    assert value(samples, "django_db_new_connections_total", vendor="postgresql") >= 1  # the role's own database
    assert any(s.name == "django_db_execute_total" and s.value > 0 for s in samples)


def test_outbox_backlog_and_age_are_read_at_scrape_time(polls_two_workers):
    stack, _ = polls_two_workers
    samples = scrape(stack.ports["polls"])
    assert value(samples, "pollsite_outbox_backlog") == 0
    assert value(samples, "pollsite_outbox_oldest_age_seconds") == 0
    for question in ("One?", "Two?", "Three?"):
        created = requests.post(stack.url("polls", "polls/"), json={"question": question}, headers=stack.auth("alice"), timeout=10)
        assert created.status_code == 201, created.text
    time.sleep(1.2)
    samples = scrape(stack.ports["polls"])
    assert value(samples, "pollsite_outbox_backlog", role="polls") == 3  # no relay runs here
    assert 1.0 <= value(samples, "pollsite_outbox_oldest_age_seconds", role="polls") < 60


def test_every_line_is_json_with_the_access_fields(polls_two_workers):
    stack, web = polls_two_workers
    request_id = "fields-" + uuid.uuid4().hex
    answer = requests.post(
        stack.url("polls", "polls/"), json={"question": "Logged?"}, headers={**stack.auth("carol"), "X-Request-ID": request_id}, timeout=10
    )
    assert answer.status_code == 201
    assert answer.headers["X-Request-ID"] == request_id
    generated = requests.get(stack.url("polls", "polls/"), timeout=10).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    time.sleep(0.3)

    records = json_lines(web)  # fails on any line that is not JSON, gunicorn's own included
    assert any(r["logger"] == "gunicorn.error" and "Booting worker" in r["message"] and r["role"] == "polls" for r in records)
    [access] = [r for r in with_request_id(web, request_id) if r["logger"] == "pollsite.access"]
    assert ACCESS_FIELDS <= access.keys()
    assert access["method"] == "POST"
    assert access["path"] == "/polls/api/v1/polls/"
    assert access["status"] == 201
    assert access["subject"] == "carol"  # the token's subject, when there is one
    assert access["role"] == "polls"
    assert access["level"] == "INFO"
    assert access["duration_ms"] > 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00", access["time"])
    [anonymous] = [r for r in with_request_id(web, generated) if r["logger"] == "pollsite.access"]
    assert "subject" not in anonymous


# --- the whole stack on PostgreSQL and RabbitMQ ---------------------------------------------


@pytest.fixture(scope="module")
def observed_stack(tmp_path_factory):
    """Every role's web, relay and consumer; the relays and consumers serve /metrics on ports of their own."""
    stack = Stack(
        tmp_path_factory.mktemp("observed"),
        postgres_url=require("postgres"),
        broker_url=require("rabbitmq"),
    )
    stack.worker_metrics = {}
    try:
        stack.prepare()
        for role in ROLES.values():
            stack.start_web(role.name)
            if role.publishes:
                port = free_port()
                stack.worker_metrics[f"{role.name}-relay"] = (stack.start_relay(role.name, POLLSITE_METRICS_PORT=str(port)), port)
            if role.consumes:
                port = free_port()
                stack.worker_metrics[f"{role.name}-consumer"] = (
                    stack.start_consumer(role.name, POLLSITE_METRICS_PORT=str(port)),
                    port,
                )
        for name, (_process, port) in stack.worker_metrics.items():
            wait_for(lambda port=port: _answers(port), timeout=30, what=f"{name} metrics")
        yield stack
    finally:
        stack.close()


def _answers(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/metrics", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _process(stack: Stack, name: str):
    [process] = [p for p in stack.processes if p.name == name]
    return process


def test_one_request_id_followed_across_roles(observed_stack):
    s = observed_stack
    poll = requests.post(s.url("polls", "polls/"), json={"question": "Followed?"}, headers=s.auth("alice"), timeout=10)
    assert poll.status_code == 201
    poll_id = poll.json()["id"]

    request_id = "follow-" + uuid.uuid4().hex
    choice = requests.post(
        s.url("choice", f"polls/{poll_id}/choices/"),
        json={"text": "Yes"},
        headers={**s.auth("alice"), "X-Request-ID": request_id},
        timeout=10,
    )
    assert choice.status_code == 201, choice.text
    assert choice.headers["X-Request-ID"] == request_id

    # choice took the request, asked polls (same id), relayed its event; vote applied it.
    wait_for(lambda: with_request_id(_process(s, "vote-consumer"), request_id), timeout=30, what="vote applying the event")
    choice_web = with_request_id(_process(s, "choice-web"), request_id)
    polls_web = with_request_id(_process(s, "polls-web"), request_id)
    choice_relay = with_request_id(_process(s, "choice-relay"), request_id)
    vote_consumer = with_request_id(_process(s, "vote-consumer"), request_id)

    assert {(r["method"], r["path"], r["status"]) for r in choice_web if r["logger"] == "pollsite.access"} == {
        ("POST", f"/choice/api/v1/polls/{poll_id}/choices/", 201)
    }
    assert {(r["method"], r["path"], r["status"]) for r in polls_web if r["logger"] == "pollsite.access"} == {
        ("GET", f"/polls/api/v1/polls/{poll_id}/", 200)
    }
    assert all(r["role"] == "choice" for r in choice_web) and all(r["role"] == "polls" for r in polls_web)
    assert [r["message"] for r in choice_relay] == ["event published"]
    assert [(r["message"], r["event_type"], r["role"]) for r in vote_consumer] == [("event applied", "choice.created", "vote")]


def test_domain_metrics(observed_stack):
    s = observed_stack
    poll_id = requests.post(s.url("polls", "polls/"), json={"question": "Counted?"}, headers=s.auth("dora"), timeout=10).json()["id"]
    choice_id = requests.post(s.url("choice", f"polls/{poll_id}/choices/"), json={"text": "A"}, headers=s.auth("dora"), timeout=10).json()[
        "id"
    ]
    before = scrape(s.ports["vote"])

    cast = [
        requests.post(s.url("vote", f"polls/{poll_id}/votes/"), json={"choice_id": choice_id}, headers=s.auth(voter), timeout=10)
        for voter in ("v1", "v2", "v1")
    ]
    assert [answer.status_code for answer in cast] == [201, 201, 409]
    wrong = requests.post(s.url("vote", "polls/999999/votes/"), json={"choice_id": choice_id}, headers=s.auth("v3"), timeout=10)
    refused_code = wrong.json()["error"]["code"]
    assert wrong.status_code >= 400

    after = scrape(s.ports["vote"])
    assert value(after, "pollsite_votes_cast_total", role="vote") - value(before, "pollsite_votes_cast_total") == 2
    assert (
        value(after, "pollsite_votes_refused_total", reason="already_voted")
        - value(before, "pollsite_votes_refused_total", reason="already_voted")
        == 1
    )
    assert (
        value(after, "pollsite_votes_refused_total", reason=refused_code)
        - value(before, "pollsite_votes_refused_total", reason=refused_code)
        == 1
    )

    _, relay_port = s.worker_metrics["polls-relay"]
    wait_for(lambda: value(scrape(relay_port), "pollsite_events_published_total", event_type="polls.poll.created") >= 1, what="published")
    relay = scrape(relay_port)
    assert all(sample.labels.get("role") == "polls" for sample in relay)
    _, consumer_port = s.worker_metrics["vote-consumer"]
    wait_for(
        lambda: value(scrape(consumer_port), "pollsite_events_consumed_total", event_type="choice.choice.created", outcome="applied") >= 1,
        what="consumed",
    )

    # An invalid message is dead-lettered at once; an event whose handler keeps failing is
    # retried, then dead-lettered. Both are counted.
    failed = _publish_failing_events(s)
    assert failed["invalid_envelope"] == 1
    assert failed["handler_error"] == 1
    assert failed["handler_errors"] == 5  # EVENTS_MAX_ATTEMPTS


FAULTY_CHOICES = 900_000


def _publish_failing_events(s: Stack) -> dict:
    """Publish one message that is no event and one event vote's handler cannot apply; the counters' increase."""
    from kombu import Connection

    _, port = s.worker_metrics["vote-consumer"]

    def counts() -> dict:
        samples = scrape(port)
        return {
            "invalid_envelope": value(samples, "pollsite_events_dead_lettered_total", reason="invalid_envelope"),
            "handler_error": value(samples, "pollsite_events_dead_lettered_total", reason="handler_error"),
            "handler_errors": value(samples, "pollsite_event_handler_errors_total", event_type="choice.choice.created"),
        }

    before = counts()
    if not s.query("vote", "SELECT 1 FROM pg_trigger WHERE tgname = 'injected_fault'"):
        s.inject_fault("vote", "vote_knownchoice", column="choice_id", at_least=FAULTY_CHOICES)
    choice_id = FAULTY_CHOICES + len(s.query("vote", "SELECT 1 FROM pollsite_deadletter"))
    failing = wire_event("choice", "choice.created", {"choice_id": choice_id, "poll_id": 1, "text": "x", "order": 1})
    with Connection(s.broker_url) as conn:
        producer = conn.Producer()
        for body, key in (({"not": "an event"}, "polls.poll.created"), (failing, "choice.choice.created")):
            producer.publish(body, exchange=f"{s.namespace}.events", routing_key=key, serializer="json", user_id=conn.userid)
    wait_for(lambda: counts()["handler_error"] > before["handler_error"], timeout=60, what="the failing event dead-lettered")
    after = counts()
    return {key: after[key] - before[key] for key in after}


# --- the Grafana dashboard -------------------------------------------------------------------

PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or", "unless", "le"}


def dashboard_metric_names(dashboard: dict) -> set[str]:
    """The metric names in every panel's queries (label matchers, groupings and functions removed)."""
    names = set()
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expr = re.sub(r"\{[^}]*\}", "", target["expr"])  # label matchers
            expr = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", expr)  # groupings
            expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges
            expr = re.sub(r'"[^"]*"', "", expr)
            for name in re.findall(r"\b[a-zA-Z_:][a-zA-Z0-9_:]*\b(?!\s*\()", expr):
                if name not in PROMQL_WORDS:
                    names.add(name)
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        query = query.get("query", "") if isinstance(query, dict) else ""
        names.update(re.findall(r"label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)", query))
    return names


def test_dashboard_queries_use_exported_metrics(observed_stack):
    s = observed_stack
    dashboard = json.loads(Path(DASHBOARD).read_text())
    titles = " | ".join(panel["title"].lower() for panel in dashboard["panels"])
    for needed in ("request rate", "error rate", "latency", "votes per second", "outbox backlog"):
        assert needed in titles, f"no {needed!r} panel in {titles}"

    # Some traffic so that every labelled series exists (errors, votes, events).
    poll_id = requests.post(s.url("polls", "polls/"), json={"question": "Shown?"}, headers=s.auth("erin"), timeout=10).json()["id"]
    choice_id = requests.post(s.url("choice", f"polls/{poll_id}/choices/"), json={"text": "B"}, headers=s.auth("erin"), timeout=10).json()[
        "id"
    ]
    requests.post(s.url("vote", f"polls/{poll_id}/votes/"), json={"choice_id": choice_id}, headers=s.auth("w1"), timeout=10)
    requests.post(s.url("vote", f"polls/{poll_id}/votes/"), json={"choice_id": choice_id}, headers=s.auth("w1"), timeout=10)
    for role in ROLES:
        requests.get(s.url(role, "no-such-thing/"), timeout=10)
    _, consumer_port = s.worker_metrics["vote-consumer"]
    wait_for(lambda: value(scrape(consumer_port), "pollsite_events_consumed_total") >= 2, what="events consumed")
    if not value(scrape(consumer_port), "pollsite_event_handler_errors_total"):
        _publish_failing_events(s)  # this test alone: the failure series exist once something failed

    exported = set()
    for role in ROLES:
        exported |= {sample.name for sample in scrape(s.ports[role])}
    for _, port in s.worker_metrics.values():
        exported |= {sample.name for sample in scrape(port)}

    used = dashboard_metric_names(dashboard)
    assert len(used) >= 6, f"the dashboard's queries name too few metrics to be checked: {used}"
    missing = sorted(used - exported)
    assert not missing, f"the dashboard queries metrics no role exports: {missing}"
