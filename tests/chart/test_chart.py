"""The Helm chart, rendered by the real Helm engine and read like a platform reviewer would.

Every scenario (default values and each helm/pollsite/ci/*-values.yaml) lints clean and
renders objects valid against the Kubernetes schemas; per role, the Deployment, the
Ingress path and the migration Job point at that role and nothing else.
"""

from __future__ import annotations

import base64
import json
import re

import jsonschema
import kubernetes_validate
import pytest
import yaml

from pollsite.roles import ROLES

from .render import (
    CHART,
    CI_VALUES,
    NAMESPACE,
    RELEASE,
    _render,
    config_of,
    containers,
    env_of,
    find,
    helm,
    load_values,
    notes,
    of_kind,
    pod_spec,
    render,
)

SCENARIOS = {"default": []} | {path.name.removesuffix("-values.yaml"): [path] for path in CI_VALUES}
#: The chart's minimum kubeVersion and the newest schemas kubernetes-validate ships.
KUBE_VERSIONS = ["1.27.0", kubernetes_validate.latest_version()]
#: Custom resources kubernetes-validate has no schema for; checked by hand below.
CRD_KINDS = {"ServiceMonitor", "PodMonitor", "PrometheusRule"}


def scenario(name: str) -> list[dict]:
    return render(load_values(*SCENARIOS[name]))


def test_every_ci_scenario_is_present():
    assert {"one-role-disabled", "autoscaling", "existing-secrets", "ingress-tls"} <= set(SCENARIOS)


# --- the registry in code and the chart agree ------------------------------------------


def test_roles_in_the_chart_match_the_registry():
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert list(values["roles"]) == list(ROLES), "values.yaml roles must list the registry's roles, in its order"
    for name, role in ROLES.items():
        chart_role = values["roles"][name]
        assert chart_role["settingsModule"] == role.settings_module
        assert chart_role["urlPrefix"] == role.default_prefix
        assert chart_role["publishes"] == role.publishes, f"{name}: publishes differs from pollsite/roles.py"
        assert sorted(chart_role["consumes"]) == sorted(role.consumes), f"{name}: consumes differs from pollsite/roles.py"
        assert sorted(chart_role["calls"]) == sorted(role.calls), f"{name}: calls differs from pollsite/roles.py (NetworkPolicy)"


# --- lint and schema validation ----------------------------------------------------------


@pytest.mark.parametrize("name", SCENARIOS)
def test_lint_is_clean(name):
    report = helm.lint(CHART, load_values(*SCENARIOS[name]), strict=True, namespace=NAMESPACE)
    assert report["errors"] == []
    assert report["messages"] == [], report["messages"]


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
def test_every_object_is_valid_kubernetes(name, kube_version):
    objects = scenario(name)
    assert objects
    for obj in objects:
        body = {k: v for k, v in obj.items() if k != "_template"}
        if obj["kind"] in CRD_KINDS:
            continue
        try:
            kubernetes_validate.validate(body, kube_version, strict=True)
        except (kubernetes_validate.ValidationError, jsonschema.ValidationError) as exc:
            where = f"{obj['_template']}: {obj['kind']} {obj['metadata']['name']}"
            pytest.fail(f"{where} is invalid for Kubernetes {kube_version}: {exc.message} at {list(exc.path)}")


def test_values_schema_rejects_a_malformed_roles_map():
    with helm.Chart.load(CHART) as chart:
        for bad, expected in [
            ({"roles": {"polls": {"urlPrefix": "polls"}}}, "urlPrefix"),
            ({"roles": {"vote": {"replicas": "two"}}}, "replicas"),
            ({"roles": {"Vote-2": {"enabled": True, "settingsModule": "settings.vote2", "urlPrefix": "/v2/"}}}, "Vote-2"),
            ({"roles": {"polls": {"settingsModule": "pollsite.settings"}}}, "settingsModule"),
            ({"defaults": {"database": {"sslmode": "maybe"}}}, "sslmode"),
        ]:
            with pytest.raises(helm.HelmValuesError, match=expected):
                chart.render(values=bad, name=RELEASE)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"roles": {"vote": {"enabled": False}}}, "calls role vote, which is disabled"),
        ({"roles": {r: {"enabled": False} for r in ROLES}}, "every role is disabled"),
        ({"defaults": {"database": {"host": ""}}}, "database.host is empty"),
        ({"defaults": {"database": {"existingSecret": "x", "existingSecretKeys": {"password": ""}}}}, "existingSecretKeys.password"),
        ({"roles": {"vote": {"autoscaling": {"enabled": True, "minReplicas": 5, "maxReplicas": 2}}}}, "minReplicas"),
        ({"roles": {"choice": {"urlPrefix": "/polls/"}}}, "already the prefix"),
        ({"ingress": {"enabled": True, "tls": {"enabled": True, "secretName": ""}}}, "tls.secretName"),
        ({"jwt": {"algorithm": "HS256", "jwksUrl": "https://id.example.org/jwks"}}, "jwt.jwksUrl holds public keys"),
        ({"jwt": {"algorithm": "HS256", "publicKey": "-----BEGIN PUBLIC KEY-----"}}, "verifies with a shared secret"),
        ({"jwt": {"publicKey": "-----BEGIN PRIVATE KEY-----\nMII..."}}, "holds a private key"),
        ({"defaults": {"terminationGracePeriodSeconds": 20}}, "terminationGracePeriodSeconds"),
    ],
)
def test_incomplete_settings_fail_with_a_clear_message(values, message):
    with pytest.raises(helm.HelmError, match=message):
        render(values)


# --- per role ----------------------------------------------------------------------------


def role_name(role: str) -> str:
    return f"{RELEASE}-{role}"


@pytest.mark.parametrize("role", ROLES)
def test_deployment_runs_the_role_with_its_settings_module(role):
    objects = scenario("default")
    deployment = find(objects, "Deployment", role_name(role))
    assert deployment["metadata"]["labels"]["app.kubernetes.io/component"] == role
    (web,) = deployment["spec"]["template"]["spec"]["containers"]
    assert "command" not in web and "args" not in web, "the web container runs the image's default command (gunicorn)"
    config = config_of(objects, web)
    assert config["DJANGO_SETTINGS_MODULE"] == ROLES[role].settings_module
    assert config[f"{role.upper()}_URL_PREFIX"] == ROLES[role].default_prefix
    assert config["DATABASE_NAME"] == role and config["DATABASE_USER"] == role
    probes = {kind: web[kind]["httpGet"]["path"] for kind in ("startupProbe", "readinessProbe", "livenessProbe")}
    assert probes == {"startupProbe": "/healthz", "readinessProbe": "/readyz", "livenessProbe": "/healthz"}
    service = find(objects, "Service", role_name(role))
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    # Other roles reach this one through its Service.
    for other in ROLES:
        assert config[f"{other.upper()}_URL"] == f"http://{role_name(other)}:8000"


@pytest.mark.parametrize("role", ROLES)
def test_migration_job_migrates_the_role_against_its_own_database(role):
    objects = scenario("default")
    job = find(objects, "Job", f"{role_name(role)}-migrate")
    annotations = job["metadata"]["annotations"]
    assert set(annotations["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
    assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
    assert job["spec"]["backoffLimit"] >= 0 and job["spec"]["activeDeadlineSeconds"] > 0
    spec = pod_spec(job)
    (wait,) = spec["initContainers"]
    (migrate,) = spec["containers"]
    assert wait["command"][:4] == ["python", "manage.py", "wait_for_db", "--timeout"]
    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    # A hook runs before Helm creates any object of the release: the Job reads none of them.
    made_by_the_chart = {(o["kind"], o["metadata"]["name"]) for o in objects}
    assert spec["serviceAccountName"] == "default", "the release's ServiceAccount does not exist yet on install"
    (source,) = find_web(objects, role)["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    role_config = find(objects, "ConfigMap", source["configMapRef"]["name"])["data"]
    for container in (wait, migrate):
        assert "envFrom" not in container
        config = config_of(objects, container)
        assert config.items() >= role_config.items(), "the Job carries the role's ConfigMap data itself"
        assert config["DJANGO_SETTINGS_MODULE"] == ROLES[role].settings_module
        assert config["DATABASE_NAME"] == role
        assert env_of(container)["DATABASE_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == role_name(role)
        refs = [e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"] if "valueFrom" in e]
        assert not [name for name in refs if ("Secret", name) in made_by_the_chart]


def find_web(objects: list[dict], role: str) -> dict:
    return find(objects, "Deployment", role_name(role))


def test_only_jobs_and_test_pods_are_hooks():
    for name in SCENARIOS:
        hooks = {(o["kind"], o["metadata"]["name"]) for o in scenario(name) if "helm.sh/hook" in o["metadata"]["annotations"]}
        assert {kind for kind, _ in hooks} <= {"Job", "Pod"}, f"{name}: {sorted(hooks)}"


@pytest.mark.parametrize("role", ROLES)
def test_config_maps_are_named_after_their_data_and_immutable(role):
    objects = scenario("default")
    (source,) = find_web(objects, role)["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    config = find(objects, "ConfigMap", source["configMapRef"]["name"])
    assert config["immutable"] is True
    assert re.fullmatch(rf"{role_name(role)}-[0-9a-f]{{10}}", config["metadata"]["name"])
    changed = render({"roles": {role: {"gunicorn": {"workers": 9}}}})
    (new_source,) = find_web(changed, role)["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    assert new_source["configMapRef"]["name"] != config["metadata"]["name"], "a new configuration is a new ConfigMap"
    assert [o["metadata"]["name"] for o in of_kind(changed, "ConfigMap") if o["metadata"]["name"].startswith(f"{role_name(role)}-")] == [
        new_source["configMapRef"]["name"]
    ], "without a cluster (lookup) only the revision's own ConfigMap is rendered"


def test_replicas_carry_the_value_the_chart_set():
    web = find_web(scenario("default"), "vote")
    assert web["spec"]["replicas"] == 2
    assert web["metadata"]["annotations"]["pollsite/chart-replicas"] == "2"


@pytest.mark.parametrize("role", ROLES)
def test_ingress_routes_the_role_prefix_to_its_service(role):
    values = load_values(CHART / "ci" / "ingress-tls-values.yaml")
    objects = render(values)
    (ingress,) = of_kind(objects, "Ingress")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [{"hosts": ["polls.example.org"], "secretName": "pollsite-tls"}]
    (rule,) = ingress["spec"]["rules"]
    routes = {p["path"]: p["backend"]["service"]["name"] for p in rule["http"]["paths"]}
    prefix = values["roles"].get(role, {}).get("urlPrefix", ROLES[role].default_prefix)
    assert routes[prefix.rstrip("/")] == role_name(role)
    assert all(p["pathType"] == "Prefix" for p in rule["http"]["paths"])
    assert len(routes) == len(ROLES), "the Ingress routes the role prefixes and nothing else (no probes, no /metrics)"
    web = find(objects, "Deployment", role_name(role))["spec"]["template"]["spec"]["containers"][0]
    config = config_of(objects, web)
    assert config[f"{role.upper()}_URL_PREFIX"] == prefix
    assert "polls.example.org" in config["DJANGO_ALLOWED_HOSTS"].split(",")
    assert config["DJANGO_CSRF_TRUSTED_ORIGINS"] == "https://polls.example.org"
    assert config["DJANGO_BEHIND_TLS_PROXY"] == "true"


@pytest.mark.parametrize("role", ROLES)
def test_relay_and_consumer_deployments_follow_the_registry(role):
    objects = scenario("default")
    names = {d["metadata"]["name"] for d in of_kind(objects, "Deployment")}
    assert (f"{role_name(role)}-relay" in names) == ROLES[role].publishes
    assert (f"{role_name(role)}-consumer" in names) == bool(ROLES[role].consumes)
    if ROLES[role].publishes:
        relay = find(objects, "Deployment", f"{role_name(role)}-relay")["spec"]["template"]["spec"]["containers"][0]
        assert relay["command"] == ["python", "manage.py", "relay_events"]
    if ROLES[role].consumes:
        consumer = find(objects, "Deployment", f"{role_name(role)}-consumer")["spec"]["template"]["spec"]["containers"][0]
        assert consumer["command"] == ["python", "manage.py", "consume_events"]
    without_events = {d["metadata"]["name"] for d in of_kind(render({"events": {"enabled": False}}), "Deployment")}
    assert without_events == {role_name(r) for r in ROLES}


# --- security ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SCENARIOS)
def test_no_pod_can_read_another_roles_secrets(name):
    values = load_values(*SCENARIOS[name])
    objects = render(values)
    role_secrets = {}
    for role in ROLES:
        role_values = values.get("roles", {}).get(role, {})
        role_secrets[role] = {
            role_values.get("database", {}).get("existingSecret") or role_name(role),
            role_values.get("secretKey", {}).get("existingSecret") or role_name(role),
        }
    checked = 0
    for obj in objects:
        spec = pod_spec(obj)
        if spec is None:
            continue
        role = obj["metadata"]["labels"]["app.kubernetes.io/component"]
        others = set().union(*(secrets for other, secrets in role_secrets.items() if other != role))
        for container in containers(spec):
            refs = {e["valueFrom"]["secretKeyRef"]["name"] for e in container.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})}
            refs |= {s["secretRef"]["name"] for s in container.get("envFrom", []) if "secretRef" in s}
            assert not refs & others, f"{obj['kind']} {obj['metadata']['name']} reads another role's secret: {refs & others}"
            checked += 1
        assert not [v for v in spec.get("volumes", []) if "secret" in v], "no Secret is mounted as a volume"
    assert checked > 0
    for secret in of_kind(objects, "Secret"):
        keys = set(secret["data"])
        assert not (keys >= {"DATABASE_PASSWORD"} and len({k for k in keys if "DATABASE" in k}) > 1), "one database password per Secret"


@pytest.mark.parametrize("name", SCENARIOS)
def test_pods_are_locked_down(name):
    objects = scenario(name)
    pods = [(obj, pod_spec(obj)) for obj in objects if pod_spec(obj) is not None]
    assert pods
    for obj, spec in pods:
        where = f"{obj['kind']} {obj['metadata']['name']}"
        assert spec["automountServiceAccountToken"] is False, where
        assert spec["securityContext"]["runAsNonRoot"] is True, where
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, where
        for container in containers(spec):
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["capabilities"]["drop"] == ["ALL"], where
            assert "memory" in container["resources"]["limits"], f"{where}: no memory limit"
            writable = {m["mountPath"] for m in container.get("volumeMounts", []) if not m.get("readOnly")}
            if obj["kind"] != "Pod":
                assert writable == {"/tmp"}, f"{where}: writes only to /tmp"
        labels = obj["metadata"]["labels"]
        assert labels["app.kubernetes.io/component"] in ROLES and labels["app.kubernetes.io/instance"] == RELEASE, where
    for account in of_kind(objects, "ServiceAccount"):
        assert account["automountServiceAccountToken"] is False


def test_the_chart_generates_no_credential_and_renders_the_same_twice():
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert "password" not in values["defaults"]["database"]
    assert "password" not in values["events"]["broker"]
    assert values["django"]["debug"] is False
    for name in SCENARIOS:
        # What helm template (Argo CD, Flux) renders twice must be the same: no random value.
        values = load_values(*SCENARIOS[name])
        first = _render_uncached(values)
        assert first == _render_uncached(values), f"{name}: two renders differ"
    assert of_kind(scenario("default"), "Secret") == []
    (cache,) = of_kind(render({"cache": {"url": "redis://r:6379/0"}}), "Secret")
    assert base64.b64decode(cache["data"]["url"]).decode() == "redis://r:6379/0"
    assert "pollsite-vote (key DATABASE_PASSWORD)" in notes()
    with pytest.raises(helm.HelmError, match="password"):
        render({"defaults": {"database": {"password": "x"}}})
    with pytest.raises(helm.HelmError, match=r"events.broker.password is no longer read"):
        render({"events": {"broker": {"password": "x"}}})


def _render_uncached(values: dict) -> tuple:
    return _render.__wrapped__(json.dumps(values, sort_keys=True), RELEASE)


def test_monitoring_objects_need_the_cluster_to_serve_their_api():
    values = load_values(*SCENARIOS["ingress-tls"])
    assert of_kind(render(values), "ServiceMonitor")
    with pytest.raises(helm.HelmError, match=r"does not serve monitoring.coreos.com/v1/ServiceMonitor .*Install them first"):
        render(values, api_versions=())
    with pytest.raises(helm.HelmError, match=r"does not serve monitoring.coreos.com/v1/PodMonitor"):
        render(values, api_versions=("monitoring.coreos.com/v1/ServiceMonitor",))


def test_existing_secrets_mean_the_chart_creates_none():
    objects = scenario("existing-secrets")
    assert of_kind(objects, "Secret") == []
    web = find(objects, "Deployment", role_name("polls"))["spec"]["template"]["spec"]["containers"][0]
    env = env_of(web)
    assert env["DATABASE_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "polls-db", "key": "pg-password"}
    assert env["DATABASE_HOST"]["valueFrom"]["secretKeyRef"] == {"name": "polls-db", "key": "pg-host"}
    assert env["DJANGO_SECRET_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "polls-django", "key": "secret-key"}
    assert env["JWT_PUBLIC_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "pollsite-jwt-external", "key": "rs256-public-key"}
    assert env["CACHE_URL"]["valueFrom"]["secretKeyRef"] == {"name": "pollsite-redis", "key": "redis-url"}
    assert "EVENTS_BROKER_URL" not in env  # web pods publish nothing (tests/chart/test_chart_events.py)
    relay = env_of(find(objects, "Deployment", role_name("polls") + "-relay")["spec"]["template"]["spec"]["containers"][0])
    assert relay["EVENTS_BROKER_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "pollsite-rabbitmq", "key": "polls-publisher"}
    assert (
        relay["EVENTS_BROKER_URL"]["value"]
        == "amqp://pollsite-prod-polls-publisher:$(EVENTS_BROKER_PASSWORD)@rabbitmq.messaging.svc:5672/pollsite"
    )
    vote = find(objects, "Deployment", role_name("vote"))["spec"]["template"]["spec"]["containers"][0]
    assert config_of(objects, vote)["DATABASE_URL"].endswith("?sslmode=$(DATABASE_SSLMODE)")
    assert config_of(objects, vote)["DATABASE_HOST"] == "vote-postgres.db.svc"


# --- scenarios -----------------------------------------------------------------------------


def test_a_disabled_role_renders_nothing_and_its_callers_use_its_external_url():
    objects = scenario("one-role-disabled")
    assert not [o for o in objects if o["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "vote"]
    polls = find(objects, "Deployment", role_name("polls"))["spec"]["template"]["spec"]["containers"][0]
    assert config_of(objects, polls)["VOTE_URL"] == "http://vote.other-namespace.svc.cluster.local:8000"
    expected = set()
    for role in ROLES.values():
        if role.name != "vote":  # the role one-role-disabled-values.yaml turns off
            expected |= {role_name(role.name)}
            expected |= {f"{role_name(role.name)}-relay"} if role.publishes else set()
            expected |= {f"{role_name(role.name)}-consumer"} if role.consumes else set()
    assert {d["metadata"]["name"] for d in of_kind(objects, "Deployment")} == expected


def test_autoscaling_gives_each_role_an_hpa_and_leaves_replicas_to_it():
    objects = scenario("autoscaling")
    for role in ROLES:
        hpa = find(objects, "HorizontalPodAutoscaler", role_name(role))
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": role_name(role)}
        assert {m["resource"]["name"] for m in hpa["spec"]["metrics"]} == {"cpu", "memory"}
        assert "replicas" not in find(objects, "Deployment", role_name(role))["spec"]
        find(objects, "PodDisruptionBudget", role_name(role))
    vote = find(objects, "HorizontalPodAutoscaler", role_name("vote"))["spec"]
    assert (vote["minReplicas"], vote["maxReplicas"]) == (3, 12)
    assert find(objects, "HorizontalPodAutoscaler", role_name("polls"))["spec"]["maxReplicas"] == 5
    assert find(objects, "PodDisruptionBudget", role_name("vote"))["spec"]["maxUnavailable"] == 2


def test_web_pods_spread_with_the_roles_own_selector():
    objects = scenario("autoscaling")
    for role in ROLES:
        deployment = find(objects, "Deployment", role_name(role))
        constraints = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
        assert [c["topologyKey"] for c in constraints] == ["topology.kubernetes.io/zone"]
        assert all(c["labelSelector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"] for c in constraints)


def test_a_role_override_of_false_beats_a_true_default():
    objects = render({"roles": {"choice": {"podDisruptionBudget": {"enabled": False}, "preStopSleepSeconds": 0}}})
    assert {p["metadata"]["name"] for p in of_kind(objects, "PodDisruptionBudget")} == {role_name(r) for r in ROLES if r != "choice"}
    choice = find(objects, "Deployment", role_name("choice"))["spec"]["template"]["spec"]["containers"][0]
    assert "lifecycle" not in choice


def test_configuration_changes_roll_the_pods():
    def checksums(values):
        objects = render(values)
        return {
            d["metadata"]["name"]: d["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
            for d in of_kind(objects, "Deployment")
        }

    before = checksums({})
    after = checksums({"roles": {"vote": {"env": {"POLLSITE_CALL_TIMEOUT": "3"}}}})
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {n for n in before if n.startswith(role_name("vote"))}
    a = find(render({}), "Deployment", role_name("polls"))["spec"]["template"]["metadata"]["annotations"]["checksum/secrets"]
    b = find(render({"roles": {"polls": {"database": {"existingSecret": "rotated"}}}}), "Deployment", role_name("polls"))
    assert a != b["spec"]["template"]["metadata"]["annotations"]["checksum/secrets"]


def test_network_policies_follow_the_calls_between_roles():
    values = load_values(CHART / "ci" / "ingress-tls-values.yaml")
    objects = render(values)
    chart_roles = yaml.safe_load((CHART / "values.yaml").read_text())["roles"]
    for role in ROLES:
        policy = find(objects, "NetworkPolicy", role_name(role))["spec"]
        assert policy["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == role
        callers = {
            peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
            for peer in policy["ingress"][0]["from"]
            if "namespaceSelector" not in peer and peer["podSelector"]["matchLabels"].get("pollsite/process") != "test"
        }
        assert callers == {r for r, v in chart_roles.items() if role in v["calls"]}
        called = {
            peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
            for rule in policy["egress"]
            for peer in rule.get("to", [])
            if "podSelector" in peer and "namespaceSelector" not in peer and "pollsite/process" in peer["podSelector"]["matchLabels"]
        }
        # its own web pods too: what its helm test pod (one of the role's pods) checks
        assert called == {role, *chart_roles[role]["calls"]}
        egress_ports = {port["port"] for rule in policy["egress"] for port in rule.get("ports", [])}
        assert egress_ports == {53, 5432, 5672, 6379, 8000}


def test_service_monitor_and_grafana_dashboard():
    objects = scenario("ingress-tls")
    for role in ROLES:
        monitor = find(objects, "ServiceMonitor", role_name(role))
        assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        assert monitor["spec"]["endpoints"] == [{"port": "http", "path": "/metrics", "interval": "30s"}]
        assert monitor["spec"]["selector"]["matchLabels"] == find(objects, "Service", role_name(role))["spec"]["selector"]
        workers = [d for d in of_kind(objects, "Deployment") if d["metadata"]["name"].startswith(f"{role_name(role)}-")]
        if workers:
            pod_monitor = find(objects, "PodMonitor", f"{role_name(role)}-workers")
            assert pod_monitor["spec"]["podMetricsEndpoints"][0]["port"] == "metrics"
            for worker in workers:
                (container,) = worker["spec"]["template"]["spec"]["containers"]
                assert env_of(container)["POLLSITE_METRICS_PORT"]["value"] == str(container["ports"][0]["containerPort"])
                assert container["livenessProbe"]["tcpSocket"] == {"port": "metrics"}
                labels = worker["spec"]["template"]["metadata"]["labels"]
                assert all(labels[e["key"]] in e["values"] for e in pod_monitor["spec"]["selector"]["matchExpressions"])
    dashboard = find(objects, "ConfigMap", f"{RELEASE}-grafana-dashboard")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(dashboard["data"]["pollsite.json"]) == json.loads((CHART / "files" / "grafana-dashboard.json").read_text())
    optional = ("ServiceMonitor", "PodMonitor")
    assert not [o for o in scenario("default") if o["kind"] in optional or "grafana" in o["metadata"]["name"]]


def test_helm_test_pods_check_each_role_through_its_service():
    objects = scenario("default")
    for role in ROLES:
        pod = find(objects, "Pod", f"{role_name(role)}-test-health")
        assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
        script = pod["spec"]["containers"][0]["command"][-1]
        assert f"http://{role_name(role)}:8000" in script and "/readyz" in script


def test_notes_print_each_roles_url():
    text = notes(load_values(CHART / "ci" / "ingress-tls-values.yaml"))
    for role in ROLES:
        prefix = "/ballot/" if role == "vote" else ROLES[role].default_prefix
        assert f"{role}: https://polls.example.org{prefix}api/v1/" in text
    assert f"port-forward svc/{role_name('vote')}" in notes()
