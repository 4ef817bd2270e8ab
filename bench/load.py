"""Load and its figures: wrk against an HTTP server, pgbench against PostgreSQL."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.plan import BENCH


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
    machine_cpu_ms: float | None = None  # the whole machine's CPU per answered request (servers, databases, load, kernel)

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
