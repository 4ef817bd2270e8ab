"""The README's door, walked as a newcomer walks it.

A clone of the committed HEAD in an empty folder (no ``var/``, no ``.venv``; only pip's
cache is shared), ``make run`` exactly as the README says (on a free port), then the shell
block under "Calling the roles" read out of the clone's README.md and run as it stands,
every answer it promises checked; then Ctrl-C, and no process of the clone may be left.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from pollsite.local.ports import port_is_free, stack_ports
from pollsite.roles import ROLES
from tests.support.clone import clone_head, free_stack_port, processes_of

pytestmark = pytest.mark.stack

#: What a person's shell has; everything else (CI's test variables, a virtualenv) stays out.
NEWCOMER_ENV = ("PATH", "HOME", "USER", "LANG", "LC_ALL", "TERM", "TMPDIR", "PYENV_ROOT", "PIP_CACHE_DIR", "PIP_INDEX_URL")
#: A cold install (empty pip cache) takes minutes; a warm one well under one.
INSTALL_TIMEOUT = 900
STATUS = re.compile(r"\n@@status=(\d{3})@@\n")


def walkthrough(readme: str) -> str:
    """The ```sh block under '## Calling the roles', as a reader would copy it."""
    section = readme.split("\n## Calling the roles\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```sh\n", 1)[1].split("\n```", 1)[0] + "\n"


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    folder = clone_head(tmp_path_factory.mktemp("newcomer"))
    assert not (folder / "var").exists() and not (folder / ".venv").exists()
    return folder


@pytest.fixture(scope="module")
def newcomer_env() -> dict:
    return {name: os.environ[name] for name in NEWCOMER_ENV if name in os.environ}


def test_a_taken_port_stops_make_run_at_once_with_what_to_do(clone, newcomer_env):
    port = free_stack_port()
    taken_port = ROLES["choice"].local_port(port)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", taken_port))
        holder.listen()
        started = time.monotonic()
        result = subprocess.run(
            ["make", "run", f"PORT={port}"], cwd=clone, env=newcomer_env, capture_output=True, text=True, timeout=60, check=False
        )
        took = time.monotonic() - started
    assert result.returncode != 0
    assert f"port {taken_port} (the choice role) is already in use" in result.stderr
    assert f"make run PORT={port + 1000}" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert took < 10, f"a taken port should stop make run before anything is installed ({took:.1f}s)"
    assert not (clone / ".venv").exists(), "nothing is installed when the stack could not start"


def test_fresh_clone_make_run_then_the_readme_walkthrough_then_ctrl_c(clone, newcomer_env):
    port = free_stack_port()
    log_path = clone.parent / "make-run.log"
    started = time.monotonic()
    with log_path.open("wb") as log:
        make = subprocess.Popen(
            ["make", "run", f"PORT={port}"], cwd=clone, env=newcomer_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        output = _wait_for_banner(make, log_path, started)
        print(f"\nfresh clone: make run answered after {time.monotonic() - started:.1f}s")
        _check_what_make_run_said(output, port)

        script = walkthrough((clone / "README.md").read_text())
        # The block runs as written; curl is only shadowed to also report each status code.
        instrumented = "set -eu\ncurl() { command curl \"$@\" -w '\\n@@status=%{http_code}@@\\n'; }\n" + script
        walk = subprocess.run(
            ["bash", "-c", instrumented],
            cwd=clone,
            env=dict(newcomer_env, PORT=str(port)),
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert walk.returncode == 0 and not walk.stderr, walk.stderr
        _check_every_answer(walk.stdout, script)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGINT)  # Ctrl-C in the terminal: SIGINT to the foreground group
        code = make.wait(timeout=60)

    assert code in (2, 130, -signal.SIGINT), f"make run ended with {code}"
    deadline = time.monotonic() + 20
    while (left := processes_of(clone)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, "Ctrl-C left processes running:\n" + "\n".join(left)
    assert all(port_is_free(p) for p in stack_ports(port).values())
    assert "Traceback" not in log_path.read_text(errors="replace")


def _wait_for_banner(make: subprocess.Popen, log_path: Path, started: float) -> str:
    deadline = started + INSTALL_TIMEOUT
    while time.monotonic() < deadline:
        output = log_path.read_text(errors="replace")
        if "pollsite is up:" in output:
            return output
        if make.poll() is not None:
            pytest.fail(f"make run exited with {make.returncode} before the stack answered:\n{output[-4000:]}")
        time.sleep(0.5)
    pytest.fail(f"the stack did not answer within {INSTALL_TIMEOUT}s:\n{log_path.read_text(errors='replace')[-4000:]}")


def _check_what_make_run_said(output: str, port: int) -> None:
    install = output.index("Installing pollsite's ")
    assert "locked packages into .venv" in output[install:] and "minutes" in output[install:]
    assert install < output.index("Collecting "), "the install is announced before it starts"
    assert output.index("Collecting ") < output.index("pollsite is up:")
    banner = output[output.index("pollsite is up:") :]
    entry = f"http://127.0.0.1:{port}"
    assert f"pollsite is up: {entry}/" in banner
    for role in ROLES.values():
        assert f"{entry}{role.default_prefix}api/docs/" in banner and f"{entry}{role.default_prefix}admin/" in banner
    assert "manage.py --role polls issue_token --sub alice" in banner


#: What each call of the walk-through must answer beyond what README.md writes after it.
BODIES = [
    lambda b: b["id"] == 1 and b["question"] == "Tea or coffee?" and b["creator"] == "alice" and b["status"] == "open",
    lambda b: b == {"id": 1, "poll_id": 1, "text": "Tea", "order": 1},
    lambda b: b == {"id": 2, "poll_id": 1, "text": "Coffee", "order": 2},
    lambda b: b["poll_id"] == 1 and b["choice_id"] == 2 and b["voter"] == "bob",
    lambda b: b["error"]["status"] == 409 and b["request_id"],
    lambda b: b == {"poll_id": 1, "total": 1, "choices": [{"choice_id": 1, "votes": 0}, {"choice_id": 2, "votes": 1}]},
    lambda b: b["choice_id"] == 2 and b["voter"] == "bob",
    lambda b: (
        b["poll"]["question"] == "Tea or coffee?"
        and [c["text"] for c in b["choices"]] == ["Tea", "Coffee"]
        and b["results"]["total"] == 1
        and b["missing"] == []
    ),
    lambda b: b["status"] == "closed" and b["closed_at"],
    lambda b: b["error"]["status"] == 409 and b["request_id"],
    lambda b: b is None,
    lambda b: b == [],
    lambda b: b["error"]["status"] == 404 and b["request_id"],
]
#: What README.md says a call answers: "# → 409 already_voted" (a status, then the error code of a refusal).
ANNOUNCED = re.compile(r"#\s*→\s*(\d{3})(?:\s+([a-z_]+)\b)?")


def announced_answers(script: str) -> list[tuple[int, str | None]]:
    """(status, error code or None) that README.md writes after each curl call, in order."""
    answers = []
    for line in script.replace("\\\n", " ").splitlines():
        if not line.lstrip().startswith("curl "):
            continue
        found = ANNOUNCED.search(line)
        assert found, f"README.md does not say what this call answers (add '# → <status>'): {line}"
        status = int(found.group(1))
        answers.append((status, found.group(2) if status >= 400 else None))
    return answers


def _check_every_answer(stdout: str, script: str) -> None:
    parts = STATUS.split(stdout)  # body, status, body, status, ..., trailing text
    answers = [(int(status), body) for body, status in zip(parts[0::2], parts[1::2], strict=False)]
    promised = announced_answers(script)
    assert len(answers) == len(promised) == len(BODIES), (
        f"the walk-through made {len(answers)} calls, README.md announces {len(promised)} answers "
        f"and this test checks {len(BODIES)} bodies: change them together"
    )
    for number, ((status, body), (want_status, want_code), body_ok) in enumerate(zip(answers, promised, BODIES, strict=True), start=1):
        parsed = json.loads(body) if body.strip() else None
        assert status == want_status, f"call {number} answered {status}, README.md says {want_status}: {body}"
        if want_code is not None:
            assert parsed["error"]["code"] == want_code, f"call {number} answered {body}, README.md says {want_code}"
        assert body_ok(parsed), f"call {number} answered {body}"
