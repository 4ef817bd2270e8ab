"""A bounded asyncio load generator for system tests (aiohttp), and figures about its run.

Every request is recorded (status, seconds, body on errors) so a test can assert on
exactly what came back and print the figures it measured.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp


@dataclass
class Call:
    method: str
    url: str
    json: dict | None = None
    headers: dict = field(default_factory=dict)
    tag: object = None  # what the test needs to find this call again (e.g. the voter)


@dataclass
class Answer:
    call: Call
    status: int  # 0: no HTTP answer (connection error or timeout)
    seconds: float
    body: dict | str | None = None
    error: str = ""


def summary(answers: list[Answer], seconds: float) -> str:
    statuses = Counter(answer.status for answer in answers)
    latencies = sorted(answer.seconds for answer in answers) or [0.0]
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return (
        f"{len(answers)} requests in {seconds:.2f}s ({len(answers) / max(seconds, 1e-9):.0f}/s), "
        f"statuses {dict(sorted(statuses.items()))}, p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms"
    )


async def _one(session: aiohttp.ClientSession, call: Call) -> Answer:
    started = time.perf_counter()
    try:
        async with session.request(call.method, call.url, json=call.json, headers=call.headers) as response:
            text = await response.text()
            try:
                body = await response.json(content_type=None) if text else None
            except ValueError:
                body = text
            return Answer(call, response.status, time.perf_counter() - started, body)
    except (aiohttp.ClientError, TimeoutError) as exc:
        return Answer(call, 0, time.perf_counter() - started, None, f"{exc.__class__.__name__}: {exc}")


async def _run(calls, concurrency: int, timeout: float, keepalive: bool) -> list[Answer]:
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=not keepalive)
    queue: asyncio.Queue = asyncio.Queue()
    for call in calls:
        queue.put_nowait(call)
    answers: list[Answer] = []

    async def worker(session):
        while True:
            try:
                call = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            answers.append(await _one(session, call))

    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return answers


def send_all(calls: list[Call], *, concurrency: int, timeout: float = 30, keepalive: bool = True) -> tuple[list[Answer], float]:
    """Send every call with at most ``concurrency`` in flight; (answers, seconds taken)."""
    started = time.perf_counter()
    answers = asyncio.run(_run(calls, concurrency, timeout, keepalive))
    return answers, time.perf_counter() - started


async def _burst(calls, timeout: float) -> list[Answer]:
    """Every call at once: one connection each, released together."""
    gate = asyncio.Event()
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)) as session:

        async def fire(call):
            await gate.wait()
            return await _one(session, call)

        tasks = [asyncio.create_task(fire(call)) for call in calls]
        await asyncio.sleep(0.05)
        gate.set()
        return list(await asyncio.gather(*tasks))


def burst(calls: list[Call], *, timeout: float = 30) -> list[Answer]:
    return asyncio.run(_burst(calls, timeout))
