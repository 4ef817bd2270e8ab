"""Start pollsite's roles as real, separate processes for system tests.

Each role gets its own database (a fresh PostgreSQL database, or a SQLite file), its
own port, and the processes the registry says it runs (gunicorn, relay, consumer).
A unique events namespace keeps a test's exchange and queues apart from any other
run sharing the broker. Everything is stopped and dropped at the end.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import requests

from pollsite.roles import ROLES

ROOT = Path(__file__).resolve().parents[2]
LOCAL_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "test-secret-key-for-system-tests-only-0123456789",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DJANGO_SECURE_COOKIES": "false",
    "JWT_SECRET": "test-jwt-secret-for-system-tests-only-0123456789",
    # One subject writes far faster here than a person would; the limits have tests of their own.
    "POLLSITE_RATE_WRITES_PER_SUBJECT": "1000000/minute",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Stack:
    workdir: Path
    postgres_url: str | None = None  # None: SQLite files in workdir
    broker_url: str | None = None  # None: kombu's filesystem transport in workdir
    namespace: str = field(default_factory=lambda: "t" + uuid.uuid4().hex[:10])
    extra_env: dict = field(default_factory=dict)
    ports: dict = field(default_factory=dict)
    processes: list = field(default_factory=list)
    databases: list = field(default_factory=list)

    def __post_init__(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        for role in ROLES:
            self.ports.setdefault(role, free_port())

    # --- configuration -------------------------------------------------------------
    def database_url(self, role: str) -> str:
        if self.postgres_url is None:
            return f"sqlite:///{self.workdir / (role + '.sqlite3')}"
        return f"{self.postgres_url.rstrip('/')}/{self.namespace}_{role}"

    def env(self, role: str, **overrides) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "PYTEST_"))}
        env.update(LOCAL_ENV)
        env.update(
            DJANGO_SETTINGS_MODULE=ROLES[role].settings_module,
            DATABASE_URL=self.database_url(role),
            EVENTS_BROKER_URL=self.broker_url or "filesystem://localhost/",
            EVENTS_NAMESPACE=self.namespace,
            POLLSITE_VAR_DIR=str(self.workdir),
            PYTHONUNBUFFERED="1",
            EVENTS_RELAY_IDLE_SECONDS="0.05",
        )
        for other in ROLES.values():
            env[f"{other.env_prefix}URL"] = f"http://127.0.0.1:{self.ports[other.name]}"
        if self.broker_url:  # one shared broker user here; tests/support/rabbitmq.py gives each role its own
            user = urlparse(self.broker_url).username or "guest"
            env["EVENTS_PUBLISHER_USERS"] = ",".join(f"{role.name}={user}" for role in ROLES.values() if role.publishes)
        env.update(self.extra_env)
        env.update(overrides)
        return env

    # --- lifecycle -----------------------------------------------------------------
    def create_databases(self) -> None:
        if self.postgres_url is None:
            return
        from tests.support.databases import databases_create

        names = [f"{self.namespace}_{role}" for role in ROLES]
        databases_create(self.postgres_url, names)
        self.databases.extend(names)

    def drop_databases(self) -> None:
        if not self.databases:
            return
        from tests.support.databases import databases_drop

        databases_drop(self.postgres_url, self.databases)
        self.databases.clear()

    def manage(self, role: str, *args: str, check: bool = True, **env) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            cwd=ROOT,
            env=self.env(role, **env),
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )

    def prepare(self) -> None:
        """Each role's database created and migrated; no process started yet."""
        self.create_databases()
        self.migrate()

    def migrate(self) -> None:
        for role in ROLES:
            self.manage(role, "migrate", "--noinput", "-v", "0")

    def spawn(self, name: str, role: str, argv: list[str], **env) -> Process:
        log = self.workdir / f"{name}.{len(self.processes)}.log"
        popen = subprocess.Popen(
            argv, cwd=ROOT, env=self.env(role, **env), stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
        )
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def start_web(self, role: str, *, port: int | None = None, workers: int = 1, **env) -> Process:
        port = port or self.ports[role]
        # Like a pod: the workers' metrics are summed from a directory of this process's own.
        env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(self.workdir / "prometheus" / f"{role}-{port}"))
        process = self.spawn(
            f"{role}-web",
            role,
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "pollsite" / "config" / "gunicorn.py"), "pollsite.config.wsgi"],
            GUNICORN_BIND=f"127.0.0.1:{port}",
            GUNICORN_WORKERS=str(workers),
            **env,
        )
        self.wait_ready(role, port=port, process=process)
        return process

    def start_relay(self, role: str, **env) -> Process:
        return self.spawn(f"{role}-relay", role, [sys.executable, str(ROOT / "manage.py"), "relay_events"], **env)

    def start_consumer(self, role: str, **env) -> Process:
        return self.spawn(f"{role}-consumer", role, [sys.executable, str(ROOT / "manage.py"), "consume_events"], **env)

    def start(self, *, workers: int = 1) -> Stack:
        """Databases, migrations, then every role's web, relay and consumer processes."""
        self.prepare()
        for role in ROLES.values():
            self.start_web(role.name, workers=workers)
            if role.publishes:
                self.start_relay(role.name)
            if role.consumes:
                self.start_consumer(role.name)
        return self

    def wait_ready(self, role: str, *, port: int | None = None, process: Process | None = None, timeout: float = 30) -> float:
        return wait_ready(f"http://127.0.0.1:{port or self.ports[role]}/readyz", process, timeout=timeout)

    def stop(self, process: Process, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if process.alive():
            os.killpg(process.popen.pid, sig)
        try:
            return process.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.popen.pid, signal.SIGKILL)
            return process.popen.wait(timeout=10)

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            if process.alive():
                self.stop(process)

    def close(self) -> None:
        self.stop_all()
        self.drop_databases()
        if self.broker_url:
            self._delete_broker_objects()

    def _delete_broker_objects(self) -> None:
        from kombu import Connection

        try:
            with Connection(self.broker_url, connect_timeout=3) as conn:
                channel = conn.channel()
                for role in ROLES:
                    channel.queue_delete(f"{self.namespace}.{role}.events")
                channel.exchange_delete(f"{self.namespace}.events")
        except Exception:  # noqa: BLE001, S110 - cleanup is best effort
            pass

    # --- calling the roles -----------------------------------------------------------
    def url(self, role: str, path: str = "") -> str:
        return f"http://127.0.0.1:{self.ports[role]}{ROLES[role].default_prefix}api/v1/{path.lstrip('/')}"

    def token(self, subject: str) -> str:
        from tests.support.tokens import local_token

        return local_token(subject)

    def auth(self, subject: str) -> dict:
        return {"Authorization": f"Bearer {self.token(subject)}"}

    def create_poll(self, question: str = "Which?", *, creator: str = "alice") -> int:
        """A poll created through the polls API; its id."""
        response = requests.post(self.url("polls", "polls/"), json={"question": question}, headers=self.auth(creator), timeout=10)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def add_choice(self, poll_id: int, text: str, *, creator: str = "alice") -> int:
        """A choice added through the choice API (which asks polls); its id."""
        response = requests.post(
            self.url("choice", f"polls/{poll_id}/choices/"), json={"text": text}, headers=self.auth(creator), timeout=10
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def poll_with_choices(self, count: int = 2, *, creator: str = "alice") -> tuple[int, list[int]]:
        """A poll and ``count`` choices: (poll id, choice ids)."""
        poll_id = self.create_poll(creator=creator)
        return poll_id, [self.add_choice(poll_id, f"Option {n}", creator=creator) for n in range(count)]

    def inject_fault(self, role: str, table: str, *, column: str, at_least: int) -> None:
        """Make inserts into ``table`` of ``role``'s database fail when ``column >= at_least``:
        a stand-in for a handler bug, hit only by the events a test aims at it."""
        self.query(
            role,
            f"""CREATE FUNCTION injected_fault_{table}() RETURNS trigger AS $$
            BEGIN
              IF NEW.{column} >= {int(at_least)} THEN RAISE EXCEPTION 'injected fault for {column} %%', NEW.{column}; END IF;
              RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER injected_fault BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION injected_fault_{table}();""",
        )

    def query(self, role: str, sql: str, params=()) -> list[tuple]:
        """Run SQL in one role's own PostgreSQL database (what that role really stored); the rows."""
        import psycopg2

        connection = psycopg2.connect(self.database_url(role))
        try:
            with connection, connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else []
        finally:
            connection.close()


def wait_ready(url: str, process: Process | None = None, *, timeout: float = 60) -> float:
    """Poll ``url`` (a /readyz) until it answers 200; the seconds it took. Fails at once if
    ``process`` exits, and with its output on timeout."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process is not None and not process.alive():
            raise RuntimeError(f"{process.name} exited:\n{process.output()[-3000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.01)
    raise TimeoutError(f"not ready at {url} after {timeout}s:\n{process.output()[-3000:] if process else ''}")


def wait_for(predicate, *, timeout: float = 30, interval: float = 0.05, what: str = "condition") -> float:
    """Poll until ``predicate()`` is truthy; the seconds it took. Raises on timeout."""
    started = time.monotonic()
    while True:
        if predicate():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{what} not reached within {timeout}s")
        time.sleep(interval)
