"""gunicorn configuration for every role (``gunicorn -c pollsite/config/gunicorn.py pollsite.config.wsgi``).

Everything is tunable by environment (``GUNICORN_*``), so the chart and the local
launcher set numbers, not files. Writes only to /tmp (read-only root filesystem).
"""

import os
import shutil
import sys
from pathlib import Path

from gunicorn import glogging

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the project root, whatever the cwd
from pollsite.observability.logs import json_formatter

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# The sync worker by default, in the variant that answers its queued connections on a
# graceful stop (pollsite.config.gunicorn_workers) so a rolling restart drops no request.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread" if threads > 1 else "pollsite.config.gunicorn_workers.DrainingSyncWorker")
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM: stop accepting, finish requests in flight for up to this long, then exit.
# Kept below the pod's terminationGracePeriodSeconds (30 by default).
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
backlog = int(os.environ.get("GUNICORN_BACKLOG", "2048"))
# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "500"))
# Heartbeat files in memory, not on a (possibly read-only or slow) disk.
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR", "/dev/shm" if Path("/dev/shm").is_dir() else None)  # noqa: S108
preload_app = os.environ.get("GUNICORN_PRELOAD", "false").lower() == "true"
# No runtime control socket (gunicorn >= 24): nothing in a pod uses it, and its default
# place ($HOME/.gunicorn) is not writable with a read-only root filesystem.
control_socket_disable = os.environ.get("GUNICORN_CONTROL_SOCKET", "false").lower() != "true"
accesslog = None  # pollsite.observability.access_log writes one JSON line per request instead
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
_role = os.environ.get("DJANGO_SETTINGS_MODULE", "settings.?").rsplit(".", 1)[-1]
proc_name = "pollsite-" + _role


class JsonLogger(glogging.Logger):
    """gunicorn's own lines (start, workers booting, timeouts) as JSON on stdout, like the app's.

    A logging config would switch gunicorn's access log on; it stays off, since
    pollsite.observability.access_log already writes one line per request (with the request id).
    """

    def _compute_access_log_enabled(self):
        return False

    def access(self, resp, req, environ, request_time):
        return


logger_class = JsonLogger
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "INFO", "handlers": ["stdout"]},
    "loggers": {"gunicorn.error": {"level": loglevel.upper(), "handlers": ["stdout"], "propagate": False, "qualname": "gunicorn.error"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}},
    "formatters": {"json": json_formatter(role=_role)},
}
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
limit_request_line = 8190
limit_request_fields = 100


def on_starting(server):
    """Start each run with an empty Prometheus multiprocess directory (stale files lie)."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        Path(folder).mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    """A dead worker's live gauges must not be summed any more."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
