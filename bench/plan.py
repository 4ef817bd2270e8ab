"""What the benchmark runs: its modes, the poll ids it seeds, the targets it judges, where it writes."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"

# Poll ids of the seeded read model; a poll's choices are poll*10+1 .. poll*10+4.
SPREAD_POLLS = 1000
HOT_POLL = 900_000  # + round
WARM_POLL = 700_000  # warm-up votes go to 700_001 .. 701_000
SMALL_POLL, LARGE_POLL = 800_001, 800_002
SMALL_VOTES = 1000
#: The scale phases' gunicorn worker counts; each votes into 1,000 polls of its own from SCALE_POLL on.
SCALE_WORKERS = (1, 2, 4)
SCALE_POLL = 600_000
#: The profiled phase (the CPU breakdown) votes into 1,000 polls of its own from PROFILE_POLL on.
PROFILE_POLL = 500_000

TARGETS = {
    "vote_over_floor": (">=", 0.6),
    "vote_over_peer": (">=", 1.5),
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
    scale_seconds: int  # per worker count and server
    events: int  # in the polls outbox when the relay and the vote consumer start
    events_timeout: int  # seconds the event phase may take at most
    profile_seconds: int  # of py-spy on the vote workers, for the CPU breakdown


MODES = {
    "full": Mode(
        "full", seconds=12, warmup=4, rounds=3, read_seconds=12, large_votes=1_000_000, startup_repeats=2,
        scale_seconds=8, events=20_000, events_timeout=120, profile_seconds=10,
    ),
    "quick": Mode(
        "quick", seconds=2, warmup=1, rounds=1, read_seconds=4, large_votes=20_000, startup_repeats=1,
        scale_seconds=2, events=2_000, events_timeout=60, profile_seconds=2,
    ),
}  # fmt: skip


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)
