"""A fourth role with one command: ``./manage.py startrole audit --consumes polls`` in a clone
of the committed HEAD, then, with no hand edit, that clone's lint, every role's suite, the
chart tests and ``make run`` with a poll created through the entry point reaching the new
role as an event. The clone reuses this run's virtualenv (``make VENV=…``): what is tested
is the scaffold, not the install (tests/system/test_newcomer.py tests that).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from pollsite.local.ports import port_is_free
from tests.support.clone import clone_head, free_stack_port, processes_of
from tests.support.stack import wait_for

pytestmark = [pytest.mark.stack, pytest.mark.timeout(900)]
VENV = Path(sys.executable).parent.parent
ROLE = "audit"


def run(clone: Path, *args: str, timeout: int = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), cwd=clone, env=env or clone_env(), capture_output=True, text=True, timeout=timeout, check=False)


def clone_env(**extra: str) -> dict:
    """This machine's environment without the test run's settings, servers and CI flag: the
    clone's suites run as on the role author's machine (SQLite), its stack on the embedded
    transport. This run's own suites cover PostgreSQL and RabbitMQ."""
    dropped = ("CI", "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "POLLSITE_TEST_POSTGRES", "POLLSITE_TEST_RABBITMQ", "POLLSITE_VAR_DIR")
    return {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("PYTEST_")} | extra


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    folder = clone_head(tmp_path_factory.mktemp("startrole"))
    started = time.monotonic()
    made = run(folder, sys.executable, "manage.py", "startrole", ROLE, "--consumes", "polls")
    assert made.returncode == 0, made.stdout + made.stderr
    touched = len(made.stdout.splitlines()) - 1
    print(f"\nstartrole {ROLE} --consumes polls: {touched} files written or edited in {time.monotonic() - started:.1f}s")
    return folder


def test_startrole_refuses_what_it_cannot_scaffold_and_writes_nothing(clone):
    before = run(clone, "git", "status", "--porcelain").stdout
    for args, reason in (
        (["Audit"], "lowercase letters and digits"),
        (["polls"], "already a role"),
        ([ROLE], "already a role"),  # made by the fixture
        (["json"], "taken by Python"),
        (["report", "--consumes", "vote"], "vote publishes no events"),
        (["report", "--calls", "nobody"], "no such role"),
    ):
        refused = run(clone, sys.executable, "manage.py", "startrole", *args)
        assert refused.returncode != 0 and reason in refused.stderr, (args, refused.stderr)
        assert "nothing was written" in refused.stderr and "Traceback" not in refused.stderr
    assert run(clone, "git", "status", "--porcelain").stdout == before


def test_the_new_role_is_wired_into_the_registry_the_chart_and_the_contracts(clone):
    roles = run(clone, sys.executable, "-c", "from pollsite.roles import ROLES; print(ROLES['audit'])")
    assert roles.returncode == 0 and "consumes=('polls',)" in roles.stdout, roles.stderr
    assert "  audit:\n    enabled: true\n    settingsModule: settings.audit\n" in (clone / "helm/pollsite/values.yaml").read_text()
    assert '"apps.audit"]' in (clone / "pyproject.toml").read_text()
    for path in ("apps/audit/migrations/0001_initial.py", "apps/audit/handlers.py", "settings/audit.py", "tests/audit/facts.py"):
        assert (clone / path).is_file(), path


def test_the_clones_lint_passes(clone):
    lint = run(clone, "make", "lint", f"VENV={VENV}")
    assert lint.returncode == 0, lint.stdout[-3000:] + lint.stderr[-3000:]
    assert "kept, 0 broken" in lint.stdout


def test_every_roles_suite_passes_in_the_clone_the_new_one_included(clone):
    roles = run(clone, sys.executable, "-c", "from pollsite.roles import ROLES; print(*ROLES)").stdout.split()
    assert roles[-1] == ROLE
    for role in roles:
        env = clone_env(DJANGO_SETTINGS_MODULE=f"settings.{role}", POLLSITE_VAR_DIR=str(clone / "var" / "test"))
        suite = run(clone, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/common", f"tests/{role}", env=env)
        assert suite.returncode == 0, f"{role}:\n{suite.stdout[-4000:]}"
        print(f"\n{role}: {suite.stdout.strip().splitlines()[-1]}")


def test_the_chart_tests_pass_in_the_clone(clone):
    chart = run(clone, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:django", "tests/chart")
    assert chart.returncode == 0, chart.stdout[-4000:]
    print(f"\nchart: {chart.stdout.strip().splitlines()[-1]}")


def test_make_run_serves_the_new_role_and_feeds_it_the_polls_events(clone):
    port = free_stack_port()
    while not port_is_free(port + 4):  # the stack has a fourth role port in the clone
        port = free_stack_port()
    entry = f"http://127.0.0.1:{port}"
    log_path = clone.parent / "make-run.log"
    with log_path.open("wb") as log:
        make = subprocess.Popen(
            ["make", "run", f"PORT={port}", f"VENV={VENV}"],
            cwd=clone,
            env=clone_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(lambda: "pollsite is up:" in log_path.read_text(errors="replace") or make.poll() is not None, timeout=180, what="make run")
        assert make.poll() is None, log_path.read_text(errors="replace")[-4000:]
        assert f"{entry}/audit/api/docs/" in log_path.read_text()

        def front_door() -> dict[str, bool]:
            door = requests.get(entry + "/", headers={"Accept": "application/json"}, timeout=10).json()
            return {r["name"]: r["up"] for r in door["roles"]}

        wait_for(lambda: front_door().get(ROLE), timeout=30, what="the front door reporting audit up")
        assert list(front_door())[-1] == ROLE
        token = run(clone, sys.executable, "manage.py", "--role", "polls", "issue_token", "--sub", "alice").stdout.strip()
        headers = {"Authorization": f"Bearer {token}"}
        poll = requests.post(f"{entry}/polls/api/v1/polls/", json={"question": "Audited?"}, headers=headers, timeout=10)
        assert poll.status_code == 201, poll.text
        note = requests.post(f"{entry}/audit/api/v1/entries/", json={"text": "by hand"}, headers=headers, timeout=10)
        assert note.status_code == 201 and note.json()["author"] == "alice", note.text

        def entries() -> list[dict]:
            return requests.get(f"{entry}/audit/api/v1/entries/", timeout=10).json()["results"]

        took = wait_for(lambda: any(e["text"].startswith("polls.poll.created ") for e in entries()), what="poll.created reaching audit")
        [event] = [e for e in entries() if e["author"] == "polls"]
        assert json.loads(event["text"].split(" ", 1)[1])["question"] == "Audited?"
        print(f"\nmake run in the clone: poll.created reached audit {took:.2f}s after the poll was created")
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGINT)
        make.wait(timeout=60)
    deadline = time.monotonic() + 20
    while (left := processes_of(clone)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, "Ctrl-C left processes running:\n" + "\n".join(left)
    assert "Traceback" not in log_path.read_text(errors="replace")
