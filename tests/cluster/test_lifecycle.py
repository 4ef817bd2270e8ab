"""The life of a release, as docs/DEPLOY.md tells an operator to live it, with Helm 3 and 4."""

from __future__ import annotations

import re

import pytest

from tests.cluster.conftest import DOC_BLOCKS_RUN, HELM_VERSIONS, RELEASE
from tests.cluster.deploy_doc import command_blocks
from tests.cluster.release import (
    IMAGE,
    INSTALL,
    READ_PASSWORD,
    RECONFIGURE,
    ROLES,
    ROLLBACK,
    SECRETS,
    UNINSTALL,
    UPGRADE,
    UPGRADE_UNDONE_ON_FAILURE,
    Release,
    eventually,
)


def test_life_of_a_release(cluster, doc, namespace, helm_version):
    release = Release(cluster, namespace)
    doc.run(SECRETS, namespace, step="namespace and Secrets (kubectl)")
    operator_secrets = release.secrets()
    assert set(operator_secrets) >= {f"{RELEASE}-{r}" for r in ROLES} | {f"{RELEASE}-jwt"}
    for role in ROLES:  # each relay's and consumer's own broker password is in its role's Secret
        assert {"EVENTS_PUBLISHER_PASSWORD", "EVENTS_CONSUMER_PASSWORD"} <= set(operator_secrets[f"{RELEASE}-{role}"][1])
    # The password to create vote's PostgreSQL user with: generated once, 48 hex digits.
    password = doc.run(READ_PASSWORD, namespace, step="read a database password").stdout
    assert re.fullmatch("[0-9a-f]{48}", password), password

    # Install: the migration Jobs run one role after the other, all before any Deployment's pod.
    doc.run(INSTALL, namespace, step="install --wait + helm test")
    ran = release.history()
    jobs = [e for e in ran if e.owner.startswith("Job/")]
    assert [e.owner for e in jobs] == [f"Job/{RELEASE}-{r}-migrate" for r in ROLES]
    assert all(e.phase == "Succeeded" for e in jobs)
    first_web_pod = min(e.at for e in ran if e.owner.startswith("ReplicaSet/"))
    assert max(e.at for e in jobs) < first_web_pod, "a Deployment's pod ran before the migrations"
    # helm test: one pod per role ran to completion.
    assert sorted(e.pod for e in ran if not e.owner and e.phase == "Succeeded") == [f"{RELEASE}-{r}-test-health" for r in ROLES]
    # Admitted under PodSecurity `restricted` (the namespace enforces it) and serving.
    labels = cluster.get("namespace", namespace)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    release.assert_serving()
    # Nothing but the Jobs is a hook: the ServiceAccount and ConfigMaps belong to the release.
    for obj in release.items("serviceaccounts,configmaps,secrets"):
        assert "helm.sh/hook" not in (obj["metadata"].get("annotations") or {}), obj["metadata"]["name"]
    for role in ROLES:
        config = release.config_map_of(role)
        assert config["immutable"] is True
        assert config["metadata"]["name"].startswith(f"{RELEASE}-{role}-")
        assert config["metadata"]["annotations"]["meta.helm.sh/release-name"] == RELEASE
    installed_config = release.config_names()
    installed_secrets = release.secrets()  # yours, and the release's own cache URL Secret
    assert set(installed_secrets) == {*operator_secrets, f"{RELEASE}-cache"}
    assert release.web("vote")["spec"]["replicas"] == 4

    # Upgrade to a new image: same configuration, so the same ConfigMaps; Secrets untouched.
    doc.run(UPGRADE, namespace, step="upgrade --set image.tag")
    assert {release.web_image(r) for r in ROLES} == {f"{IMAGE}:1.5.0"}
    assert release.config_names() == installed_config
    # Upgrade with changed values: vote alone gets a new ConfigMap.
    doc.run(RECONFIGURE, namespace, step="upgrade --reuse-values (vote workers)")
    reconfigured = release.config_names()
    assert reconfigured["vote"] != installed_config["vote"]
    assert {r: n for r, n in reconfigured.items() if r != "vote"} == {r: n for r, n in installed_config.items() if r != "vote"}
    assert release.config_map_of("vote")["data"]["GUNICORN_WORKERS"] == "4"
    release.assert_serving()
    assert release.secrets() == installed_secrets, "an upgrade re-created or changed a Secret"

    # An upgrade whose migration fails, undone by Helm (--atomic / --rollback-on-failure).
    cluster.kubelet.failing_images.add(f"{IMAGE}:1.6.0")
    serving = set(release.pods(f"{release_selector()}"))
    failed = doc.run(UPGRADE_UNDONE_ON_FAILURE, namespace, step="failing upgrade, undone by helm", check=False)
    assert failed.returncode != 0
    assert "migrate" in failed.stderr, failed.stderr
    assert {release.web_image(r) for r in ROLES} == {f"{IMAGE}:1.5.0"}
    assert release.config_names() == reconfigured
    assert set(release.pods(release_selector())) == serving, "a pod of the running version was replaced"
    status = doc.helm("status", RELEASE, "-n", namespace, "-o", "json", step="helm status").stdout
    assert '"status":"deployed"' in status.replace(" ", ""), status

    # Roll back to the first revision: its image, its ConfigMaps (by name), its replicas.
    rolled = doc.run(ROLLBACK, namespace, step="helm history + rollback --wait")
    assert "failed" in rolled.stdout.lower() or "superseded" in rolled.stdout.lower()
    assert {release.web_image(r) for r in ROLES} == {f"{IMAGE}:1.4.0"}
    assert release.config_names() == installed_config
    release.assert_serving()

    # Uninstall: nothing of the release is left but what DEPLOY.md says is kept.
    doc.run(UNINSTALL, namespace, step="uninstall --wait")
    # The garbage collector removes the ReplicaSets' pods after their Deployments.
    eventually(lambda: not release.pods(release_selector()), what="the web pods to go")
    left = release.items("all,configmaps,serviceaccounts,ingresses,networkpolicies,poddisruptionbudgets,horizontalpodautoscalers,secrets")
    kept = {(o["kind"], o["metadata"]["name"]) for o in left}
    failed_jobs = {o["metadata"]["name"] for o in left if o["kind"] == "Job"}
    assert failed_jobs and all(name.endswith("-migrate") for name in failed_jobs), kept
    assert all(
        (kind == "Job" and name in failed_jobs) or (kind == "Pod" and name.rsplit("-", 1)[0] in failed_jobs) for kind, name in kept
    ), f"left behind: {sorted(kept)}"
    assert release.secrets() == operator_secrets, "your Secrets are kept, untouched; the release's own is gone"


def release_selector(process: str = "web") -> str:
    return f"app.kubernetes.io/instance={RELEASE},pollsite/process={process}"


@pytest.mark.last
def test_every_command_in_deploy_md_is_run_by_this_suite():
    blocks = {block.splitlines()[0] for block in command_blocks()}
    missing = sorted((version, block) for version in HELM_VERSIONS for block in blocks if (version, block) not in DOC_BLOCKS_RUN)
    assert not missing, "docs/DEPLOY.md blocks no test ran:\n" + "\n".join(f"{v}: {b}" for v, b in missing)
