"""What a release looks like on the API server: the reads the cluster tests assert on."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from pollsite.roles import ROLES as REGISTRY
from tests.cluster.conftest import RELEASE, Cluster
from tests.cluster.kubelet import Event

#: The chart's enabled roles (the registry's), in the order Helm runs their hooks of equal weight: by name.
ROLES = tuple(sorted(REGISTRY))
INSTANCE = f"app.kubernetes.io/instance={RELEASE}"

# DEPLOY.md blocks, by their first line.
SECRETS = "kubectl create namespace polling"
READ_PASSWORD = "kubectl -n polling get secret pollsite-vote -o jsonpath"
INSTALL = "helm install pollsite ./helm/pollsite -n polling -f production.yaml --wait --timeout 10m"
INSTALL_NO_HOOKS = "helm install pollsite ./helm/pollsite -n polling -f production.yaml --no-hooks"
UPGRADE = "helm upgrade pollsite ./helm/pollsite -n polling -f production.yaml --set image.tag=1.5.0 --wait --timeout 10m"
UPGRADE_UNDONE_ON_FAILURE = "helm upgrade pollsite ./helm/pollsite -n polling -f production.yaml --set image.tag=1.6.0"
ROLLBACK = "helm history pollsite -n polling"
SCALE = "helm upgrade pollsite ./helm/pollsite -n polling --reuse-values --set roles.vote.replicas=8"
RECONFIGURE = "helm upgrade pollsite ./helm/pollsite -n polling --reuse-values --set roles.vote.gunicorn.workers=4"
KUBECTL_SCALE = "kubectl -n polling scale deploy/pollsite-vote --replicas=6"
TAKE_BACK_REPLICAS = "helm upgrade pollsite ./helm/pollsite -n polling -f production.yaml --set roles.vote.replicas=3"
AUTOSCALE = "helm upgrade pollsite ./helm/pollsite -n polling --reuse-values \\\n  --set roles.vote.autoscaling.enabled=true"
MONITORING = "kubectl get crd servicemonitors.monitoring.coreos.com podmonitors.monitoring.coreos.com"
GITOPS = "helm template pollsite ./helm/pollsite -n polling -f production.yaml > pollsite.yaml"
UNINSTALL = "helm uninstall pollsite -n polling --wait"

IMAGE = "registry.example.org/pollsite"


@dataclass
class Release:
    cluster: Cluster
    namespace: str

    def deployment(self, name: str) -> dict:
        return self.cluster.get("deployment", name, "-n", self.namespace)

    def web(self, role: str) -> dict:
        return self.deployment(f"{RELEASE}-{role}")

    def web_image(self, role: str) -> str:
        return self.web(role)["spec"]["template"]["spec"]["containers"][0]["image"]

    def config_map_of(self, role: str) -> dict:
        """The ConfigMap the role's web pods read (by name, from the Deployment)."""
        (source,) = self.web(role)["spec"]["template"]["spec"]["containers"][0]["envFrom"]
        return self.cluster.get("configmap", source["configMapRef"]["name"], "-n", self.namespace)

    def config_names(self) -> dict[str, str]:
        return {role: self.config_map_of(role)["metadata"]["name"] for role in ROLES}

    def items(self, kinds: str, selector: str = INSTANCE) -> list[dict]:
        return self.cluster.get(kinds, "-n", self.namespace, "-l", selector)["items"]

    def pods(self, selector: str = INSTANCE) -> dict[str, dict]:
        return {p["metadata"]["name"]: p for p in self.items("pods", selector)}

    def secrets(self) -> dict[str, tuple[str, dict]]:
        """{name: (uid, data)} of the namespace's Secrets but Helm's release records: same uid, never re-created."""
        return {
            s["metadata"]["name"]: (s["metadata"]["uid"], s["data"])
            for s in self.cluster.get("secrets", "-n", self.namespace)["items"]
            if s["type"] != "helm.sh/release.v1"
        }

    def history(self) -> list[Event]:
        return [e for e in self.cluster.kubelet.history if e.namespace == self.namespace]

    def failed_creates(self) -> list[str]:
        events = self.cluster.get("events", "-n", self.namespace, "--field-selector", "reason=FailedCreate")["items"]
        return [e["message"] for e in events]

    def rolled_out(self) -> list[str]:
        """The Deployments not (yet) serving all their replicas from their current template."""
        pending = []
        for deployment in self.items("deployments"):
            status, wanted = deployment["status"], deployment["spec"]["replicas"]
            counts = (status.get("readyReplicas"), status.get("updatedReplicas"), status.get("replicas"))
            if counts != (wanted, wanted, wanted) or status.get("observedGeneration") != deployment["metadata"]["generation"]:
                pending.append(f"{deployment['metadata']['name']}: {status}")
        return pending

    def assert_serving(self) -> None:
        """Every Deployment of the release serves all its replicas (so its pods were admitted)."""
        eventually(lambda: not self.rolled_out(), what=f"rollouts: {self.rolled_out()}")
        assert self.failed_creates() == []


def eventually(check: Callable[[], object], timeout: float = 30, what: str = "") -> object:
    """``check()``'s first truthy result within ``timeout`` seconds (controllers act asynchronously)."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"not within {timeout} s: {what or check}"
        time.sleep(0.2)
    return result
