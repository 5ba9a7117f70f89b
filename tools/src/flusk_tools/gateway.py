"""Render the gateway's nginx config from ``gateway/nginx.conf.j2`` and the registry.

One template, several targets: ``local`` (services on 127.0.0.1 ports, files under a
prefix folder), ``compose`` (services by host name, logs to the container's output) and
``kubernetes`` (services by cluster DNS name, in a ConfigMap of ``deploy/k8s``). In
containers, nginx asks a DNS ``resolver`` for each request's service again once its answer
is ``resolver_valid`` old, so a re-created container or Service is found without a reload.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from .registry import (
    GATEWAY_LOCAL_PORT,
    GATEWAY_LOCAL_STATUS_PORT,
    SERVICE_PORT,
    RegistryError,
    Service,
    find_root,
    load_services,
)

TEMPLATE = Path("gateway") / "nginx.conf.j2"
LOCAL_PORT = GATEWAY_LOCAL_PORT
LOCAL_STATUS_PORT = GATEWAY_LOCAL_STATUS_PORT
# The gateway's stub_status, inside its container (not published by the compose file).
COMPOSE_STATUS_PORT = 8081
STATUS_PATH = "/stub_status"
# The /docs page: its own files, and Swagger UI's under node_modules (`npm ci`, make venv).
DOCS = Path("gateway") / "docs"
DOCS_ASSETS = DOCS / "node_modules" / "swagger-ui-dist"
# Where the gateway image keeps the same folder.
IMAGE_DOCS_ROOT = "/usr/share/flusk/docs"
# Docker's embedded DNS server, on every compose network.
COMPOSE_RESOLVER = "127.0.0.11"
# The cluster domain and DNS Service of most clusters (CoreDNS keeps the kube-dns name).
CLUSTER_DOMAIN = "cluster.local"
KUBERNETES_RESOLVER = f"kube-dns.kube-system.svc.{CLUSTER_DOMAIN}"
KUBERNETES_NAMESPACE = "flusk"


@dataclass(frozen=True)
class Upstream:
    """A service as the gateway reaches it."""

    name: str
    prefix: str
    address: str


@dataclass(frozen=True)
class GatewayError:
    """An error the gateway answers itself, as problem+json.

    ``status_from`` lists the statuses nginx produces that this page answers (494 is
    nginx's own code for headers too large; it answers 431).
    """

    name: str
    status: int
    code: str
    title: str
    detail: str
    status_from: tuple[int, ...] = ()
    retry_after: int | None = None
    allow: str | None = None


# The methods the services implement; the gateway answers 405 to any other.
FORWARDED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _error(status: int, code: str, title: str, detail: str, **extra: object) -> GatewayError:
    """The page for ``status``, named after ``code``, answering ``status`` unless told."""
    extra.setdefault("status_from", (status,))
    return GatewayError(code, status, code, title, detail, **extra)  # type: ignore[arg-type]


# Every status nginx can produce with this configuration (see the template's directives).
ERRORS = (
    _error(400, "bad_request", "Bad Request", "The request is malformed."),
    _error(404, "not_found", "Not Found", "No service serves this path."),
    _error(
        405,
        "method_not_allowed",
        "Method Not Allowed",
        "The gateway does not forward this method.",
        allow=", ".join(FORWARDED_METHODS),
    ),
    GatewayError(
        "healthz_method_not_allowed",
        405,
        "method_not_allowed",
        "Method Not Allowed",
        "The gateway health answers GET and HEAD only.",
        allow="GET, HEAD",
    ),
    GatewayError(
        "docs_method_not_allowed",
        405,
        "method_not_allowed",
        "Method Not Allowed",
        "The API documentation answers GET and HEAD only.",
        allow="GET, HEAD",
    ),
    _error(408, "request_timeout", "Request Timeout", "The request was not received in time."),
    _error(411, "length_required", "Length Required", "The request body needs a length."),
    _error(
        413,
        "request_entity_too_large",
        "Request Entity Too Large",
        "The request body is larger than the gateway accepts.",
    ),
    _error(414, "request_uri_too_large", "URI Too Long", "The URL is too long."),
    _error(
        431,
        "request_header_fields_too_large",
        "Request Header Fields Too Large",
        "The request headers are larger than the gateway accepts.",
        status_from=(494,),
    ),
    _error(
        429,
        "too_many_requests",
        "Too Many Requests",
        "Too many requests from this client; slow down.",
        retry_after=1,
    ),
    _error(500, "internal_error", "Internal Server Error", "The gateway failed to answer."),
    _error(
        501,
        "not_implemented",
        "Not Implemented",
        "The gateway does not support this transfer coding or feature.",
    ),
    _error(502, "bad_gateway", "Bad Gateway", "The service is not reachable."),
    _error(
        503,
        "service_unavailable",
        "Service Unavailable",
        "The service cannot take requests now.",
        retry_after=1,
    ),
    _error(504, "gateway_timeout", "Gateway Timeout", "The service did not answer in time."),
    _error(
        505,
        "http_version_not_supported",
        "HTTP Version Not Supported",
        "The gateway speaks HTTP/1.0 and HTTP/1.1.",
    ),
)


@dataclass(frozen=True)
class GatewaySettings:
    """Everything the template needs besides the upstreams; defaults suit production.

    ``docs_root`` is the folder the /docs page is served from; None is the checkout's.
    ``status_listen`` is where nginx's stub_status answers (``/stub_status``); None: nowhere.
    """

    target: str
    listen: str
    pid_path: str
    error_log: str
    access_log: str
    temp_dir: str | None = None
    worker_processes: str = "auto"
    rate_limit: int = 50
    rate_burst: int = 100
    max_body_size: str = "1m"
    connect_timeout: str = "5s"
    read_timeout: str = "60s"
    client_timeout: str = "15s"
    send_timeout: str = "30s"
    user: str | None = None
    cors_origins: tuple[str, ...] = ()
    errors: tuple[GatewayError, ...] = field(default=ERRORS)
    forwarded_methods: tuple[str, ...] = FORWARDED_METHODS
    docs_root: str | None = None
    status_listen: str | None = None
    # A DNS server: services are found by name per request (compose, Kubernetes), not once.
    resolver: str | None = None
    resolver_valid: str = "10s"
    # Proxies in front of the gateway (an Ingress controller, a load balancer), as CIDR
    # blocks: a request from one is taken to come from the address it names in
    # X-Forwarded-For (nginx's realip), for the rate limit, the logs and the services.
    trusted_proxies: tuple[str, ...] = ()


def docs_config(upstreams: Sequence[Upstream]) -> str:
    """Swagger UI's configuration for /docs: one entry of its selector per service."""
    urls = [{"name": u.name, "url": f"{u.prefix}/openapi.json"} for u in upstreams]
    config: dict[str, object] = {"urls": urls}
    if urls:
        config["urls.primaryName"] = urls[0]["name"]
    return json.dumps(config, separators=(",", ":"))


def render(root: Path, upstreams: Sequence[Upstream], settings: GatewaySettings) -> str:
    """The nginx config for ``upstreams`` with ``settings``."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(root),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - nginx config, not HTML
    )
    environment.filters["regex_escape"] = re.escape
    template = environment.get_template(TEMPLATE.as_posix())
    values = {**settings.__dict__, "docs_root": settings.docs_root or str(root.resolve() / DOCS)}
    return template.render(services=upstreams, docs_config=docs_config(upstreams), **values)


def local_upstreams(
    services: Sequence[Service], ports: Mapping[str, int] | None = None
) -> list[Upstream]:
    """Upstreams on loopback, at each service's registry port unless ``ports`` names another."""
    ports = ports or {}
    return [Upstream(s.name, s.prefix, f"127.0.0.1:{ports.get(s.name, s.port)}") for s in services]


def compose_upstreams(services: Sequence[Service]) -> list[Upstream]:
    return [Upstream(s.name, s.prefix, f"{s.name}:{SERVICE_PORT}") for s in services]


def dns_label(name: str) -> str:
    """A service's name as a Kubernetes object and DNS name: ``zz_orders`` is ``zz-orders``."""
    return name.replace("_", "-")


def kubernetes_upstreams(
    services: Sequence[Service],
    namespace: str = KUBERNETES_NAMESPACE,
    cluster_domain: str = CLUSTER_DOMAIN,
) -> list[Upstream]:
    """Services by their full cluster DNS name: nginx's resolver uses no search domains."""
    suffix = f"{namespace}.svc.{cluster_domain}:{SERVICE_PORT}"
    return [Upstream(s.name, s.prefix, f"{dns_label(s.name)}.{suffix}") for s in services]


def local_settings(prefix: Path, *, port: int = LOCAL_PORT, **overrides: object) -> GatewaySettings:
    """Settings for nginx run by a developer: loopback only, every file under ``prefix``."""
    values: dict[str, object] = {
        "target": "local",
        "listen": f"127.0.0.1:{port}",
        "pid_path": str(prefix / "nginx.pid"),
        "error_log": "stderr",
        "access_log": "/dev/stdout",
        "temp_dir": str(prefix / "tmp"),
        "worker_processes": "2",
        # A root master would hand requests to 'nobody', who cannot write under prefix.
        "user": "root" if os.geteuid() == 0 else None,
    }
    values.update(overrides)
    return GatewaySettings(**values)  # type: ignore[arg-type]


def compose_settings(**overrides: object) -> GatewaySettings:
    """Settings for the gateway container (nginx-unprivileged, port 8080)."""
    values: dict[str, object] = {
        "target": "compose",
        "listen": "8080",
        "pid_path": "/tmp/nginx.pid",  # noqa: S108 - where nginx-unprivileged keeps it
        "error_log": "/dev/stderr",
        "access_log": "/dev/stdout",
        "docs_root": IMAGE_DOCS_ROOT,
        "status_listen": str(COMPOSE_STATUS_PORT),
        "resolver": COMPOSE_RESOLVER,
    }
    values.update(overrides)
    return GatewaySettings(**values)  # type: ignore[arg-type]


def kubernetes_settings(**overrides: object) -> GatewaySettings:
    """Settings for the gateway pod: the compose image's, on a read-only root filesystem."""
    values: dict[str, object] = {
        "target": "kubernetes",
        "temp_dir": "/tmp",  # noqa: S108 - an emptyDir, the only writable folder
        "resolver": KUBERNETES_RESOLVER,
    }
    values.update(overrides)
    return compose_settings(**values)


def write_local_config(
    root: Path,
    prefix: Path,
    *,
    port: int = LOCAL_PORT,
    ports: Mapping[str, int] | None = None,
    status_port: int = LOCAL_STATUS_PORT,
) -> Path:
    """Render the local run's config into ``prefix`` (made if needed) and return its path.

    Its stub_status answers on 127.0.0.1:``status_port``.
    """
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    settings = local_settings(
        prefix.resolve(),
        port=port,
        status_listen=f"127.0.0.1:{status_port}",
        **environment_overrides(os.environ),
    )
    config = prefix / "nginx.conf"
    config.write_text(render(root, local_upstreams(load_services(root), ports), settings))
    return config


_ORIGIN = re.compile(r"\*|https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")


class GatewayConfigError(ValueError):
    """A gateway setting from the environment or the command line is unusable."""


# A host name or an IP address, with an optional port; a Kubernetes namespace (DNS label).
_RESOLVER = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:]+\](:[0-9]{1,5})?")
_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_DOMAIN = re.compile(rf"{_NAMESPACE.pattern}(\.{_NAMESPACE.pattern})*")


def check_name(option: str, value: str, pattern: re.Pattern[str]) -> str:
    """``value`` if the whole of it matches ``pattern``: it goes into the config as it is."""
    if not pattern.fullmatch(value):
        raise GatewayConfigError(f"{option} {value!r} is not a name nginx can use here")
    return value


def trusted_proxies(option: str, value: str) -> tuple[str, ...]:
    """The comma-separated CIDR blocks of ``value``, each written as nginx reads it."""
    blocks = []
    for part in value.split(","):
        try:
            blocks.append(str(ipaddress.ip_network(part.strip())))
        except ValueError:
            raise GatewayConfigError(
                f"{option} {part.strip()!r} is not a CIDR block like 10.0.0.0/8"
            ) from None
    return tuple(blocks)


def environment_overrides(environ: Mapping[str, str]) -> dict[str, object]:
    """Settings taken from the environment: rate limits and the CORS allow-list."""
    overrides: dict[str, object] = {}
    for variable, key in (
        ("GATEWAY_RATE_LIMIT", "rate_limit"),
        ("GATEWAY_RATE_BURST", "rate_burst"),
    ):
        raw = environ.get(variable, "")
        if raw:
            if not raw.isdigit() or int(raw) == 0:
                raise GatewayConfigError(f"{variable}={raw!r} must be a positive integer")
            overrides[key] = int(raw)
    origins = tuple(
        part.strip() for part in environ.get("CORS_ORIGINS", "").split(",") if part.strip()
    )
    for origin in origins:
        if not _ORIGIN.fullmatch(origin):
            raise GatewayConfigError(
                f"CORS_ORIGINS: {origin!r} is not an origin like https://app.example"
            )
    overrides["cors_origins"] = origins
    return overrides


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--target", choices=("local", "compose", "kubernetes"), required=True)
    parser.add_argument("--prefix", type=Path, default=Path("var/gateway"), help="local only")
    parser.add_argument("--port", type=int, default=LOCAL_PORT, help="local only")
    parser.add_argument("--namespace", default=KUBERNETES_NAMESPACE, help="kubernetes only")
    parser.add_argument(
        "--resolver",
        help=f"the DNS server (compose: {COMPOSE_RESOLVER}, kubernetes: the "
        f"cluster's, kube-dns.kube-system.svc.<cluster domain>)",
    )
    parser.add_argument(
        "--cluster-domain",
        default=CLUSTER_DOMAIN,
        help="kubernetes only: the cluster's DNS domain, of its services and its DNS Service",
    )
    parser.add_argument(
        "--trusted-proxies",
        metavar="CIDR[,CIDR...]",
        help="compose and kubernetes: the addresses of the proxies in front of the gateway "
        "(an Ingress controller's pods), whose X-Forwarded-For names the client",
    )
    args = parser.parse_args(argv)
    try:
        return _render_target(args)
    except (RegistryError, GatewayConfigError, OSError) as exc:
        sys.stderr.write(f"flusk-gateway: {exc}\n")
        return 1


def _render_target(args: argparse.Namespace) -> int:
    root = find_root()
    if args.target == "local":
        sys.stdout.write(f"{write_local_config(root, args.prefix, port=args.port)}\n")
        return 0
    overrides = environment_overrides(os.environ)
    if args.resolver:
        overrides["resolver"] = check_name("--resolver", args.resolver, _RESOLVER)
    if args.trusted_proxies:
        overrides["trusted_proxies"] = trusted_proxies("--trusted-proxies", args.trusted_proxies)
    check_name("--namespace", args.namespace, _NAMESPACE)
    domain = check_name("--cluster-domain", args.cluster_domain, _DOMAIN)
    services = load_services(root)
    if args.target == "compose":
        settings, upstreams = compose_settings(**overrides), compose_upstreams(services)
    else:
        overrides.setdefault("resolver", f"kube-dns.kube-system.svc.{domain}")
        settings = kubernetes_settings(**overrides)
        upstreams = kubernetes_upstreams(services, args.namespace, domain)
    sys.stdout.write(render(root, upstreams, settings))
    return 0
