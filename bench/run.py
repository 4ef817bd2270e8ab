#!/usr/bin/env python
"""The vote path against the framework floor, the database ceiling and a peer, in one run.

    .venv/bin/python bench/run.py            # full: about 8-10 minutes (make bench)
    .venv/bin/python bench/run.py --quick    # seconds per phase, for CI (make bench QUICK=1)

On local PostgreSQL (``POLLSITE_BENCH_POSTGRES``, default postgres://postgres@127.0.0.1:5432)
it creates throwaway databases, migrates them, seeds the vote role's read model with SQL
(what the polls and choice events would have written), then measures side by side, at the
same concurrency and with the same gunicorn settings:

- floor: ``bench/floor`` (one Django view, one raw-SQL INSERT into a table shaped like
  ``vote_vote``);
- ceiling: ``pgbench`` running bench/insert.sql (the same INSERT) against the same server;
- vote: the vote role as in production (DEBUG off, JWT auth, validation, both rate limits
  in Redis, the one-vote constraint, tally shards, Prometheus multiprocess metrics, the
  JSON access log to a file), votes spread over 1,000 polls, and all into one hot poll;
- peer: ``bench/peer``, the same endpoint as a team would first write it with DRF's
  generic view, simplejwt, DRF's throttles and django-prometheus, on the vote role's tables;
- results read time at 1,000 and 1,000,000 votes, checked exact against the rows;
- per role (and one process with all three apps, bench/allinone): start-up to a ready
  /readyz and the resident memory of one warmed-up gunicorn worker;
- where the vote workers' CPU goes (py-spy, bench/profile.py);
- scale: the vote role and the floor at 1, 2 and 4 workers, and the polls relay and the
  vote consumer draining an outbox on RabbitMQ (bench/scale.py).

Load comes from wrk (bench/votes.lua: one pre-minted token per vote, never reused within
a phase). Phases run in interleaved rounds and each figure is the median over the rounds.
Writes bench/results.json and the generated part of docs/BENCHMARKS.md (a quick run
writes under bench/out/ unless told otherwise) and prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg2
import requests

from bench import profile, scale
from bench.data import FLOOR_TABLE, bulk_votes, create_database, mint_tokens, seed_read_model, sql
from bench.load import Load, pgbench, wrk
from bench.machine import busy_seconds, machine
from bench.plan import (
    BENCH,
    HOT_POLL,
    LARGE_POLL,
    MODES,
    OUT,
    PROFILE_POLL,
    ROOT,
    SMALL_POLL,
    SMALL_VOTES,
    SPREAD_POLLS,
    WARM_POLL,
    Mode,
    log,
)
from bench.report import markdown, summarise, write_doc
from bench.servers import (
    PEER_ACCESS_LOG,
    cpu_seconds,
    floor_env,
    peer_env,
    role_env,
    spawn_gunicorn,
    startup_and_memory,
)
from tests.support.stack import Process, Stack, free_port, wait_ready


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
            "peer": create_database(stack, f"{stack.namespace}_peer"),
        }
        sql(databases["floor"], FLOOR_TABLE)
        stack.manage(
            "vote", "migrate", "--noinput", "-v", "0", DJANGO_SETTINGS_MODULE="bench.allinone.settings", DATABASE_URL=databases["all"]
        )
        # The peer writes the vote role's own tables: made by its migrations, seeded alike.
        stack.manage("vote", "migrate", "vote", "--noinput", "-v", "0", DATABASE_URL=databases["peer"])
        vote_db = stack.database_url("vote")
        for url in (vote_db, databases["peer"]):
            seed_read_model(url, mode.rounds)
        tokens = workdir / "tokens.txt"
        started = time.perf_counter()
        token_count = max(5000, mode.seconds * args.max_rate)
        mint_tokens(tokens, token_count)
        log(f"databases migrated and seeded; {token_count} tokens minted in {time.perf_counter() - started:.1f}s")

        results["roles"] = startup_and_memory(stack, args, databases, mode.startup_repeats)

        ports = {name: free_port() for name in ("vote", "floor", "peer")}
        servers = {
            "vote": spawn_gunicorn(stack, "vote-web", "vote", "pollsite.config.wsgi", ports["vote"], role_env(stack, args)),
            "floor": spawn_gunicorn(stack, "floor-web", "vote", "bench.floor.wsgi", ports["floor"], floor_env(args, databases["floor"])),
            "peer": spawn_gunicorn(
                stack, "peer-web", "vote", "bench.peer.wsgi", ports["peer"], peer_env(stack, args, databases["peer"]), PEER_ACCESS_LOG
            ),
        }
        url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        for name, server in servers.items():
            wait_ready(f"{url[name]}/readyz", server)
        path = {"vote": "/vote/api/v1/polls/%d/votes/", "floor": "/floor/polls/%d/votes/", "peer": "/peer/polls/%d/votes/"}
        c, t = args.concurrency, args.wrk_threads

        def votes(name: str, first: int, polls: int, seconds: int) -> Load:
            server = servers[name]
            cpu_before, busy_before = cpu_seconds(server.popen.pid), busy_seconds()
            argv = [tokens if name != "floor" else "-", t, path[name], first, polls]
            load = wrk(url[name], BENCH / "votes.lua", connections=c, threads=t, seconds=seconds, args=argv)
            answered = max(1, load.requests + load.errors)
            load.cpu_ms = (cpu_seconds(server.popen.pid) - cpu_before) * 1000 / answered
            load.machine_cpu_ms = (busy_seconds() - busy_before) * 1000 / answered
            return load

        log(f"warm-up {mode.warmup}s each (concurrency {c}, {args.workers} workers x {args.threads} threads)")
        for name in ("floor", "vote", "peer"):
            warm = votes(name, WARM_POLL + 1, SPREAD_POLLS, mode.warmup)
            if warm.errors:
                raise RuntimeError(f"{name} warm-up answered errors {warm.statuses}:\n{servers[name].output()[-3000:]}")

        phases: dict[str, list[Load]] = {"floor": [], "spread": [], "hot": [], "peer": [], "ceiling": []}
        for rnd in range(mode.rounds):
            phases["floor"].append(votes("floor", 1, SPREAD_POLLS, mode.seconds))
            phases["spread"].append(votes("vote", rnd * SPREAD_POLLS + 1, SPREAD_POLLS, mode.seconds))
            phases["hot"].append(votes("vote", HOT_POLL + rnd, 1, mode.seconds))
            phases["peer"].append(votes("peer", rnd * SPREAD_POLLS + 1, SPREAD_POLLS, mode.seconds))
            phases["ceiling"].append(pgbench(databases["floor"], clients=c, threads=t, seconds=mode.seconds, workdir=workdir))
            log(f"round {rnd + 1}/{mode.rounds}: " + ", ".join(describe(name, loads[-1]) for name, loads in phases.items()))

        extra = {"vote_cpu_breakdown": {}}
        extra["vote_cpu_breakdown"], extra["vote_cpu_breakdown_note"] = cpu_breakdown(servers["vote"], workdir, mode, votes)
        checks = exactness_after_load(url["vote"], vote_db, phases, mode.rounds, c)
        reads = results_reads(stack, url["vote"], vote_db, mode, args)
        for server in servers.values():
            stack.stop(server)
        extra["scale_workers"] = scale.workers_sweep(stack, args, mode, tokens=tokens, floor_db=databases["floor"])
        extra["events"] = scale.events_throughput(workdir, args, mode)
        results.update(summarise(phases, reads, checks, results["roles"], mode, args, extra=extra))
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


def cpu_breakdown(vote: Process, workdir: Path, mode: Mode, votes) -> tuple[dict, str]:
    """py-spy on the vote workers during spread votes of a phase of its own: ({component: share}, note)."""
    if not profile.py_spy().exists():
        return {}, f"py-spy is not installed ({profile.py_spy()})"
    raw = workdir / "profile-vote.txt"
    recorder = profile.record(vote.popen.pid, mode.profile_seconds, raw)
    time.sleep(0.5)  # py-spy attaches to every worker first
    votes("vote", PROFILE_POLL + 1, SPREAD_POLLS, mode.profile_seconds)  # polls of its own: no voter has voted in them
    try:
        _, errors = recorder.communicate(timeout=mode.profile_seconds + 60)
    except subprocess.TimeoutExpired:
        recorder.kill()
        return {}, "py-spy did not finish"
    if recorder.returncode != 0 or not raw.exists():
        return {}, f"py-spy failed ({recorder.returncode}): {errors.strip()[-300:]}"
    shutil.copy(raw, OUT / "profile-vote.txt")
    shares = profile.breakdown(raw)
    log("vote CPU: " + ", ".join(f"{name} {100 * share:.0f}%" for name, share in shares.items()))
    return shares, "py-spy, GIL samples of the vote workers"


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
        "--rabbitmq",
        default=os.environ.get("POLLSITE_BENCH_RABBITMQ", os.environ.get("POLLSITE_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672//")),
        help="the broker of the events phase",
    )
    parser.add_argument(
        "--redis",
        default=os.environ.get("POLLSITE_BENCH_REDIS", "redis://127.0.0.1:6379/14"),
        help="cache of the throttles, as in production ('' for the local-memory cache)",
    )
    parser.add_argument("--results", type=Path, help="default: bench/results.json (quick: bench/out/results-quick.json)")
    parser.add_argument("--doc", type=Path, help="default: docs/BENCHMARKS.md (quick: bench/out/BENCHMARKS-quick.md)")
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
