"""docs/DEPLOY.md's commands, run as written against the suite's cluster.

Every ```sh block of DEPLOY.md with a ``helm`` or ``kubectl`` command is a step an
operator types. A test runs a block by naming how it starts (so the test fails the moment
the docs change under it) and the block goes to bash with only these substitutions:

- the namespace ``polling`` becomes the test's own namespace;
- ``./helm/pollsite`` becomes the chart in this checkout;
- ``production.yaml`` becomes DEPLOY.md's own production.yaml block, plus the suite's
  overlay (which node is the stand-in's, no migration retries);
- ``helm`` is the Helm version under test and ``kubectl`` the suite's kubectl (PATH);
- a line ending in ``# Helm 3`` or ``# Helm 4`` runs under that version only.

``DeployDoc.run`` records what ran, so the suite can assert that every block was run
under both Helm versions.
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_MD = ROOT / "docs" / "DEPLOY.md"
CHART = ROOT / "helm" / "pollsite"
NAMESPACE = "polling"
VERSION_TAG = re.compile(r"\s+# Helm (\d)\s*$")


def fenced_blocks(language: str) -> list[str]:
    """The ```<language> blocks of DEPLOY.md, dedented."""
    blocks = []
    for match in re.finditer(rf"^( *)```{language}\n(.*?)^\1```", DEPLOY_MD.read_text(), re.M | re.S):
        indent = len(match.group(1))
        blocks.append("".join(line[indent:] for line in match.group(2).splitlines(keepends=True)))
    return blocks


def command_blocks() -> list[str]:
    """The sh blocks that drive the cluster (a line starting with helm or kubectl)."""
    return [b for b in fenced_blocks("sh") if re.search(r"^(helm|kubectl) ", b, re.M)]


def production_values() -> str:
    (block,) = [b for b in fenced_blocks("yaml") if b.startswith("image:") and "ingress:" in b]
    return block


@dataclass
class DeployDoc:
    version: str  # "helm3" or "helm4"
    bin_dir: Path  # holds `helm` and `kubectl`
    kubeconfig: Path
    work_dir: Path
    overlay: Path
    timings: list[tuple[str, float]]
    ran: set[tuple[str, str]] = field(default_factory=set)  # (helm version, block's first line)

    def block(self, start: str) -> str:
        matches = [b for b in command_blocks() if b.startswith(start)]
        assert len(matches) == 1, f"docs/DEPLOY.md has {len(matches)} sh blocks starting with {start!r}"
        return matches[0]

    def script(self, start: str, namespace: str) -> str:
        matches = [self.block(start)]
        number = self.version.removeprefix("helm")
        lines = []
        for line in matches[0].splitlines():
            tag = VERSION_TAG.search(line)
            if tag and tag.group(1) != number:
                continue
            lines.append(line)
        text = "\n".join(lines) + "\n"
        text = re.sub(rf"\b{NAMESPACE}\b", namespace, text)
        text = text.replace("./helm/pollsite", str(CHART))
        return text.replace("-f production.yaml", " ".join(self.values_args()))

    def values_args(self) -> list[str]:
        """What ``-f production.yaml`` stands for: DEPLOY.md's production.yaml, then the suite's overlay."""
        production = self.work_dir / "production.yaml"
        production.write_text(production_values())
        return ["-f", str(production), "-f", str(self.overlay)]

    def run(self, start: str, namespace: str, *, step: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run the DEPLOY.md block that starts with ``start`` (the only one)."""
        self.ran.add((self.version, self.block(start).splitlines()[0]))
        return self._bash(self.script(start, namespace), step, check)

    def helm(self, *args: str, step: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run a helm command of the test's own (an operator's step DEPLOY.md does not show)."""
        return self._bash(" ".join(["helm", *(a.replace("./helm/pollsite", str(CHART)) for a in args)]), step, check)

    def _bash(self, script: str, step: str, check: bool) -> subprocess.CompletedProcess:
        env = {"PATH": f"{self.bin_dir}:/usr/bin:/bin", "KUBECONFIG": str(self.kubeconfig), "HOME": str(self.work_dir)}
        started = time.monotonic()
        result = subprocess.run(
            ["/bin/bash", "-euo", "pipefail", "-c", script], cwd=self.work_dir, env=env, capture_output=True, text=True, timeout=600
        )
        self.timings.append((step, time.monotonic() - started))
        if check:
            assert result.returncode == 0, f"{step} failed:\n$ {script}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        return result
