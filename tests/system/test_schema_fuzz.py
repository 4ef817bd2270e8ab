"""schemathesis against each role's OpenAPI schema, every operation, with a valid token.

Runs the real CLI against the roles as gunicorn processes on PostgreSQL: valid and
invalid inputs generated from the schema (examples, coverage and fuzzing phases). A run
fails on any 5xx, on any status code the schema does not document, and on any response
whose body, headers or content type break the schema.
"""

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import requests

from tests.support.services import require
from tests.support.stack import Stack

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance"
MAX_EXAMPLES = int(os.environ.get("POLLSITE_FUZZ_EXAMPLES", "30"))
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
SEED = os.environ.get("POLLSITE_FUZZ_SEED", "20261123")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("fuzz") / "stack", postgres_url=require("postgres"))
    try:
        stack.prepare()
        for role in ("polls", "choice", "vote"):
            stack.start_web(role, workers=2)
        yield stack
    finally:
        stack.close()


def schemathesis_cli() -> str:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or shutil.which("schemathesis")
    assert found, "schemathesis is a dev dependency (requirements/dev.in)"
    return found


def known_ids(stack, role: str) -> tuple[list[int], list[int]]:
    """Fresh polls and choices that exist, so generated requests get past the 404s: owned
    by the fuzzer's token subject (it may change them) and, but for vote, one by someone
    else (403). Vote gets one poll, so a known poll id and a known choice id always match."""
    creators = ["fuzzer"] if role == "vote" else ["fuzzer", "fuzzer", "someone-else"]
    polls, choices = [], []
    for creator in creators:
        poll_id, choice_ids = stack.poll_with_choices(3, creator=creator)
        polls.append(poll_id)
        choices += choice_ids
    if role == "vote":  # someone voted already: the vote role knows the poll, its results answer 200
        warm = requests.post(
            stack.url("vote", f"polls/{polls[0]}/votes/"), json={"choice_id": choices[0]}, headers=stack.auth("warm"), timeout=10
        )
        assert warm.status_code == 201, warm.text
    return polls, choices


def config_file(path: Path, polls: list[int], choices: list[int]) -> Path:
    """schemathesis config: known ids drawn half of the time for ids in paths and bodies."""
    path.write_text(
        f"""
[dictionaries.polls]
values = {polls}

[dictionaries.choices]
values = {choices}

[parameters]
"path.poll_id" = {{ dictionary = "polls", probability = 0.5 }}
"path.choice_id" = {{ dictionary = "choices", probability = 0.5 }}
"body.choice_id" = {{ dictionary = "choices", probability = 0.5 }}
"""
    )
    return path


@pytest.mark.parametrize("role", ["polls", "choice", "vote"])
def test_schemathesis_finds_nothing(stack, role, tmp_path):
    base = f"http://127.0.0.1:{stack.ports[role]}"
    command = [
        schemathesis_cli(),
        "--config-file",
        str(config_file(tmp_path / "schemathesis.toml", *known_ids(stack, role))),
        "run",
        f"{base}/{role}/api/schema/",
        "--url",
        base,
        "--checks",
        CHECKS,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        SEED,
        "--phases",
        "examples,coverage,fuzzing",
        "--request-timeout",
        "10",
        "--header",
        f"Authorization: Bearer {stack.token('fuzzer')}",
        "--no-color",
        "--report",
        "har",
        "--report-dir",
        str(tmp_path),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, env={**os.environ, "NO_COLOR": "1"})
    output = result.stdout + result.stderr
    summary = output[output.rfind("SUMMARY") :].splitlines()[1:] if "SUMMARY" in output else output.splitlines()[-20:]
    print(f"\n[schemathesis {role}] exit {result.returncode}, seed {SEED}, up to {MAX_EXAMPLES} examples per operation")
    for line in summary:
        if line.strip() and not line.startswith("="):
            print(f"[schemathesis {role}] {line.rstrip()}")
    statuses = Counter((entry["request"]["method"], entry["response"]["status"]) for entry in har_entries(tmp_path))
    writes_applied = sum(n for (method, status), n in statuses.items() if method in WRITES and 200 <= status < 300)
    print(f"[schemathesis {role}] {sum(statuses.values())} requests sent; (method, status): {dict(sorted(statuses.items()))}")
    print(f"[schemathesis {role}] writes that succeeded (the core logic was reached, not only validation): {writes_applied}")
    errors = stack_errors(stack, role)
    assert result.returncode == 0, output[-6000:]
    assert not errors, errors[:3]
    assert not [key for key in statuses if key[1] >= 500]
    assert writes_applied > 0


def har_entries(report_dir: Path) -> list[dict]:
    """Every request the run sent and what came back (its HAR report)."""
    return [entry for har in report_dir.glob("har*.json") for entry in json.loads(har.read_text())["log"]["entries"]]


def stack_errors(stack, role: str) -> list[str]:
    """Tracebacks in the role's own log: a 5xx the CLI might not have seen."""
    return [p.output() for p in stack.processes if p.name == f"{role}-web" and "Traceback" in p.output()]
