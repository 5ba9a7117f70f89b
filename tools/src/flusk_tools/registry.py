"""The service registry, ``services.toml``: every service, its URL prefix and local port."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

REGISTRY_FILE = "services.toml"
SERVICE_PORT = 8000  # where a service listens inside its container
_NAME = re.compile(r"[a-z][a-z0-9_]*")


class RegistryError(Exception):
    """``services.toml`` is missing, malformed or inconsistent."""


@dataclass(frozen=True)
class Service:
    name: str
    port: int

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
        port = entry.get("port")
        if not isinstance(port, int) or not 1024 <= port <= 65535:
            raise RegistryError(f"{path}: services.{name}.port must be a port from 1024 to 65535")
        services.append(Service(name=name, port=port))
    ports = [service.port for service in services]
    if len(set(ports)) != len(ports):
        raise RegistryError(f"{path}: two services share a port")
    return services
