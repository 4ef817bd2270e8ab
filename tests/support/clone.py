"""A clone of the committed HEAD in an empty folder, and the stack it starts: for the tests
that are a newcomer (tests/system/test_newcomer.py) or a role's author (test_startrole.py)."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

from pollsite.local.ports import port_is_free, stack_ports
from tests.support.stack import ROOT


def clone_head(parent: Path) -> Path:
    """``git clone`` of this repository's committed HEAD into ``parent/pollsite``: nothing uncommitted, nothing ignored."""
    folder = parent / "pollsite"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(folder)], check=True, timeout=120)
    return folder


def free_stack_port() -> int:
    """An entry-point port with the role ports above it free too."""
    for _ in range(50):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port < 65000 and all(port_is_free(p) for p in stack_ports(port).values()):
            return port
    raise RuntimeError("no free run of ports for the stack")


def processes_of(folder: Path) -> list[str]:
    """Processes whose command line or working directory is inside ``folder``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue  # gone meanwhile, or not ours to read
        if str(folder) in cmdline or cwd == str(folder) or cwd.startswith(f"{folder}/"):
            found.append(f"{proc.name}: {cmdline.strip()}")
    return found
