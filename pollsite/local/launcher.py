"""``make run``: every role as its own processes, plus the entry point, under honcho.

For each role in the registry: migrate its own SQLite database, then start its gunicorn
(its settings module, its port), its event relay if it publishes and its consumer if it
consumes; then the gateway on :8000. Ctrl-C stops them all.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

from honcho.manager import Manager

from pollsite.localenv import load_local_env
from pollsite.roles import GATEWAY_PORT, ROLES

ROOT = Path(__file__).resolve().parents[2]


def role_env(role, base: dict) -> dict:
    env = dict(base)
    env["DJANGO_SETTINGS_MODULE"] = role.settings_module
    env["PROMETHEUS_MULTIPROC_DIR"] = str(ROOT / "var" / "prometheus" / role.name)
    return env


def processes(python: str = sys.executable, *, workers: int = 2, roles: list[str] | None = None) -> dict[str, tuple[str, dict]]:
    """{process name: (command, environment)} for the local stack (every role, or ``roles``)."""
    base = dict(os.environ, PYTHONUNBUFFERED="1")
    manage = f"{python} {ROOT / 'manage.py'}"
    stack = {}
    for role in ROLES.values():
        if roles and role.name not in roles:
            continue
        env = role_env(role, base)
        env.update(GUNICORN_BIND=f"127.0.0.1:{role.local_port}", GUNICORN_WORKERS=str(workers))
        stack[f"{role.name}"] = (f"{python} -m gunicorn -c {ROOT / 'pollsite' / 'gunicorn_conf.py'} pollsite.wsgi", env)
        # The relay and the consumer are single processes: their metrics stay in memory
        # (gunicorn wipes its multiprocess directory at start, which would lose theirs).
        worker_env = {k: v for k, v in env.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
        if role.publishes:
            stack[f"{role.name}-relay"] = (f"{manage} relay_events", worker_env)
        if role.consumes:
            stack[f"{role.name}-consumer"] = (f"{manage} consume_events", worker_env)
    stack["gateway"] = (f"{python} -m pollsite.local.gateway --port {GATEWAY_PORT}", base)
    return stack


def migrate_all(python: str = sys.executable, roles: list[str] | None = None) -> None:
    for role in ROLES.values():
        if roles and role.name not in roles:
            continue
        print(f"migrating the {role.name} role's database", flush=True)
        subprocess.run(
            [python, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"],
            env=role_env(role, dict(os.environ)),
            cwd=ROOT,
            check=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the whole pollsite stack locally.")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per role (default 2)")
    parser.add_argument("--roles", default="", help="comma-separated roles to start (default: all of them)")
    args = parser.parse_args()
    roles = [name.strip() for name in args.roles.split(",") if name.strip()]
    for name in roles:
        if name not in ROLES:
            parser.error(f"unknown role {name!r}; the roles are: {', '.join(ROLES)}")
    load_local_env()
    os.chdir(ROOT)
    (ROOT / "var").mkdir(exist_ok=True)
    migrate_all(roles=roles)
    manager = Manager()
    for name, (command, env) in processes(workers=args.workers, roles=roles).items():
        manager.add_process(name, command, env=env, cwd=str(ROOT))
    print(
        f"pollsite is starting: http://127.0.0.1:{GATEWAY_PORT}/ routes "
        + ", ".join(role.url_prefix() for role in ROLES.values() if not roles or role.name in roles)
        + " (Ctrl-C stops everything)",
        flush=True,
    )
    manager.loop()
    sys.exit(manager.returncode)


if __name__ == "__main__":
    main()
