"""Fixtures of the tools suite: small repositories of its own, never the real tree.

The copies carry the repository's registry, so the services the tests create are named
``zz_*``: no name a developer gives a service (after `make new-service name=orders`, a
scratch ``orders`` would collide with theirs).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from flusk_tools.registry import find_root

ROOT = find_root(Path(__file__).parent)


@pytest.fixture
def registry_root(tmp_path: Path) -> Path:
    """A repository holding the registry, the generated files, the gateway's template (the
    Kubernetes overlays hold its output) and one folder per service."""
    shutil.copy(ROOT / "services.toml", tmp_path / "services.toml")
    shutil.copy(ROOT / "tox.ini", tmp_path / "tox.ini")
    (tmp_path / "compose").mkdir()
    shutil.copy(ROOT / "compose" / "docker-compose.yml", tmp_path / "compose")
    shutil.copy(ROOT / "compose" / "prometheus.yml", tmp_path / "compose")
    (tmp_path / "gateway").mkdir()
    shutil.copy(ROOT / "gateway" / "nginx.conf.j2", tmp_path / "gateway")
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy")
    for service in (ROOT / "services").iterdir():
        if service.is_dir():
            (tmp_path / "services" / service.name).mkdir(parents=True)
    return tmp_path
