"""Facts about the machine a run happened on."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from pathlib import Path

import psycopg2


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


def busy_seconds() -> float:
    """CPU time the whole machine spent not idle so far (every process: servers, databases, load, kernel)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")
