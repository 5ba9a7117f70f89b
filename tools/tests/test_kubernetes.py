"""deploy/k8s: every overlay as `kubectl kustomize` builds it, validated offline.

Each overlay is built with the real kubectl (its kustomize) and every object must pass
`kubernetes-validate --strict` for Kubernetes 1.32; then the objects are read: the
NetworkPolicies follow services.toml's `calls`, every container runs as the image's
numeric non-root user on a read-only root filesystem, and a service made by
`make new-service` is deployed with no hand edit. Without kubectl (it cannot be installed
from a package registry) these tests skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_new_service import copy_repository

from conftest import ROOT
from flusk_tools.commands import CONTAINER_ALEMBIC_INI, IMAGE_COMMAND, migrate_command
from flusk_tools.gateway import dns_label
from flusk_tools.generate import (
    GATEWAY_UID,
    GRACE_SECONDS,
    K8S,
    OVERLAYS,
    PRE_STOP_SECONDS,
    SERVICE_UID,
    write_generated,
)
from flusk_tools.new_service import create_service
from flusk_tools.registry import SERVICE_PORT, Service, load_services

KUBERNETES_VERSION = "1.32.0"
VALIDATE = Path(sys.executable).parent / "kubernetes-validate"
# gunicorn's graceful timeout (flusk_common.gunicorn_conf's default).
GUNICORN_GRACEFUL_SECONDS = 20
Objects = list[dict[str, Any]]
# What the README's overlay with an Ingress holds (kustomize wants relative paths).
PROD_WITH_INGRESS = ("overlays/prod", "components/ingress")


def find_kubectl() -> str:
    """kubectl from KUBECTL, the PATH or /usr/bin; skipped without one, failed under CI."""
    found = os.environ.get("KUBECTL") or shutil.which("kubectl") or "/usr/bin/kubectl"
    if Path(found).is_file() and os.access(found, os.X_OK):
        return found
    reason = (
        "kubectl is not installed (no package registry has it): the deploy/k8s overlays "
        "cannot be built; install it from https://kubernetes.io/docs/tasks/tools/ or set KUBECTL"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def build(root: Path, folder: Path) -> str:
    """What `kubectl kustomize folder` gives, as YAML; the test fails with kubectl's error."""
    result = subprocess.run(
        [find_kubectl(), "kustomize", str(folder)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def validate(manifests: str, tmp_path: Path) -> None:
    """kubernetes-validate --strict on every object of ``manifests``."""
    path = tmp_path / "manifests.yaml"
    path.write_text(manifests)
    command = [str(VALIDATE), "--strict", "-k", KUBERNETES_VERSION, "--quiet", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def load(manifests: str) -> Objects:
    return [document for document in yaml.safe_load_all(manifests) if document]


@pytest.fixture(scope="module", params=sorted(OVERLAYS))
def overlay(request: pytest.FixtureRequest) -> tuple[str, Objects]:
    """An overlay of the repository: its name and its objects."""
    name: str = request.param
    return name, load(build(ROOT, ROOT / K8S / "overlays" / name))


def of_kind(objects: Objects, kind: str) -> dict[str, dict[str, Any]]:
    return {item["metadata"]["name"]: item for item in objects if item["kind"] == kind}


def containers(pod: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from pod.get("initContainers", [])
    yield from pod["containers"]


def final_user(dockerfile: Path) -> str:
    """The USER of a Dockerfile's last stage, the one that runs."""
    users = re.findall(r"^USER\s+(\S+)", dockerfile.read_text(), re.MULTILINE)
    assert users, f"{dockerfile} sets no USER"
    return str(users[-1])


def allowed_callers(policy: dict[str, Any]) -> set[str]:
    """The app names whose pods a NetworkPolicy lets in (podSelector rules only)."""
    names = set()
    for rule in policy["spec"].get("ingress", []):
        for source in rule.get("from", []):
            assert set(source) == {"podSelector"}, source  # no namespace or IP block
            names.add(source["podSelector"]["matchLabels"]["app.kubernetes.io/name"])
    return names


def expected_callers(services: list[Service], callee: Service) -> set[str]:
    return {"gateway", *(dns_label(s.name) for s in services if callee.name in s.calls)}


# Built and valid


@pytest.mark.parametrize("name", sorted(OVERLAYS))
def test_build_overlay_valid_for_kubernetes(name: str, tmp_path: Path) -> None:
    validate(build(ROOT, ROOT / K8S / "overlays" / name), tmp_path)


def test_build_overlay_with_ingress_component(tmp_path: Path) -> None:
    """The optional Ingress, added to prod as the README says, routes to the gateway."""
    overlay = tmp_path / "with-ingress"
    overlay.mkdir()
    prod, ingress = (os.path.relpath(ROOT / K8S / path, overlay) for path in PROD_WITH_INGRESS)
    (overlay / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"namespace: {OVERLAYS['prod']}\nresources:\n  - {prod}\ncomponents:\n  - {ingress}\n"
    )
    manifests = build(ROOT, overlay)
    validate(manifests, tmp_path)
    [ingress] = of_kind(load(manifests), "Ingress").values()
    [path] = ingress["spec"]["rules"][0]["http"]["paths"]
    assert path["backend"]["service"] == {"name": "gateway", "port": {"name": "http"}}
    assert ingress["metadata"]["namespace"] == OVERLAYS["prod"]


def test_commit_no_secret_values(overlay: tuple[str, Objects]) -> None:
    """Secrets are referenced, made by hand or by an uncommitted generator, never built."""
    _, objects = overlay
    assert of_kind(objects, "Secret") == {}
    for service in load_services(ROOT):
        config = of_kind(objects, "ConfigMap")[f"{dns_label(service.name)}-config"]["data"]
        assert not {"DATABASE_URL", "API_KEYS"} & set(config)


def test_put_everything_in_the_overlay_namespace(overlay: tuple[str, Objects]) -> None:
    name, objects = overlay
    [namespace] = of_kind(objects, "Namespace").values()
    assert namespace["metadata"]["name"] == OVERLAYS[name]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    others = [item for item in objects if item["kind"] != "Namespace"]
    assert {item["metadata"]["namespace"] for item in others} == {OVERLAYS[name]}


# Each service


def test_deploy_every_service(overlay: tuple[str, Objects]) -> None:
    _, objects = overlay
    services = load_services(ROOT)
    names = {dns_label(service.name) for service in services}
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"):
        assert set(of_kind(objects, kind)) == {*names, "gateway"}, kind
    for service in services:
        name = dns_label(service.name)
        pod = of_kind(objects, "Deployment")[name]["spec"]["template"]["spec"]
        [migrate] = pod["initContainers"]
        [serve] = pod["containers"]
        assert serve["image"] == migrate["image"] == f"flusk/{service.name}"
        assert serve["command"] == IMAGE_COMMAND
        assert migrate["command"] == migrate_command(CONTAINER_ALEMBIC_INI)
        sources = [
            {"configMapRef": {"name": f"{name}-config"}},
            {"secretRef": {"name": f"{name}-secrets"}},
        ]
        assert serve["envFrom"] == migrate["envFrom"] == sources
        assert serve["ports"] == [
            {"name": "http", "containerPort": SERVICE_PORT, "protocol": "TCP"}
        ]
        assert serve["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert serve["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert serve["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert {"cpu", "memory"} <= set(serve["resources"]["requests"])
        assert "memory" in serve["resources"]["limits"]
        [port] = of_kind(objects, "Service")[name]["spec"]["ports"]
        assert (port["port"], port["targetPort"]) == (SERVICE_PORT, "http")
        hpa = of_kind(objects, "HorizontalPodAutoscaler")[name]
        assert hpa["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
        }


def test_call_other_services_by_their_kubernetes_name(overlay: tuple[str, Objects]) -> None:
    _, objects = overlay
    for service in load_services(ROOT):
        config = of_kind(objects, "ConfigMap")[f"{dns_label(service.name)}-config"]["data"]
        urls = {key: value for key, value in config.items() if key.endswith("_URL")}
        assert urls == {
            f"{callee.upper()}_URL": f"http://{dns_label(callee)}:{SERVICE_PORT}"
            for callee in service.calls
        }


def test_network_policies_follow_the_registry(overlay: tuple[str, Objects]) -> None:
    _, objects = overlay
    policies = of_kind(objects, "NetworkPolicy")
    services = load_services(ROOT)
    default = policies.pop("default-deny-ingress")
    assert default["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    gateway = policies.pop("gateway")
    assert [rule.get("from") for rule in gateway["spec"]["ingress"]] == [None]  # anyone
    assert set(policies) == {dns_label(service.name) for service in services}
    for service in services:
        policy = policies[dns_label(service.name)]
        assert policy["spec"]["podSelector"]["matchLabels"] == {
            "app.kubernetes.io/name": dns_label(service.name)
        }
        assert allowed_callers(policy) == expected_callers(services, service)
        assert [rule["ports"] for rule in policy["spec"]["ingress"]] == [
            [{"port": "http", "protocol": "TCP"}]
        ]


def test_run_every_container_non_root_on_read_only_filesystem(
    overlay: tuple[str, Objects],
) -> None:
    _, objects = overlay
    users = {
        "service": int(final_user(ROOT / "services" / "Dockerfile").split(":")[0]),
        "gateway": int(final_user(ROOT / "gateway" / "Dockerfile").split(":")[0]),
    }
    assert users == {"service": SERVICE_UID, "gateway": GATEWAY_UID}
    deployments = of_kind(objects, "Deployment")
    assert deployments
    for name, deployment in deployments.items():
        template = deployment["spec"]["template"]
        pod = template["spec"]
        component = template["metadata"]["labels"]["app.kubernetes.io/component"]
        assert pod["securityContext"] == {
            "runAsNonRoot": True,
            "runAsUser": users[component],
            "runAsGroup": users[component],
            "seccompProfile": {"type": "RuntimeDefault"},
        }, name
        assert pod["automountServiceAccountToken"] is False
        assert pod["enableServiceLinks"] is False
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        for container in containers(pod):
            assert container["securityContext"] == {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "runAsNonRoot": True,
                "capabilities": {"drop": ["ALL"]},
            }, (name, container["name"])
            mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
            assert "emptyDir" in volumes[mounts["/tmp"]], (name, container["name"])


def test_outlast_graceful_shutdown(overlay: tuple[str, Objects]) -> None:
    """Kubernetes kills a pod after its grace period: gunicorn's 20 s must fit after preStop."""
    _, objects = overlay
    assert GRACE_SECONDS > PRE_STOP_SECONDS + GUNICORN_GRACEFUL_SECONDS
    for deployment in of_kind(objects, "Deployment").values():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["terminationGracePeriodSeconds"] == GRACE_SECONDS
        for container in pod["containers"]:
            assert container["lifecycle"]["preStop"] == {"sleep": {"seconds": PRE_STOP_SECONDS}}


# The gateway


def test_route_gateway_to_services_in_its_namespace(overlay: tuple[str, Objects]) -> None:
    name, objects = overlay
    [config] = [
        item
        for key, item in of_kind(objects, "ConfigMap").items()
        if key.startswith("gateway-nginx-")
    ]
    nginx = config["data"]["nginx.conf"]
    assert "resolver kube-dns.kube-system.svc.cluster.local valid=10s;" in nginx
    assert "\n    upstream " not in nginx
    for service in load_services(ROOT):
        address = f"{dns_label(service.name)}.{OVERLAYS[name]}.svc.cluster.local:{SERVICE_PORT}"
        assert f"set $flusk_upstream {address};" in nginx
    pod = of_kind(objects, "Deployment")["gateway"]["spec"]["template"]["spec"]
    assert {"name": "config", "configMap": {"name": config["metadata"]["name"]}} in pod["volumes"]
    [container] = pod["containers"]
    assert container["command"][:3] == ["nginx", "-c", "/etc/flusk-gateway/nginx.conf"]
    assert container["image"] == "flusk/gateway"


# A new service


def test_deploy_new_service_with_no_hand_edit(tmp_path: Path) -> None:
    """`make new-service`, a `calls` entry in services.toml, `make generate`: all deployed."""
    repo = copy_repository(tmp_path / "repo")
    create_service(repo, "zz_orders")
    caller = load_services(repo)[0]
    registry = repo / "services.toml"
    registry.write_text(
        registry.read_text().replace(
            f"[services.{caller.name}]\n", f'[services.{caller.name}]\ncalls = ["zz_orders"]\n', 1
        )
        if not caller.calls
        else registry.read_text().replace("calls = [", 'calls = ["zz_orders", ', 1)
    )
    write_generated(repo)
    services = load_services(repo)
    assert "zz_orders" in services[0].calls
    manifests = build(repo, repo / K8S / "overlays" / "prod")
    validate(manifests, tmp_path)
    objects = load(manifests)
    deployment = of_kind(objects, "Deployment")["zz-orders"]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "flusk/zz_orders"
    assert "zz-orders" in of_kind(objects, "PodDisruptionBudget")
    [new] = [service for service in services if service.name == "zz_orders"]
    policy = of_kind(objects, "NetworkPolicy")["zz-orders"]
    assert (
        allowed_callers(policy)
        == {"gateway", dns_label(services[0].name)}
        == expected_callers(services, new)
    )
    config = of_kind(objects, "ConfigMap")[f"{dns_label(services[0].name)}-config"]["data"]
    assert config["ZZ_ORDERS_URL"] == f"http://zz-orders:{SERVICE_PORT}"
    nginx = (repo / K8S / "overlays" / "prod" / "nginx.conf").read_text()
    assert f"set $flusk_upstream zz-orders.flusk.svc.cluster.local:{SERVICE_PORT};" in nginx
