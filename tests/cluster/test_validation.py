"""Every values file of the chart's CI set, rendered by the real helm and judged by the API server."""

from __future__ import annotations

import time

import pytest

from tests.cluster.deploy_doc import CHART, production_values
from tests.cluster.test_operator_problems import CRDS

VALUES = [None, *sorted((CHART / "ci").glob("*-values.yaml")), "production.yaml"]
MONITORING_APIS = tuple(
    option
    for kind in ("ServiceMonitor", "PodMonitor", "PrometheusRule")
    for option in ("--api-versions", f"monitoring.coreos.com/v1/{kind}")
)


@pytest.fixture
def monitoring_crds(cluster):
    cluster.kubectl("apply", "-f", str(CRDS))
    cluster.kubectl("wait", "--for", "condition=established", "-f", str(CRDS))
    yield
    cluster.kubectl("delete", "-f", str(CRDS), "--wait")


def test_every_ci_values_file_passes_server_side_strict_validation(cluster, doc, namespace, monitoring_crds):
    cluster.kubectl("create", "namespace", namespace)
    # Pods (the helm test pods) are admitted under `restricted`; the rest get its warnings.
    cluster.kubectl("label", "namespace", namespace, *(f"pod-security.kubernetes.io/{mode}=restricted" for mode in ("enforce", "warn")))
    # A dry run creates nothing, yet the test Pods' admission looks their ServiceAccount up.
    cluster.kubectl("create", "serviceaccount", "pollsite", "-n", namespace, "--save-config")
    (doc.work_dir / "production.yaml").write_text(production_values())
    for values in VALUES:
        name = getattr(values, "name", values) or "default values"
        args = ["-f", str(values)] if values else []
        rendered = doc.helm("template", "pollsite", str(CHART), "-n", namespace, *args, *MONITORING_APIS, step="helm template").stdout
        kinds = {line.split(":", 1)[1].strip() for line in rendered.splitlines() if line.startswith("kind:")}
        assert {"Deployment", "Job", "Pod", "ConfigMap"} <= kinds, name
        started = time.monotonic()
        checked = cluster.kubectl("apply", "-n", namespace, "--dry-run=server", "--validate=strict", "-f", "-", input=rendered, check=False)
        doc.timings.append(("kubectl apply --dry-run=server --validate=strict", time.monotonic() - started))
        assert checked.returncode == 0, f"{name}:\n{checked.stderr}"
        assert "PodSecurity" not in checked.stderr and "Warning" not in checked.stderr, f"{name}:\n{checked.stderr}"
        assert checked.stdout.count("(server dry run)") == len([d for d in rendered.split("\n---") if "kind:" in d]), name
