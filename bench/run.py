#!/usr/bin/env python
"""The vote path against the framework floor and the database ceiling, in one run.

    .venv/bin/python bench/run.py            # full: about 5-8 minutes (make bench)
    .venv/bin/python bench/run.py --quick    # seconds per phase, for CI (make bench QUICK=1)

On local PostgreSQL (``POLLSITE_BENCH_POSTGRES``, default postgres://postgres@127.0.0.1:5432)
it creates throwaway databases, migrates them, seeds the vote role's read model with SQL
(what the polls and choice events would have written), then measures side by side, at the
same concurrency and with the same gunicorn settings:

- floor: ``bench/floor`` (one Django view, one raw-SQL INSERT into a table shaped like
  ``vote_vote``), gunicorn via pollsite/gunicorn_conf.py;
- ceiling: ``pgbench`` running bench/insert.sql (the same INSERT) against the same server;
- vote: the vote role as in production (DEBUG off, JWT auth, validation, throttling in
  Redis, the one-vote constraint, tally shards, Prometheus multiprocess metrics, the JSON
  access log to a file), votes spread over 1,000 polls, and all into one hot poll;
- results read time at 1,000 and 1,000,000 votes (bulk-loaded with generate_series, then
  ``recount_results``), checked exact against the rows;
- per role (and one process with all three apps, bench/allinone): start-up to a ready
  /readyz and the resident memory of one warmed-up gunicorn worker.

Load comes from wrk (bench/votes.lua: one pre-minted token per vote, never reused within
a phase). Phases run in interleaved rounds and each figure is the median over the rounds.
Writes bench/results.json and the generated part of docs/BENCHMARKS.md (a quick run
writes under bench/out/ unless told otherwise) and prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import jwt  # noqa: E402
import psycopg2  # noqa: E402
import requests  # noqa: E402

from pollsite.roles import ROLES  # noqa: E402
from tests.support.stack import LOCAL_ENV, Process, Stack, free_port  # noqa: E402

BENCH = ROOT / "bench"
OUT = BENCH / "out"
DOC_START = "<!-- bench:results:start (written by bench/run.py; edit outside these markers) -->"
DOC_END = "<!-- bench:results:end -->"

# Poll ids of the seeded read model; a poll's choices are poll*10+1 .. poll*10+4.
SPREAD_POLLS = 1000
HOT_POLL = 900_000  # + round
WARM_POLL = 700_000  # warm-up votes go to 700_001 .. 701_000
SMALL_POLL, LARGE_POLL = 800_001, 800_002
SMALL_VOTES = 1000

TARGETS = {
    "vote_over_floor": (">=", 0.6),
    "hot_over_spread": (">=", 0.8),
    "results_1m_over_1k": ("<=", 1.5),
    "errors": ("==", 0),
}


@dataclass(frozen=True)
class Mode:
    name: str
    seconds: int  # per load phase
    warmup: int
    rounds: int
    read_seconds: int
    large_votes: int
    startup_repeats: int


MODES = {
    "full": Mode("full", seconds=12, warmup=4, rounds=3, read_seconds=12, large_votes=1_000_000, startup_repeats=2),
    "quick": Mode("quick", seconds=2, warmup=1, rounds=1, read_seconds=4, large_votes=20_000, startup_repeats=1),
}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- the machine ---------------------------------------------------------------------------


def machine(postgres_url: str) -> dict:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    with psycopg2.connect(f"{postgres_url}/postgres") as conn, conn.cursor() as cursor:
        cursor.execute("SELECT version()")
        pg_version = cursor.fetchone()[0]
        settings = {}
        for name in ("synchronous_commit", "fsync", "shared_buffers", "max_connections"):
            cursor.execute(f"SHOW {name}")
            settings[name] = cursor.fetchone()[0]
    conn.close()
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False).stdout.split("[")[0].strip()
    import django

    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": pg_version.split(" on ")[0],
        "postgresql_settings": settings,
        "wrk": wrk_version,
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


# --- databases -------------------------------------------------------------------------------


def sql(url: str, query: str, params=()) -> list[tuple]:
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute(query, params)
        rows = cursor.fetchall() if cursor.description else []
    conn.close()
    return rows


def create_database(stack: Stack, name: str) -> str:
    admin = psycopg2.connect(f"{stack.postgres_url}/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    stack.databases.append(name)  # dropped with the stack's own
    return f"{stack.postgres_url}/{name}"


FLOOR_TABLE = """
CREATE TABLE bench_vote (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    poll_id bigint NOT NULL,
    choice_id bigint NOT NULL,
    voter varchar(150) NOT NULL,
    created_at timestamptz NOT NULL,
    CONSTRAINT bench_vote_one_per_voter_per_poll UNIQUE (poll_id, voter)
);
CREATE INDEX bench_vote_choice_id ON bench_vote (choice_id);
"""


def seed_read_model(url: str, rounds: int) -> None:
    """What the polls and choice events would have written: open polls with four choices each."""
    polls = [
        (1, SPREAD_POLLS * rounds),  # spread polls of every round
        (WARM_POLL + 1, SPREAD_POLLS),
        (HOT_POLL, rounds),
        (SMALL_POLL, 2),
    ]
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        for first, count in polls:
            cursor.execute(
                "INSERT INTO vote_knownpoll (poll_id, status, closes_at, updated_at) "
                "SELECT p, 0, NULL, now() FROM generate_series(%s, %s) p",
                [first, first + count - 1],
            )
            cursor.execute(
                "INSERT INTO vote_knownchoice (choice_id, poll_id, deleted) "
                "SELECT p * 10 + k, p, false FROM generate_series(%s, %s) p, generate_series(1, 4) k",
                [first, first + count - 1],
            )
    conn.close()


def bulk_votes(url: str, *, poll_id: int, votes: int) -> float:
    """``votes`` votes into one poll in one INSERT ... SELECT; the seconds it took."""
    started = time.perf_counter()
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute(
            "INSERT INTO vote_vote (poll_id, choice_id, voter, created_at) "
            "SELECT %s, %s * 10 + 1 + g %% 4, 'bulk-' || g, now() FROM generate_series(1, %s) g",
            [poll_id, poll_id, votes],
        )
    conn.close()
    return time.perf_counter() - started


# --- tokens ----------------------------------------------------------------------------------


def mint_tokens(path: Path, count: int) -> None:
    """One token per voter, valid for two hours, signed as the roles expect (HS256)."""
    now = datetime.now(UTC)
    base = {"iss": "pollsite", "aud": "pollsite", "iat": now, "exp": now + timedelta(hours=2)}
    secret = LOCAL_ENV["JWT_SECRET"]
    with path.open("w") as out:
        for i in range(count):
            out.write(jwt.encode({**base, "sub": f"bench-voter-{i}"}, secret, algorithm="HS256") + "\n")


# --- load ------------------------------------------------------------------------------------


@dataclass
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    statuses: dict
    out_of_tokens: int = 0
    cpu_ms: float | None = None  # server CPU per answered request (gunicorn workers only)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk(url: str, script: Path, *, connections: int, threads: int, seconds: int, args: list[str] = ()) -> Load:
    argv = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s", "-s", str(script), url]
    if args:
        argv += ["--", *map(str, args)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRK_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    figures = json.loads(line.removeprefix("WRK_JSON "))
    statuses = {int(k): v for k, v in figures["statuses"].items()}
    bad_status = sum(n for status, n in statuses.items() if status >= 400)
    socket_errors = figures["connect_errors"] + figures["read_errors"] + figures["write_errors"] + figures["timeouts"]
    return Load(
        requests=sum(n for status, n in statuses.items() if status < 400),
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        errors=bad_status + socket_errors,
        statuses=statuses,
        out_of_tokens=figures["threads_out_of_tokens"],
    )


def pgbench(url: str, *, clients: int, threads: int, seconds: int, workdir: Path) -> Load:
    logs = workdir / "pgbench"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir()
    argv = ["pgbench", "-n", "-c", str(clients), "-j", str(threads), "-T", str(seconds), "-f", str(BENCH / "insert.sql")]
    argv += ["-l", f"--log-prefix={logs / 'tx'}", url]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"pgbench failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    latencies = []
    for file in logs.iterdir():
        for line in file.read_text().splitlines():
            latencies.append(int(line.split()[2]))  # client tx_no latency_us script epoch us
    failed = int(m.group(1)) if (m := re.search(r"number of failed transactions: (\d+)", done.stdout)) else 0
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout).group(1))
    latencies.sort()
    return Load(
        requests=len(latencies),
        seconds=len(latencies) / tps if tps else 0.0,
        p50_ms=percentile(latencies, 50) / 1000,
        p99_ms=percentile(latencies, 99) / 1000,
        errors=failed,
        statuses={},
    )


def percentile(ordered: list, pct: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


# --- processes -------------------------------------------------------------------------------


def gunicorn_env(args, **extra) -> dict:
    """The gunicorn settings every server in the run shares (floor and roles alike)."""
    return {
        "GUNICORN_WORKERS": str(args.workers),
        "GUNICORN_THREADS": str(args.threads),
        # A leak guard, off here: at these rates the default 5,000 would restart each
        # worker every few seconds and the run would measure re-imports, not requests.
        "GUNICORN_MAX_REQUESTS": "0",
        "GUNICORN_LOG_LEVEL": "warning",
        **extra,
    }


def role_env(stack: Stack, args) -> dict:
    """Production settings of a role, as the chart sets them (metrics dir, Redis cache)."""
    env = gunicorn_env(args)
    env.update(
        DJANGO_DEBUG="false",
        DJANGO_ADMIN_ENABLED="false",
        PROMETHEUS_MULTIPROC_DIR=str(stack.workdir / "prometheus"),
        LOG_LEVEL="INFO",
        # Every bench request comes from 127.0.0.1: one client for the per-address limits,
        # which are set out of reach; the checks themselves (a Redis round trip) still run.
        POLLSITE_RATE_VOTES_PER_CLIENT="1000000000/minute",
        POLLSITE_RATE_READS_PER_CLIENT="1000000000/minute",
    )
    if args.redis:
        env["CACHE_URL"] = args.redis
    return env


def spawn_gunicorn(stack: Stack, name: str, role: str, app: str, port: int, env: dict) -> Process:
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    if "PROMETHEUS_MULTIPROC_DIR" in env:
        env["PROMETHEUS_MULTIPROC_DIR"] = f"{env['PROMETHEUS_MULTIPROC_DIR']}-{name}"
    argv = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "pollsite" / "gunicorn_conf.py"), app]
    return stack.spawn(name, role, argv, **env)


def wait_ready(url: str, process: Process, timeout: float = 60) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if not process.alive():
            raise RuntimeError(f"{process.name} exited:\n{process.output()[-3000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.01)
    raise TimeoutError(f"{process.name} not ready at {url} after {timeout}s:\n{process.output()[-3000:]}")


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def cpu_seconds(master: int) -> float:
    """CPU time (user + system) used so far by a gunicorn master's workers."""
    total = 0
    for pid in worker_pids(master):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    kb = int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text()).group(1))
    return round(kb / 1024, 1)


WARM_PATHS = {
    "polls": ["/polls/api/v1/polls/", "/polls/api/v1/polls/1/"],
    "choice": ["/choice/api/v1/polls/1/choices/", "/choice/api/v1/choices/1/"],
    "vote": [f"/vote/api/v1/polls/{SMALL_POLL}/results/", "/vote/api/v1/polls/1/votes/mine/"],
}


def startup_and_memory(stack: Stack, args, databases: dict, repeats: int) -> dict:
    """Seconds from spawning gunicorn to a 200 on /readyz, and one warmed worker's RSS."""
    token = {"Authorization": "Bearer " + stack.token("bench-warm")}
    cases = {
        **{role: (role, "pollsite.wsgi", {}, WARM_PATHS[role]) for role in ROLES},
        "all": (
            "vote",
            "pollsite.wsgi",
            {"DJANGO_SETTINGS_MODULE": "bench.allinone.settings", "DATABASE_URL": databases["all"]},
            [p for paths in WARM_PATHS.values() for p in paths],
        ),
        "floor": ("vote", "bench.floor.wsgi", {"DJANGO_SETTINGS_MODULE": "bench.floor.settings", "DATABASE_URL": databases["floor"]}, []),
    }
    figures = {}
    for name, (role, app, extra, paths) in cases.items():
        starts, rss = [], 0.0
        for _ in range(repeats):
            port = free_port()
            env = {**role_env(stack, args), "GUNICORN_WORKERS": "1", **extra}
            if name == "floor":
                env = {**gunicorn_env(args), "GUNICORN_WORKERS": "1", **extra}
            process = spawn_gunicorn(stack, f"startup-{name}", role, app, port, env)
            try:
                starts.append(wait_ready(f"http://127.0.0.1:{port}/readyz", process))
                with requests.Session() as session:
                    for _ in range(100):
                        for path in paths:
                            session.get(f"http://127.0.0.1:{port}{path}", headers=token, timeout=10)
                        session.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
                    if name != "floor":
                        session.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
                pids = worker_pids(process.popen.pid)
                rss = rss_mb(pids[0]) if pids else 0.0
            finally:
                stack.stop(process)
        figures[name] = {"startup_s": round(min(starts), 2), "rss_mb": rss}
    log("start-up and memory: " + ", ".join(f"{k} {v['startup_s']}s/{v['rss_mb']}MB" for k, v in figures.items()))
    return figures


# --- the run ---------------------------------------------------------------------------------


def run(args) -> dict:
    mode = MODES[args.mode]
    began = time.monotonic()
    for tool in ("wrk", "pgbench"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed: run .ci/setup-bench.sh (Debian packages wrk, postgresql-client)")
    OUT.mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="run-", dir=OUT))
    stack = Stack(workdir, postgres_url=args.postgres, namespace="bench" + workdir.name.split("-", 1)[1].lower().replace("_", ""))
    results: dict = {"mode": mode.name, "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}
    results["machine"] = machine(args.postgres)
    try:
        log(f"{mode.name} run in {workdir}; databases {stack.namespace}_*")
        stack.create_databases()
        stack.migrate()
        databases = {
            "floor": create_database(stack, f"{stack.namespace}_floor"),
            "all": create_database(stack, f"{stack.namespace}_all"),
        }
        sql(databases["floor"], FLOOR_TABLE)
        stack.manage(
            "vote", "migrate", "--noinput", "-v", "0", DJANGO_SETTINGS_MODULE="bench.allinone.settings", DATABASE_URL=databases["all"]
        )
        vote_db = stack.database_url("vote")
        seed_read_model(vote_db, mode.rounds)
        tokens = workdir / "tokens.txt"
        started = time.perf_counter()
        token_count = max(5000, mode.seconds * args.max_rate)
        mint_tokens(tokens, token_count)
        log(f"databases migrated and seeded; {token_count} tokens minted in {time.perf_counter() - started:.1f}s")

        results["roles"] = startup_and_memory(stack, args, databases, mode.startup_repeats)

        vote_port, floor_port = free_port(), free_port()
        vote = spawn_gunicorn(stack, "vote-web", "vote", "pollsite.wsgi", vote_port, role_env(stack, args))
        floor = spawn_gunicorn(
            stack,
            "floor-web",
            "vote",
            "bench.floor.wsgi",
            floor_port,
            {**gunicorn_env(args), "DJANGO_SETTINGS_MODULE": "bench.floor.settings", "DATABASE_URL": databases["floor"]},
        )
        wait_ready(f"http://127.0.0.1:{vote_port}/readyz", vote)
        wait_ready(f"http://127.0.0.1:{floor_port}/readyz", floor)
        vote_url, floor_url = f"http://127.0.0.1:{vote_port}", f"http://127.0.0.1:{floor_port}"
        vote_path, floor_path = "/vote/api/v1/polls/%d/votes/", "/floor/polls/%d/votes/"
        c, t = args.concurrency, args.wrk_threads

        def votes(url, path, first, polls, seconds, with_tokens=True):
            server = vote if url == vote_url else floor
            cpu_before = cpu_seconds(server.popen.pid)
            argv = [tokens if with_tokens else "-", t, path, first, polls]
            load = wrk(url, BENCH / "votes.lua", connections=c, threads=t, seconds=seconds, args=argv)
            load.cpu_ms = (cpu_seconds(server.popen.pid) - cpu_before) * 1000 / max(1, load.requests + load.errors)
            return load

        log(f"warm-up {mode.warmup}s each (concurrency {c}, {args.workers} workers x {args.threads} threads)")
        votes(floor_url, floor_path, 1, SPREAD_POLLS, mode.warmup, with_tokens=False)
        warm = votes(vote_url, vote_path, WARM_POLL + 1, SPREAD_POLLS, mode.warmup)
        if warm.errors:
            raise RuntimeError(f"vote warm-up answered errors {warm.statuses}:\n{vote.output()[-3000:]}")

        phases: dict[str, list[Load]] = {"floor": [], "spread": [], "hot": [], "ceiling": []}
        for rnd in range(mode.rounds):
            phases["floor"].append(votes(floor_url, floor_path, 1, SPREAD_POLLS, mode.seconds, with_tokens=False))
            profiler = profile(args.profile, vote, mode.seconds) if args.profile and rnd == 0 else None
            phases["spread"].append(votes(vote_url, vote_path, rnd * SPREAD_POLLS + 1, SPREAD_POLLS, mode.seconds))
            if profiler is not None:
                profiler.wait(timeout=60)
            phases["hot"].append(votes(vote_url, vote_path, HOT_POLL + rnd, 1, mode.seconds))
            phases["ceiling"].append(pgbench(databases["floor"], clients=c, threads=t, seconds=mode.seconds, workdir=workdir))
            log(f"round {rnd + 1}/{mode.rounds}: " + ", ".join(describe(name, loads[-1]) for name, loads in phases.items()))

        checks = exactness_after_load(vote_url, vote_db, phases, mode.rounds, c)
        reads = results_reads(stack, vote_url, vote_db, mode, args)
        results.update(summarise(phases, reads, checks, results["roles"], mode, args))
        results["duration_s"] = round(time.monotonic() - began)
        log(f"done in {results['duration_s']}s")
        return results
    finally:
        if args.keep:
            log(f"kept: {workdir} and databases {stack.databases}")
            stack.stop_all()
        else:
            stack.close()
            shutil.rmtree(workdir, ignore_errors=True)


def profile(py_spy: str, process: Process, seconds: int) -> subprocess.Popen:
    """py-spy on every worker of ``process`` for one phase: bench/out/profile-vote.{svg,txt}."""
    argv = [py_spy, "record", "--pid", str(process.popen.pid), "--subprocesses", "--duration", str(seconds), "--rate", "250", "--gil"]
    subprocess.Popen([*argv, "--format", "raw", "--output", str(OUT / "profile-vote.txt")], stdout=subprocess.DEVNULL)
    return subprocess.Popen([*argv, "--output", str(OUT / "profile-vote.svg")], stdout=subprocess.DEVNULL)


def describe(name: str, load: Load) -> str:
    text = f"{name} {load.rps:.0f}/s p50 {load.p50_ms:.1f}ms p99 {load.p99_ms:.1f}ms errors {load.errors}"
    if load.cpu_ms is not None:
        text += f" cpu {load.cpu_ms:.2f}ms/req"
    return text + (f" {load.statuses}" if load.errors else "")


def exactness_after_load(vote_url: str, vote_db: str, phases: dict, rounds: int, connections: int) -> dict:
    """Results equal the rows, and rows match the 201s (give or take the requests in flight
    when wrk stopped, which it does not count)."""
    checks = {"results_equal_rows": True, "rows_match_201s": True}
    for rnd in range(rounds):
        poll = HOT_POLL + rnd
        (rows,) = sql(vote_db, "SELECT count(*) FROM vote_vote WHERE poll_id = %s", [poll])[0]
        total = requests.get(f"{vote_url}/vote/api/v1/polls/{poll}/results/", timeout=10).json()["total"]
        created = phases["hot"][rnd].statuses.get(201, 0)
        checks["results_equal_rows"] &= total == rows
        checks["rows_match_201s"] &= created <= rows <= created + connections
        if total != rows or not created <= rows <= created + connections:
            log(f"MISMATCH hot poll {poll}: results total {total}, rows {rows}, 201s {created}")
    return checks


def results_reads(stack: Stack, vote_url: str, vote_db: str, mode: Mode, args) -> dict:
    """Bulk-load both polls, let PostgreSQL settle (VACUUM ANALYZE, as autovacuum would
    soon after), then read each poll's results in alternation so drift hits both alike."""
    figures = {}
    for poll, count in ((SMALL_POLL, SMALL_VOTES), (LARGE_POLL, mode.large_votes)):
        seconds = bulk_votes(vote_db, poll_id=poll, votes=count)
        started = time.perf_counter()
        stack.manage("vote", "recount_results", "--poll", str(poll))
        figures[count] = {"loads": [], "insert_s": seconds, "recount_s": time.perf_counter() - started}
    conn = psycopg2.connect(vote_db)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE vote_vote")
        cursor.execute("VACUUM ANALYZE vote_tallyshard")
    conn.close()
    slices = 4
    for _ in range(slices):
        for poll, count in ((SMALL_POLL, SMALL_VOTES), (LARGE_POLL, mode.large_votes)):
            url = f"{vote_url}/vote/api/v1/polls/{poll}/results/"
            seconds = max(1, round(mode.read_seconds / slices))
            figures[count]["loads"].append(wrk(url, BENCH / "reads.lua", connections=1, threads=1, seconds=seconds))
    for poll, count in ((SMALL_POLL, SMALL_VOTES), (LARGE_POLL, mode.large_votes)):
        body = requests.get(f"{vote_url}/vote/api/v1/polls/{poll}/results/", timeout=10).json()
        (rows,) = sql(vote_db, "SELECT count(*) FROM vote_vote WHERE poll_id = %s", [poll])[0]
        figure = figures[count]
        figure["exact"] = body["total"] == rows == count and sum(c["votes"] for c in body["choices"]) == count
        loads = figure["loads"]
        figure["load"] = Load(
            requests=sum(load.requests for load in loads),
            seconds=sum(load.seconds for load in loads),
            p50_ms=statistics.median(load.p50_ms for load in loads),
            p99_ms=statistics.median(load.p99_ms for load in loads),
            errors=sum(load.errors for load in loads),
            statuses={},
        )
        load = figure["load"]
        log(
            f"results at {count} votes: bulk insert {figure['insert_s']:.1f}s, recount {figure['recount_s']:.1f}s, "
            f"exact {figure['exact']}, p50 {load.p50_ms:.2f}ms p99 {load.p99_ms:.2f}ms ({load.rps:.0f}/s, errors {load.errors})"
        )
    return figures


def median_load(loads: list[Load]) -> dict:
    return {
        "rps": round(statistics.median(load.rps for load in loads), 1),
        "p50_ms": round(statistics.median(load.p50_ms for load in loads), 2),
        "p99_ms": round(statistics.median(load.p99_ms for load in loads), 2),
        "errors": sum(load.errors for load in loads),
        "requests": sum(load.requests for load in loads),
        "per_round_rps": [round(load.rps, 1) for load in loads],
        "cpu_ms_per_request": round(statistics.median(load.cpu_ms for load in loads), 3) if loads[0].cpu_ms is not None else None,
    }


def summarise(phases: dict, reads: dict, checks: dict, roles: dict, mode: Mode, args) -> dict:
    floor, spread, hot, ceiling = (median_load(phases[name]) for name in ("floor", "spread", "hot", "ceiling"))
    small, large = reads[SMALL_VOTES], reads[mode.large_votes]
    errors = sum(x["errors"] for x in (floor, spread, hot, ceiling)) + small["load"].errors + large["load"].errors
    out_of_tokens = sum(load.out_of_tokens for name in ("spread", "hot") for load in phases[name])
    ratio = lambda a, b: round(a / b, 3) if b else None  # noqa: E731
    summary = {
        "concurrency": args.concurrency,
        "gunicorn": {"workers": args.workers, "threads": args.threads, "max_requests": 0},
        "phase_seconds": mode.seconds,
        "rounds": mode.rounds,
        "cache": "redis" if args.redis else "locmem",
        "vote_rps": spread["rps"],
        "vote_p50_ms": spread["p50_ms"],
        "vote_p99_ms": spread["p99_ms"],
        "floor_rps": floor["rps"],
        "floor_p50_ms": floor["p50_ms"],
        "floor_p99_ms": floor["p99_ms"],
        "ceiling_tps": ceiling["rps"],
        "ceiling_p50_ms": ceiling["p50_ms"],
        "ceiling_p99_ms": ceiling["p99_ms"],
        "vote_over_floor": ratio(spread["rps"], floor["rps"]),
        "vote_cpu_ms_per_request": spread["cpu_ms_per_request"],
        "floor_cpu_ms_per_request": floor["cpu_ms_per_request"],
        "floor_over_vote_cpu": ratio(floor["cpu_ms_per_request"], spread["cpu_ms_per_request"]),
        "floor_over_ceiling": ratio(floor["rps"], ceiling["rps"]),
        "hot_rps": hot["rps"],
        "hot_p50_ms": hot["p50_ms"],
        "hot_p99_ms": hot["p99_ms"],
        "spread_rps": spread["rps"],
        "hot_over_spread": ratio(hot["rps"], spread["rps"]),
        "results_votes_small": SMALL_VOTES,
        "results_votes_large": mode.large_votes,
        "results_p50_ms_1k": small["load"].p50_ms,
        "results_p99_ms_1k": small["load"].p99_ms,
        "results_p50_ms_1m": large["load"].p50_ms,
        "results_p99_ms_1m": large["load"].p99_ms,
        "results_1m_over_1k": ratio(large["load"].p50_ms, small["load"].p50_ms),
        "results_p99_1m_over_1k": ratio(large["load"].p99_ms, small["load"].p99_ms),
        "results_exact": small["exact"] and large["exact"] and checks["results_equal_rows"],
        "results_lag_ms": 0,  # tallies commit with the vote: nothing to lag
        "bulk_insert_s_1m": round(large["insert_s"], 1),
        "recount_s_1m": round(large["recount_s"], 1),
        "rows_match_201s": checks["rows_match_201s"],
        "errors": errors,
        "out_of_tokens": out_of_tokens,
        "phases": {"floor": floor, "vote_spread": spread, "vote_hot": hot, "ceiling": ceiling},
        "roles": roles,
    }
    for name, figures in roles.items():
        if name != "all":
            figures["rss_over_all"] = ratio(figures["rss_mb"], roles["all"]["rss_mb"])
            figures["startup_over_all"] = ratio(figures["startup_s"], roles["all"]["startup_s"])
    summary["targets"] = {key: judge(summary[key], *rule) for key, rule in TARGETS.items()}
    return summary


def judge(value, op: str, bound) -> dict:
    met = value is not None and {">=": value >= bound, "<=": value <= bound, "==": value == bound}[op]
    return {"value": value, "target": f"{op} {bound}", "met": bool(met)}


# --- output ----------------------------------------------------------------------------------


def table(r: dict) -> str:
    p = r["phases"]
    rows = [
        "| what | per second | p50 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|",
        f"| ceiling: pgbench one-row INSERT ({r['concurrency']} clients) | {r['ceiling_tps']:.0f} | {r['ceiling_p50_ms']:.2f} | "
        f"{r['ceiling_p99_ms']:.2f} | {p['ceiling']['errors']} |",
        f"| floor: minimal Django view, raw INSERT | {r['floor_rps']:.0f} | {r['floor_p50_ms']:.2f} | {r['floor_p99_ms']:.2f} | "
        f"{p['floor']['errors']} |",
        f"| vote endpoint, spread over 1,000 polls | {r['spread_rps']:.0f} | {r['vote_p50_ms']:.2f} | {r['vote_p99_ms']:.2f} | "
        f"{p['vote_spread']['errors']} |",
        f"| vote endpoint, one hot poll of 4 choices | {r['hot_rps']:.0f} | {r['hot_p50_ms']:.2f} | {r['hot_p99_ms']:.2f} | "
        f"{p['vote_hot']['errors']} |",
        f"| results of a poll with {r['results_votes_small']:,} votes (1 connection) | | {r['results_p50_ms_1k']:.2f} | "
        f"{r['results_p99_ms_1k']:.2f} | |",
        f"| results of a poll with {r['results_votes_large']:,} votes (1 connection) | | {r['results_p50_ms_1m']:.2f} | "
        f"{r['results_p99_ms_1m']:.2f} | |",
    ]
    targets = ["", "| target | value | goal | met |", "|---|---:|---|---|"]
    for key, t in r["targets"].items():
        targets.append(f"| {key} | {t['value']} | {t['target']} | {'yes' if t['met'] else '**no**'} |")
    roles = [
        "",
        "| process | start to ready /readyz, s | RSS of one warm worker, MB | RSS / all-in-one | start-up / all-in-one |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, f in r["roles"].items():
        label = {"all": "all three apps in one process", "floor": "floor app (reference)"}.get(name, f"{name} role")
        roles.append(f"| {label} | {f['startup_s']} | {f['rss_mb']} | {f.get('rss_over_all', '—')} | {f.get('startup_over_all', '—')} |")
    return "\n".join(rows + targets + roles)


def markdown(r: dict) -> str:
    m = r["machine"]
    return "\n".join(
        [
            f"Run of {r['date']} ({r['mode']} mode, {r['duration_s']} s): concurrency {r['concurrency']}, gunicorn "
            f"{r['gunicorn']['workers']} workers x {r['gunicorn']['threads']} thread(s) for the floor and the roles alike, "
            f"{r['rounds']} round(s) of {r['phase_seconds']} s per phase (medians shown), throttling counted in {r['cache']}.",
            "",
            f"Machine: {m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gb']} GB RAM, Linux {m['kernel']}, {m['postgresql']} "
            f"(synchronous_commit {m['postgresql_settings']['synchronous_commit']}, fsync {m['postgresql_settings']['fsync']}), "
            f"Python {m['python']}, Django {m['django']}, {m['wrk']}; load average at start {m['loadavg_at_start']}. "
            "The machine is shared: other processes running at the same time may perturb these figures.",
            "",
            table(r),
            "",
            f"Ratios: vote/floor **{r['vote_over_floor']}**, floor/ceiling {r['floor_over_ceiling']}, hot/spread "
            f"**{r['hot_over_spread']}**, results {r['results_votes_large']:,}/{r['results_votes_small']:,} p50 "
            f"**{r['results_1m_over_1k']}** (p99 {r['results_p99_1m_over_1k']}). Results exact: {r['results_exact']} "
            f"(lag {r['results_lag_ms']} ms: tallies commit with the vote). Rows match the 201s: {r['rows_match_201s']}. "
            f"Bulk load of {r['results_votes_large']:,} votes {r['bulk_insert_s_1m']} s, recount {r['recount_s_1m']} s. "
            f"Errors over every phase: **{r['errors']}**.",
        ]
    )


def write_doc(path: Path, r: dict) -> None:
    generated = f"{DOC_START}\n{markdown(r)}\n{DOC_END}"
    if path.exists() and DOC_START in path.read_text():
        text = path.read_text()
        head, _, rest = text.partition(DOC_START)
        _, _, tail = rest.partition(DOC_END)
        text = head + generated + tail
    else:
        text = f"# Benchmarks\n\n`make bench` writes the section below; the rest of this page is written by hand.\n\n{generated}\n"
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("BENCH_MODE") == "quick",
        help="seconds per phase, for CI (also BENCH_MODE=quick)",
    )
    parser.add_argument("--concurrency", type=int, default=int(os.environ.get("BENCH_CONCURRENCY", "16")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("BENCH_WORKERS", "4")), help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", "1")), help="gunicorn threads")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--seconds", type=int, help="seconds per load phase (default: 12, quick 2)")
    parser.add_argument("--rounds", type=int, help="rounds of floor/spread/hot/ceiling phases (default: 3, quick 1)")
    parser.add_argument("--max-rate", type=int, default=5000, help="tokens minted per phase second (votes/s it can take)")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("POLLSITE_BENCH_POSTGRES", os.environ.get("POLLSITE_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432")),
    )
    parser.add_argument(
        "--redis",
        default=os.environ.get("POLLSITE_BENCH_REDIS", "redis://127.0.0.1:6379/14"),
        help="cache of the throttles, as in production ('' for the local-memory cache)",
    )
    parser.add_argument("--results", type=Path, help="default: bench/results.json (quick: bench/out/results-quick.json)")
    parser.add_argument("--doc", type=Path, help="default: docs/BENCHMARKS.md (quick: bench/out/BENCHMARKS-quick.md)")
    parser.add_argument("--profile", metavar="PY_SPY", help="py-spy binary: profile the vote workers during the first spread phase")
    parser.add_argument("--keep", action="store_true", help="keep the databases and logs (bench/out/run-*)")
    args = parser.parse_args(argv)
    args.mode = "quick" if args.quick else "full"
    if args.seconds or args.rounds:
        base = MODES[args.mode]
        MODES[args.mode] = Mode(**{**base.__dict__, "seconds": args.seconds or base.seconds, "rounds": args.rounds or base.rounds})
    args.postgres = args.postgres.rstrip("/")
    quick = args.mode == "quick"
    results_path = args.results or (OUT / "results-quick.json" if quick else BENCH / "results.json")
    doc_path = args.doc or (OUT / "BENCHMARKS-quick.md" if quick else ROOT / "docs" / "BENCHMARKS.md")

    results = run(args)
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    doc_path.parent.mkdir(parents=True, exist_ok=True)
    write_doc(doc_path, results)
    print()
    print(markdown(results))
    print(f"\nwrote {results_path} and {doc_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
