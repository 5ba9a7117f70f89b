"""services.toml: what it may hold, and adding a service to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from flusk_tools.registry import RegistryError, Service, load_services, register_service


def write_registry(root: Path, text: str) -> Path:
    (root / "services.toml").write_text(text)
    return root


def test_load_services(tmp_path: Path) -> None:
    root = write_registry(
        tmp_path,
        "[services.foss]\nport = 8001\n\n[services.licenses]\nport = 8002\ncalls = []\n"
        "\n[services.shop]\nport = 8003\ncalls = ['foss', 'licenses']\n",
    )
    assert load_services(root) == [
        Service("foss", 8001),
        Service("licenses", 8002),
        Service("shop", 8003, ("foss", "licenses")),
    ]
    assert load_services(root)[0].prefix == "/foss"


def test_load_service_with_its_own_prefix(tmp_path: Path) -> None:
    root = write_registry(
        tmp_path, "[services.order_items]\nport = 8001\nprefix = '/order-items'\n"
    )
    [service] = load_services(root)
    assert service.prefix == "/order-items"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[services.Foss]\nport = 8001\n", "not a lowercase identifier"),
        ("[services.foss]\n", "port must be a port"),
        ("[services.foss]\nport = 80\n", "port must be a port"),
        ("[services.a]\nport = 8001\n[services.b]\nport = 8001\n", "share a port"),
        ("[services.a]\nport = 8001\ncalls = ['b']\n", "calls unknown 'b'"),
        ("[services.a]\nport = 8001\ncalls = ['a']\n", "calls unknown 'a'"),
        ("[services.a]\nport = 8001\ncalls = 'b'\n", "list of service names"),
        ("[services.a]\nport = 8001\nroute = '/x'\n", "unknown keys ['route']"),
        ("[services.a]\nport = 8001\nprefix = 'x'\n", "prefix must be one path segment"),
        ("[services.a]\nport = 8001\nprefix = '/a/b'\n", "prefix must be one path segment"),
        ("[services.a]\nport = 8001\nprefix = '/docs'\n", "'/docs' is reserved"),
        ("[services.a]\nport = 8001\n[services.b]\nport = 8002\nprefix = '/a'\n", "share a URL"),
        ("[services.a\n", "cannot read"),
        ("[services.lint]\nport = 8001\n", "'lint' is reserved"),
        ("[services.database]\nport = 8001\n", "'database' is reserved"),
        ("[services.a]\nport = 8080\n", "not the gateway's 8080"),
    ],
)
def test_refuse_bad_registry(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RegistryError, match=message.replace("[", r"\[")):
        load_services(write_registry(tmp_path, text))


def test_register_service_with_next_port(tmp_path: Path) -> None:
    root = write_registry(tmp_path, "# kept\n\n[services.foss]\nport = 8001\n")
    assert register_service(root, "orders") == Service("orders", 8002)
    assert (root / "services.toml").read_text().startswith("# kept\n")
    assert load_services(root)[-1] == Service("orders", 8002)
    register_service(root, "order_items", "/order-items")
    assert load_services(root)[-1].prefix == "/order-items"
