"""The service registry, ``services.toml``: every service, its local port and what it calls.

It is the one source of truth: the gateway routes, the local run, the compose file, the
tox environments and CI all follow from it (see ``generate``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

REGISTRY_FILE = "services.toml"
SERVICE_PORT = 8000  # where a service listens inside its container
GATEWAY_LOCAL_PORT = 8080  # where the gateway listens in the local run
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


class RegistryError(Exception):
    """``services.toml`` is missing, malformed or inconsistent."""


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    calls: tuple[str, ...] = ()

    @property
    def prefix(self) -> str:
        return f"/{self.name}"


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
    services = []
    for name, entry in data.get("services", {}).items():
        if not _NAME.fullmatch(name):
            raise RegistryError(f"{path}: service name {name!r} is not a lowercase identifier")
        if name in RESERVED:
            raise RegistryError(f"{path}: service name {name!r} is reserved in this repository")
        port = entry.get("port")
        if not isinstance(port, int) or not 1024 <= port <= 65535 or port == GATEWAY_LOCAL_PORT:
            raise RegistryError(
                f"{path}: services.{name}.port must be a port from 1024 to 65535, "
                f"not the gateway's {GATEWAY_LOCAL_PORT}"
            )
        calls = entry.get("calls", [])
        if not isinstance(calls, list) or not all(isinstance(call, str) for call in calls):
            raise RegistryError(f"{path}: services.{name}.calls must be a list of service names")
        unknown = set(entry) - {"port", "calls"}
        if unknown:
            raise RegistryError(f"{path}: services.{name} has unknown keys {sorted(unknown)}")
        services.append(Service(name=name, port=port, calls=tuple(calls)))
    names = {service.name for service in services}
    for service in services:
        for call in service.calls:
            if call not in names or call == service.name:
                raise RegistryError(f"{path}: services.{service.name} calls unknown {call!r}")
    ports = [service.port for service in services]
    if len(set(ports)) != len(ports):
        raise RegistryError(f"{path}: two services share a port")
    return services


def next_port(services: list[Service]) -> int:
    """The local port for a new service: one above the highest in use."""
    return max((service.port for service in services), default=8000) + 1


def register_service(root: Path, name: str) -> Service:
    """Append ``name`` to the registry with the next free port; the file keeps its comments."""
    service = Service(name=name, port=next_port(load_services(root)))
    path = root / REGISTRY_FILE
    text = path.read_text(encoding="utf-8").rstrip("\n")
    path.write_text(f"{text}\n\n[services.{name}]\nport = {service.port}\n", encoding="utf-8")
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
