"""The migration Jobs run for real: their commands from the built image, on PostgreSQL.

The stand-in kubelet hands the Job pods to image_runner.py, so `migrate` runs against a
fresh database per role and a broken migration fails the install because Django says so
(here: vote's first migration meets a table that is already there).
"""

from __future__ import annotations

import psycopg2
import pytest
import yaml

from tests.cluster.conftest import RELEASE
from tests.cluster.image_runner import ImageRunner
from tests.cluster.release import ROLES, SECRETS, Release
from tests.image import test_image as image_suite
from tests.support.databases import scratch_databases
from tests.support.services import require

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="session")
def built_image(cluster) -> str:
    """tests/image's image (built there first in a full run; built here otherwise)."""
    if image_suite.BUILDAH is None or image_suite.buildah("inspect", "--type", "image", image_suite.IMAGE, check=False).returncode:
        image_suite.build_image(print)
    return image_suite.IMAGE


@pytest.fixture
def databases():
    """A fresh PostgreSQL database per role, dropped afterwards."""
    server = require("postgres").rstrip("/")
    with scratch_databases(server, "clu", ROLES) as names:
        yield server, names


def sql(server: str, database: str, statement: str, *params: str) -> list[tuple]:
    with psycopg2.connect(f"{server}/{database}") as connection, connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def test_a_broken_migration_fails_the_install_for_real(cluster, doc, namespace, databases, built_image, tmp_path):
    server, names = databases
    repository, tag = built_image.rsplit(":", 1)
    user = server.split("//", 1)[1].split("@")[0] if "@" in server else "postgres"
    host = server.rsplit("@", 1)[-1].split(":")[0]
    local = tmp_path / "local-postgres.yaml"
    local.write_text(
        yaml.safe_dump(
            {
                "image": {"repository": repository, "tag": tag, "pullPolicy": "Never"},
                "defaults": {"database": {"host": host, "user": user, "sslmode": "prefer"}, "migrations": {"waitForDbSeconds": 10}},
                "roles": {role: {"database": {"name": name, "host": host}} for role, name in names.items()},
            }
        )
    )
    runner = ImageRunner(cluster.kubelet.api, image_suite.BUILDAH, built_image)
    cluster.kubelet.runner = runner
    try:
        release = Release(cluster, namespace)
        doc.run(SECRETS, namespace, step="namespace and Secrets (kubectl)")
        values = (*doc.values_args(), "-f", str(local))
        install = ("install", RELEASE, "./helm/pollsite", "-n", namespace, *values, "--wait", "--timeout", "5m")
        sql(server, names["vote"], "CREATE TABLE vote_knownchoice (left_over integer)")
        failed = doc.helm(*install, step="install, vote's migration broken (from the image)", check=False)
        assert failed.returncode != 0 and f"{RELEASE}-vote-migrate" in failed.stderr, failed.stderr
        ran = {(pod.rsplit("-", 1)[0], container): code for pod, container, code, _ in runner.steps}
        for role in ("choice", "polls"):
            assert ran[(f"{RELEASE}-{role}-migrate", "wait-for-db")] == 0 and ran[(f"{RELEASE}-{role}-migrate", "migrate")] == 0
            assert sql(server, names[role], "SELECT count(*) FROM django_migrations WHERE app = %s", role)[0][0] >= 1
        assert ran[(f"{RELEASE}-vote-migrate", "migrate")] != 0
        assert any('relation "vote_knownchoice" already exists' in output for *_, output in runner.steps)
        assert release.items("deployments") == [], "no Deployment exists after the failed migration"

        # Once the database is fixed, the same install goes through and vote's tables exist.
        sql(server, names["vote"], "DROP TABLE vote_knownchoice")
        doc.helm("uninstall", RELEASE, "-n", namespace, "--wait", step="uninstall the failed release")
        doc.helm(*install, step="install, migrations from the image")
        assert sql(server, names["vote"], "SELECT count(*) FROM django_migrations WHERE app = %s", "vote")[0][0] >= 1
        release.assert_serving()
    finally:
        cluster.kubelet.runner = None
