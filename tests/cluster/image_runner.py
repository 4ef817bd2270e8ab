"""Run a pod's containers from the built image, as the kubelet's container runtime would.

The stand-in kubelet hands this the run-to-completion pods (the migration Jobs) whose
every container uses the image tests/image builds: each init container, then each
container, runs its command with ``buildah run`` in a working container of that image,
with the environment the kubelet would give it (ConfigMaps, Secrets read from the API,
``$(VAR)`` expanded). The host's network is the pod's, so 127.0.0.1 is the test's
PostgreSQL. The exit code of the first step that fails is the pod's.
"""

from __future__ import annotations

import subprocess
import uuid
from dataclasses import dataclass, field

from tests.chart.render import containers, pod_environment
from tests.cluster.kubelet import Api


@dataclass
class ImageRunner:
    api: Api
    buildah: str
    image: str
    #: (pod, container, exit code, the output's last lines) of every step run
    steps: list[tuple[str, str, int, str]] = field(default_factory=list)

    def handles(self, pod: dict) -> bool:
        return all(c["image"] == self.image for c in containers(pod["spec"]))

    def run(self, pod: dict) -> int:
        name = f"pollsite-pod-{uuid.uuid4().hex[:10]}"
        subprocess.run([self.buildah, "from", "--pull-never", "--name", name, self.image], check=True, capture_output=True, timeout=120)
        try:
            for container in containers(pod["spec"]):
                env = pod_environment(self._sources(pod["metadata"]["namespace"], container), container)
                args = [arg for key, value in env.items() for arg in ("--env", f"{key}={value}")]
                done = subprocess.run(
                    [self.buildah, "run", "--isolation", "chroot", *args, name, "--", *container["command"]],
                    capture_output=True,
                    text=True,
                    timeout=300,
                )
                self.steps.append((pod["metadata"]["name"], container["name"], done.returncode, (done.stdout + done.stderr)[-2000:]))
                if done.returncode:
                    return done.returncode
            return 0
        finally:
            subprocess.run([self.buildah, "rm", name], capture_output=True, timeout=120)

    def _sources(self, namespace: str, container: dict) -> list[dict]:
        """The ConfigMaps and Secrets the container's environment names, as the API has them."""
        names = [("configmaps", s["configMapRef"]["name"]) for s in container.get("envFrom", []) if "configMapRef" in s]
        names += [
            ("secrets", e["valueFrom"]["secretKeyRef"]["name"])
            for e in container.get("env", [])
            if "secretKeyRef" in e.get("valueFrom", {})
        ]
        return [self.api.call("GET", f"/api/v1/namespaces/{namespace}/{kind}/{name}") for kind, name in dict.fromkeys(names)]
