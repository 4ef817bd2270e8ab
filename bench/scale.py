"""Scale as work grows: throughput at 1, 2 and 4 gunicorn workers, and events per second on RabbitMQ."""

from __future__ import annotations

import time

from bench.data import outbox_fill, sql
from bench.load import wrk
from bench.plan import BENCH, SCALE_POLL, SCALE_WORKERS, SPREAD_POLLS, log
from bench.servers import floor_env, role_env, spawn_gunicorn
from tests.support.stack import Stack, free_port, wait_ready


def workers_sweep(stack: Stack, args, mode, *, tokens, floor_db: str) -> dict:
    """Votes spread over 1,000 polls at each worker count, the vote role and the floor alike."""
    figures = {}
    for phase, workers in enumerate(SCALE_WORKERS):
        sized = type(args)(**{**vars(args), "workers": workers})
        row = {}
        for name, app, env, path, token_file in (
            ("vote", "pollsite.config.wsgi", role_env(stack, sized), "/vote/api/v1/polls/%d/votes/", tokens),
            ("floor", "bench.floor.wsgi", floor_env(sized, floor_db), "/floor/polls/%d/votes/", "-"),
        ):
            port = free_port()
            server = spawn_gunicorn(stack, f"scale-{name}-{workers}", "vote", app, port, env)
            try:
                wait_ready(f"http://127.0.0.1:{port}/readyz", server)
                argv = [token_file, args.wrk_threads, path, SCALE_POLL + phase * SPREAD_POLLS + 1, SPREAD_POLLS]
                load = wrk(f"http://127.0.0.1:{port}", BENCH / "votes.lua", connections=args.concurrency, threads=args.wrk_threads,
                           seconds=mode.scale_seconds, args=argv)  # fmt: skip
            finally:
                stack.stop(server)
            row[f"{name}_rps"], row[f"{name}_errors"] = round(load.rps, 1), load.errors
        row["vote_over_floor"] = round(row["vote_rps"] / row["floor_rps"], 3) if row["floor_rps"] else None
        figures[workers] = row
        log(f"scale: {workers} worker(s): vote {row['vote_rps']:.0f}/s, floor {row['floor_rps']:.0f}/s")
    first = figures[SCALE_WORKERS[0]]
    for row in figures.values():
        row["vote_growth"] = round(row["vote_rps"] / first["vote_rps"], 2) if first["vote_rps"] else None
        row["floor_growth"] = round(row["floor_rps"] / first["floor_rps"], 2) if first["floor_rps"] else None
    return figures


def events_throughput(workdir, args, mode) -> dict:
    """The polls relay and the vote consumer on RabbitMQ, each its own process, draining an outbox
    of ``mode.events`` poll.created events: published and applied per second, and what is left."""
    stack = Stack(workdir / "events", postgres_url=args.postgres, broker_url=args.rabbitmq)
    try:
        stack.prepare()
        polls_db, vote_db = stack.database_url("polls"), stack.database_url("vote")
        outbox_fill(polls_db, mode.events)
        started = time.monotonic()
        stack.start_relay("polls")
        stack.start_consumer("vote")
        samples = []  # (seconds, published, applied)
        while True:
            elapsed = time.monotonic() - started
            (published,) = sql(polls_db, "SELECT count(*) FROM pollsite_outboxevent WHERE published_at IS NOT NULL")[0]
            (applied,) = sql(vote_db, "SELECT count(*) FROM pollsite_inboxevent")[0]
            samples.append((elapsed, published, applied))
            if applied >= mode.events or elapsed > mode.events_timeout:
                break
            time.sleep(0.25)
        (unpublished,) = sql(polls_db, "SELECT count(*) FROM pollsite_outboxevent WHERE published_at IS NULL")[0]
    finally:
        stack.close()
    first_published = next((t for t, p, _ in samples if p > 0), samples[-1][0])
    first_applied = next((t for t, _, a in samples if a > 0), samples[-1][0])
    done_publishing = next((t for t, p, _ in samples if p >= mode.events), samples[-1][0])
    elapsed, published, applied = samples[-1]
    figures = {
        "events": mode.events,
        "broker": "rabbitmq",
        "published_per_s": round(published / max(1e-9, done_publishing - first_published), 1),
        "applied_per_s": round(applied / max(1e-9, elapsed - first_applied), 1),
        "seconds_to_apply_all": round(elapsed, 1),
        "outbox_backlog_at_end": unpublished,
        "applied_at_end": applied,
        "relay": "polls",
        "consumer": "vote",
    }
    log(
        f"events: {mode.events} published at {figures['published_per_s']:.0f}/s, applied at {figures['applied_per_s']:.0f}/s "
        f"by the vote consumer; outbox backlog at the end {unpublished}, applied {applied}"
    )
    return figures
