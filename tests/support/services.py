"""Where the real PostgreSQL and RabbitMQ are, and whether they answer.

Tests that need them skip with the reason when they are missing, except under CI
(``CI=true``), where a missing service fails the test: CI must run them all.
"""

import os
import socket
from urllib.parse import urlparse

import pytest

POSTGRES_URL = os.environ.get("POLLSITE_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432")
RABBITMQ_URL = os.environ.get("POLLSITE_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672//")
REDIS_URL = os.environ.get("POLLSITE_TEST_REDIS", "redis://127.0.0.1:6379/15")


def _answers(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def require(service: str) -> str:
    """The URL of ``postgres``, ``rabbitmq`` or ``redis``; skip (fail under CI) when it does not answer."""
    url, port = {"postgres": (POSTGRES_URL, 5432), "rabbitmq": (RABBITMQ_URL, 5672), "redis": (REDIS_URL, 6379)}[service]
    if _answers(url, port):
        return url
    reason = f"{service} is not reachable at {url} (set POLLSITE_TEST_{service.upper()})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run every test, but {reason}")
    pytest.skip(reason)
