"""Files generated from the registry and checked in: ``tox.ini``, the compose file and its
Prometheus configuration, and the Kubernetes manifests under ``deploy/k8s`` (whose gateway
config comes from the gateway's own template, ``gateway/nginx.conf.j2``).

``flusk-generate`` (``make generate``) writes them; ``flusk-generate --check`` (run by the
tools tests, so by ``make test``) fails when one has drifted from the registry or was
edited by hand, and when a service folder and the registry disagree.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import jinja2

from . import gateway
from .commands import CONTAINER_ALEMBIC_INI, IMAGE_COMMAND, migrate_command
from .registry import (
    SERVICE_PORT,
    RegistryError,
    Service,
    find_root,
    folder_problems,
    load_services,
)

REGENERATE = "make generate"
K8S = Path("deploy") / "k8s"
# The overlays and their namespaces.
OVERLAYS = {"dev": "flusk-dev", "prod": "flusk"}
# The numeric users the images run as (USER of services/Dockerfile and gateway/Dockerfile),
# so that runAsNonRoot can check them.
SERVICE_UID = 10001
GATEWAY_UID = 101
GATEWAY_PORT = 8080
PRE_STOP_SECONDS = 5
# The preStop pause, then gunicorn's graceful timeout (20 s), with time to spare.
GRACE_SECONDS = 30

Renderer = Callable[[Path, list[Service]], str]


@functools.cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("flusk_tools", "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - ini and YAML, not HTML
    )
    environment.filters["dns_label"] = gateway.dns_label
    return environment


def _template(name: str, **values: object) -> Renderer:
    """A renderer of template ``name`` with the registry's services and ``values``."""

    def render(root: Path, services: list[Service]) -> str:
        callers = {
            service.name: [other.name for other in services if service.name in other.calls]
            for service in services
        }
        return (
            _environment()
            .get_template(name)
            .render(
                services=services,
                callers=callers,
                template_name=name.removeprefix("k8s/"),
                service_port=SERVICE_PORT,
                gateway_port=GATEWAY_PORT,
                service_uid=SERVICE_UID,
                gateway_uid=GATEWAY_UID,
                pre_stop_seconds=PRE_STOP_SECONDS,
                grace_seconds=GRACE_SECONDS,
                serve_command=IMAGE_COMMAND,
                migrate_command=migrate_command(CONTAINER_ALEMBIC_INI),
                gateway_status_port=gateway.COMPOSE_STATUS_PORT,
                **values,
            )
        )

    return render


def _gateway_config(namespace: str) -> Renderer:
    """The gateway's nginx config for the services of ``namespace``."""

    def render(root: Path, services: list[Service]) -> str:
        upstreams = gateway.kubernetes_upstreams(services, namespace)
        return gateway.render(root, upstreams, gateway.kubernetes_settings())

    return render


def _overlay(name: str, namespace: str) -> dict[Path, Renderer]:
    folder = K8S / "overlays" / name
    return {
        folder / "kustomization.yaml": _template(
            "k8s/overlay-kustomization.yaml.j2", overlay=name, namespace=namespace
        ),
        folder / "namespace.yaml": _template("k8s/namespace.yaml.j2", namespace=namespace),
        folder / "nginx.conf": _gateway_config(namespace),
    }


GENERATED: dict[Path, Renderer] = {
    Path("tox.ini"): _template("tox.ini.j2"),
    Path("compose") / "docker-compose.yml": _template("docker-compose.yml.j2"),
    Path("compose") / "prometheus.yml": _template("prometheus.yml.j2"),
    K8S / "base" / "kustomization.yaml": _template("k8s/base-kustomization.yaml.j2"),
    K8S / "base" / "services.yaml": _template("k8s/services.yaml.j2"),
    K8S / "base" / "gateway.yaml": _template("k8s/gateway.yaml.j2"),
    K8S / "base" / "network-policies.yaml": _template("k8s/network-policies.yaml.j2"),
    **{
        path: renderer
        for name, ns in OVERLAYS.items()
        for path, renderer in _overlay(name, ns).items()
    },
    K8S / "components" / "ingress" / "kustomization.yaml": _template(
        "k8s/ingress-kustomization.yaml.j2"
    ),
    K8S / "components" / "ingress" / "ingress.yaml": _template("k8s/ingress.yaml.j2"),
}


def render_generated(root: Path) -> dict[Path, str]:
    """What every generated file should hold, from ``root``'s registry."""
    services = load_services(root)
    return {path: render(root, services) for path, render in GENERATED.items()}


def write_generated(root: Path) -> list[Path]:
    """Write the generated files that differ from what the registry gives; return them."""
    written = []
    for path, content in render_generated(root).items():
        target = root / path
        if not target.is_file() or target.read_text(encoding="utf-8") != content:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
            written.append(path)
    return written


def drift(root: Path) -> list[str]:
    """Everything that disagrees with the registry, each with the command that mends it."""
    problems = folder_problems(root, load_services(root))
    for path, content in render_generated(root).items():
        target = root / path
        if not target.is_file() or target.read_text(encoding="utf-8") != content:
            problems.append(
                f"{path} differs from what services.toml gives (edited by hand, or the "
                f"registry changed): run `{REGENERATE}`"
            )
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the files generated from services.toml.")
    parser.add_argument("--check", action="store_true", help="only report drift; exit 1 if any")
    args = parser.parse_args(argv)
    try:
        root = find_root()
        if args.check:
            problems = drift(root)
            for problem in problems:
                sys.stderr.write(f"{problem}\n")
            return 1 if problems else 0
        for path in write_generated(root):
            sys.stdout.write(f"wrote {path}\n")
    except (RegistryError, OSError) as exc:
        sys.stderr.write(f"flusk-generate: {exc}\n")
        return 1
    return 0
