"""The benchmark's quick mode runs end to end, so `make bench` never rots.

Its figures are not judged here (speed targets come from the full run, docs/BENCHMARKS.md);
this checks that every phase ran and produced every figure, and that the results it read
were exact.
"""

import json
import os
import shutil
import subprocess
import sys
from numbers import Real
from pathlib import Path

import pytest

from tests.support.services import require

ROOT = Path(__file__).resolve().parents[2]

REQUIRED = {
    "vote_rps": Real,
    "floor_rps": Real,
    "ceiling_tps": Real,
    "vote_over_floor": Real,
    "hot_rps": Real,
    "spread_rps": Real,
    "hot_over_spread": Real,
    "results_p50_ms_1k": Real,
    "results_p50_ms_1m": Real,
    "results_1m_over_1k": Real,
    "errors": int,
    "concurrency": int,
    "vote_p99_ms": Real,
    "floor_p99_ms": Real,
    "results_p99_ms_1k": Real,
    "results_p99_ms_1m": Real,
    "peer_rps": Real,
    "vote_over_peer": Real,
    "vote_cpu_ms_per_request": Real,
}


def require_tool(name: str) -> None:
    if shutil.which(name):
        return
    reason = f"{name} is not installed (.ci/setup-bench.sh installs it)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the benchmark's quick mode, but {reason}")
    pytest.skip(reason)


@pytest.mark.timeout(480)
def test_quick_benchmark_writes_every_figure(tmp_path):
    postgres = require("postgres")
    redis = require("redis")
    rabbitmq = require("rabbitmq")
    require_tool("wrk")
    require_tool("pgbench")
    results, doc = tmp_path / "results.json", tmp_path / "BENCHMARKS.md"
    run = subprocess.run(
        [sys.executable, "bench/run.py", "--quick", "--results", str(results), "--doc", str(doc)],
        cwd=ROOT,
        env={**os.environ, "POLLSITE_BENCH_POSTGRES": postgres, "POLLSITE_BENCH_REDIS": redis, "POLLSITE_BENCH_RABBITMQ": rabbitmq},
        capture_output=True,
        text=True,
        timeout=460,
        check=False,
    )
    print(run.stdout[-4000:])
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    figures = json.loads(results.read_text())
    for key, kind in REQUIRED.items():
        assert isinstance(figures.get(key), kind) and not isinstance(figures[key], bool), (key, figures.get(key))
    for key in ("vote_rps", "floor_rps", "ceiling_tps", "hot_rps", "spread_rps", "results_p50_ms_1k", "results_p50_ms_1m"):
        assert figures[key] > 0, key
    assert figures["errors"] >= 0 and figures["concurrency"] > 0
    assert figures["vote_over_floor"] == pytest.approx(figures["vote_rps"] / figures["floor_rps"], rel=0.01)
    # Correctness, not speed: results equal the votes stored, and the stored votes the 201s.
    assert figures["results_exact"] is True and figures["rows_match_201s"] is True
    assert figures["out_of_tokens"] == 0
    for role in ("polls", "choice", "vote", "all"):
        assert figures["roles"][role]["startup_s"] > 0 and figures["roles"][role]["rss_mb"] > 0, role
    assert set(figures["targets"]) == {"vote_over_floor", "vote_over_peer", "hot_over_spread", "results_1m_over_1k", "errors"}
    assert figures["vote_over_peer"] == pytest.approx(figures["vote_rps"] / figures["peer_rps"], rel=0.01)
    # Where the vote path's CPU goes: shares of py-spy's samples, summing to one, in ms per vote too.
    shares = figures["vote_cpu_breakdown"]
    assert len(shares) >= 5 and sum(shares.values()) == pytest.approx(1, abs=0.01), shares
    assert set(figures["vote_cpu_breakdown_ms"]) == set(shares)
    # Scale: each worker count measured for the vote role and the floor; events drained on RabbitMQ.
    assert set(figures["scale_workers"]) == {"1", "2", "4"}
    assert all(row["vote_rps"] > 0 and row["floor_rps"] > 0 for row in figures["scale_workers"].values())
    events = figures["events"]
    assert events["applied_at_end"] == events["events"] and events["outbox_backlog_at_end"] == 0, events
    assert events["published_per_s"] > 0 and events["applied_per_s"] > 0

    text = doc.read_text()
    assert "| vote endpoint, one hot poll of 4 choices |" in text and "PostgreSQL" in text and "CPUs" in text
    assert "| peer: DRF CreateAPIView" in text and "where the vote workers' CPU goes" in text and "Events on RabbitMQ" in text
