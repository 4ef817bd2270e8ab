"""The RabbitMQ users of an install, derived from the role registry, and creating them.

Each role that publishes gets a publisher user (its relay): it may declare the exchange
and its consumers' queues, and publish on the exchange only routing keys that start with
``<role>.`` (topic permissions). Each role that consumes gets a consumer user: it may
declare and read its own queue, and publish nothing. Web pods get no user (they write
the outbox; the relay publishes).

    python -m pollsite.events.broker_users print --vhost / --namespace pollsite
    python -m pollsite.events.broker_users apply --vhost / --namespace pollsite --password-dir DIR

``apply`` runs ``rabbitmqctl`` (as root on the broker's host) and is idempotent: existing
users get their password and permissions set again. Passwords are read from
``DIR/<user>`` or, when missing, generated there (mode 0600). docs/DEPLOY.md shows the
commands it runs.
"""

from __future__ import annotations

import argparse
import re
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from pollsite.roles import ROLES

#: Default user name of a role's process kind ("publisher" or "consumer"); settings'
#: EVENTS_PUBLISHER_USERS falls back to the same spelling.
USER_TEMPLATE = "{prefix}-{role}-{kind}"


@dataclass(frozen=True)
class BrokerUser:
    name: str
    role: str
    kind: str  # "publisher" or "consumer"
    configure: str
    write: str
    read: str
    topic_write: str
    topic_read: str = ".*"


def _any_of(names: list[str]) -> str:
    return "^(" + "|".join(re.escape(name) for name in names) + ")$"


def broker_users(*, namespace: str, prefix: str = "pollsite") -> list[BrokerUser]:
    """Every broker user an install needs, with its permissions, for exchange ``<namespace>.events``."""
    exchange = f"{namespace}.events"
    users = []
    for role in ROLES.values():
        if role.publishes:
            queues = [f"{namespace}.{other.name}.events" for other in ROLES.values() if role.name in other.consumes]
            users.append(
                BrokerUser(
                    name=USER_TEMPLATE.format(prefix=prefix, role=role.name, kind="publisher"),
                    role=role.name,
                    kind="publisher",
                    configure=_any_of([exchange, *queues]),  # the relay declares its consumers' queues first
                    write=_any_of([exchange, *queues]),  # publish on the exchange; bind those queues to it
                    read=_any_of([exchange]),  # binding needs read on the exchange; no queue can be read
                    topic_write=f"^{re.escape(role.name)}\\.",
                )
            )
        if role.consumes:
            queue = f"{namespace}.{role.name}.events"
            users.append(
                BrokerUser(
                    name=USER_TEMPLATE.format(prefix=prefix, role=role.name, kind="consumer"),
                    role=role.name,
                    kind="consumer",
                    configure=_any_of([exchange, queue]),
                    write=_any_of([queue]),  # bind its own queue; no exchange can be published to
                    read=_any_of([exchange, queue]),
                    topic_write="^$",
                )
            )
    return users


def rabbitmqctl_commands(users: list[BrokerUser], *, vhost: str, namespace: str) -> list[list[str]]:
    """The permission commands for ``users`` (the users themselves are added by :func:`apply`)."""
    exchange = f"{namespace}.events"  # topic permissions name the exchange itself, not a pattern
    commands = []
    for user in users:
        commands.append(["rabbitmqctl", "set_permissions", "-p", vhost, user.name, user.configure, user.write, user.read])
        commands.append(["rabbitmqctl", "set_topic_permissions", "-p", vhost, user.name, exchange, user.topic_write, user.topic_read])
    return commands


def _run(command: list[str], *, ok_if: str = "") -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0 and not (ok_if and ok_if in (result.stdout + result.stderr)):
        raise RuntimeError(f"{' '.join(command[:3])} failed ({result.returncode}): {result.stderr.strip() or result.stdout.strip()}")


def apply(users: list[BrokerUser], *, vhost: str, namespace: str, passwords: dict[str, str]) -> None:
    """Create (or update) ``users`` on the local broker with ``passwords`` and their permissions."""
    _run(["rabbitmqctl", "add_vhost", vhost], ok_if="already")
    for user in users:
        # "--": a password may start with "-", which rabbitmqctl would otherwise read as an option.
        _run(["rabbitmqctl", "add_user", "--", user.name, passwords[user.name]], ok_if="already")
        _run(["rabbitmqctl", "change_password", "--", user.name, passwords[user.name]])
    for command in rabbitmqctl_commands(users, vhost=vhost, namespace=namespace):
        _run(command)


def delete(users: list[BrokerUser], *, vhost: str | None = None) -> None:
    """Remove ``users`` (and ``vhost``, if given): what a test created."""
    for user in users:
        _run(["rabbitmqctl", "delete_user", user.name], ok_if="not exist")
    if vhost:
        _run(["rabbitmqctl", "delete_vhost", vhost], ok_if="not exist")


def stored_passwords(users: list[BrokerUser], folder: Path) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    passwords = {}
    for user in users:
        path = folder / user.name
        if not path.exists():
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(24))
        passwords[user.name] = path.read_text().strip()
    return passwords


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m pollsite.events.broker_users", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["print", "apply"])
    parser.add_argument("--vhost", default="/")
    parser.add_argument("--namespace", default="pollsite", help="EVENTS_NAMESPACE of the install")
    parser.add_argument("--prefix", default="pollsite", help="user names are <prefix>-<role>-publisher|consumer")
    parser.add_argument("--password-dir", type=Path, help="apply: one file per user holding its password (created if missing)")
    args = parser.parse_args(argv)
    users = broker_users(namespace=args.namespace, prefix=args.prefix)
    if args.action == "print":
        for user in users:
            print(f"rabbitmqctl add_user {user.name} '<password>'   # {user.role} {user.kind}")
        for command in rabbitmqctl_commands(users, vhost=args.vhost, namespace=args.namespace):
            print(" ".join(command[:4]) + " " + " ".join(f"'{part}'" for part in command[4:]))
        return 0
    if args.password_dir is None:
        parser.error("apply needs --password-dir")
    apply(users, vhost=args.vhost, namespace=args.namespace, passwords=stored_passwords(users, args.password_dir))
    print(f"{len(users)} broker users ready on vhost {args.vhost!r}: {', '.join(user.name for user in users)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
