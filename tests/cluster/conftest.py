"""The chart on a real API server, with the real helm (v3 and v4) and kubectl binaries.

Cluster: ``POLLSITE_TEST_KUBECONFIG`` when set (kind, k3d, any cluster of yours), else the
control plane in ``../shared/k8s`` started for the session, else the suite skips saying
why (and fails under CI=true). Binaries: ``.ci/setup-k8s-tools.sh`` puts them in
``POLLSITE_K8S_TOOLS`` (default ``~/.cache/pollsite/k8s-tools``). The kubelet is played by
``kubelet.py`` on a Node of its own; the suite's values pin every pod to that Node.

Each test gets its own namespace and release; steps are timed per Helm version and the
timings printed at the end of the run (and written to var/test-reports/cluster-timings.json).
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest
import yaml

from tests.cluster.deploy_doc import ROOT, DeployDoc
from tests.cluster.kubelet import Kubelet

CONTROL_PLANE = ROOT.parent / "shared" / "k8s" / "control-plane"
TOOLS = Path(os.environ.get("POLLSITE_K8S_TOOLS") or Path.home() / ".cache" / "pollsite" / "k8s-tools")
HELM_VERSIONS = ("helm3", "helm4")
RELEASE = "pollsite"
REPORT = ROOT / "var" / "test-reports" / "cluster-timings.json"

#: step timings per Helm version, in the order they ran: {"helm3": [(step, seconds), ...]}
TIMINGS: dict[str, list[tuple[str, float]]] = defaultdict(list)
#: (helm version, first line) of every DEPLOY.md block the suite ran
DOC_BLOCKS_RUN: set[tuple[str, str]] = set()
SESSION_STARTED = time.monotonic()


def unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def free_port_block(size: int = 5) -> int:
    """A base port with ``size`` free ports after it (the control plane uses PORT..PORT+4)."""
    for _ in range(50):
        base = random.randrange(20000, 30000)
        try:
            for port in range(base, base + size):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no block of free ports")


@dataclass
class Cluster:
    kubeconfig: Path
    kubelet: Kubelet

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        env = dict(os.environ, KUBECONFIG=str(self.kubeconfig))
        result = subprocess.run([str(TOOLS / "kubectl"), *args], env=env, input=input, capture_output=True, text=True, timeout=120)
        if check:
            assert result.returncode == 0, f"kubectl {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return result

    def get(self, *args: str) -> dict:
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory) -> Cluster:
    missing = [name for name in ("kubectl", *HELM_VERSIONS) if not os.access(TOOLS / name, os.X_OK)]
    if missing:
        unavailable(f"{', '.join(missing)} not in {TOOLS}: run .ci/setup-k8s-tools.sh")
    started_here = None
    if os.environ.get("POLLSITE_TEST_KUBECONFIG"):
        kubeconfig = node_kubeconfig = Path(os.environ["POLLSITE_TEST_KUBECONFIG"])
        taint = True  # a real cluster: only the suite's pods may land on the stand-in's Node
    elif CONTROL_PLANE.exists():
        started_here = tmp_path_factory.mktemp("control-plane")
        start = [str(CONTROL_PLANE), "start", str(started_here), str(free_port_block())]
        started = subprocess.run(start, capture_output=True, text=True, timeout=300)
        if started.returncode:
            pytest.fail(f"control plane did not start:\n{started.stdout}\n{started.stderr}")
        kubeconfig, node_kubeconfig = started_here / "kubeconfig", started_here / "node.kubeconfig"
        taint = False
    else:
        unavailable(f"no cluster: set POLLSITE_TEST_KUBECONFIG, or provide the control plane at {CONTROL_PLANE}")
    kubelet = Kubelet(node_kubeconfig, f"pollsite-standin-{os.getpid()}", taint=taint)
    kubelet.register()
    kubelet.start()
    yield Cluster(kubeconfig, kubelet)
    kubelet.stop()
    kubelet.unregister()
    if started_here:
        subprocess.run([str(CONTROL_PLANE), "stop", str(started_here)], capture_output=True, timeout=120)


@pytest.fixture(params=HELM_VERSIONS)
def helm_version(request) -> str:
    return request.param


@pytest.fixture
def doc(cluster, helm_version, tmp_path) -> DeployDoc:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "helm").symlink_to(TOOLS / helm_version)
    (bin_dir / "kubectl").symlink_to(TOOLS / "kubectl")
    overlay = tmp_path / "standin-values.yaml"
    overlay.write_text(
        yaml.safe_dump(
            {
                # Where the stand-in kubelet is; a failing migration fails at once (no retries).
                "defaults": {
                    "nodeSelector": cluster.kubelet.node_selector,
                    "tolerations": cluster.kubelet.tolerations,
                    "migrations": {"backoffLimit": 0},
                }
            }
        )
    )
    work = tmp_path / "work"
    work.mkdir()
    # What the operator brings to DEPLOY.md's first step: the database servers' CA certificate.
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=pollsite test database CA",
         "-keyout", str(work / "database-ca.key"), "-out", str(work / "database-ca.pem")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    deploy_doc = DeployDoc(helm_version, bin_dir, cluster.kubeconfig, work, overlay, TIMINGS[helm_version])
    yield deploy_doc
    DOC_BLOCKS_RUN.update(deploy_doc.ran)


@pytest.fixture
def namespace(cluster, helm_version, request) -> str:
    """A fresh namespace name for the test (DEPLOY.md's first block creates it); deleted afterwards."""
    name = f"{request.node.originalname.removeprefix('test_')[:40].rstrip('_').replace('_', '-')}-{helm_version}"
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found", check=False)


def pytest_collection_modifyitems(items):
    """Tests marked ``last`` run after the others (they check what the others did)."""
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)


def pytest_configure(config):
    config.addinivalue_line("markers", "last: run after every other test of the run")


def pytest_terminal_summary(terminalreporter):
    if not TIMINGS:
        return
    total = time.monotonic() - SESSION_STARTED
    terminalreporter.section("cluster suite timings")
    report = {"total_seconds": round(total, 1), "steps": {}}
    for version, steps in sorted(TIMINGS.items()):
        sums: dict[str, list[float]] = defaultdict(list)
        for step, seconds in steps:
            sums[step].append(seconds)
        terminalreporter.write_line(f"{version}: {sum(s for _, s in steps):.1f} s in {len(steps)} timed steps")
        for step, values in sums.items():
            mean = sum(values) / len(values)
            terminalreporter.write_line(f"  {step:<48} {len(values):>2} x  mean {mean:6.1f} s  max {max(values):6.1f} s")
        report["steps"][version] = {step: [round(v, 2) for v in values] for step, values in sums.items()}
    terminalreporter.write_line(f"cluster suite: {total:.1f} s in all (both Helm versions, control plane start included)")
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2) + "\n")
