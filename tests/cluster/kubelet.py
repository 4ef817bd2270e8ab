"""A stand-in for the kubelet: registers a Node and reports its pods' status as a kubelet would.

The control plane in ``../shared/k8s`` has no kubelet and no container runtime, so nothing
would ever run the pods the chart creates. This plays the kubelet's part over the API,
with the node's own credentials (``node.kubeconfig``):

- registers a Node (Ready, with capacity), labelled and tainted so that only pods that
  ask for it (the suite's values) land there, even on a real cluster;
- long-running pods (``restartPolicy: Always``) become Running and Ready, with an address
  from 192.0.2.0/24 (TEST-NET-1; EndpointSlices refuse loopback addresses);
- run-to-completion pods (Jobs, ``helm test`` pods) run their init containers and then
  exit 0 (phase Succeeded), or exit 1 (phase Failed) when one of their images is in
  ``failing_images``: how a test asks for a broken migration;
- pods being deleted are removed at once, as a kubelet does once their containers stop;
- with a ``runner`` (see image_runner.py), run-to-completion pods it accepts really run:
  Running while their containers' commands run from the image, then Succeeded or Failed
  by their exit codes.

Every change of phase is kept in ``history`` so tests can assert the order things ran in.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import ssl
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml

NODE_LABEL = "pollsite.test/standin"
POLL_SECONDS = 0.2
HEARTBEAT_SECONDS = 10


@dataclass(frozen=True)
class Event:
    at: float  # time.monotonic()
    namespace: str
    pod: str
    owner: str  # "Job/<name>", "ReplicaSet/<name>" or "" (a bare pod)
    phase: str


class Api:
    """The few REST calls the stand-in needs, authenticated as in a kubeconfig (token or client cert)."""

    def __init__(self, kubeconfig: Path):
        config = yaml.safe_load(kubeconfig.read_text())
        context = next(c["context"] for c in config["contexts"] if c["name"] == config["current-context"])
        cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
        user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
        self.server = cluster["server"].rstrip("/")
        self.ssl = ssl.create_default_context()
        # Test CAs made with a bare `openssl req -x509` lack the key usage Python 3.13's strict mode wants.
        self.ssl.verify_flags &= ~ssl.VERIFY_X509_STRICT
        if cluster.get("insecure-skip-tls-verify"):
            self.ssl.check_hostname = False
            self.ssl.verify_mode = ssl.CERT_NONE
        elif "certificate-authority-data" in cluster:
            self.ssl.load_verify_locations(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
        elif "certificate-authority" in cluster:
            self.ssl.load_verify_locations(cafile=cluster["certificate-authority"])
        self.headers = {}
        if "token" in user:
            self.headers["Authorization"] = f"Bearer {user['token']}"
        elif "client-certificate-data" in user:
            self._load_client_cert(base64.b64decode(user["client-certificate-data"]), base64.b64decode(user["client-key-data"]))
        elif "client-certificate" in user:
            self.ssl.load_cert_chain(user["client-certificate"], user["client-key"])

    def _load_client_cert(self, cert: bytes, key: bytes) -> None:
        with tempfile.NamedTemporaryFile() as cert_file, tempfile.NamedTemporaryFile() as key_file:
            cert_file.write(cert)
            key_file.write(key)
            cert_file.flush()
            key_file.flush()
            self.ssl.load_cert_chain(cert_file.name, key_file.name)

    def call(self, method: str, path: str, body: dict | None = None, content_type: str = "application/json") -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.server + path, data=data, method=method, headers=dict(self.headers))  # noqa: S310
        if data is not None:
            request.add_header("Content-Type", content_type)
        with urllib.request.urlopen(request, context=self.ssl, timeout=10) as response:  # noqa: S310 - https to the API server
            return json.loads(response.read() or b"{}")

    def patch_status(self, path: str, status: dict) -> dict:
        return self.call("PATCH", path + "/status", {"status": status}, "application/merge-patch+json")


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def condition(kind: str, status: bool, reason: str = "") -> dict:
    entry = {"type": kind, "status": "True" if status else "False", "lastTransitionTime": now()}
    if reason:
        entry["reason"] = reason
    return entry


class Kubelet:
    def __init__(self, kubeconfig: Path, node: str, *, taint: bool):
        self.api = Api(kubeconfig)
        self.node = node
        self.taint = taint
        self.failing_images: set[str] = set()
        self.history: list[Event] = []
        self._ips = itertools.cycle(range(2, 255))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._heartbeat = 0.0
        self.errors: list[str] = []
        self.runner = None  # an object with handles(pod) -> bool and run(pod) -> exit code
        self._started: set[str] = set()  # uids of pods the runner has taken

    # -- the node --------------------------------------------------------------------

    @property
    def tolerations(self) -> list[dict]:
        return [{"key": NODE_LABEL, "operator": "Exists", "effect": "NoSchedule"}] if self.taint else []

    @property
    def node_selector(self) -> dict:
        return {NODE_LABEL: self.node}

    def register(self) -> None:
        spec = {"taints": [{"key": NODE_LABEL, "value": "true", "effect": "NoSchedule"}]} if self.taint else {}
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": self.node,
                "labels": {NODE_LABEL: self.node, "kubernetes.io/hostname": self.node, "kubernetes.io/os": "linux"},
            },
            "spec": dict(spec),
        }
        try:
            self.api.call("POST", "/api/v1/nodes", node)
        except urllib.error.HTTPError as error:
            if error.code != 409:
                raise
        self._report_node()
        # Admission taints a new Node not-ready; the node-lifecycle controller (off in the
        # shared control plane) would lift it once the Node reports Ready. Lift it here.
        self.api.call("PATCH", f"/api/v1/nodes/{self.node}", {"spec": {"taints": spec.get("taints", [])}}, "application/merge-patch+json")

    def _report_node(self) -> None:
        capacity = {"cpu": "64", "memory": "256Gi", "pods": "500", "ephemeral-storage": "500Gi"}
        self.api.patch_status(
            f"/api/v1/nodes/{self.node}",
            {
                "capacity": capacity,
                "allocatable": capacity,
                "addresses": [{"type": "InternalIP", "address": "192.0.2.1"}, {"type": "Hostname", "address": self.node}],
                "conditions": [
                    {**condition("Ready", True, "KubeletReady"), "lastHeartbeatTime": now()},
                    {**condition("MemoryPressure", False, "KubeletHasSufficientMemory"), "lastHeartbeatTime": now()},
                    {**condition("DiskPressure", False, "KubeletHasNoDiskPressure"), "lastHeartbeatTime": now()},
                    {**condition("PIDPressure", False, "KubeletHasSufficientPID"), "lastHeartbeatTime": now()},
                ],
                "nodeInfo": {
                    "kubeletVersion": "v1.36.2-standin",
                    "operatingSystem": "linux",
                    "architecture": "amd64",
                    "containerRuntimeVersion": "standin://1",
                },
            },
        )
        self._heartbeat = time.monotonic()

    def unregister(self) -> None:
        try:
            self.api.call("DELETE", f"/api/v1/nodes/{self.node}")
        except urllib.error.URLError:
            pass

    # -- the loop ----------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"kubelet-{self.node}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                if time.monotonic() - self._heartbeat > HEARTBEAT_SECONDS:
                    self._report_node()
                self.sync()
            except (urllib.error.URLError, OSError, ValueError) as error:
                # A pod may go away between the list and the patch: the next round settles it.
                self.errors.append(f"{type(error).__name__}: {error}")

    def sync(self) -> None:
        selector = urllib.parse.quote(f"spec.nodeName={self.node}")
        for pod in self.api.call("GET", f"/api/v1/pods?fieldSelector={selector}")["items"]:
            self._sync_pod(pod)

    def _sync_pod(self, pod: dict) -> None:
        meta, spec, status = pod["metadata"], pod["spec"], pod.get("status", {})
        if meta.get("deletionTimestamp"):
            path = f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}"
            body = {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0, "preconditions": {"uid": meta["uid"]}}
            try:
                self.api.call("DELETE", path, body)
            except urllib.error.HTTPError as error:
                if error.code not in (404, 409):
                    raise
            return
        phase = status.get("phase", "Pending")
        if phase in ("Succeeded", "Failed") or (phase == "Running" and status.get("podIP")) or meta["uid"] in self._started:
            return
        if spec.get("restartPolicy", "Always") == "Always":
            self._report(pod, self._running(pod))
        elif self.runner and self.runner.handles(pod):
            if meta["uid"] not in self._started:
                self._started.add(meta["uid"])
                running = self._running(pod)
                self._report(pod, running)
                pod["status"]["podIP"] = running["podIP"]  # an address stays the pod's
                threading.Thread(target=self._run_pod, args=(pod,), daemon=True).start()
        else:
            self._report(pod, self._finished(pod, failed=bool(self.failing_images & {c["image"] for c in spec["containers"]})))

    def _run_pod(self, pod: dict) -> None:
        code = self.runner.run(pod)
        try:
            self._report(pod, self._finished(pod, failed=code != 0))
        except (urllib.error.URLError, OSError) as error:
            self.errors.append(f"{pod['metadata']['name']}: {error}")

    def _report(self, pod: dict, status: dict) -> None:
        meta = pod["metadata"]
        self.api.patch_status(f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}", status)
        owner = next((f"{o['kind']}/{o['name']}" for o in meta.get("ownerReferences", [])), "")
        self.history.append(Event(time.monotonic(), meta["namespace"], meta["name"], owner, status["phase"]))

    def _base(self, pod: dict) -> dict:
        ip = pod["status"].get("podIP") or f"192.0.2.{next(self._ips)}"
        return {
            "hostIP": "192.0.2.1",
            "hostIPs": [{"ip": "192.0.2.1"}],
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "startTime": pod["status"].get("startTime") or now(),
            "initContainerStatuses": [self._container(c, {"terminated": self._exit(0)}) for c in pod["spec"].get("initContainers", [])],
        }

    def _running(self, pod: dict) -> dict:
        return {
            **self._base(pod),
            "phase": "Running",
            "conditions": [
                condition("PodScheduled", True),
                condition("Initialized", True),
                condition("ContainersReady", True),
                condition("Ready", True),
            ],
            "containerStatuses": [
                {**self._container(c, {"running": {"startedAt": now()}}), "ready": True, "started": True} for c in pod["spec"]["containers"]
            ],
        }

    def _finished(self, pod: dict, *, failed: bool) -> dict:
        code = 1 if failed else 0
        return {
            **self._base(pod),
            "phase": "Failed" if failed else "Succeeded",
            "conditions": [
                condition("PodScheduled", True),
                condition("Initialized", True),
                condition("ContainersReady", False, "PodCompleted"),
                condition("Ready", False, "PodCompleted"),
            ],
            "containerStatuses": [self._container(c, {"terminated": self._exit(code)}) for c in pod["spec"]["containers"]],
        }

    @staticmethod
    def _exit(code: int) -> dict:
        return {"exitCode": code, "reason": "Error" if code else "Completed", "startedAt": now(), "finishedAt": now()}

    @staticmethod
    def _container(container: dict, state: dict) -> dict:
        return {
            "name": container["name"],
            "image": container["image"],
            "imageID": f"standin://{container['image']}",
            "containerID": f"standin://{container['name']}",
            "ready": False,
            "restartCount": 0,
            "started": False,
            "state": state,
        }
