"""The servers under load (gunicorn with the roles, the floor, the peer) and what they cost: CPU, memory, start-up."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import requests

from bench.plan import ROOT, log
from pollsite.roles import ROLES
from tests.support.facts import facts_of
from tests.support.stack import Process, Stack, free_port, wait_ready


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


def floor_env(args, database_url: str) -> dict:
    """The floor (bench/floor): no middleware, one raw INSERT, the same gunicorn settings."""
    return {**gunicorn_env(args), "DJANGO_SETTINGS_MODULE": "bench.floor.settings", "DATABASE_URL": database_url}


def peer_env(stack: Stack, args, database_url: str) -> dict:
    """The peer (bench/peer), as its team would run it: the same Redis for its throttles,
    django-prometheus in multiprocess mode, and the same per-user rate as the vote role's."""
    env = {
        **gunicorn_env(args),
        "DJANGO_SETTINGS_MODULE": "bench.peer.settings",
        "DATABASE_URL": database_url,
        "PROMETHEUS_MULTIPROC_DIR": str(stack.workdir / "prometheus"),
        "PEER_RATE_USER": "600/minute",
    }
    if args.redis:
        env["CACHE_URL"] = f"{args.redis}?key_prefix=peer"
    return env


#: gunicorn's own access log, one line per request (the peer's; pollsite writes its own JSON line).
PEER_ACCESS_LOG = ("--logger-class", "gunicorn.glogging.Logger", "--access-logfile", "-")


def spawn_gunicorn(stack: Stack, name: str, role: str, app: str, port: int, env: dict, extra_args: tuple = ()) -> Process:
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    if "PROMETHEUS_MULTIPROC_DIR" in env:
        env["PROMETHEUS_MULTIPROC_DIR"] = f"{env['PROMETHEUS_MULTIPROC_DIR']}-{name}"
    argv = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "pollsite" / "config" / "gunicorn.py"), *extra_args, app]
    return stack.spawn(name, role, argv, **env)


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


def warm_paths(role_name: str) -> list[str]:
    """The reads that warm a worker before its memory is read: the role's own (tests/<role>/facts.py)."""
    prefix = ROLES[role_name].default_prefix
    return [f"{prefix}api/v1/{path}" for path in facts_of(role_name).read_paths]


def startup_and_memory(stack: Stack, args, databases: dict, repeats: int) -> dict:
    """Seconds from spawning gunicorn to a 200 on /readyz, and one warmed worker's RSS."""
    token = {"Authorization": "Bearer " + stack.token("bench-warm")}
    cases = {
        **{role: (role, "pollsite.config.wsgi", {}, warm_paths(role)) for role in ROLES},
        "all": (
            "vote",
            "pollsite.config.wsgi",
            {"DJANGO_SETTINGS_MODULE": "bench.allinone.settings", "DATABASE_URL": databases["all"]},
            [p for role in ROLES for p in warm_paths(role)],
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
                env = {**floor_env(args, databases["floor"]), "GUNICORN_WORKERS": "1"}
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
