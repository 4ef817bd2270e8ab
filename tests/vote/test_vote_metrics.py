"""Votes cast and refused are counted (by the refusal's error code), and nothing else is."""

import pytest
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from apps.vote.models import KnownChoice, KnownPoll
from tests.support.api import client_for

pytestmark = pytest.mark.django_db


def counted(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def cast(subject: str, poll_id: int, choice_id: int):
    return client_for(subject).post(f"/vote/api/v1/polls/{poll_id}/votes/", {"choice_id": choice_id}, format="json")


def test_votes_cast_and_refused_are_counted():
    KnownPoll.objects.create(poll_id=7001, status=KnownPoll.Status.OPEN)
    KnownPoll.objects.create(poll_id=7002, status=KnownPoll.Status.CLOSED)
    KnownChoice.objects.create(choice_id=8001, poll_id=7001)
    KnownChoice.objects.create(choice_id=8002, poll_id=7002)
    cast_before = counted("pollsite_votes_cast_total")
    refused = {reason: counted("pollsite_votes_refused_total", reason=reason) for reason in ("already_voted", "poll_closed", "invalid")}

    assert cast("m1", 7001, 8001).status_code == 201
    assert cast("m2", 7001, 8001).status_code == 201
    assert cast("m1", 7001, 8001).status_code == 409
    assert cast("m3", 7002, 8002).status_code == 409
    assert APIClient().post("/vote/api/v1/polls/7001/votes/", {}, format="json").status_code == 401
    assert client_for("m4").post("/vote/api/v1/polls/7001/votes/", {"choice_id": "x"}, format="json").status_code == 400

    assert counted("pollsite_votes_cast_total") - cast_before == 2
    assert counted("pollsite_votes_refused_total", reason="already_voted") - refused["already_voted"] == 1
    assert counted("pollsite_votes_refused_total", reason="poll_closed") - refused["poll_closed"] == 1
    assert counted("pollsite_votes_refused_total", reason="invalid") - refused["invalid"] == 1
    assert counted("pollsite_votes_refused_total", reason="not_authenticated") >= 1
