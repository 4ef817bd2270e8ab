"""Per-role RabbitMQ users for a system test, on a vhost of its own, removed afterwards.

The same users and permissions an install gets (pollsite.events.broker_users), created
with ``rabbitmqctl`` on the local broker: it needs the RabbitMQ server on this machine
and root. Without them the test skips with the reason (fails under CI).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote, urlparse

import pytest

from pollsite.events import broker_users
from pollsite.roles import ROLES
from tests.support.services import require


@dataclass
class BrokerUsers:
    vhost: str
    host: str
    port: int
    users: list[broker_users.BrokerUser]
    passwords: dict[str, str]
    admin_url: str  # guest on the vhost: declares, inspects, cleans up

    def user(self, role: str, kind: str) -> str:
        return next(user.name for user in self.users if user.role == role and user.kind == kind)

    def url(self, role: str, kind: str) -> str:
        name = self.user(role, kind)
        return f"amqp://{quote(name)}:{quote(self.passwords[name])}@{self.host}:{self.port}/{quote(self.vhost, safe='')}"

    def publisher_users_env(self) -> str:
        """EVENTS_PUBLISHER_USERS for the consumers: each producing role's own user."""
        return ",".join(f"{user.role}={user.name}" for user in self.users if user.kind == "publisher")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run every test, but {reason}")
    pytest.skip(reason)


@contextmanager
def isolated_broker_users(namespace: str) -> Iterator[BrokerUsers]:
    """Users ``<namespace>-<role>-publisher|consumer`` on vhost ``<namespace>``, for exchange ``<namespace>.events``."""
    admin = urlparse(require("rabbitmq"))
    if shutil.which("rabbitmqctl") is None or os.geteuid() != 0:
        _unavailable("creating broker users needs rabbitmqctl and root on the broker's machine")
    users = broker_users.broker_users(namespace=namespace, prefix=namespace)
    passwords = {user.name: secrets.token_urlsafe(16) for user in users}
    vhost = namespace
    try:
        broker_users.apply(users, vhost=vhost, namespace=namespace, passwords=passwords)
        guest = admin.username or "guest"
        subprocess.run(["rabbitmqctl", "set_permissions", "-p", vhost, guest, ".*", ".*", ".*"], check=True, capture_output=True)
        host, port = admin.hostname or "127.0.0.1", admin.port or 5672
        admin_url = f"amqp://{quote(guest)}:{quote(admin.password or 'guest')}@{host}:{port}/{quote(vhost, safe='')}"
        yield BrokerUsers(vhost, host, port, users, passwords, admin_url)
    finally:
        broker_users.delete(users, vhost=vhost)


def expected_roles_with_users() -> set[tuple[str, str]]:
    return {(role.name, "publisher") for role in ROLES.values() if role.publishes} | {
        (role.name, "consumer") for role in ROLES.values() if role.consumes
    }
