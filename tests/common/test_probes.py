"""/healthz, /readyz and /metrics at the root, whatever the Host header."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_probes_answer_any_host(api, path):
    response = api.get(path, HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200, response.content


def test_healthz_does_no_io(api):
    """No django_db mark: any database access here would raise."""
    assert api.get("/healthz").json() == {"status": "ok"}


def test_probes_are_not_under_the_prefix(role, api):
    assert api.get(f"{role.default_prefix}healthz").status_code == 404


def _readyz_in_subprocess(database_url: str) -> tuple[int, str]:
    script = (
        "import django; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/readyz'); print(r.status_code); print(r.content.decode())"
    )
    env = dict(os.environ, DATABASE_URL=database_url)
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60, check=True).stdout
    status, body = out.split("\n", 1)
    return int(status), body


def test_readyz_503_when_migrations_are_missing(tmp_path):
    status, body = _readyz_in_subprocess(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    assert status == 503
    assert "migrations not applied" in body


def test_readyz_503_when_database_unreachable_names_no_host_port_or_user():
    status, body = _readyz_in_subprocess("postgres://secret-user@127.0.0.9:9/secret-db")
    assert status == 503
    assert json.loads(body) == {"status": "unavailable", "reason": "database unreachable", "error": "OperationalError"}
    assert not any(leak in body for leak in ("secret-user", "127.0.0.9", "secret-db", ":9"))


def test_a_fresh_clone_needs_no_folder_made_beforehand(role, tmp_path):
    """A command run where neither the SQLite folder nor the metrics folder exists yet
    creates both, instead of failing on a path an earlier run was expected to make."""
    var, metrics = tmp_path / "never-made" / "var", tmp_path / "never-made" / "prometheus"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(POLLSITE_VAR_DIR=str(var), PROMETHEUS_MULTIPROC_DIR=str(metrics))
    manage = [sys.executable, "manage.py", "--role", role.name, "migrate", "--noinput", "-v", "0"]
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(manage, cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert (var / f"{role.name}.sqlite3").is_file() and metrics.is_dir()


def test_workers_wait_for_migrations_saying_how_to_apply_them(role, monkeypatch, caplog):
    from pollsite.observability import probes

    answers = iter([OSError("refused"), ["polls.0001_initial"], ["polls.0001_initial"], []])

    def pending():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(probes, "pending_migrations", pending)
    monkeypatch.setattr(probes.time, "sleep", lambda seconds: None)
    with caplog.at_level("WARNING", logger="pollsite.probes"):
        probes.wait_until_migrated()
    said = [record.getMessage() for record in caplog.records]
    assert said == [  # each state said once, not once per retry
        f"the {role.name} role's database does not answer (OSError); waiting for it",
        f"the {role.name} role's database lacks 1 migration(s), polls.0001_initial: run ./manage.py --role {role.name} "
        "migrate (in Kubernetes the chart's migration Job does); waiting",
    ]
