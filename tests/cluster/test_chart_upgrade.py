"""A release of chart 0.1.0 (hooks for its ServiceAccount, ConfigMaps and Secrets) upgraded as DEPLOY.md says."""

from __future__ import annotations

import subprocess

import yaml

from tests.cluster.conftest import RELEASE, unavailable
from tests.cluster.deploy_doc import ROOT, production_values
from tests.cluster.release import ROLES, Release

PREVIOUS_CHART = "649d476"  # the last commit with chart 0.1.0
FROM_0_1_0 = "for object in serviceaccount/pollsite secret/pollsite-cache; do"


def test_upgrade_from_chart_0_1_0(cluster, doc, namespace, tmp_path):
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", PREVIOUS_CHART, "helm/pollsite"], capture_output=True, timeout=60)
    if archive.returncode:  # a shallow clone: fetch that one commit from where it was cloned
        subprocess.run(["git", "-C", str(ROOT), "fetch", "--quiet", "origin", PREVIOUS_CHART], capture_output=True, timeout=120)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", PREVIOUS_CHART, "helm/pollsite"], capture_output=True, timeout=60)
    if archive.returncode:
        unavailable(f"chart 0.1.0 is not in this clone (git archive {PREVIOUS_CHART}): {archive.stderr.decode()[-300:]}")
    subprocess.run(["tar", "-x", "-C", str(tmp_path)], input=archive.stdout, check=True, timeout=60)
    release = Release(cluster, namespace)
    cluster.kubectl("create", "namespace", namespace)
    cluster.kubectl("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted")
    old_chart = tmp_path / "helm" / "pollsite"
    # What the operator's production.yaml held under chart 0.1.0: today's, without what 0.1.0 did not know.
    old_values = yaml.safe_load(production_values())
    del old_values["defaults"]["database"]["caConfigMap"]
    (tmp_path / "production-0.1.0.yaml").write_text(yaml.safe_dump(old_values))
    overlay = doc.values_args()[-1]
    old_args = ("-f", str(tmp_path / "production-0.1.0.yaml"), "-f", overlay)
    doc.helm("install", RELEASE, str(old_chart), "-n", namespace, *old_args, "--wait", step="install chart 0.1.0")
    generated = {name: data for name, (_, data) in release.secrets().items()}
    assert {f"{RELEASE}-{r}" for r in ROLES} <= set(generated), "chart 0.1.0 generated each role's Secret"

    doc.run(FROM_0_1_0, namespace, step="upgrade from chart 0.1.0")
    history = doc.helm("history", RELEASE, "-n", namespace, step="helm history").stdout
    assert "pollsite-0.2.0" in history.splitlines()[-1] and "deployed" in history.splitlines()[-1], history
    release.assert_serving()
    # The generated credentials are the ones the new chart reads, unchanged.
    assert {name: data for name, (_, data) in release.secrets().items()} == generated
    for role in ROLES:
        assert release.config_map_of(role)["metadata"]["name"].startswith(f"{RELEASE}-{role}-")
    left = {o["metadata"]["name"] for o in release.items("configmaps")}
    assert not left & {f"{RELEASE}-{r}" for r in ROLES}, "the old unhashed ConfigMaps are gone"
    for kind, name in (("serviceaccount", RELEASE), ("secret", f"{RELEASE}-cache")):
        annotations = cluster.get(kind, name, "-n", namespace)["metadata"]["annotations"]
        assert annotations["meta.helm.sh/release-name"] == RELEASE and "helm.sh/hook" not in annotations
