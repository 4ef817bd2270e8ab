"""/healthz, /readyz and /metrics at the root, whatever the Host header."""

import os
import subprocess
import sys

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


def test_readyz_503_when_database_unreachable():
    status, body = _readyz_in_subprocess("postgres://nobody@127.0.0.1:9/none")
    assert status == 503
    assert "database unreachable" in body
