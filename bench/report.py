"""Judging and writing the figures: medians, targets, the table, docs/BENCHMARKS.md's generated part."""

from __future__ import annotations

import statistics
from pathlib import Path

from bench.load import Load
from bench.plan import SMALL_VOTES, TARGETS, Mode

DOC_START = "<!-- bench:results:start (written by bench/run.py; edit outside these markers) -->"
DOC_END = "<!-- bench:results:end -->"


def median_load(loads: list[Load]) -> dict:
    return {
        "rps": round(statistics.median(load.rps for load in loads), 1),
        "p50_ms": round(statistics.median(load.p50_ms for load in loads), 2),
        "p99_ms": round(statistics.median(load.p99_ms for load in loads), 2),
        "errors": sum(load.errors for load in loads),
        "requests": sum(load.requests for load in loads),
        "per_round_rps": [round(load.rps, 1) for load in loads],
        "cpu_ms_per_request": median_of(load.cpu_ms for load in loads),
        "machine_cpu_ms_per_request": median_of(load.machine_cpu_ms for load in loads),
    }


def median_of(values) -> float | None:
    present = [value for value in values if value is not None]
    return round(statistics.median(present), 3) if present else None


def summarise(phases: dict, reads: dict, checks: dict, roles: dict, mode: Mode, args, *, extra: dict) -> dict:
    """Every figure of the run; ``extra``: the breakdown, the scale phases and the events, as measured."""
    floor, spread, hot, ceiling, peer = (median_load(phases[name]) for name in ("floor", "spread", "hot", "ceiling", "peer"))
    small, large = reads[SMALL_VOTES], reads[mode.large_votes]
    errors = sum(x["errors"] for x in (floor, spread, hot, ceiling, peer)) + small["load"].errors + large["load"].errors
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
        "peer_rps": peer["rps"],
        "peer_p50_ms": peer["p50_ms"],
        "peer_p99_ms": peer["p99_ms"],
        "vote_over_peer": ratio(spread["rps"], peer["rps"]),
        "vote_cpu_ms_per_request": spread["cpu_ms_per_request"],
        "floor_cpu_ms_per_request": floor["cpu_ms_per_request"],
        "peer_cpu_ms_per_request": peer["cpu_ms_per_request"],
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
        "phases": {"floor": floor, "vote_spread": spread, "vote_hot": hot, "ceiling": ceiling, "peer": peer},
        "roles": roles,
        **extra,
    }
    if spread["cpu_ms_per_request"] is not None:
        summary["vote_cpu_breakdown_ms"] = {
            name: round(share * spread["cpu_ms_per_request"], 3) for name, share in extra.get("vote_cpu_breakdown", {}).items()
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
    cpu = lambda phase: f"{phase['cpu_ms_per_request']:.2f} / {phase['machine_cpu_ms_per_request']:.2f}"  # noqa: E731
    rows = [
        "| what | per second | p50 ms | p99 ms | errors | CPU ms per request: workers / machine |",
        "|---|---:|---:|---:|---:|---:|",
        f"| ceiling: pgbench one-row INSERT ({r['concurrency']} clients) | {r['ceiling_tps']:.0f} | {r['ceiling_p50_ms']:.2f} | "
        f"{r['ceiling_p99_ms']:.2f} | {p['ceiling']['errors']} | |",
        f"| floor: minimal Django view, raw INSERT | {r['floor_rps']:.0f} | {r['floor_p50_ms']:.2f} | {r['floor_p99_ms']:.2f} | "
        f"{p['floor']['errors']} | {cpu(p['floor'])} |",
        f"| vote endpoint, spread over 1,000 polls | {r['spread_rps']:.0f} | {r['vote_p50_ms']:.2f} | {r['vote_p99_ms']:.2f} | "
        f"{p['vote_spread']['errors']} | {cpu(p['vote_spread'])} |",
        f"| vote endpoint, one hot poll of 4 choices | {r['hot_rps']:.0f} | {r['hot_p50_ms']:.2f} | {r['hot_p99_ms']:.2f} | "
        f"{p['vote_hot']['errors']} | {cpu(p['vote_hot'])} |",
        f"| peer: DRF CreateAPIView + ModelSerializer, simplejwt, DRF throttles, django-prometheus | {r['peer_rps']:.0f} | "
        f"{r['peer_p50_ms']:.2f} | {r['peer_p99_ms']:.2f} | {p['peer']['errors']} | {cpu(p['peer'])} |",
        f"| results of a poll with {r['results_votes_small']:,} votes (1 connection) | | {r['results_p50_ms_1k']:.2f} | "
        f"{r['results_p99_ms_1k']:.2f} | | |",
        f"| results of a poll with {r['results_votes_large']:,} votes (1 connection) | | {r['results_p50_ms_1m']:.2f} | "
        f"{r['results_p99_ms_1m']:.2f} | | |",
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
    return "\n".join(rows + targets + roles + breakdown_table(r) + scale_table(r))


def breakdown_table(r: dict) -> list[str]:
    shares = r.get("vote_cpu_breakdown") or {}
    if not shares:
        return ["", f"CPU breakdown of the vote path: not taken ({r.get('vote_cpu_breakdown_note', 'no profile')})."]
    rows = ["", "| where the vote workers' CPU goes (py-spy, GIL samples) | share | ms per vote |", "|---|---:|---:|"]
    for name, share in shares.items():
        rows.append(f"| {name} | {100 * share:.1f} % | {r['vote_cpu_breakdown_ms'].get(name, 0):.3f} |")
    return rows


def scale_table(r: dict) -> list[str]:
    rows = ["", "| gunicorn workers | vote /s | floor /s | vote / floor | vote growth | floor growth |"]
    rows.append("|---:|---:|---:|---:|---:|---:|")
    for workers, f in r["scale_workers"].items():
        growth = f"{f['vote_growth']}x | {f['floor_growth']}x"
        rows.append(f"| {workers} | {f['vote_rps']:.0f} | {f['floor_rps']:.0f} | {f['vote_over_floor']} | {growth} |")
    e = r["events"]
    rows += [
        "",
        f"Events on RabbitMQ ({e['events']:,} poll.created in the polls outbox; the polls relay and the vote consumer, one "
        f"process each): published {e['published_per_s']:.0f}/s, applied {e['applied_per_s']:.0f}/s, all applied after "
        f"{e['seconds_to_apply_all']} s; outbox backlog at the end {e['outbox_backlog_at_end']}.",
    ]
    return rows


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
            f"Ratios: vote/floor **{r['vote_over_floor']}**, vote/peer **{r['vote_over_peer']}**, "
            f"floor/ceiling {r['floor_over_ceiling']}, hot/spread "
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
