"""The service registry, ``services.toml``: every service, its local port, its URL prefix
(``/<name>`` unless ``prefix`` says otherwise) and what it calls.

It is the one source of truth: the gateway routes, the local run, the compose file, the
tox environments and CI all follow from it (see ``generate``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REGISTRY_FILE = "services.toml"
SERVICE_PORT = 8000  # where a service listens inside its container
GATEWAY_LOCAL_PORT = 8080  # where the gateway listens in the local run
GATEWAY_LOCAL_STATUS_PORT = 8090  # where its stub_status answers in the local run (127.0.0.1)
RESERVED = frozenset(
    {
        # folders and files of the repository, and the gateway's own routes
        "bench",
        "compose",
        "docs",
        "gateway",
        "healthz",
        "libs",
        "readyz",
        "services",
        "src",
        "static",
        "test",
        "tests",
        "tools",
        "var",
        # tox environments, packages and compose services of our own
        "common",
        "flusk_common",
        "flusk_tools",
        "lint",
        "postgres",
        # a service calls another with the <NAME>_URL setting: DATABASE_URL is taken
        "database",
    }
)

_NAME = re.compile(r"[a-z][a-z0-9_]*")
# One path segment of lowercase words joined by hyphens or underscores: /orders, /order-items.
_PREFIX = re.compile(r"/[a-z0-9]+(?:[-_][a-z0-9]+)*")


class RegistryError(Exception):
    """``services.toml`` is missing, malformed or inconsistent."""


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    calls: tuple[str, ...] = ()
    url_prefix: str | None = None  # the registry's `prefix`, if it gives one

    @property
    def prefix(self) -> str:
        """The URL prefix the service owns: ``prefix`` from the registry, else ``/<name>``."""
        return self.url_prefix or f"/{self.name}"


def find_root(start: Path | None = None) -> Path:
    """The repository root: the nearest folder at or above ``start`` with services.toml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / REGISTRY_FILE).is_file():
            return folder
    raise RegistryError(f"no {REGISTRY_FILE} in {here} or any folder above it")


def load_services(root: Path) -> list[Service]:
    """The services of ``root``'s registry, in the order they are listed."""
    path = root / REGISTRY_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RegistryError(f"cannot read {path}: {exc}") from None
    services = [_service(path, name, entry) for name, entry in data.get("services", {}).items()]
    names = {service.name for service in services}
    for service in services:
        for call in service.calls:
            if call not in names or call == service.name:
                raise RegistryError(f"{path}: services.{service.name} calls unknown {call!r}")
    ports = [service.port for service in services]
    if len(set(ports)) != len(ports):
        raise RegistryError(f"{path}: two services share a port")
    prefixes = [service.prefix for service in services]
    if len(set(prefixes)) != len(prefixes):
        raise RegistryError(f"{path}: two services share a URL prefix")
    return services


def _service(path: Path, name: str, entry: dict[str, Any]) -> Service:
    """One entry of the registry, checked on its own."""
    if not _NAME.fullmatch(name):
        raise RegistryError(f"{path}: service name {name!r} is not a lowercase identifier")
    if name in RESERVED:
        raise RegistryError(f"{path}: service name {name!r} is reserved in this repository")
    port = entry.get("port")
    gateway_ports = (GATEWAY_LOCAL_PORT, GATEWAY_LOCAL_STATUS_PORT)
    if not isinstance(port, int) or not 1024 <= port <= 65535 or port in gateway_ports:
        raise RegistryError(
            f"{path}: services.{name}.port must be a port from 1024 to 65535, "
            f"not the gateway's {GATEWAY_LOCAL_PORT} or {GATEWAY_LOCAL_STATUS_PORT}"
        )
    calls = entry.get("calls", [])
    if not isinstance(calls, list) or not all(isinstance(call, str) for call in calls):
        raise RegistryError(f"{path}: services.{name}.calls must be a list of service names")
    unknown = set(entry) - {"port", "calls", "prefix"}
    if unknown:
        raise RegistryError(f"{path}: services.{name} has unknown keys {sorted(unknown)}")
    prefix = entry.get("prefix")
    if prefix is not None:
        check_prefix(prefix, f"{path}: services.{name}.prefix")
    return Service(name=name, port=port, calls=tuple(calls), url_prefix=prefix)


def check_prefix(prefix: object, where: str) -> str:
    """``prefix`` if a service may own it: one lowercase path segment, not the gateway's."""
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        raise RegistryError(
            f"{where} must be one path segment of lowercase letters and digits, words "
            f"joined by '-' or '_' (e.g. /order-items), not {prefix!r}"
        )
    if prefix[1:] in RESERVED:
        raise RegistryError(f"{where} {prefix!r} is reserved in this repository")
    return prefix


def next_port(services: list[Service]) -> int:
    """The local port for a new service: one above the highest in use."""
    return max((service.port for service in services), default=8000) + 1


def register_service(root: Path, name: str, prefix: str | None = None) -> Service:
    """Append ``name`` to the registry with the next free port; the file keeps its comments."""
    services = load_services(root)
    service = Service(name=name, port=next_port(services), url_prefix=prefix)
    if service.prefix in {other.prefix for other in services}:
        raise RegistryError(f"another service already owns {service.prefix}")
    entry = f"[services.{name}]\nport = {service.port}\n"
    if prefix is not None:
        entry += f'prefix = "{prefix}"\n'
    path = root / REGISTRY_FILE
    text = path.read_text(encoding="utf-8").rstrip("\n")
    path.write_text(f"{text}\n\n{entry}", encoding="utf-8")
    return service


def folder_problems(root: Path, services: list[Service]) -> list[str]:
    """Service folders missing from the registry, and registry entries without a folder."""
    registered = {service.name for service in services}
    folders = {path.name for path in (root / "services").iterdir() if path.is_dir()}
    problems = [
        f"services/{name}/ is not in {REGISTRY_FILE}: add [services.{name}] with a port"
        for name in sorted(folders - registered)
    ]
    problems += [
        f"{REGISTRY_FILE} lists {name!r} but services/{name}/ does not exist"
        for name in sorted(registered - folders)
    ]
    return problems
