#!/usr/bin/env python
"""Run every test suite, each role's under its own settings module (one per process).

- ``tests/common`` runs once per role, under that role's settings;
- ``tests/<role>`` runs under ``settings.<role>``;
- the suites in SYSTEM_SUITES need no settings module: they start processes, render
  the chart or build the image themselves.

With ``POLLSITE_TEST_POSTGRES`` set (``postgres://user@host:port``), each role's suite
uses its own PostgreSQL database ``pollsite_<role>`` (pytest-django creates
``test_pollsite_<role>``); otherwise its own SQLite file. Extra arguments go to pytest.
"""

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pollsite.config.localenv import load_local_env  # noqa: E402
from pollsite.roles import ROLES  # noqa: E402

SYSTEM_SUITES = ["tests/system", "tests/chart", "tests/image", "tests/cluster"]
NO_TESTS_COLLECTED = 5
REPORTS = ROOT / "var" / "test-reports"


def role_database_url(role_name: str) -> str | None:
    server = os.environ.get("POLLSITE_TEST_POSTGRES")
    suffix = os.environ.get("POLLSITE_TEST_DB_SUFFIX", "")  # lets two runs share one server
    return f"{server.rstrip('/')}/pollsite_{role_name}{suffix}" if server else None


def run(label: str, paths: list[str], env: dict, extra: list[str], totals: Counter) -> int:
    paths = [p for p in paths if (ROOT / p).exists()]
    if not paths:
        return 0
    print(f"\n=== {label}: pytest {' '.join(paths)}", flush=True)
    REPORTS.mkdir(parents=True, exist_ok=True)
    report = REPORTS / (re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") + ".xml")
    report.unlink(missing_ok=True)
    code = subprocess.call([sys.executable, "-m", "pytest", *paths, f"--junitxml={report}", *extra], cwd=ROOT, env=env)
    if report.exists():
        suite = ElementTree.parse(report).getroot().find("testsuite")  # noqa: S314 - our own pytest report
        failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped = int(suite.get("skipped", 0))
        totals.update(passed=int(suite.get("tests", 0)) - failed - skipped, failed=failed, skipped=skipped)
    return 0 if code == NO_TESTS_COLLECTED else code


def main(extra: list[str]) -> int:
    load_local_env()
    failures = []
    totals = Counter(passed=0, failed=0, skipped=0)
    for role in ROLES.values():
        env = dict(os.environ, DJANGO_SETTINGS_MODULE=role.settings_module, POLLSITE_VAR_DIR=str(ROOT / "var" / "test"))
        url = role_database_url(role.name)
        if url:
            env["DATABASE_URL"] = url
        if run(f"role {role.name} ({url or 'sqlite'})", ["tests/common", f"tests/{role.name}"], env, extra, totals):
            failures.append(role.name)
    for suite in SYSTEM_SUITES:
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        if run(suite, [suite], env, ["-p", "no:django", *extra], totals):
            failures.append(suite)
    print("\n=== suites failed: " + ", ".join(failures) if failures else "\n=== all suites passed", flush=True)
    print(f"total: {totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
