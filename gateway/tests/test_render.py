"""Rendering the one template: both targets, and settings taken from the environment."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from flusk_tools.gateway import (
    COMPOSE_RESOLVER,
    IMAGE_DOCS_ROOT,
    KUBERNETES_RESOLVER,
    GatewayConfigError,
    GatewaySettings,
    compose_settings,
    compose_upstreams,
    environment_overrides,
    kubernetes_settings,
    kubernetes_upstreams,
    local_settings,
    local_upstreams,
    render,
)
from flusk_tools.registry import load_services
from stack import ROOT, nginx_binary


def nginx_test(config_text: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on ``config_text``, run from ``folder``."""
    config = folder / "nginx.conf"
    config.write_text(config_text)
    command = [nginx_binary(), "-t", "-q", "-p", str(folder), "-e", "stderr", "-c", str(config)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_render_local_config_nginx_accepts(tmp_path: Path) -> None:
    (tmp_path / "tmp").mkdir()
    settings = local_settings(tmp_path, port=18080, cors_origins=("https://app.example",))
    result = nginx_test(render(ROOT, local_upstreams(load_services(ROOT)), settings), tmp_path)
    assert result.returncode == 0, result.stderr


def test_render_compose_config_by_host_name() -> None:
    config = render(ROOT, compose_upstreams(load_services(ROOT)), compose_settings())
    assert f"resolver {COMPOSE_RESOLVER} valid=10s;" in config
    assert "set $flusk_upstream foss:8000;" in config
    assert "\n    upstream " not in config  # a name in an upstream block is resolved once
    assert "listen 8080;" in config
    assert "user " not in config


def test_render_kubernetes_config_by_cluster_name() -> None:
    upstreams = kubernetes_upstreams(load_services(ROOT), "shop")
    config = render(ROOT, upstreams, kubernetes_settings())
    assert f"resolver {KUBERNETES_RESOLVER} valid=10s;" in config
    assert "set $flusk_upstream foss.shop.svc.cluster.local:8000;" in config
    assert config.count("proxy_pass http://$flusk_upstream;") == 2 * len(upstreams)
    assert "client_body_temp_path /tmp/client_body;" in config  # the only writable folder


@pytest.mark.parametrize(
    "settings", [compose_settings(), kubernetes_settings()], ids=["compose", "kubernetes"]
)
def test_render_container_config_nginx_accepts(settings: GatewaySettings, tmp_path: Path) -> None:
    """The image's paths made local, the resolver a loopback one: the rest as rendered."""
    local = {"pid_path": str(tmp_path / "nginx.pid"), "resolver": "127.0.0.1"}
    if settings.temp_dir:
        local["temp_dir"] = str(tmp_path)
    config = render(ROOT, compose_upstreams(load_services(ROOT)), replace(settings, **local))
    result = nginx_test(config, tmp_path)
    assert result.returncode == 0, result.stderr


def test_render_kubernetes_target_from_command_line() -> None:
    command = [str(Path(sys.executable).parent / "flusk-gateway"), "--target", "kubernetes"]
    env = {"PATH": os.environ.get("PATH", "")}
    result = subprocess.run(
        [*command, "--namespace", "shop", "--resolver", "10.96.0.10"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "resolver 10.96.0.10 valid=10s;" in result.stdout
    assert "set $flusk_upstream licenses.shop.svc.cluster.local:8000;" in result.stdout


def test_render_kubernetes_cluster_domain_from_command_line() -> None:
    """A cluster whose domain is not cluster.local: services and its DNS by that domain."""
    command = [str(Path(sys.executable).parent / "flusk-gateway"), "--target", "kubernetes"]
    result = subprocess.run(
        [*command, "--namespace", "shop", "--cluster-domain", "corp.internal"],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "set $flusk_upstream foss.shop.svc.corp.internal:8000;" in result.stdout
    assert "resolver kube-dns.kube-system.svc.corp.internal valid=10s;" in result.stdout
    assert "cluster.local" not in result.stdout


def test_render_trusted_proxies_from_command_line(tmp_path: Path) -> None:
    """Behind an Ingress: the client is the address its controller names, nginx accepts it."""
    command = [str(Path(sys.executable).parent / "flusk-gateway"), "--target", "kubernetes"]
    result = subprocess.run(
        [*command, "--trusted-proxies", "10.0.0.0/8, fd00::/8"],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [line.strip() for line in result.stdout.splitlines()]
    start = lines.index("set_real_ip_from 10.0.0.0/8;")
    assert lines[start : start + 5] == [
        "set_real_ip_from 10.0.0.0/8;",
        "set_real_ip_from fd00::/8;",
        "real_ip_header X-Forwarded-For;",
        "real_ip_recursive on;",
        "",
    ]
    assert lines.index("limit_req_zone $binary_remote_addr zone=per_client:10m rate=50r/s;") > start
    local = {"pid_path": str(tmp_path / "nginx.pid"), "resolver": "127.0.0.1"}
    settings = kubernetes_settings(temp_dir=str(tmp_path), trusted_proxies=("10.0.0.0/8",), **local)
    config = render(ROOT, compose_upstreams(load_services(ROOT)), settings)
    result = nginx_test(config, tmp_path)
    assert result.returncode == 0, result.stderr


def test_trust_no_proxy_unless_told() -> None:
    config = render(ROOT, kubernetes_upstreams(load_services(ROOT)), kubernetes_settings())
    assert "real_ip" not in config


@pytest.mark.parametrize(
    "option",
    [
        ["--resolver", "10.0.0.1; evil"],
        ["--namespace", "Shop"],
        ["--namespace", "a.b"],
        ["--cluster-domain", "corp.internal; evil"],
        ["--cluster-domain", "corp..internal"],
        ["--trusted-proxies", "10.0.0.0/8; evil"],
        ["--trusted-proxies", "10.0.0.1/8"],  # host bits set: a typo more often than not
        ["--trusted-proxies", "10.0.0.0/8,"],
    ],
)
def test_refuse_bad_kubernetes_option(option: list[str]) -> None:
    command = [str(Path(sys.executable).parent / "flusk-gateway"), "--target", "kubernetes"]
    result = subprocess.run(
        [*command, *option], cwd=ROOT, env={}, capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert option[0] in result.stderr


def test_take_settings_from_environment() -> None:
    environ = {
        "GATEWAY_RATE_LIMIT": "7",
        "GATEWAY_RATE_BURST": "9",
        "CORS_ORIGINS": "https://a.example, http://localhost:3000",
    }
    assert environment_overrides(environ) == {
        "rate_limit": 7,
        "rate_burst": 9,
        "cors_origins": ("https://a.example", "http://localhost:3000"),
    }


@pytest.mark.parametrize(
    "environ",
    [
        {"GATEWAY_RATE_LIMIT": "fast"},
        {"GATEWAY_RATE_BURST": "0"},
        {"CORS_ORIGINS": 'https://a.example"; evil'},
        {"CORS_ORIGINS": "null"},
    ],
)
def test_refuse_bad_settings(environ: dict[str, str]) -> None:
    with pytest.raises(GatewayConfigError):
        environment_overrides(environ)


def test_render_compose_config_as_the_gateway_image_does() -> None:
    """The RUN step of gateway/Dockerfile, natively: `flusk-gateway --target compose`."""
    command = [str(Path(sys.executable).parent / "flusk-gateway"), "--target", "compose"]
    env = {"PATH": os.environ.get("PATH", ""), "CORS_ORIGINS": "https://app.example"}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert "set $flusk_upstream foss:8000;" in result.stdout
    assert '"~^https://app\\.example$" $http_origin;' in result.stdout
    assert "flusk-gateway --target compose" in (ROOT / "gateway" / "Dockerfile").read_text()


def test_refuse_bad_setting_in_one_line() -> None:
    command = [str(Path(sys.executable).parent / "flusk-gateway"), "--target", "compose"]
    result = subprocess.run(
        command,
        cwd=ROOT,
        env={"GATEWAY_RATE_LIMIT": "lots"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "GATEWAY_RATE_LIMIT" in result.stderr


def test_render_problem_page_for_every_status_nginx_produces() -> None:
    """Each status nginx can answer by itself, at server level, goes to a problem page."""
    config = render(ROOT, compose_upstreams(load_services(ROOT)), compose_settings())
    server = config[config.index("server {") : config.index("location")]
    pages = dict(re.findall(r"error_page (\d+) (?:=\d+ )?/\.flusk-errors/(\w+);", server))
    nginx_statuses = {400, 404, 405, 408, 411, 413, 414, 429, 494, 500, 501, 502, 503, 504, 505}
    assert set(map(int, pages)) == nginx_statuses
    assert "error_page 494 =431 /.flusk-errors/request_header_fields_too_large;" in server
    for name in pages.values():
        page = config[config.index(f"location = /.flusk-errors/{name} {{") :]
        page = page[: page.index("}")]
        assert "default_type application/problem+json;" in page
        assert '"request_id":"$flusk_request_id"' in page


def test_serve_docs_from_the_folder_the_image_fills() -> None:
    """The compose config reads /docs from where gateway/Dockerfile copies the files."""
    config = render(ROOT, compose_upstreams(load_services(ROOT)), compose_settings())
    dockerfile = (ROOT / "gateway" / "Dockerfile").read_text()

    assert f"alias {IMAGE_DOCS_ROOT}/index.html;" in config
    assert f"alias {IMAGE_DOCS_ROOT}/node_modules/swagger-ui-dist/$asset;" in config
    assert f" {IMAGE_DOCS_ROOT}/node_modules/swagger-ui-dist\n" in dockerfile
    assert f"gateway/docs/flusk-docs.js {IMAGE_DOCS_ROOT}/\n" in dockerfile


def test_render_local_docs_from_the_checkout(tmp_path: Path) -> None:
    config = render(ROOT, local_upstreams(load_services(ROOT)), local_settings(tmp_path))

    assert f"alias {ROOT.resolve() / 'gateway' / 'docs'}/index.html;" in config


def test_list_every_registry_service_for_the_docs_selector() -> None:
    services = load_services(ROOT)
    config = render(ROOT, compose_upstreams(services), compose_settings())

    location = r"location = /docs/swagger-config\.json \{.*?return 200 '([^']*)';"
    listed = re.search(location, config, re.DOTALL)
    assert listed is not None
    assert json.loads(listed[1]) == {
        "urls": [{"name": s.name, "url": f"{s.prefix}/openapi.json"} for s in services],
        "urls.primaryName": services[0].name,
    }
