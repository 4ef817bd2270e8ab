"""The vote cast's one statement is prepared once per connection, and survives losing it."""

import pytest
from django.db import connection

from tests.support import events
from tests.support.api import client_for

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL prepared statement (set POLLSITE_TEST_POSTGRES)"),
]


def cast(subject: str):
    return client_for(subject).post("/vote/api/v1/polls/1/votes/", {"choice_id": 11}, format="json")


def prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return [name for (name,) in cursor.fetchall()]


def test_prepared_once_and_again_when_the_connection_lost_it():
    events.deliver("vote", "polls", "poll.created", {"poll_id": 1, "status": "open", "closes_at": None})
    events.deliver("vote", "choice", "choice.created", {"choice_id": 11, "poll_id": 1})
    assert cast("ann").status_code == 201
    assert cast("ben").status_code == 201
    assert prepared() == ["pollsite_vote_cast"]
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE pollsite_vote_cast")  # what a pooler's DISCARD ALL does
    assert cast("cy").status_code == 201
    assert prepared() == ["pollsite_vote_cast"]
    assert cast("ann").json()["error"]["code"] == "already_voted"
