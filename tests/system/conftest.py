import pytest

from tests.support.services import require
from tests.support.stack import Stack


@pytest.fixture
def real_stack(tmp_path):
    """All three roles as separate processes on real PostgreSQL (a database each) and RabbitMQ."""
    stack = Stack(tmp_path / "stack", postgres_url=require("postgres"), broker_url=require("rabbitmq"))
    try:
        yield stack.start()
    finally:
        stack.close()
