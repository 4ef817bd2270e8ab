"""Render helm/pollsite with the real Helm engine, in-process (helm-python-sdk).

``render(*values_files, **overrides)`` returns the rendered objects as dicts (hooks and
test pods included, NOTES.txt apart), each tagged with the template it came from.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import re
import secrets
from pathlib import Path

import helm_python as helm
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from helm_python import _native

from pollsite.roles import ROLES

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "pollsite"
CI_VALUES = sorted((CHART / "ci").glob("*-values.yaml"))
RELEASE = "pollsite"
NAMESPACE = "polling"


def load_values(*files: Path | str) -> dict:
    merged: dict = {}
    for file in files:
        merge(merged, yaml.safe_load(Path(file).read_text()) or {})
    return merged


def merge(dst: dict, src: dict) -> dict:
    for key, value in src.items():
        if isinstance(value, dict) and isinstance(dst.get(key), dict):
            merge(dst[key], value)
        else:
            dst[key] = copy.deepcopy(value)
    return dst


#: What a cluster with the Prometheus Operator serves beyond the built-in APIs (``--api-versions``).
MONITORING_APIS = (
    "monitoring.coreos.com/v1/ServiceMonitor",
    "monitoring.coreos.com/v1/PodMonitor",
    "monitoring.coreos.com/v1/PrometheusRule",
)


@functools.cache
def _render(values_json: str, release: str, api_versions: tuple[str, ...] = MONITORING_APIS) -> tuple[tuple[str, str], ...]:
    options = {"name": release, "namespace": NAMESPACE, "is_install": True, "api_versions": list(api_versions)}
    with helm.Chart.load(CHART) as chart:
        # Chart.render does not expose the engine's api_versions option (helm template --api-versions).
        rendered = _native.call_string("helm_render", chart._raw(), values_json, json.dumps(options))
    return tuple(sorted(json.loads(rendered).items()))


def render(values: dict | None = None, *, release: str = RELEASE, api_versions: tuple[str, ...] = MONITORING_APIS) -> list[dict]:
    """The chart's objects, rendered as for a cluster serving ``api_versions`` (default: with the Prometheus Operator)."""
    objects = []
    for template, text in _render(json.dumps(values or {}, sort_keys=True), release, api_versions):
        if template.endswith("NOTES.txt"):
            continue
        for document in yaml.safe_load_all(text):
            if document:
                document.setdefault("metadata", {}).setdefault("annotations", {})
                document["_template"] = template
                objects.append(document)
    return objects


def notes(values: dict | None = None) -> str:
    return dict(_render(json.dumps(values or {}, sort_keys=True), RELEASE)).get("pollsite/templates/NOTES.txt", "")


def find(objects: list[dict], kind: str, name: str) -> dict:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    names = [o["metadata"]["name"] for o in objects if o["kind"] == kind]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)} among {names}"
    return matches[0]


def of_kind(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


def pod_spec(obj: dict) -> dict | None:
    if obj["kind"] == "Pod":
        return obj["spec"]
    if obj["kind"] in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
        return obj["spec"]["template"]["spec"]
    return None


def containers(spec: dict) -> list[dict]:
    return [*spec.get("initContainers", []), *spec["containers"]]


def env_of(container: dict) -> dict[str, dict]:
    """{name: env entry} of a container's explicit env."""
    return {entry["name"]: entry for entry in container.get("env", [])}


def config_of(objects: list[dict], container: dict) -> dict[str, str]:
    """The container's environment as plain values: its ConfigMaps, then literal env."""
    values: dict[str, str] = {}
    for source in container.get("envFrom", []):
        values.update(find(objects, "ConfigMap", source["configMapRef"]["name"])["data"])
    for entry in container.get("env", []):
        if "value" in entry:
            values[entry["name"]] = entry["value"]
    return values


def pod_environment(objects: list[dict], container: dict) -> dict[str, str]:
    """The environment the kubelet would give ``container``: ConfigMaps, Secrets, $(VAR) expansion."""
    secrets = {s["metadata"]["name"]: s["data"] for s in of_kind(objects, "Secret")}
    values: dict[str, str] = {}
    for source in container.get("envFrom", []):
        values.update(find(objects, "ConfigMap", source["configMapRef"]["name"])["data"])
    for entry in container.get("env", []):
        if "value" in entry:
            values[entry["name"]] = re.sub(r"\$\((\w+)\)", lambda m: values.get(m.group(1), m.group(0)), entry["value"])
        else:
            ref = entry["valueFrom"]["secretKeyRef"]
            values[entry["name"]] = base64.b64decode(secrets[ref["name"]][ref["key"]]).decode()
    return values


@functools.cache
def jwt_signing_key() -> str:
    """A private key standing in for the identity provider's (PEM, RS256); pods get its public half."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def jwt_public_key() -> str:
    private = serialization.load_pem_private_key(jwt_signing_key().encode(), password=None)
    return private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def operator_secrets(database_password: str = "db-password", broker_password: str = "guest") -> list[dict]:
    """The Secrets docs/DEPLOY.md has the operator create before installing (the chart makes none)."""
    data = {
        f"{RELEASE}-{r}": {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DATABASE_PASSWORD": database_password,
            "EVENTS_PUBLISHER_PASSWORD": secrets.token_urlsafe(24),
            "EVENTS_CONSUMER_PASSWORD": secrets.token_urlsafe(24),
        }
        for r in ROLES
    }
    data |= {f"{RELEASE}-jwt": {"jwt-public-key": jwt_public_key()}, f"{RELEASE}-events": {"password": broker_password}}
    return [
        {"kind": "Secret", "metadata": {"name": name}, "data": {k: base64.b64encode(v.encode()).decode() for k, v in keys.items()}}
        for name, keys in data.items()
    ]
