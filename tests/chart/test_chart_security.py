"""The chart is safe as installed: what the default values render, read as a security reviewer would.

Keys: asymmetric by default, and only the pods that verify tokens hold key material.
Network: NetworkPolicies on, with a default-deny, and helm test still passing. TLS: expected
in front of the pods; plain HTTP is an explicit choice that NOTES warns about. Database:
sslmode configurable, verify-full with its CA. Limits: each one set per role in values.
Django's own deploy check: clean for every role under the default values.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pollsite.roles import ROLES

from .render import (
    RELEASE,
    ROOT,
    config_of,
    containers,
    env_of,
    find,
    jwt_public_key,
    load_values,
    notes,
    of_kind,
    operator_secrets,
    pod_environment,
    pod_spec,
    render,
)
from .test_chart import SCENARIOS, role_name

KEY_MATERIAL = {"JWT_SECRET", "JWT_PUBLIC_KEY", "JWT_JWKS_URL"}


def pods(objects: list[dict]) -> list[tuple[dict, dict]]:
    """(object, container) for every container of every pod the release runs."""
    return [(obj, container) for obj in objects if (spec := pod_spec(obj)) is not None for container in containers(spec)]


def process_of(obj: dict) -> str:
    return obj["spec"]["template"]["metadata"]["labels"]["pollsite/process"] if obj["kind"] != "Pod" else "test"


def test_default_tokens_are_asymmetric_and_only_web_pods_hold_key_material():
    objects = render()
    for role in ROLES:
        (web,) = find(objects, "Deployment", role_name(role))["spec"]["template"]["spec"]["containers"]
        assert config_of(objects, web)["JWT_ALGORITHM"] == "RS256"
        assert env_of(web)["JWT_PUBLIC_KEY"]["valueFrom"]["secretKeyRef"] == {"name": f"{RELEASE}-jwt", "key": "jwt-public-key"}
        assert "JWT_SECRET" not in env_of(web), "nothing in the release can sign: no shared secret"
    holders = set()
    for obj, container in pods(objects):
        names = set(env_of(container)) | set(config_of(objects, container))
        if names & KEY_MATERIAL:
            holders.add((obj["kind"], process_of(obj)))
        if "CACHE_URL" in names:
            assert process_of(obj) == "web", f"{obj['metadata']['name']} counts no rate limit, yet gets the cache URL"
    assert holders == {("Deployment", "web")}, f"key material reaches {holders}"
    # The key is not in any ConfigMap either (relays and consumers read those).
    assert not [c for c in of_kind(objects, "ConfigMap") if KEY_MATERIAL & set(c.get("data", {}))]


def test_an_identity_providers_keys_come_from_its_jwks_url():
    objects = render(load_values(*SCENARIOS["ingress-tls"]))
    for role in ROLES:
        (web,) = find(objects, "Deployment", role_name(role))["spec"]["template"]["spec"]["containers"]
        env = env_of(web)
        assert env["JWT_JWKS_URL"]["value"] == "https://id.example.org/.well-known/jwks.json"
        assert not {"JWT_SECRET", "JWT_PUBLIC_KEY"} & set(env)
        assert config_of(objects, web)["JWT_ISSUER"] == "https://id.example.org/"
    hs = render({"jwt": {"algorithm": "HS256"}})
    (web,) = find(hs, "Deployment", role_name("vote"))["spec"]["template"]["spec"]["containers"]
    assert env_of(web)["JWT_SECRET"]["valueFrom"]["secretKeyRef"] == {"name": f"{RELEASE}-jwt", "key": "jwt-secret"}


def test_network_policies_are_on_by_default_with_a_default_deny():
    objects = render()
    deny = find(objects, "NetworkPolicy", f"{RELEASE}-default-deny")["spec"]
    assert deny == {"podSelector": {"matchLabels": {"app.kubernetes.io/instance": RELEASE}}, "policyTypes": ["Ingress", "Egress"]}
    policies = {p["metadata"]["name"]: p["spec"] for p in of_kind(objects, "NetworkPolicy")}
    assert set(policies) == {f"{RELEASE}-default-deny", *(role_name(r) for r in ROLES)}
    # Every pod the release runs is selected by its role's policy (and the default-deny).
    for obj, _ in pods(objects):
        labels = (obj["spec"]["template"]["metadata"] if obj["kind"] != "Pod" else obj["metadata"])["labels"]
        role = labels["app.kubernetes.io/component"]
        selector = policies[role_name(role)]["podSelector"]["matchLabels"]
        assert selector.items() <= labels.items(), f"{obj['metadata']['name']} is outside its role's policy"


@pytest.mark.parametrize("role", ROLES)
def test_helm_test_pods_may_reach_their_own_role_and_nothing_else(role):
    objects = render()
    policy = find(objects, "NetworkPolicy", role_name(role))["spec"]
    test_pod = find(objects, "Pod", f"{role_name(role)}-test-health")
    labels = test_pod["metadata"]["labels"]
    # In: the web port admits the role's own test pod.
    web_rule = next(rule for rule in policy["ingress"] if {"port": "http", "protocol": "TCP"} in rule["ports"])
    assert any(
        peer.get("podSelector", {}).get("matchLabels", {}).items() <= labels.items()
        for peer in web_rule["from"]
        if "namespaceSelector" not in peer
    )
    # Out: the test pod (selected by the role's policy) may reach the role's web pods on the Service's port.
    web_labels = find(objects, "Deployment", role_name(role))["spec"]["template"]["metadata"]["labels"]
    to_web = [
        rule
        for rule in policy["egress"]
        if {"port": 8000, "protocol": "TCP"} in rule.get("ports", [])
        and any(peer.get("podSelector", {}).get("matchLabels", {}).items() <= web_labels.items() for peer in rule.get("to", []))
    ]
    assert to_web, f"{role}'s helm test pod cannot reach its own role"


def test_tls_is_expected_and_plain_http_is_an_explicit_choice_that_notes_warn_about():
    objects = render()
    for role in ROLES:
        (web,) = find(objects, "Deployment", role_name(role))["spec"]["template"]["spec"]["containers"]
        config = config_of(objects, web)
        assert (config["DJANGO_BEHIND_TLS_PROXY"], config["DJANGO_SECURE_COOKIES"]) == ("true", "true")
    assert "WARNING" not in notes()
    plain = {"ingress": {"tls": {"enabled": False}}}
    (web,) = find(render(plain), "Deployment", role_name("vote"))["spec"]["template"]["spec"]["containers"]
    assert config_of(render(plain), web)["DJANGO_SECURE_COOKIES"] == "false"
    assert "WARNING: ingress.tls.enabled=false" in notes(plain)
    assert "WARNING: networkPolicy.enabled=false" in notes({"networkPolicy": {"enabled": False}})


def test_verify_full_checks_the_database_against_its_ca():
    values = {"defaults": {"database": {"sslmode": "verify-full", "caConfigMap": "db-ca", "caConfigMapKey": "root.pem"}}}
    objects = render(values)
    for obj, container in pods(objects):
        if obj["kind"] == "Pod":
            continue  # helm test pods reach no database
        env = env_of(container)
        assert env["DATABASE_URL"]["value"].endswith("?sslmode=$(DATABASE_SSLMODE)&sslrootcert=/etc/pollsite/database-ca/ca.crt")
        assert config_of(objects, container).get("DATABASE_SSLMODE", env.get("DATABASE_SSLMODE", {}).get("value")) == "verify-full"
        mount = next(m for m in container["volumeMounts"] if m["name"] == "database-ca")
        assert mount == {"name": "database-ca", "mountPath": "/etc/pollsite/database-ca", "readOnly": True}
        volume = next(v for v in pod_spec(obj)["volumes"] if v["name"] == "database-ca")
        assert volume["configMap"] == {"name": "db-ca", "items": [{"key": "root.pem", "path": "ca.crt"}]}


def test_every_limit_is_set_per_role_in_values():
    objects = render({"roles": {"polls": {"rateLimits": {"writesPerSubject": "10/minute"}}, "vote": {"rateLimits": {"votesPerVoter": ""}}}})
    limits = {}
    for role in ROLES:
        (web,) = find(objects, "Deployment", role_name(role))["spec"]["template"]["spec"]["containers"]
        limits[role] = {k: v for k, v in config_of(objects, web).items() if k.startswith("POLLSITE_RATE_")}
    shared = {"POLLSITE_RATE_READS_PER_CLIENT": "6000/minute", "POLLSITE_RATE_COMPOSED_READS_PER_CLIENT": "600/minute"}
    assert limits["polls"] == shared | {"POLLSITE_RATE_WRITES_PER_SUBJECT": "10/minute"}
    assert limits["choice"] == shared | {"POLLSITE_RATE_WRITES_PER_SUBJECT": "120/minute"}
    assert limits["vote"] == shared | {
        "POLLSITE_RATE_WRITES_PER_SUBJECT": "120/minute",
        "POLLSITE_RATE_VOTES_PER_VOTER": "",
        "POLLSITE_RATE_VOTES_PER_CLIENT": "60000/minute",
    }


@pytest.mark.parametrize("role", ROLES)
def test_django_deploy_check_is_clean_under_the_default_values(role):
    objects = render() + operator_secrets()
    (web,) = find(objects, "Deployment", role_name(role))["spec"]["template"]["spec"]["containers"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "JWT_", "DATABASE_", "POLLSITE_"))}
    env |= pod_environment(objects, web)
    assert env["JWT_PUBLIC_KEY"] == jwt_public_key()
    checked = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0 and "no issues" in checked.stdout, checked.stdout + checked.stderr
