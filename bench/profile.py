"""Where the vote path's CPU goes: py-spy samples of the vote workers, sorted into components.

py-spy (a dev requirement) records the workers of one gunicorn for a phase of its own,
counting only the samples that hold the GIL (CPU, not waiting on PostgreSQL or Redis).
Each sample is charged to the first frame, from the innermost out, that belongs to a
component below; frames of generic helpers (the json module, Django's utilities, ...) are
skipped, so ``json.dumps`` called by the access log is the access log's. The shares
multiply the worker CPU per vote measured in the load phases (py-spy slows the profiled
phase, not the ones it times) into milliseconds per vote.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

#: Paths whose frames never name a component: the helpers every component calls.
GENERIC = (
    "<frozen", "json/", "re/", "copy.py", "abc.py", "typing.py", "enum.py", "functools.py", "contextlib.py",
    "threading.py", "datetime", "uuid.py", "collections/", "codecs.py", "encodings/", "django/utils/",
    "django/conf/", "django/dispatch/", "weakref", "inspect.py", "string.py", "posixpath", "os.py",
    "base64.py", "hmac.py", "hashlib", "random.py", "warnings", "asgiref/",
)  # fmt: skip
#: (component, path fragments of its frames), the first match wins.
COMPONENTS = (
    ("JWT verification (PyJWT)", ("jwt/", "pollsite/api/auth.py")),
    ("rate limits (one Redis round trip)", ("redis/", "django_redis/", "pollsite/api/throttling.py", "apps/vote/throttling.py")),
    ("the vote statement (PostgreSQL, psycopg2, the ORM's cursor)",
     ("psycopg2", "django/db/", "apps/vote/services.py", "pollsite/db/")),
    ("metrics (prometheus_client, request and query metrics)",
     ("prometheus_client/", "django_prometheus/", "pollsite/observability/metrics.py", "apps/vote/metrics.py")),
    ("access log and request id",
     ("logging/", "pythonjsonlogger", "orjson", "pollsite/observability/access_log.py", "pollsite/observability/logs.py",
      "pollsite/observability/request_context.py")),
    ("body and output (DRF fields, JSON)",
     ("rest_framework/fields.py", "rest_framework/serializers.py", "rest_framework/renderers.py", "rest_framework/utils/",
      "pollsite/api/renderers.py")),
    ("DRF request cycle (views, throttle and permission classes)", ("rest_framework/",)),
    ("lean path and handler (pollsite.api.lean, the view)", ("pollsite/api/lean.py", "apps/vote/api.py")),
    ("Django request, URL resolving and middleware",
     ("django/", "whitenoise/", "pollsite/api/edge.py", "pollsite/observability/probes.py", "pollsite/api/cache_control.py")),
    ("gunicorn (HTTP parsing, sockets)", ("gunicorn/", "pollsite/config/gunicorn_workers.py", "socket.py", "selectors.py")),
)  # fmt: skip
FRAME = re.compile(r"\((.*):\d+\)$")


def py_spy() -> Path:
    return Path(sys.executable).with_name("py-spy")


def record(master_pid: int, seconds: int, out: Path) -> subprocess.Popen:
    """Start py-spy on every worker of the gunicorn ``master_pid`` for ``seconds``: raw stacks to ``out``."""
    argv = [str(py_spy()), "record", "--pid", str(master_pid), "--subprocesses", "--gil", "--rate", "250"]
    argv += ["--duration", str(seconds), "--format", "raw", "--output", str(out), "--nonblocking"]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def component_of(frames: list[str]) -> str:
    for frame in reversed(frames):
        match = FRAME.search(frame)
        path = match.group(1) if match else frame
        if any(fragment in path for fragment in GENERIC):
            continue
        for name, fragments in COMPONENTS:
            if any(fragment in path for fragment in fragments):
                return name
    return "other (the interpreter, the standard library)"


def breakdown(raw: Path) -> dict[str, float]:
    """{component: share of the samples}, biggest first, from py-spy's raw output."""
    samples: Counter = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not count.isdigit() or any("wait (selectors.py" in f or "select (selectors.py" in f for f in frames[-2:]):
            continue  # a worker idle between requests
        samples[component_of(frames)] += int(count)
    total = sum(samples.values())
    return {name: round(count / total, 4) for name, count in samples.most_common()} if total else {}
