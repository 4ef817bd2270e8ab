from urllib.parse import urlparse

import pytest

from tests.support.services import require
from tests.support.stack import Stack
from tests.support.tcpproxy import TcpProxy


@pytest.fixture
def broker_proxy():
    """RabbitMQ behind a proxy the test can cut: a broker outage without touching the shared server."""
    url = urlparse(require("rabbitmq"))
    proxy = TcpProxy(url.hostname or "127.0.0.1", url.port or 5672)
    yield proxy
    proxy.close()


@pytest.fixture
def real_stack(tmp_path, broker_proxy):
    """All three roles as separate processes on real PostgreSQL (a database each) and RabbitMQ."""
    stack = Stack(
        tmp_path / "stack",
        postgres_url=require("postgres"),
        broker_url=f"amqp://guest:guest@127.0.0.1:{broker_proxy.port}//",
    )
    try:
        yield stack.start()
    finally:
        stack.close()
