"""The image, built from the Dockerfile with buildah and run once per role.

CI has no registry: the base is a Debian trixie made with debootstrap by
``.ci/setup-image-tools.sh`` (``localhost/pollsite-base:trixie``), passed as BASE_IMAGE.
With ``--isolation chroot`` a container shares the host's network, so each role binds a
free port on 127.0.0.1 and reaches the shared PostgreSQL there, in a fresh database of
its own. Each role runs with the environment the chart renders for it (ConfigMap and Secrets, as
the kubelet would give them): the migration Job's steps, then the image's default command,
/readyz, its API and a static file under its prefix, SIGTERM; then its relay and consumer
with the chart's commands on RabbitMQ.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests

from pollsite.roles import ROLES
from tests.chart import render as chart
from tests.support.databases import scratch_databases
from tests.support.services import require
from tests.support.stack import free_port
from tests.support.tokens import mint

ROOT = Path(__file__).resolve().parents[2]
BUILDAH = shutil.which("buildah")
BASE_IMAGE = os.environ.get("POLLSITE_BASE_IMAGE", "localhost/pollsite-base:trixie")
IMAGE = os.environ.get("POLLSITE_TEST_IMAGE", "localhost/pollsite:test")
#: Behind a TLS-intercepting proxy pip needs its CA: passed as a build secret, never stored.
CA_BUNDLE = Path(os.environ.get("POLLSITE_BUILD_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt"))
#: The pod's terminationGracePeriodSeconds in the chart: gunicorn must be gone before it.
GRACE_PERIOD = 30
#: Paths a container run may leave behind that are buildah's, not the process's.
RUNTIME_MOUNT_POINTS = ("etc/hosts", "etc/resolv.conf", "etc/hostname", "run", "dev", "proc", "sys")

pytestmark = pytest.mark.timeout(900)


def unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the image test, but {reason}")
    pytest.skip(reason)


def buildah(*args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([BUILDAH, *args], check=check, capture_output=True, text=True, **kwargs)


@pytest.fixture(scope="module")
def report(request):
    """Print a figure to the terminal even while pytest captures output."""
    capture = request.config.pluginmanager.get_plugin("capturemanager")

    def write(line: str) -> None:
        with capture.global_and_fixture_disabled():
            print(f"\n[image] {line}", flush=True)

    return write


@pytest.fixture(scope="module")
def image(report) -> dict:
    return build_image(report)


def build_image(report) -> dict:
    """Build IMAGE (unchanged steps reused) and return its OCI config; skip (fail under CI) without the tools."""
    if BUILDAH is None:
        unavailable("buildah is not installed (run .ci/setup-image-tools.sh as root)")
    if buildah("inspect", "--type", "image", BASE_IMAGE, check=False).returncode != 0:
        unavailable(f"the base image {BASE_IMAGE} is not in buildah's storage (run .ci/setup-image-tools.sh as root)")
    command = ["bud", "--isolation", "chroot", "--layers", "--quiet", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}", "-t", IMAGE]
    if CA_BUNDLE.is_file():
        command += ["--secret", f"id=ca-bundle,src={CA_BUNDLE}"]
    previous = buildah("images", "--quiet", "--no-trunc", IMAGE, check=False).stdout.strip().removeprefix("sha256:")
    started = time.monotonic()
    built = buildah(*command, ".", cwd=ROOT, check=False)
    elapsed = time.monotonic() - started
    assert built.returncode == 0, f"buildah bud failed:\n{built.stdout[-3000:]}\n{built.stderr[-3000:]}"
    inspected = json.loads(buildah("inspect", "--type", "image", IMAGE).stdout)
    size = buildah("images", "--format", "{{.Size}}", IMAGE).stdout.split("\n")[0]
    base_size = buildah("images", "--format", "{{.Size}}", BASE_IMAGE).stdout.split("\n")[0]
    report(f"built {IMAGE} in {elapsed:.1f}s (unchanged steps reused from earlier builds); size {size} (base {BASE_IMAGE}: {base_size})")
    if previous and previous != inspected["FromImageID"]:
        buildah("rmi", previous, check=False)  # the image this tag named before: superseded
    return inspected["OCIv1"]["config"]


@contextmanager
def container():
    name = f"pollsite-test-{uuid.uuid4().hex[:10]}"
    buildah("from", "--pull-never", "--name", name, IMAGE)
    try:
        yield name
    finally:
        buildah("umount", name, check=False)
        buildah("rm", name, check=False)


@contextmanager
def database(role: str):
    server = require("postgres").rstrip("/")
    with scratch_databases(server, "img", [role]) as names:
        yield f"{server}/{names[role]}"


def run_args(name: str, env: dict) -> list[str]:
    args = [BUILDAH, "run", "--isolation", "chroot"]
    for key, value in env.items():
        args += ["--env", f"{key}={value}"]
    return [*args, name, "--"]


def chart_objects(role: str, database_url: str, broker_password: str, **extra) -> list[dict]:
    """The chart rendered with values that point ``role`` at 127.0.0.1 (its fresh database), and the operator's Secrets."""
    db = urlparse(database_url)
    values = {
        # The chart's defaults, pointed at this machine's services: TLS is expected in
        # front of the pods, so Django's deploy check judges what a default install runs.
        "django": {"allowedHosts": ["127.0.0.1"]},
        "events": {"broker": {"host": "127.0.0.1"}},
        "defaults": {"database": {"host": db.hostname, "port": db.port or 5432, "user": db.username or "postgres", "sslmode": "prefer"}},
        "roles": {role: {"database": {"name": db.path.lstrip("/")}}},
    }
    return chart.render(chart.merge(values, extra)) + chart.operator_secrets(db.password or "", broker_password)


def migration_steps(objects: list[dict], role: str) -> list[tuple[list[str], dict]]:
    """The role's migration Job, container by container: (command, environment)."""
    job = chart.pod_spec(chart.find(objects, "Job", f"{chart.RELEASE}-{role}-migrate"))
    return [(step["command"], chart.pod_environment(objects, step)) for step in chart.containers(job)]


def chart_pods(role: str, database_url: str, port: int) -> tuple[dict, list[tuple[list[str], dict]]]:
    """The role's web environment and its migration Job's steps, as the chart renders them.

    The operator's Secrets' values are used as the kubelet would.
    """
    objects = chart_objects(role, database_url, "guest")
    deployment = chart.find(objects, "Deployment", f"{chart.RELEASE}-{role}")
    (web,) = deployment["spec"]["template"]["spec"]["containers"]
    assert "command" not in web, "the chart runs the image's default command"
    web_env = chart.pod_environment(objects, web) | {"GUNICORN_BIND": f"127.0.0.1:{port}"}
    return web_env, migration_steps(objects, role)


def migrate(name: str, steps: list[tuple[list[str], dict]]) -> None:
    for command, env in steps:
        done = subprocess.run([*run_args(name, env), *command], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def is_gunicorn(pid: int) -> bool:
    """A gunicorn process itself, not buildah's runtime helper that carries the command in its arguments."""
    argv = cmdline(pid).split()
    return bool(argv) and "buildah" not in argv[0] and any(arg.endswith("/gunicorn") or arg == "gunicorn" for arg in argv[:2])


def is_manage_py(pid: int) -> bool:
    argv = cmdline(pid).split()
    return bool(argv) and "buildah" not in argv[0] and "manage.py" in argv[:3]


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def stop_everything_under(runner: subprocess.Popen) -> None:
    """After a failed check: kill what ``buildah run`` started, not only buildah itself
    (a killed buildah leaves the processes in the chroot running, holding their ports)."""
    if runner.poll() is not None:
        return
    for pid in descendants(runner.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    runner.kill()
    runner.wait()


def gunicorn_master(runner: subprocess.Popen) -> int:
    """The gunicorn master inside the container: the gunicorn whose parent is not one."""
    masters = [pid for pid in descendants(runner.pid) if is_gunicorn(pid) and not is_gunicorn(parent_of(pid))]
    assert len(masters) == 1, f"expected one gunicorn master under buildah run (pid {runner.pid}), found {masters}"
    return masters[0]


def uid_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError("no Uid line")


def written_since(root: Path, since: float) -> list[str]:
    """Paths under the container's root changed after ``since``, apart from /tmp and buildah's mount points."""
    changed = []
    for path in root.rglob("*"):
        relative = path.relative_to(root).as_posix()
        if relative == "tmp" or relative.startswith(("tmp/", *(m + "/" for m in RUNTIME_MOUNT_POINTS))) or relative in RUNTIME_MOUNT_POINTS:
            continue
        try:
            stat = path.lstat()
        except OSError:
            continue
        if stat.st_mtime >= since or stat.st_ctime >= since:
            changed.append(relative)
    return changed


def token(subject: str, env: dict) -> str:
    """Signed with the key pair the chart's Secret holds the public half of."""
    return mint(
        subject, key=chart.jwt_signing_key(), algorithm=env["JWT_ALGORITHM"], issuer=env["JWT_ISSUER"], audience=env["JWT_AUDIENCE"],
        lifetime=timedelta(minutes=5),
    )  # fmt: skip


def exercise_api(role: str, base: str, env: dict) -> None:
    """One real call per role through its prefix, reaching its own database."""
    prefix = base + ROLES[role].default_prefix
    if role == "polls":
        created = requests.post(
            prefix + "api/v1/polls/",
            json={"question": "Image test?"},
            headers={"Authorization": f"Bearer {token('alice', env)}"},
            timeout=10,
        )
        assert created.status_code == 201, created.text
        poll = requests.get(prefix + f"api/v1/polls/{created.json()['id']}/", timeout=10)
        assert poll.status_code == 200 and poll.json()["question"] == "Image test?", poll.text
    elif role == "choice":
        listed = requests.get(prefix + "api/v1/polls/1/choices/", timeout=10)
        assert listed.status_code == 200 and listed.json() == [], listed.text
    elif role == "vote":
        results = requests.get(prefix + "api/v1/polls/1/results/", timeout=10)
        assert results.status_code == 404 and results.json()["error"]["code"] == "poll_not_found", results.text
    else:  # a new role: at least its schema answers under its prefix
        assert requests.get(prefix + "api/schema/", timeout=10).status_code == 200
    # Another role's path is not served here.
    other = next(r for r in ROLES if r != role)
    assert requests.get(base + ROLES[other].default_prefix + "api/schema/", timeout=10).status_code == 404


def test_image_runs_as_a_fixed_non_root_user_with_gunicorn(image):
    assert image["User"] == "10001:10001"
    assert image["Cmd"] == ["gunicorn", "-c", "pollsite/config/gunicorn.py", "pollsite.config.wsgi"]
    assert image["WorkingDir"] == "/app"
    env = dict(item.split("=", 1) for item in image["Env"])
    leaked = {k for k in env if k in {"DJANGO_SECRET_KEY", "JWT_SECRET", "DATABASE_URL", "DJANGO_DEBUG", "DJANGO_ALLOWED_HOSTS"}}
    assert not leaked, f"build-time values leaked into the image's environment: {leaked}"
    assert "DJANGO_SETTINGS_MODULE" not in env, "the role is chosen at run time"


def test_image_holds_no_development_secrets_or_build_tools(image):
    with container() as name:
        root = Path(buildah("mount", name).stdout.strip())
        assert (root / "app" / "settings" / "base.py").is_file()
        assert not (root / "app" / "settings" / "local.env").exists(), ".dockerignore must keep settings/local.env out"
        assert not (root / "app" / "tests").exists() and not (root / "app" / "pollsite" / "local").exists()
        assert (root / "app" / "staticfiles" / "admin" / "css" / "base.css").is_file(), "static files are collected at build"
        for tool in ("gcc", "cc", "make"):
            assert not (root / "usr" / "bin" / tool).exists(), f"{tool} in the runtime image"
        assert not list((root / "opt" / "venv" / "bin").glob("pip*")), "pip is not needed at run time"
        writable = sorted(
            p.relative_to(root).as_posix()
            for base in ("app", "opt", "etc", "usr")
            for p in (root / base).rglob("*")
            if not p.is_symlink() and p.lstat().st_mode & 0o002
        )
        assert writable == [], f"world-writable paths in the image: {writable[:10]}"


def test_a_pod_without_secrets_fails_fast(image):
    with container() as name:
        env = {"DJANGO_SETTINGS_MODULE": "settings.vote", "GUNICORN_BIND": f"127.0.0.1:{free_port()}"}
        started = time.monotonic()
        result = subprocess.run([*run_args(name, env), *image["Cmd"]], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stdout + result.stderr
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("role", ROLES)
def test_role_boots_serves_and_stops_cleanly(image, role, report):
    port = free_port()
    with database(role) as database_url, container() as name:
        web_env, migration = chart_pods(role, database_url, port)
        assert web_env["DJANGO_SETTINGS_MODULE"] == ROLES[role].settings_module
        # The chart's migration Job, step by step (wait_for_db, then migrate), with its environment.
        migrate(name, migration)
        # Django's deploy check under the chart's settings (the metrics directory is gunicorn's to create).
        check_env = {k: v for k, v in web_env.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
        check = [*run_args(name, check_env), "python", "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
        checked = subprocess.run(check, capture_output=True, text=True, timeout=120)
        assert checked.returncode == 0, f"check --deploy with the chart's settings:\n{checked.stdout}\n{checked.stderr[-3000:]}"
        root = Path(buildah("mount", name).stdout.strip())
        time.sleep(1.1)  # mtime granularity: anything written from here on is the server's
        since = time.time()
        log = Path(f"/tmp/{name}.log")
        started = time.monotonic()
        with log.open("w") as out:
            runner = subprocess.Popen([*run_args(name, web_env), *image["Cmd"]], stdout=out, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                assert runner.poll() is None, f"{role} exited early:\n{log.read_text()[-3000:]}"
                try:
                    ready = requests.get(base + "/readyz", headers={"Host": "10.1.2.3:8000"}, timeout=2)
                    if ready.status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
                assert time.monotonic() < deadline, f"{role} not ready in 60s:\n{log.read_text()[-3000:]}"
                time.sleep(0.3)
            boot = time.monotonic() - started
            assert requests.get(base + "/healthz", timeout=5).json() == {"status": "ok"}
            exercise_api(role, base, web_env)
            static = requests.get(base + ROLES[role].default_prefix + "static/admin/css/base.css", timeout=5)
            assert static.status_code == 200 and static.headers["Content-Type"].startswith("text/css")
            assert "max-age" in static.headers.get("Cache-Control", "")
            metrics = requests.get(base + "/metrics", timeout=5)
            assert metrics.status_code == 200 and "django_http_requests_total_by_view_transport_method_total" in metrics.text
            master = gunicorn_master(runner)
            assert uid_of(master) == 10001, "gunicorn runs as the image's non-root user"
            os.kill(master, signal.SIGTERM)
            stopping = time.monotonic()
            code = runner.wait(timeout=GRACE_PERIOD)
            stop = time.monotonic() - stopping
        finally:
            stop_everything_under(runner)
        output = log.read_text()
        log.unlink()
        assert code == 0, f"{role} exited with {code} on SIGTERM:\n{output[-3000:]}"
        assert stop < GRACE_PERIOD
        assert "Traceback" not in output, output[-3000:]
        assert written_since(root, since) == [], "the server wrote outside /tmp (read-only root filesystem)"
        assert (root / "tmp" / "prometheus").is_dir(), "metrics files go to /tmp"
        report(f"{role}: ready in {boot:.1f}s after start, stopped {stop:.1f}s after SIGTERM (exit {code})")


WORKER_ROLES = [r for r, role in ROLES.items() if role.publishes or role.consumes]


@pytest.mark.parametrize("role", WORKER_ROLES)
def test_role_relay_and_consumer_run_from_the_image(image, role, report):
    """The chart's relay and consumer Deployments: their command, their environment, RabbitMQ."""
    broker = urlparse(require("rabbitmq"))
    namespace = "img" + uuid.uuid4().hex[:10]
    with database(role) as database_url, container() as name:
        events = {"namespace": namespace, "broker": {"host": broker.hostname, "port": broker.port or 5672, "vhost": "/"}}
        events["broker"] |= {"user": broker.username or "guest"}
        objects = chart_objects(role, database_url, broker.password or "guest", events=events)
        migrate(name, migration_steps(objects, role))
        workers = [d for d in chart.of_kind(objects, "Deployment") if d["metadata"]["name"].startswith(f"{chart.RELEASE}-{role}-")]
        expected = {"relay"} if ROLES[role].publishes else set()
        expected |= {"consumer"} if ROLES[role].consumes else set()
        assert {d["metadata"]["labels"]["pollsite/process"] for d in workers} == expected
        try:
            for worker in workers:
                (spec,) = worker["spec"]["template"]["spec"]["containers"]
                port = free_port()
                env = chart.pod_environment(objects, spec) | {"POLLSITE_METRICS_PORT": str(port), "POLLSITE_METRICS_ADDR": "127.0.0.1"}
                log = Path(f"/tmp/{name}-{spec['name']}.log")
                with log.open("w") as out:
                    runner = subprocess.Popen([*run_args(name, env), *spec["command"]], stdout=out, stderr=subprocess.STDOUT)
                try:
                    deadline = time.monotonic() + 60
                    while True:
                        assert runner.poll() is None, f"{spec['name']} exited early:\n{log.read_text()[-3000:]}"
                        try:
                            if requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2).status_code == 200:
                                break
                        except requests.ConnectionError:
                            pass
                        assert time.monotonic() < deadline, f"{spec['name']} serves no metrics after 60s:\n{log.read_text()[-3000:]}"
                        time.sleep(0.3)
                    # Connected: the relay declared the exchange, the consumer its queue.
                    kind = spec["name"]
                    declared = f"{namespace}.events" if kind == "relay" else f"{namespace}.{role}.events"
                    deadline = time.monotonic() + 30
                    while not broker_has(require("rabbitmq"), kind, declared):
                        assert runner.poll() is None, f"{kind} died:\n{log.read_text()[-3000:]}"
                        assert time.monotonic() < deadline, f"{kind} declared no {declared} on RabbitMQ:\n{log.read_text()[-3000:]}"
                        time.sleep(0.5)
                    (process,) = [pid for pid in descendants(runner.pid) if is_manage_py(pid)]
                    assert uid_of(process) == 10001
                    os.kill(process, signal.SIGTERM)
                    code = runner.wait(timeout=GRACE_PERIOD)
                finally:
                    stop_everything_under(runner)
                output = log.read_text()
                log.unlink()
                assert code == 0, f"{spec['name']} exited with {code} on SIGTERM:\n{output[-3000:]}"
                assert "Traceback" not in output, output[-3000:]
                report(f"{role}-{spec['name']}: ran from the image on RabbitMQ, metrics on its port, exit {code} on SIGTERM")
        finally:
            delete_topology(require("rabbitmq"), namespace)


def broker_has(url: str, kind: str, name: str) -> bool:
    """Whether RabbitMQ holds the exchange (relay) or queue (consumer) ``name`` (passive declare)."""
    from kombu import Connection

    with Connection(url) as connection:
        channel = connection.channel()
        try:
            if kind == "relay":
                channel.exchange_declare(name, "topic", durable=True, passive=True)
            else:
                channel.queue_declare(name, passive=True)
        except connection.channel_errors:
            return False
        return True


def delete_topology(url: str, namespace: str) -> None:
    """Remove this test's exchange and queues from the shared broker."""
    from kombu import Connection

    with Connection(url) as connection:
        channel = connection.channel()
        for role in ROLES:
            channel.queue_delete(f"{namespace}.{role}.events")
        channel.exchange_delete(f"{namespace}.events")
