"""CONN_HEALTH_CHECKS on PostgreSQL: a request reusing a connection the server ended gets a
new one, and a quiet connection is not asked ``SELECT 1`` (pollsite.db.postgresql)."""

import time
from unittest import mock

import psycopg2
import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections

pytestmark = [
    pytest.mark.django_db(transaction=True),  # autocommit, as a request runs: no test transaction around it
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the check of pollsite's PostgreSQL backend (set POLLSITE_TEST_POSTGRES)"),
]


def next_request_query() -> int:
    """What a request does: Django's end-of-request check, then a query; the backend's pid."""
    connection.close_if_unusable_or_obsolete()  # request_finished / request_started
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def terminate(pid: int) -> None:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    other = psycopg2.connect(**params)
    other.autocommit = True
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone() == (True,)
    other.close()


def backend_class():
    return type(connections[DEFAULT_DB_ALIAS])


def test_a_quiet_connection_is_reused_without_a_round_trip():
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True
    first = next_request_query()
    with mock.patch.object(backend_class(), "is_usable", autospec=True, side_effect=AssertionError("SELECT 1 sent")) as is_usable:
        assert next_request_query() == first
        assert next_request_query() == first
    assert is_usable.call_count == 0


def test_a_connection_the_server_ended_is_replaced_before_the_request_uses_it():
    first = next_request_query()
    terminate(first)
    deadline = time.monotonic() + 5
    while not connection._server_spoke():  # the server's farewell reaches the socket
        assert time.monotonic() < deadline, "the ended connection never turned readable"
        time.sleep(0.01)
    with mock.patch.object(backend_class(), "is_usable", autospec=True, wraps=backend_class().is_usable) as is_usable:
        second = next_request_query()  # no error: the check saw the farewell, SELECT 1 failed, a new connection answered
    assert is_usable.call_count == 1
    assert second != first
