"""The files generated from the registry, and the drift test that keeps them honest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT
from flusk_tools.generate import GENERATED, drift, render_generated, write_generated
from flusk_tools.registry import load_services, register_service


def test_generated_files_match_registry() -> None:
    """The repository's own tox.ini and compose file are what services.toml gives."""
    assert drift(ROOT) == []


def test_report_hand_edited_file(registry_root: Path) -> None:
    tox_ini = registry_root / "tox.ini"
    tox_ini.write_text(tox_ini.read_text().replace("env_list = lint", "env_list = lint, extra"))
    assert drift(registry_root) == [
        "tox.ini differs from what services.toml gives (edited by hand, or the registry "
        "changed): run `make generate`"
    ]


def test_report_folder_missing_from_registry(registry_root: Path) -> None:
    (registry_root / "services" / "zz_orders").mkdir()
    assert drift(registry_root) == [
        "services/zz_orders/ is not in services.toml: add [services.zz_orders] with a port"
    ]


def test_report_registry_entry_without_folder(registry_root: Path) -> None:
    register_service(registry_root, "zz_orders")
    problems = drift(registry_root)
    assert "services.toml lists 'zz_orders' but services/zz_orders/ does not exist" in problems
    assert any(problem.startswith("tox.ini differs") for problem in problems)
    assert any(problem.startswith("compose/docker-compose.yml differs") for problem in problems)


def test_write_generated_for_new_service(registry_root: Path) -> None:
    register_service(registry_root, "zz_orders")
    (registry_root / "services" / "zz_orders").mkdir()
    written = {str(path) for path in write_generated(registry_root)}
    assert written == {
        "compose/docker-compose.yml",
        "compose/prometheus.yml",
        "tox.ini",
        "deploy/k8s/base/services.yaml",
        "deploy/k8s/base/network-policies.yaml",
        "deploy/k8s/overlays/dev/nginx.conf",
        "deploy/k8s/overlays/prod/nginx.conf",
    }
    assert drift(registry_root) == []
    tox_ini = (registry_root / "tox.ini").read_text()
    assert "[testenv:zz_orders]" in tox_ini
    services = ", ".join(service.name for service in load_services(registry_root))
    assert f"env_list = lint, tools, common, {services}, gateway" in tox_ini
    assert services.endswith(", zz_orders")
    compose = (registry_root / "compose" / "docker-compose.yml").read_text()
    assert "  zz_orders-migrate:\n" in compose
    assert "postgres:5432/zz_orders\n" in compose
    prometheus = (registry_root / "compose" / "prometheus.yml").read_text()
    assert '      - targets: ["zz_orders:8000"]\n' in prometheus
    assert write_generated(registry_root) == []


def test_render_every_service_everywhere(registry_root: Path) -> None:
    files = render_generated(registry_root)
    assert set(files) == set(GENERATED)
    assert {"tox.ini", "compose/docker-compose.yml", "compose/prometheus.yml"} <= set(
        map(str, files)
    )
    nginx = {path for path in files if path.name == "nginx.conf"}
    assert {path.parent.name for path in nginx} == {"dev", "prod"}
    for path, content in files.items():
        first = "# Rendered from gateway/nginx.conf.j2" if path in nginx else "# Generated from"
        assert content.lstrip("\n").startswith(first), path


def run_generate(root: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "flusk-generate"), *arguments]
    env = {"PATH": os.environ.get("PATH", "")}
    return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, check=False)


def test_check_command_fails_on_drift(registry_root: Path) -> None:
    assert run_generate(registry_root, "--check").returncode == 0
    (registry_root / "compose" / "docker-compose.yml").write_text("name: edited\n")
    result = run_generate(registry_root, "--check")
    assert result.returncode == 1
    assert "run `make generate`" in result.stderr
    fixed = run_generate(registry_root)
    assert fixed.stdout == "wrote compose/docker-compose.yml\n"
    assert run_generate(registry_root, "--check").returncode == 0
