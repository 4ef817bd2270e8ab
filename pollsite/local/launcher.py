"""``make run``: every role as its own processes, plus the entry point, under honcho.

For each role in the registry: migrate its own SQLite database, then start its gunicorn
(its settings module, its port), its event relay if it publishes and its consumer if it
consumes; then the entry point, on :8000 unless ``--port`` moves it (the roles listen on
the ports just above it). Once every role answers, it prints where to go. Ctrl-C stops
them all.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from honcho.manager import Manager

from pollsite.config.localenv import load_local_env
from pollsite.local.ports import taken_ports_message, valid_port
from pollsite.roles import GATEWAY_PORT, ROLES

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_SECONDS = 120


def stack_env(gateway_port: int) -> dict:
    """What every process of the stack shares: where each role listens."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", POLLSITE_GATEWAY_PORT=str(gateway_port))
    for role in ROLES.values():
        env[f"{role.env_prefix}URL"] = f"http://127.0.0.1:{role.local_port(gateway_port)}"
    return env


def role_env(role, base: dict) -> dict:
    return dict(base, DJANGO_SETTINGS_MODULE=role.settings_module)


def processes(
    python: str = sys.executable, *, workers: int = 2, roles: list[str] | None = None, gateway_port: int = GATEWAY_PORT
) -> dict[str, tuple[str, dict]]:
    """{process name: (command, environment)} for the local stack (every role, or ``roles``)."""
    base = stack_env(gateway_port)
    manage = f"{python} {ROOT / 'manage.py'}"
    stack = {}
    for role in ROLES.values():
        if roles and role.name not in roles:
            continue
        env = role_env(role, base)
        # Only gunicorn sums its workers' metrics through files; the relay and the consumer
        # are single processes whose metrics stay in memory.
        web_env = dict(
            env,
            GUNICORN_BIND=f"127.0.0.1:{role.local_port(gateway_port)}",
            GUNICORN_WORKERS=str(workers),
            PROMETHEUS_MULTIPROC_DIR=str(ROOT / "var" / "prometheus" / role.name),
        )
        stack[role.name] = (f"{python} -m gunicorn -c {ROOT / 'pollsite' / 'config' / 'gunicorn.py'} pollsite.config.wsgi", web_env)
        if role.publishes:
            stack[f"{role.name}-relay"] = (f"{manage} relay_events", env)
        if role.consumes:
            stack[f"{role.name}-consumer"] = (f"{manage} consume_events", env)
    stack["gateway"] = (f"{python} -m pollsite.local.gateway --port {gateway_port}", base)
    return stack


def migrate_all(python: str = sys.executable, roles: list[str] | None = None, gateway_port: int = GATEWAY_PORT) -> None:
    for role in ROLES.values():
        if roles and role.name not in roles:
            continue
        print(f"migrating the {role.name} role's database", flush=True)
        subprocess.run(
            [python, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"],
            env=role_env(role, stack_env(gateway_port)),
            cwd=ROOT,
            check=True,
        )


def where_to_go(gateway_port: int, roles: list[str]) -> str:
    entry = f"http://127.0.0.1:{gateway_port}"
    lines = [f"pollsite is up: {entry}/ (every role, whether it is up, and its links)"]
    for name in roles:
        prefix = ROLES[name].url_prefix()
        lines.append(f"  {name:<7} API docs {entry}{prefix}api/docs/   admin {entry}{prefix}admin/")
    lines += [
        "  a token:  .venv/bin/python manage.py --role polls issue_token --sub alice",
        "  an admin user:  .venv/bin/python manage.py --role vote createsuperuser",
        '  a walk-through: README.md, "Calling the roles".  Ctrl-C stops every process.',
    ]
    return "\n".join(lines)


def roles_up(gateway_port: int) -> set[str]:
    """The roles the entry point's front door reports as up (empty while it does not answer)."""
    request = urllib.request.Request(f"http://127.0.0.1:{gateway_port}/", headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310 - our own local URL
            return {role["name"] for role in json.load(response)["roles"] if role["up"]}
    except (OSError, ValueError, KeyError):
        return set()


def announce_when_up(gateway_port: int, roles: list[str]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if set(roles) <= roles_up(gateway_port):
            print(where_to_go(gateway_port, roles), flush=True)
            return
        time.sleep(0.5)
    missing = sorted(set(roles) - roles_up(gateway_port))
    print(
        f"pollsite: after {READY_TIMEOUT_SECONDS}s these roles still do not answer: {', '.join(missing)}; see their lines above.",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the whole pollsite stack locally.")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per role (default 2)")
    parser.add_argument("--roles", default="", help="comma-separated roles to start (default: all of them)")
    parser.add_argument(
        "--port",
        type=valid_port,
        default=GATEWAY_PORT,
        help=f"the entry point's port (default {GATEWAY_PORT}); the roles use the next ones",
    )
    args = parser.parse_args()
    roles = [name.strip() for name in args.roles.split(",") if name.strip()]
    for name in roles:
        if name not in ROLES:
            parser.error(f"unknown role {name!r}; the roles are: {', '.join(ROLES)}")
    roles = roles or list(ROLES)
    taken = taken_ports_message(args.port, roles)
    if taken:
        sys.exit(taken)
    load_local_env()
    os.chdir(ROOT)
    migrate_all(roles=roles, gateway_port=args.port)
    manager = Manager()
    for name, (command, env) in processes(workers=args.workers, roles=roles, gateway_port=args.port).items():
        manager.add_process(name, command, env=env, cwd=str(ROOT))
    print(
        f"pollsite is starting: http://127.0.0.1:{args.port}/ routes "
        + ", ".join(ROLES[name].url_prefix() for name in roles)
        + " (Ctrl-C stops everything)",
        flush=True,
    )
    threading.Thread(target=announce_when_up, args=(args.port, roles), daemon=True).start()
    manager.loop()
    sys.exit(manager.returncode)


if __name__ == "__main__":
    main()
