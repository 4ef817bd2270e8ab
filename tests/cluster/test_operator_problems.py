"""The six problems issue 12 found by hand, each replayed with an operator's steps, Helm 3 and 4."""

from __future__ import annotations

import base64
import threading
from pathlib import Path

import yaml

from tests.cluster.conftest import RELEASE
from tests.cluster.release import (
    AUTOSCALE,
    GITOPS,
    IMAGE,
    INSTALL,
    INSTALL_NO_HOOKS,
    INSTANCE,
    KUBECTL_SCALE,
    MONITORING,
    ROLES,
    SCALE,
    SECRETS,
    TAKE_BACK_REPLICAS,
    Release,
)

CRDS = Path(__file__).with_name("monitoring-crds.yaml")
CHART = "./helm/pollsite"


def installed(cluster, doc, namespace) -> Release:
    doc.run(SECRETS, namespace, step="namespace and Secrets (kubectl)")
    doc.run(INSTALL, namespace, step="install --wait + helm test")
    return Release(cluster, namespace)


def revisions(doc, namespace) -> list[dict]:
    return yaml.safe_load(doc.helm("history", RELEASE, "-n", namespace, "-o", "yaml", step="helm history").stdout)


# 1. --no-hooks ------------------------------------------------------------------------


def test_no_hooks_install_gives_pods_that_run(cluster, doc, namespace):
    release = Release(cluster, namespace)
    doc.run(SECRETS, namespace, step="namespace and Secrets (kubectl)")
    # A missing Secret is refused up front, by name, instead of pods that cannot start.
    vote_secret = cluster.get("secret", f"{RELEASE}-vote", "-n", namespace)
    cluster.kubectl("delete", "secret", f"{RELEASE}-vote", "-n", namespace)
    refused = doc.helm("install", RELEASE, CHART, "-n", namespace, "--no-hooks", step="install refused (missing Secret)", check=False)
    assert refused.returncode != 0
    assert f"{RELEASE}-vote (key DJANGO_SECRET_KEY), {RELEASE}-vote (key DATABASE_PASSWORD)" in refused.stderr, refused.stderr
    assert "create them first" in refused.stderr
    vote_secret["metadata"] = {"name": f"{RELEASE}-vote", "namespace": namespace}
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump(vote_secret))

    # DEPLOY.md: install --no-hooks, then an upgrade (with its hooks) runs the migrations.
    doc.run(INSTALL_NO_HOOKS, namespace, step="install --no-hooks + upgrade")
    ran = release.history()
    first_migration = min(e.at for e in ran if e.owner.startswith("Job/"))
    web_pods = [e for e in ran if e.owner.startswith("ReplicaSet/") and e.at < first_migration]
    started_without_hooks = {e.owner.split("/")[1].rsplit("-", 1)[0] for e in web_pods}
    deployments = {d["metadata"]["name"] for d in release.items("deployments")}
    assert started_without_hooks == deployments, "a Deployment of the --no-hooks install had no running pod"
    assert sorted(e.owner for e in ran if e.owner.startswith("Job/")) == [f"Job/{RELEASE}-{r}-migrate" for r in ROLES]
    release.assert_serving()


# 2. A failed migration ----------------------------------------------------------------


def test_failed_migration_leaves_the_running_version_and_its_configuration(cluster, doc, namespace):
    release = installed(cluster, doc, namespace)
    serving = f"{INSTANCE},pollsite/process!=migrate"
    config, pods = release.config_names(), set(release.pods(serving))
    cluster.kubelet.failing_images.add(f"{IMAGE}:0.2.0")
    failed = doc.helm(
        "upgrade", RELEASE, CHART, "-n", namespace, "--reuse-values", "--set", "image.tag=0.2.0", "--set", "defaults.gunicorn.workers=7",
        "--wait", "--timeout", "5m", step="failing upgrade (no rollback asked)", check=False,
    )  # fmt: skip
    assert failed.returncode != 0 and "migrate" in failed.stderr, failed.stderr
    assert revisions(doc, namespace)[-1]["status"] == "failed"
    assert {release.web_image(r) for r in ROLES} == {f"{IMAGE}:1.4.0"}
    assert release.config_names() == config
    for role in ROLES:
        assert release.config_map_of(role)["data"]["GUNICORN_WORKERS"] == "2", "the new configuration reached the old pods"
    assert set(release.pods(serving)) == pods, "a pod of the running version was replaced"
    release.assert_serving()

    # The fixed image then rolls out with the configuration meant for it.
    doc.helm(
        "upgrade", RELEASE, CHART, "-n", namespace, "--reuse-values", "--set", "image.tag=0.2.1", "--set", "defaults.gunicorn.workers=7",
        "--wait", "--timeout", "5m", step="upgrade after the fix",
    )  # fmt: skip
    assert {release.web_image(r) for r in ROLES} == {f"{IMAGE}:0.2.1"}
    assert {release.config_map_of(r)["data"]["GUNICORN_WORKERS"] for r in ROLES} == {"7"}
    release.assert_serving()


# 3. kubectl scale, then an upgrade -------------------------------------------------------


def test_upgrade_after_kubectl_scale_keeps_the_operators_count(cluster, doc, namespace):
    release = installed(cluster, doc, namespace)
    # The steps: kubectl scale, then an upgrade that leaves the value alone.
    doc.run(KUBECTL_SCALE, namespace, step="kubectl scale + upgrade")
    assert release.web("vote")["spec"]["replicas"] == 6
    assert release.web_image("vote") == f"{IMAGE}:1.5.0"
    release.assert_serving()
    # A new value takes the count back (Helm 4: --force-conflicts, as DEPLOY.md says).
    doc.run(TAKE_BACK_REPLICAS, namespace, step="upgrade: replicas back to the chart")
    assert release.web("vote")["spec"]["replicas"] == 3
    release.assert_serving()
    doc.run(SCALE, namespace, step="upgrade --set roles.vote.replicas")
    assert release.web("vote")["spec"]["replicas"] == 8
    release.assert_serving()


# 4. Turning autoscaling on -------------------------------------------------------------


def test_turning_autoscaling_on_keeps_the_capacity(cluster, doc, namespace):
    release = installed(cluster, doc, namespace)
    assert release.web("vote")["spec"]["replicas"] == 4
    seen: list[int] = []
    done = threading.Event()

    def watch():
        while not done.is_set():
            seen.append(release.web("vote")["spec"]["replicas"])

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        doc.run(AUTOSCALE, namespace, step="upgrade: autoscaling on")
        release.assert_serving()
    finally:
        done.set()
        watcher.join()
    assert len(seen) > 3 and min(seen) == 4, f"vote's replicas went {sorted(set(seen))}"
    hpa = cluster.get("hpa", f"{RELEASE}-vote", "-n", namespace)
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 20)
    # What the HPA chooses (it scales through the same scale subresource) survives upgrades.
    cluster.kubectl("scale", f"deploy/{RELEASE}-vote", "--replicas=7", "-n", namespace)
    reuse = ("upgrade", RELEASE, CHART, "-n", namespace, "--reuse-values", "--set", "image.tag=1.5.0", "--wait")
    doc.helm(*reuse, step="upgrade --reuse-values (autoscaled)")
    assert release.web("vote")["spec"]["replicas"] == 7
    release.assert_serving()


# 5. ServiceMonitor without the Prometheus Operator's CRDs ---------------------------------


def test_service_monitors_need_the_crds_and_say_so(cluster, doc, namespace):
    release = installed(cluster, doc, namespace)
    missing = doc.run(MONITORING, namespace, step="check CRDs (absent)", check=False)
    assert missing.returncode != 0 and "NotFound" in missing.stderr
    enable = ("upgrade", RELEASE, CHART, "-n", namespace, "--reuse-values", "--set", "metrics.serviceMonitor.enabled=true")
    refused = doc.helm(*enable, step="upgrade refused (no CRDs)", check=False)
    assert refused.returncode != 0
    assert "does not serve monitoring.coreos.com/v1/ServiceMonitor" in refused.stderr, refused.stderr
    assert "prometheus-operator-crds" in refused.stderr
    assert [r["status"] for r in revisions(doc, namespace)] == ["deployed"], "the refused upgrade left a revision"
    cluster.kubectl("apply", "-f", str(CRDS))
    try:
        cluster.kubectl("wait", "--for", "condition=established", "-f", str(CRDS))
        doc.run(MONITORING, namespace, step="check CRDs + upgrade with ServiceMonitors")
        assert sorted(o["metadata"]["name"] for o in release.items("servicemonitors")) == [f"{RELEASE}-{r}" for r in ROLES]
        assert sorted(o["metadata"]["name"] for o in release.items("podmonitors")) == [f"{RELEASE}-{r}-workers" for r in ROLES]
    finally:
        cluster.kubectl("delete", "-f", str(CRDS), "--wait")


# 6. A GitOps render ---------------------------------------------------------------------


def test_gitops_render_is_stable(doc, namespace):
    first = doc.run(GITOPS, namespace, step="helm template") and (doc.work_dir / "pollsite.yaml").read_text()
    second = doc.run(GITOPS, namespace, step="helm template") and (doc.work_dir / "pollsite.yaml").read_text()
    assert first == second, "two renders of the same values differ"
    objects = [o for o in yaml.safe_load_all(first) if o]
    secrets = [o for o in objects if o["kind"] == "Secret"]
    # The only Secret is the cache URL the values hold: nothing is made up at render time.
    assert [(s["metadata"]["name"], base64.b64decode(s["data"]["url"])) for s in secrets] == [
        (f"{RELEASE}-cache", b"redis://redis.cache.svc:6379/0")
    ]
    # Without a cluster, optional CRD-backed objects need the API versions said out loud.
    monitored = ("template", RELEASE, CHART, "-n", namespace, "--set", "metrics.serviceMonitor.enabled=true")
    refused = doc.helm(*monitored, step="helm template (ServiceMonitor, no API versions)", check=False)
    assert refused.returncode != 0 and "--api-versions monitoring.coreos.com/v1/ServiceMonitor" in refused.stderr
    apis = tuple(
        a for kind in ("ServiceMonitor", "PodMonitor", "PrometheusRule") for a in ("--api-versions", f"monitoring.coreos.com/v1/{kind}")
    )
    rendered = doc.helm(*monitored, *apis, step="helm template (ServiceMonitor, API versions given)").stdout
    assert sum(o["kind"] == "ServiceMonitor" for o in yaml.safe_load_all(rendered) if o) == len(ROLES)
