"""What a restructuring must leave unchanged, written to a folder to compare with ``diff -r``:
the chart rendered under a few value sets, and each role's OpenAPI schema.

    python -m tests.support.snapshot /tmp/before   # on the old commit
    python -m tests.support.snapshot /tmp/after    # on the new one
    diff -r /tmp/before /tmp/after
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from pollsite.roles import ROLES
from tests.chart import render as chart
from tests.support.stack import ROOT

VALUE_SETS = {
    "default": {},
    "hs256-admin": {"jwt": {"algorithm": "HS256"}, "admin": {"enabled": True}},
    "no-netpol-no-tls": {"networkPolicy": {"enabled": False}, "ingress": {"tls": {"enabled": False}}},
}


def snapshot(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, values in VALUE_SETS.items():
        path = out / f"chart-{name}.json"
        path.write_text(json.dumps(chart.render(values), indent=1, sort_keys=True) + "\n")
        written.append(path)
    scratch = tempfile.mkdtemp(prefix="snapshot-")  # the roles' var/, outside what is compared
    for role in ROLES.values():
        env = dict(os.environ, DJANGO_SETTINGS_MODULE=role.settings_module, POLLSITE_VAR_DIR=scratch)
        command = [sys.executable, "manage.py", "spectacular", "--format", "openapi-json"]
        schema = json.loads(subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout)
        path = out / f"schema-{role.name}.json"
        path.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in snapshot(Path(sys.argv[1])):
        print(path)
