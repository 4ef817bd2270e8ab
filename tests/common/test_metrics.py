"""/metrics of every role: one ``role`` label on every series, outbox gauges read at scrape time."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from pollsite.models import OutboxEvent
from pollsite.observability.tracing import tracing_wanted


def samples(api) -> list:
    response = api.get("/metrics")
    assert response.status_code == 200
    return [s for family in text_string_to_metric_families(response.content.decode()) for s in family.samples]


def sample_value(all_samples, name: str) -> float:
    [found] = [s for s in all_samples if s.name == name]
    return found.value


@pytest.mark.django_db
def test_every_series_carries_the_role(api, role):
    api.get(f"{role.default_prefix}api/v1/no-such-path/")  # django-prometheus counts it
    found = samples(api)
    assert any(s.name.startswith("django_http_") for s in found)
    assert any(s.name.startswith("pollsite_") for s in found)
    assert {s.labels.get("role") for s in found} == {role.name}


@pytest.mark.django_db
def test_outbox_gauges_count_only_unpublished_events(api):
    now = timezone.now()

    def outbox(minutes_ago: int, published: bool) -> None:
        OutboxEvent.objects.create(
            event_type="thing.happened",
            occurred_at=now - timedelta(minutes=minutes_ago),
            producer=settings.ROLE,
            payload={},
            published_at=now if published else None,
        )

    assert sample_value(samples(api), "pollsite_outbox_backlog") == 0
    assert sample_value(samples(api), "pollsite_outbox_oldest_age_seconds") == 0
    outbox(30, published=True)
    outbox(10, published=False)
    outbox(2, published=False)
    found = samples(api)
    assert sample_value(found, "pollsite_outbox_backlog") == 2
    assert 600 <= sample_value(found, "pollsite_outbox_oldest_age_seconds") < 700


@pytest.mark.parametrize(
    ("environ", "wanted"),
    [
        ({}, False),
        ({"POLLSITE_TRACING": "true"}, True),
        ({"POLLSITE_TRACING": "false"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"POLLSITE_TRACING": "true", "OTEL_SDK_DISABLED": "true"}, False),
    ],
)
def test_tracing_is_switched_by_environment(environ, wanted):
    assert tracing_wanted(environ) is wanted


@pytest.mark.django_db
def test_metrics_still_answer_when_the_database_does_not(api, monkeypatch):
    from django.db import OperationalError

    def unreachable(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(OutboxEvent.objects, "filter", unreachable)
    found = samples(api)
    names = {s.name for s in found}
    assert "pollsite_outbox_backlog" not in names  # no made-up value
    assert any(name.startswith("django_http_") for name in names)  # the rest is still exported
