"""The chart's side of trusted events: a broker user per relay and per consumer, none for
web pods, and alerts on dead-lettered messages."""

from __future__ import annotations

import pytest

from pollsite.events.broker_users import broker_users
from pollsite.roles import ROLES

from .render import RELEASE, env_of, find, notes, of_kind, render


def container(objects: list[dict], name: str) -> dict:
    return find(objects, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]


@pytest.mark.parametrize("role", ROLES)
def test_each_relay_and_consumer_has_its_own_broker_user_and_web_pods_none(role):
    objects = render({})
    web = env_of(container(objects, f"{RELEASE}-{role}"))
    assert not {name for name in web if name.startswith("EVENTS_BROKER")}, "web pods must not get broker credentials"
    expected = {(user.role, user.kind): user.name for user in broker_users(namespace="pollsite")}
    for process, kind in (("relay", "publisher"), ("consumer", "consumer")):
        if (role, kind) not in expected:
            continue
        env = env_of(container(objects, f"{RELEASE}-{role}-{process}"))
        assert env["EVENTS_BROKER_URL"]["value"] == f"amqp://{expected[role, kind]}:$(EVENTS_BROKER_PASSWORD)@rabbitmq:5672/%2F"
        key = f"EVENTS_{kind.upper()}_PASSWORD"
        # the operator's Secret of this role (docs/DEPLOY.md), named in NOTES like every other
        assert env["EVENTS_BROKER_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": f"{RELEASE}-{role}", "key": key}
        assert f"{RELEASE}-{role} (key {key})" in notes()
        assert f"  {expected[role, kind]}\n" in notes() + "\n"
        if kind == "consumer":
            publishers = dict(item.split("=") for item in env["EVENTS_PUBLISHER_USERS"]["value"].split(","))
            assert publishers == {producer: expected[producer, "publisher"] for producer in ROLES[role].consumes}


def test_the_chart_makes_up_no_broker_password():
    objects = render({})
    assert not [s for s in of_kind(objects, "Secret") if any(key.startswith("EVENTS_") for key in s.get("data", {}))]
    refs = {
        (container(objects, d["metadata"]["name"])["name"], tuple(sorted(e["valueFrom"]["secretKeyRef"].items())))
        for d in of_kind(objects, "Deployment")
        for e in container(objects, d["metadata"]["name"]).get("env", [])
        if e["name"] == "EVENTS_BROKER_PASSWORD"
    }
    assert len(refs) == len(broker_users(namespace="pollsite")), "one password reference per broker user"


def test_a_shared_development_user_is_still_possible():
    objects = render({"events": {"broker": {"user": "guest"}}})
    consumer = env_of(container(objects, f"{RELEASE}-vote-consumer"))
    assert consumer["EVENTS_BROKER_URL"]["value"].startswith("amqp://guest:")
    assert consumer["EVENTS_PUBLISHER_USERS"]["value"] == "polls=guest,choice=guest"
    assert consumer["EVENTS_BROKER_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": f"{RELEASE}-events", "key": "password"}


def test_dead_letter_alerts_render_with_monitoring_only():
    assert of_kind(render({}), "PrometheusRule") == []
    monitored = render({"metrics": {"serviceMonitor": {"enabled": True}}})
    (rule,) = of_kind(monitored, "PrometheusRule")
    alerts = {alert["alert"]: alert for group in rule["spec"]["groups"] for alert in group["rules"]}
    assert set(alerts) == {"PollsiteEventsDeadLettered", "PollsiteEventsDeadLetterStorm"}
    for alert in alerts.values():
        assert "pollsite_events_dead_lettered_total" in alert["expr"] and "role" in alert["expr"]
        assert "dead_letters" in alert["annotations"]["description"] or "OPERATIONS" in alert["annotations"]["description"]
    assert of_kind(render({"metrics": {"serviceMonitor": {"enabled": True}, "prometheusRule": {"enabled": False}}}), "PrometheusRule") == []


def test_the_alerted_metric_is_the_one_the_consumer_exports():
    from pollsite.observability.metrics import EVENTS_DEAD_LETTERED

    assert EVENTS_DEAD_LETTERED._name + "_total" == "pollsite_events_dead_lettered_total"
    assert EVENTS_DEAD_LETTERED._labelnames == ("reason",)  # the role label is added at exposition
