"""Kubelet and Prometheus endpoints at the root of every pod: /healthz, /readyz, /metrics.

They are answered by pollsite.api.edge before any other middleware, so they work whatever the Host header
(a probe sends the pod IP) and never touch sessions, CSRF or the access log.
"""

import contextlib
import logging
import time

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpResponse, JsonResponse

from pollsite.observability.metrics import metrics_view

logger = logging.getLogger("pollsite.probes")
_migrations_checked = False


def healthz(request) -> HttpResponse:
    """Liveness: the process answers. No I/O."""
    return JsonResponse({"status": "ok"})


def pending_migrations() -> list[str]:
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    targets = executor.loader.graph.leaf_nodes()
    return [f"{migration.app_label}.{migration.name}" for migration, _ in executor.migration_plan(targets)]


def wait_until_migrated(*, poll_seconds: float = 2.0) -> None:
    """Hold a worker (relay, consumer) until its role's database answers and is migrated.

    It says once what is missing and how to fix it, instead of failing on a missing table
    again and again; SIGTERM still stops it at once.
    """
    role, said = settings.ROLE, None
    while True:
        try:
            pending = pending_migrations()
        except Exception as exc:  # noqa: BLE001 - any failure: the database is not there yet
            connections[DEFAULT_DB_ALIAS].close()
            problem = f"the {role} role's database does not answer ({exc.__class__.__name__}); waiting for it"
        else:
            if not pending:
                return
            problem = (
                f"the {role} role's database lacks {len(pending)} migration(s), {', '.join(pending[:3])}"
                f"{', …' if len(pending) > 3 else ''}: run "
                f"./manage.py --role {role} migrate (in Kubernetes the chart's migration Job does); waiting"
            )
        if problem != said:
            logger.warning(problem)
            said = problem
        time.sleep(poll_seconds)


def readyz(request) -> HttpResponse:
    """Readiness: the role's database answers and every migration is applied."""
    global _migrations_checked
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        if not _migrations_checked:
            pending = pending_migrations()
            if pending:
                return JsonResponse({"status": "unavailable", "reason": "migrations not applied", "pending": pending}, status=503)
            _migrations_checked = True  # applied migrations do not un-apply while we run
    except Exception as exc:  # noqa: BLE001 - any failure here means "not ready", with its reason
        with contextlib.suppress(Exception):
            connection.close()  # the next probe reconnects from scratch
        # The detail (host, port, user) goes to the log only: the probe answers anyone.
        logger.warning("readiness: the database does not answer: %s: %s", exc.__class__.__name__, exc)
        return JsonResponse({"status": "unavailable", "reason": "database unreachable", "error": exc.__class__.__name__}, status=503)
    return JsonResponse({"status": "ok"})


#: Path → view, looked up by pollsite.api.edge before anything else.
PROBES = {"/healthz": healthz, "/readyz": readyz, "/metrics": metrics_view}
