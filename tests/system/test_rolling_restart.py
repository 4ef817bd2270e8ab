"""Rolling restart of the vote role under load, through the local entry point (the gateway).

As Kubernetes does it: a new vote process starts, becomes ready, then the old one gets
SIGTERM while votes keep coming. At most 0.1% of requests may fail, and every vote that
got a 201 must be in the database.
"""

import re
import signal
import sys
import threading
import time

import requests

from tests.support.load import Call, send_all, summary
from tests.support.services import require
from tests.support.stack import Stack, free_port

VOTES = 5000
ROLLS = 2  # old → new, then new → a fresh one on the first port
CONCURRENCY = 32
MAX_FAILED_RATIO = 0.001


def start_gateway(stack: Stack, vote_ports: list[int]):
    port = free_port()
    gateway = stack.spawn(
        "gateway",
        "vote",
        [sys.executable, "-m", "pollsite.local.gateway", "--port", str(port)],
        POLLSITE_UPSTREAMS_POLLS=f"127.0.0.1:{stack.ports['polls']}",
        POLLSITE_UPSTREAMS_CHOICE=f"127.0.0.1:{stack.ports['choice']}",
        POLLSITE_UPSTREAMS_VOTE=",".join(f"127.0.0.1:{p}" for p in vote_ports),
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/polls/api/v1/polls/", timeout=1)
            return gateway, port
        except requests.ConnectionError:
            time.sleep(0.1)
    raise TimeoutError(f"gateway did not start:\n{gateway.output()}")


def test_rolling_restart_of_vote_under_load(tmp_path):
    stack = Stack(tmp_path / "stack", postgres_url=require("postgres"))
    try:
        stack.prepare()
        for role in ("polls", "choice"):
            stack.start_web(role)
        old_port, new_port = stack.ports["vote"], free_port()
        old = stack.start_web("vote", port=old_port, workers=2)
        _gateway, gateway_port = start_gateway(stack, [old_port, new_port])
        poll_id, choice_ids = stack.poll_with_choices(4)
        warm = requests.post(
            stack.url("vote", f"polls/{poll_id}/votes/"), json={"choice_id": choice_ids[0]}, headers=stack.auth("warm"), timeout=10
        )
        assert warm.status_code == 201, warm.text

        url = f"http://127.0.0.1:{gateway_port}/vote/api/v1/polls/{poll_id}/votes/"
        calls = [Call("POST", url, {"choice_id": choice_ids[n % 4]}, stack.auth(f"rr-{n}"), tag=f"rr-{n}") for n in range(VOTES)]
        timeline = []

        def roll():
            """Kubernetes' order: start the new process, wait until it is ready, then SIGTERM the old one."""
            current, ports = old, [old_port, new_port]
            for number in range(ROLLS):
                time.sleep(2)
                began = time.monotonic()
                replacement = stack.start_web("vote", port=ports[(number + 1) % 2], workers=2)
                ready = time.monotonic()
                code = stack.stop(current, signal.SIGTERM)
                timeline.append({"start": began, "ready": ready, "exited": time.monotonic(), "code": code, "log": current.output()})
                current = replacement

        roller = threading.Thread(target=roll)
        started = time.monotonic()
        roller.start()
        answers, seconds = send_all(calls, concurrency=CONCURRENCY, keepalive=True)
        roller.join()
        ended = started + seconds

        print(f"\n[rolling restart] {summary(answers, seconds)}")
        for number, step in enumerate(timeline, start=1):
            workers = re.findall(r"stopped listening on SIGTERM and answered (\d+) queued", step["log"])
            drained = sum(int(n) for n in workers)
            print(
                f"[rolling restart] roll {number}: new process ready {step['ready'] - step['start']:.2f}s after start; "
                f"old one exited {step['exited'] - step['ready']:.2f}s after SIGTERM (code {step['code']}), "
                f"answering {drained} queued connection(s) on its way out"
            )
            assert step["code"] == 0
            assert len(workers) == 2, "each worker of the old process stops listening at once on SIGTERM"
        assert len(timeline) == ROLLS and timeline[-1]["exited"] < ended - 1, "the restarts must happen while the load runs"
        failed = [a for a in answers if a.status != 201]
        print(f"[rolling restart] failed: {len(failed)} of {len(answers)} ({len(failed) / len(answers):.3%})")
        for answer in failed[:10]:
            print(f"  {answer.status} {answer.body or answer.error}")
        assert len(failed) <= MAX_FAILED_RATIO * len(answers)

        created = {a.call.tag for a in answers if a.status == 201}
        stored = {row[0] for row in stack.query("vote", "SELECT voter FROM vote_vote WHERE poll_id = %s", (poll_id,))}
        missing = created - stored
        print(f"[rolling restart] 201s: {len(created)}, stored: {len(stored - {'warm'})}, 201s missing from the database: {len(missing)}")
        assert not missing
        results = requests.get(f"http://127.0.0.1:{gateway_port}/vote/api/v1/polls/{poll_id}/results/", timeout=10).json()
        assert results["total"] == len(stored)
    finally:
        stack.close()


def test_sigterm_at_any_moment_stops_the_process_cleanly(tmp_path):
    """SIGTERM while gunicorn boots, while its workers load Django, or while they idle:
    the workers stop listening and exit without an exception, whatever they were doing."""
    stack = Stack(tmp_path / "stack")  # /healthz only: no database needed
    outcomes = []
    try:
        for delay in (0.6, 0.9, 1.2, 1.6, 2.2, 3.0):
            process = stack.spawn(
                "vote-web",
                "vote",
                [sys.executable, "-m", "gunicorn", "-c", "pollsite/config/gunicorn.py", "pollsite.config.wsgi"],
                GUNICORN_BIND=f"127.0.0.1:{free_port()}",
                GUNICORN_WORKERS="2",
            )
            time.sleep(delay)
            code = stack.stop(process, signal.SIGTERM)
            log = process.output()
            stopped = len(re.findall(r"stopped listening on SIGTERM", log))
            outcomes.append(f"{delay}s: exit {code}, {stopped} worker(s) stopped listening")
            assert "Exception in worker process" not in log and "Traceback" not in log, log[-3000:]
            assert code in (0, -signal.SIGTERM), log[-3000:]  # -SIGTERM: killed before gunicorn took over
    finally:
        print("\n[sigterm] " + "; ".join(outcomes))
        stack.close()
