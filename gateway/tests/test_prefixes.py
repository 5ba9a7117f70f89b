"""Each service serves under the prefix the registry gives the gateway for it."""

from __future__ import annotations

import importlib

import pytest

from flusk_tools.registry import load_services
from stack import ROOT

SERVICES = load_services(ROOT)


@pytest.fixture(scope="session")
def nginx_installed() -> None:
    """Overrides conftest's autouse skip: this reads the apps and needs no nginx."""


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
def test_serve_under_the_registry_prefix(service: object) -> None:
    name, prefix = service.name, service.prefix  # type: ignore[attr-defined]
    app = importlib.import_module(name).create_app({"DATABASE_URL": "sqlite://"})
    rules = [rule.rule for rule in app.url_map.iter_rules()]
    # The probes and the metrics answer on the service's own port, outside its prefix.
    public = [rule for rule in rules if rule not in {"/healthz", "/readyz", "/metrics"}]
    assert public, f"{name} has no routes"
    assert all(rule == prefix or rule.startswith(f"{prefix}/") for rule in public), (
        f"{name}'s routes are not all under {prefix}, its prefix in services.toml: {public}"
    )
    assert f"{prefix}/openapi.json" in rules
